"""Which people a later version of a delivery changed, row by row: the rows it replaces are kept
(``status_replaced``, a temporary table, before the load deletes them), compared with the rows
it loaded by record id once they are written, and only the people of the rows that differ (in
what a status reads: the decision, the link, the ID declared, the two event columns) or that
are gone or new are queued. The run is then marked (``status_run_queued``): its refresh
recomputes the people queued, not every person its rows name. A new version of 1M rows of
which a fifth changed names 630k people again; about 150k of them have rows that changed.

Taken only when that gives the same statuses as recomputing every person of the run: every run
whose rows are replaced was refreshed (their people have the status of those rows), no register
was loaded since (an ID a row declares may have become a register person's), and the refresh
is not as of a day before an earlier refresh's (``run_queued``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from popsync.core.status import EVENT_COLUMNS, EVENT_SOURCES

# What a refresh reads of a row (``status._event_read``), besides the two event columns.
_COMPARED = ("decision", "so_dinh_danh", "id_number")
# The person a row counts for (linked) or is counted beside (unlinked: the ID it declares).
_PERSON = ("CASE WHEN {a}.decision = 'match' THEN {a}.so_dinh_danh "
           "WHEN {a}.decision = 'no_match' THEN {a}.id_number END")  # fmt: skip


class ReplacedRows:
    _status_stash: str | None = None  # the source whose replaced rows are kept, this load

    def _stash_replaced(self, cur, source: str, delivery: str, scope: str, table: str) -> bool:
        """Keep the rows a batch is about to replace in ``status_replaced`` for
        ``_queue_changed``; False (nothing kept) when the people must be queued as before:
        the source has no events, nothing is replaced, or a replaced row's run was never
        refreshed or a register was loaded after its refresh."""
        self._status_stash = None
        kind = next((k for k, s in EVENT_SOURCES.items() if s == source), None)
        if kind is None:
            return False
        columns = ", ".join(("record_id", "run_id", *_COMPARED, *EVENT_COLUMNS[kind]))
        self._run(cur, "DROP TABLE IF EXISTS status_replaced")
        self._run(
            cur,
            f"CREATE TEMP TABLE status_replaced AS SELECT {columns} FROM {{table}} "  # noqa: S608
            f"WHERE source = %s AND delivery = %s{scope}",
            (source, delivery),
            table=table,
        )
        refreshed = self._run(
            cur,
            "SELECT r.run_id, max(s.started_at) FROM (SELECT DISTINCT run_id FROM "
            "status_replaced) r LEFT JOIN status_refresh s ON s.run_id = r.run_id "
            "GROUP BY r.run_id",
        ).fetchall()
        kept = bool(refreshed) and all(last is not None for _, last in refreshed)
        if kept:
            oldest = min(pd.Timestamp(last) for _, last in refreshed)
            loaded = self._run(cur, "SELECT finished_at FROM run WHERE source = %s",
                               (self.catalog.register.id,)).fetchall()  # fmt: skip
            kept = all(when is None or pd.Timestamp(when) < oldest for (when,) in loaded)
        if not kept:
            self._run(cur, "DROP TABLE status_replaced")
            return False
        self._status_stash = source
        return True

    def _queue_changed(self, cur, source: str, run_id: str) -> None:
        """After a batch's rows are written (and the stewards' decisions applied again): queue
        the people of the rows that differ from the rows they replaced (``_stash_replaced``),
        and mark the run. Nothing when no rows were kept for it."""
        if self._status_stash != source:
            return
        self._status_stash = None
        kind = next(k for k, s in EVENT_SOURCES.items() if s == source)
        compared = (*_COMPARED, *EVENT_COLUMNS[kind])
        columns = ", ".join(("record_id", *compared))
        differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in compared)
        self._run(cur, "DROP TABLE IF EXISTS status_changed_rows")
        self._run(
            cur,
            "CREATE TEMP TABLE status_changed_rows AS SELECT "  # noqa: S608 (fixed names)
            f"{_PERSON.format(a='o')} AS old_person, o.decision = 'no_match' AS old_declared, "
            f"{_PERSON.format(a='n')} AS new_person, n.decision = 'no_match' AS new_declared "
            f"FROM status_replaced o FULL JOIN (SELECT {columns} FROM {{table}} "
            "WHERE run_id = %s) n ON n.record_id = o.record_id "
            f"WHERE o.record_id IS NULL OR n.record_id IS NULL OR {differs}",
            (run_id,),
            table=self._table_of(source),
        )
        # A row that changed but names the same person the same way queues them once.
        once = "old_person IS NULL OR old_person <> new_person OR old_declared <> new_declared"
        for side, also in (("old", "TRUE"), ("new", once)):
            self._run(
                cur,
                f"INSERT INTO status_dirty (so_dinh_danh, reason) SELECT {side}_person, "  # noqa: S608
                f"CASE WHEN {side}_declared THEN 'declared' ELSE 'replaced' END "
                f"FROM status_changed_rows WHERE {side}_person IS NOT NULL AND ({also})",
            )
        self._run(cur, "DROP TABLE status_changed_rows")
        self._run(cur, "DROP TABLE status_replaced")
        self._run(cur, "INSERT INTO status_run_queued (run_id) VALUES (%s)", (run_id,))

    def _run_queued(self, cur, run_id: str | None, as_of: dt.date) -> bool:
        """Whether the load of ``run_id`` queued the people whose rows it changed
        (``_queue_changed``) and a refresh as of ``as_of`` may recompute those only: no
        earlier refresh was as of a later day (an unchanged person's status is then the one
        stored; the people whose status changes by ``as_of`` by itself are taken anyway)."""
        if run_id is None:
            return False
        # Taken off by the run's refresh (a later refresh of the run recomputes all its people).
        marked = self._run(cur, "DELETE FROM status_run_queued WHERE run_id = %s",
                           (run_id,)).rowcount  # fmt: skip
        if not marked:
            return False
        latest = self._scalar(cur, "SELECT max(as_of) FROM status_refresh")
        return latest is None or pd.Timestamp(latest).date() <= as_of
