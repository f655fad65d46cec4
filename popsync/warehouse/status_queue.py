"""Who a status refresh recomputes: the queue of people whose status must be recomputed
(``status_dirty``), written by the transactions that change their rows (a later version of a
delivery, a steward's decision, a re-check) and taken off by the next refresh
(``PersonStatus.refresh_status``), with the people of a run, of the caller and of the register."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core.contracts import BOOL, TEXT
from popsync.warehouse.batch import to_arrow
from popsync.warehouse.frames import read_arrow
from popsync.warehouse.id_keys import positions, sorted_unique
from popsync.warehouse.status_changed import ReplacedRows


class StatusQueue(ReplacedRows):
    def _queue_status(self, cur, people, reason: str) -> None:
        """Queue people for the next refresh, in the caller's transaction (the one that changes
        their rows)."""
        ids = unique_ids(people)
        if len(ids):
            frame = pd.DataFrame({"so_dinh_danh": ids, "reason": reason})
            self._db.bulk_insert(
                cur, "status_dirty", to_arrow(frame, {"so_dinh_danh": TEXT, "reason": TEXT}, {},
                                              "status queue"),
            )  # fmt: skip

    def _queue_rechecked(self, cur, source: str, changed: pd.DataFrame, candidates) -> None:
        """Queue the people of re-checked rows whose link changed (``recheck_stage``): the
        person before and after, the review candidates the rows lose and the ones they get."""
        new = [] if candidates is None or not len(candidates) else candidates["so_dinh_danh"]
        self._queue_status(
            cur, pd.concat([changed["so_dinh_danh_old"], changed["so_dinh_danh"],
                            pd.Series(new, dtype=object)]), "recheck",
        )  # fmt: skip
        self._run(
            cur,
            "INSERT INTO status_dirty (so_dinh_danh, reason) SELECT c.so_dinh_danh, 'recheck' "
            "FROM review_candidate c WHERE c.source = %s AND EXISTS (SELECT 1 FROM "
            "recheck_stage s WHERE s.changed = 1 AND s.delivery = c.delivery "
            "AND s.record_id = c.record_id)",
            (source,),
        )

    def _queue_replaced(self, cur, source: str, delivery: str, mode: str, table: str) -> None:
        """Before a batch deletes the rows it replaces (its delivery's, or its record ids' in
        an incremental pull), queue the people those rows count for, or might: the linked
        person, the review candidates, the person an unlinked or quarantined row names."""
        scope = " AND record_id IN (SELECT record_id FROM batch_key)" if mode == "upsert" else ""
        person = quarantine_person(self._db.name)
        # Linked rows and candidates name register people; what an unlinked or quarantined row
        # declares may be anyone: queued as "declared", kept by the refresh for register people
        # only (a join here would cost the load a lookup per row). A linked row's person is
        # not queued when the batch links a row to them too: the run's refresh recomputes the
        # people its rows name anyway (a new version of a delivery names most of the same
        # people again: at 1M, 850k queued rows -> 19k). NOT IN, not NOT EXISTS: a hashed
        # subplan over batch_key (analyzed: its size is known) whatever the planner thinks of
        # {table}'s rows; with stale statistics a NOT EXISTS became a nested loop (13 min).
        # When the replaced rows can be compared with the new ones (``ReplacedRows``), only
        # the people of the rows that differ are queued, once the new rows are written.
        queued = [
            ("so_dinh_danh", "review_candidate", "TRUE", "replaced"),
            (person, "quarantine", f"{person} IS NOT NULL", "declared"),
        ]
        if not self._stash_replaced(cur, source, delivery, scope, table):
            linked = "decision = 'match'" + self._not_relinked(cur, table, source, delivery, scope)
            queued[:0] = [
                ("so_dinh_danh", "{table}", linked, "replaced"),
                ("id_number", "{table}", "decision = 'no_match' AND id_number IS NOT NULL",
                 "declared"),
            ]  # fmt: skip
        for person_of, target, condition, reason in queued:
            self._run(
                cur,
                f"INSERT INTO status_dirty (so_dinh_danh, reason) SELECT {person_of}, "  # noqa: S608
                f"'{reason}' FROM {target} WHERE source = %s AND delivery = %s "
                f"AND {condition}{scope}",
                (source, delivery),
                table=table,
            )

    def _not_relinked(self, cur, table: str, source: str, delivery: str, scope: str) -> str:
        """The condition that leaves out the people the batch links a row to (see
        ``_queue_replaced``), or nothing when PostgreSQL would not hash batch_key (too big for
        its memory: a plain subplan would scan batch_key once per row)."""
        condition = (" AND so_dinh_danh NOT IN (SELECT so_dinh_danh FROM batch_key "
                     "WHERE so_dinh_danh IS NOT NULL)")  # fmt: skip
        if self._db.name != "postgresql":
            return condition  # SQLite looks each one up in a temporary index
        hashed = self._plans_hashed(
            cur,
            f"SELECT so_dinh_danh FROM {{table}} WHERE source = %s "  # noqa: S608
            f"AND delivery = %s AND decision = 'match'{condition}{scope}",
            (source, delivery),
            table=table,
        )
        return condition if hashed else ""

    def _touched(
        self, cur, person_ids, run_id, everyone, as_of, run_rows=None, queued_run=False
    ) -> pa.Array:
        """The people a refresh recomputes (see ``refresh_status``), each once and of the
        register only, sorted: a person's position among them is their ``code`` in the
        refresh's reads (``_stage_touched`` puts them in the database for the reads that join
        there). The IDs are gathered and made unique in Arrow (as integers: ``id_keys``): one
        read of the run's rows, no sort in the database. ``run_rows``: the people of the run's
        rows in its source's table (``so_dinh_danh``, ``declared``) when the refresh read them
        already; ``queued_run``: the run's load queued the people whose rows it changed
        (``ReplacedRows``): its rows' people are not taken again, its candidates' and
        quarantined rows' are."""
        types = {"so_dinh_danh": TEXT, "declared": BOOL}
        # declared: an ID a row declares (or a caller names), kept for register people only.
        parts = [self._take_queue(cur), read_arrow(
            self, cur, "SELECT so_dinh_danh, FALSE FROM person_status WHERE valid_until <= %s",
            (str(as_of),), types,
        )]  # fmt: skip
        if everyone:
            parts.append(read_arrow(self, cur, "SELECT so_dinh_danh, FALSE FROM person", (), types))
        if person_ids is not None:
            ids = pa.array(unique_ids(person_ids).astype(str), pa.string())
            parts.append(
                pa.table([ids, pa.repeat(pa.scalar(True), len(ids))], schema=parts[0].schema)
            )
        if run_id is not None:
            found = self._run(cur, "SELECT source FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found and found[0] != self.catalog.register.id:
                person = quarantine_person(self._db.name)
                queries = [
                    "SELECT CASE WHEN decision = 'match' THEN so_dinh_danh ELSE id_number END, "
                    "decision = 'no_match' FROM {table} WHERE run_id = %s "
                    "AND decision IN ('match', 'no_match')",
                    "SELECT so_dinh_danh, FALSE FROM review_candidate WHERE run_id = %s",
                    f"SELECT {person}, TRUE FROM quarantine WHERE run_id = %s",  # noqa: S608
                ]  # fmt: skip
                if queued_run:
                    queries.pop(0)
                elif run_rows is not None:
                    parts.append(run_rows.cast(parts[0].schema))
                    queries.pop(0)
                for query in queries:
                    parts.append(read_arrow(self, cur, query, (run_id,), types,
                                            table=self._table_of(found[0])))  # fmt: skip
        wanted = pa.concat_tables(parts).filter(
            pc.greater(pc.utf8_length(pc.field("so_dinh_danh")), 0)
        )
        declared = wanted.column("declared").fill_null(True)
        keys = sorted_unique(wanted.column("so_dinh_danh").filter(pc.invert(declared)))
        claimed = sorted_unique(wanted.column("so_dinh_danh").filter(declared))
        claimed = claimed.filter(pc.is_null(positions(claimed, keys)))
        if len(claimed):
            self._stage_ids(cur, claimed)
            registered = read_arrow(
                self, cur, "SELECT a.so_dinh_danh FROM status_asked a WHERE EXISTS "
                "(SELECT 1 FROM person p WHERE p.so_dinh_danh = a.so_dinh_danh)", (),
                {"so_dinh_danh": TEXT},
            )  # fmt: skip
            keys = sorted_unique(
                pa.chunked_array([keys, *registered.column("so_dinh_danh").chunks], pa.string())
            )
        return keys

    def _stage_touched(self, cur, keys: pa.Array) -> None:
        """The people of a refresh (``keys``) in the temporary table ``status_touched``, with
        their position (``code``), for the reads that join them in the database."""
        self._run(cur, "DROP TABLE IF EXISTS status_touched")
        self._run(cur, "CREATE TEMP TABLE status_touched (so_dinh_danh text, code bigint)")
        if len(keys):
            codes = pa.array(np.arange(len(keys), dtype=np.int64))
            self._db.bulk_insert(cur, "status_touched", pa.table({"so_dinh_danh": keys,
                                                                  "code": codes}))  # fmt: skip
        if self._db.name != "postgresql":  # SQLite joins by looking up, PostgreSQL by hashing
            self._run(cur, "CREATE INDEX status_touched_key ON status_touched (so_dinh_danh)")
        self._run(cur, "ANALYZE status_touched")

    def _take_queue(self, cur) -> pa.Table:
        """The people queued for a refresh (``status_dirty``), taken off the queue in this
        transaction: on PostgreSQL by a DELETE ... RETURNING (rows a concurrent transaction
        queues meanwhile stay for the next refresh), on SQLite under its one write lock.
        ``declared``: queued by an unlinked or quarantined row (register people only)."""
        types = {"so_dinh_danh": TEXT, "declared": BOOL}
        if self._db.name == "postgresql":
            return read_arrow(self, cur, "DELETE FROM status_dirty RETURNING so_dinh_danh, "
                              "reason = 'declared'", (), types)  # fmt: skip
        found = read_arrow(self, cur, "SELECT so_dinh_danh, reason = 'declared' FROM "
                           "status_dirty", (), types)  # fmt: skip
        self._run(cur, "DELETE FROM status_dirty")
        return found

    def _stage_ids(self, cur, person_ids) -> None:
        """IDs a caller names, in the temporary table ``status_asked``."""
        self._run(cur, "DROP TABLE IF EXISTS status_asked")
        self._run(cur, "CREATE TEMP TABLE status_asked (so_dinh_danh text)")
        ids = person_ids if isinstance(person_ids, pa.Array) else unique_ids(person_ids)
        if len(ids):
            table = pa.table({"so_dinh_danh": pa.array(ids, pa.string(), from_pandas=True)})
            self._db.bulk_insert(cur, "status_asked", table)
        self._run(cur, "ANALYZE status_asked")


def unique_ids(values) -> pd.Index:
    series = pd.Series(values, dtype=object).dropna()
    return pd.Index(series[series.astype(str).str.len() > 0].unique(), name="so_dinh_danh")


def quarantine_person(backend: str, alias: str = "") -> str:
    """SQL for the person a quarantined row points at: the one the linker gave it, else the ID
    it declares (row_data is the row as JSON)."""
    if backend == "postgresql":
        return f"coalesce({alias}row_data->>'so_dinh_danh', {alias}row_data->>'id_number')"
    return (f"coalesce(json_extract({alias}row_data, '$.so_dinh_danh'), "
            f"json_extract({alias}row_data, '$.id_number'))")  # fmt: skip


def run_people(rows: pa.Table) -> pa.Table:
    """The people of a run's rows (``in_run``) in a table read whole: the linked person, or
    the ID an unlinked row declares (``declared``), as ``_touched`` reads them."""
    mine = rows.filter(pc.fill_null(rows.column("in_run"), False))
    return pa.table({"so_dinh_danh": mine.column("person"),
                     "declared": pc.invert(mine.column("linked"))})  # fmt: skip
