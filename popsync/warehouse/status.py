"""Each person's status in the warehouse: ``person_status``, derived from the linked rows of the
extracts by ``popsync.core.status`` and recomputed, in one transaction, for the people that a
batch, a steward's decision or a re-check touched (``refresh_status``).

Only rows linked to the person (decision ``match``) count; rows that may be theirs are counted
beside the status: rows in review naming them as a candidate, rows left unlinked that declare
their ID, quarantined rows the linker gave them (or that declare their ID). The same event
stored twice (in one file, or re-sent in another delivery) counts once: the core rules
deduplicate by content, not by record id.

Set-based throughout: the touched people are gathered in the database into a temporary table,
numbered 0..n-1; each source table is read once for all of them (person number, link, two event
columns: joined in the database, or in Arrow when they are many), the rules run vectorized on numpy arrays,
and only the people whose status changed are written (``status_write``).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core.contracts import BOOL, DATE, INT, TEXT
from popsync.core.status import (
    EVENT_COLUMNS,
    EVENT_SOURCES,
    PENDING_FIELDS,
    STATUS_FIELDS,
    VALID_UNTIL,
    event_arrays,
    status_arrays,
)
from popsync.core.status_digest import status_hash_arrays
from popsync.core.status_rules import rules_digest
from popsync.core.timing import Steps
from popsync.warehouse.db import now
from popsync.warehouse.frames import read_arrow, read_frame
from popsync.warehouse.id_keys import positions
from popsync.warehouse.status_queue import StatusQueue, quarantine_person, run_people
from popsync.warehouse.status_write import stored_rows, write_changed

# Refreshes (and the reads of a publication) are serialized by this lock.
STATUS_LOCK = "person_status"
STORED_COLUMNS = {
    "so_dinh_danh": TEXT, **STATUS_FIELDS, "as_of": DATE, VALID_UNTIL: DATE, "status_hash": INT,
    "change_seq": INT,
}  # fmt: skip
# What the batch summary says changed, compared before / after for the people touched.
_BEFORE = {"status_hash": INT, "primary_complete": BOOL, "boosters": INT, "f0_episodes": INT,
           "insured": BOOL}  # fmt: skip
# A refresh hashes hundreds of thousands of people at once (joins, DISTINCT): in memory, not in
# batches spilled to disk (PostgreSQL's default work_mem is 4 MB).
WORK_MEM = "256MB"
# A refresh whose people number at least this share of an extract table's rows reads the whole
# table and finds the people in Arrow, rather than joining in the database (_of_touched). At
# 0.2, the 135k people of bench/status.py's second batch read the F0 and BHXH tables (200k, 400k
# rows) whole; joined in the database the refresh cost 5.8 -> 4.3 s CPU (load average 5-7).
CLIENT_JOIN_SHARE = 0.5


class PersonStatus(StatusQueue):
    def refresh_status(
        self,
        person_ids=None,
        *,
        run_id: str | None = None,
        as_of: dt.date | str | None = None,
        everyone: bool = False,
        reason: str | None = None,
    ) -> dict:
        """Recompute ``person_status`` for the people touched, in one transaction, and return
        what changed (counts only: no ID leaves this method).

        The people touched: ``person_ids`` (so_dinh_danh values); with ``run_id``, the people
        its rows are linked to, the review candidates of its rows, and the register people its
        unlinked or quarantined rows declare or were given; with ``everyone``, every person of
        the register, as also when the status rules (``rules_digest``) differ from the last
        refresh's (``rules_changed``: a status may change with no row changed). Always also the people queued by the transactions that changed their
        rows (``status_dirty``: a later version of a delivery replaced them, a steward decided,
        a re-check moved a link), and the people whose status changes by itself by ``as_of``
        (their coverage ended, or one begins). ``as_of``: the day "insured" is about; default
        the run's date, else the latest run date loaded, else today.

        A person whose status digest changed gets the refresh's number (``change_seq``): the
        next publication carries them. Returns ``seq``, ``as_of``, ``people`` (touched),
        ``changed``, ``new`` and what changed for how many: ``became_fully_vaccinated``,
        ``no_longer_fully_vaccinated``, ``got_booster``, ``new_f0_episode``,
        ``became_insured``, ``no_longer_insured``; ``with_pending_rows`` (people touched with
        rows in review, unlinked or quarantined), ``rules`` (the digest), ``rules_changed``
        and ``timings``."""
        steps = Steps()
        started = now()
        with self._transaction() as cur:
            self._db.lock(cur, STATUS_LOCK)
            if self._db.name == "postgresql":
                self._run(cur, f"SET LOCAL work_mem = '{WORK_MEM}'")
            seq = 1 + self._scalar(cur, "SELECT coalesce(max(seq), 0) FROM status_refresh")
            as_of = self._status_date(cur, run_id, as_of)
            rules = rules_digest()
            rules_changed = self._rules_changed(cur, rules)
            everyone = everyone or rules_changed
            # The run's load queued the people whose rows it changed: its rows are not read.
            queued_run = self._run_queued(cur, run_id, as_of)
            read = None if queued_run else self._read_run_table(cur, run_id)
            run_rows = None if read is None else run_people(read[1])
            keys = self._touched(cur, person_ids, run_id, everyone, as_of, run_rows, queued_run)
            steps("touched")
            result = self._recompute(cur, seq, keys, as_of, steps, read)
            summary = {"seq": seq, "as_of": str(as_of), "people": len(keys), **result,
                       "rules": rules, "rules_changed": rules_changed}  # fmt: skip
            summary["timings"] = steps.seconds
            self._run(
                cur,
                "INSERT INTO status_refresh (seq, run_id, reason, as_of, started_at, "
                "finished_at, people, changed, summary) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                (seq, run_id, reason or ("batch" if run_id else "people"), str(as_of), started,
                 now(), len(keys), result["changed"], json.dumps(summary)),
            )  # fmt: skip
        return summary

    def _rules_changed(self, cur, rules: str) -> bool:
        """Whether the last refresh ran under other status rules (or under rules it did not
        record: a warehouse from before they were recorded recomputes everyone once)."""
        last = self._run(cur, "SELECT summary FROM status_refresh ORDER BY seq DESC LIMIT 1"
                         ).fetchone()  # fmt: skip
        if last is None:
            return False
        summary = json.loads(last[0]) if isinstance(last[0], str) else (last[0] or {})
        return summary.get("rules") != rules

    def status_of(self, person_ids=None) -> pd.DataFrame:
        """The stored status of ``person_ids`` (every person with one when None), indexed by
        so_dinh_danh: ``STATUS_FIELDS``, ``as_of``, ``valid_until``, ``change_seq``. Real IDs:
        the caller masks them for display."""
        columns = {k: v for k, v in STORED_COLUMNS.items() if k != "status_hash"}
        with self._transaction() as cur:
            if person_ids is None:
                frame = read_frame(self, cur, "SELECT {columns} FROM person_status", (),
                                   columns, columns=list(columns))  # fmt: skip
            else:
                self._stage_ids(cur, person_ids)
                frame = read_frame(
                    self, cur,
                    "SELECT {columns} FROM person_status p WHERE so_dinh_danh IN "
                    "(SELECT so_dinh_danh FROM status_asked)",
                    (), columns, columns=list(columns),
                )  # fmt: skip
        return frame.set_index("so_dinh_danh").sort_index()

    def stored_events(self, source: str) -> pd.DataFrame:
        """Every row of an extract the tables hold (loaded, unlinked or in review; not the
        quarantined ones), with its link and the columns its status reads: ``delivery``,
        ``record_id``, ``decision``, ``so_dinh_danh``, ``id_number`` and the two event
        columns. For audits, such as comparing the status with a generated set's truth."""
        kind = next(k for k, s in EVENT_SOURCES.items() if s == source)
        first, second = EVENT_COLUMNS[kind]
        types = {"delivery": TEXT, "record_id": TEXT, "decision": TEXT, "so_dinh_danh": TEXT,
                 "id_number": TEXT, first: DATE, second: TEXT if kind == "doses" else DATE}  # fmt: skip
        with self._transaction() as cur:
            return read_frame(self, cur, "SELECT {columns} FROM {table}", (), types,
                              columns=list(types), table=self._table_of(source))  # fmt: skip

    # ------------------------------------------------------------------ in a transaction

    def _status_date(self, cur, run_id, as_of) -> dt.date:
        if as_of is not None:
            return pd.Timestamp(as_of).date()
        if run_id is not None:
            found = self._run(cur, "SELECT run_date FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
        else:
            found = self._run(
                cur,
                "SELECT max(run_date) FROM run WHERE status = 'loaded' AND source <> %s",
                (self.catalog.register.id,),
            ).fetchone()
        return pd.Timestamp(found[0]).date() if found and found[0] else dt.date.today()

    def _read_run_table(self, cur, run_id: str | None) -> tuple[str, pa.Table] | None:
        """When a batch's rows are many for its source's table (``_many``, counting its rows
        as people), the table read whole once, for both the people the run touched and every
        person's events (``_event_read``, with ``in_run``: the row is the run's): (kind, rows).
        None when there is no run, its source has no events, or its rows are few."""
        if run_id is None or self._db.name != "postgresql":
            return None
        found = self._run(cur, "SELECT source, rows_loaded + rows_review FROM run "
                          "WHERE run_id = %s", (run_id,)).fetchone()  # fmt: skip
        kind = next((k for k, s in EVENT_SOURCES.items() if found and s == found[0]), None)
        if kind is None or found[0] not in self.catalog:
            return None
        table = self._table_of(found[0])
        if not self._many(cur, table, int(found[1] or 0)):
            return None
        person, values = _event_read(kind)
        select = "".join(f", {expression}" for expression, _ in values.values())
        types = {"person": TEXT, **{name: kind for name, (_, kind) in values.items()},
                 "in_run": BOOL}  # fmt: skip
        return kind, read_arrow(
            self, cur,
            f"SELECT {person}{select}, x.run_id = %s FROM {{table}} x "  # noqa: S608 (fixed SQL)
            f"WHERE {person} IS NOT NULL", (run_id,), types, table=table,
        )  # fmt: skip

    def _recompute(self, cur, seq: int, keys: pa.Array, as_of: dt.date, steps, read) -> dict:
        """Recompute the people of ``status_touched`` (``keys``, sorted, by their position)
        and write those whose status changed. ``read``: the run's table read whole already
        (``_read_run_table``), or None."""
        n = len(keys)
        staged = []  # status_touched, made by the first read that joins in the database
        reads = {"before": self._of_touched(
            cur, keys, staged, "person_status", "x.so_dinh_danh",
            {name: (f"x.{name}", kind) for name, kind in _BEFORE.items()},
        )}  # fmt: skip
        for kind, source in EVENT_SOURCES.items():
            if source not in self.catalog:
                continue
            if read is not None and read[0] == kind:
                reads[kind] = read[1].drop_columns(["in_run"])
                continue
            reads[kind] = self._of_touched(cur, keys, staged, self._table_of(source),
                                           *_event_read(kind))  # fmt: skip
        for field, table, person in (
            ("rows_in_review", "review_candidate", "x.so_dinh_danh"),
            ("rows_quarantined", "quarantine", quarantine_person(self._db.name, "x.")),
        ):
            reads[field] = self._of_touched(cur, keys, staged, table, person, {})
        reads = _coded(reads, keys)
        before = _before(reads.pop("before"), n)
        events, pending = {}, {}
        for kind in EVENT_SOURCES:
            if kind not in reads:
                continue
            first, second = EVENT_COLUMNS[kind]
            rows = reads.pop(kind)
            codes = rows.column("code").to_numpy()
            linked = rows.column("linked").to_numpy(zero_copy_only=False).astype(bool)
            unlinked = np.bincount(codes[~linked], minlength=n)
            pending["rows_unlinked"] = pending.get("rows_unlinked", 0) + unlinked
            taken = rows.filter(pa.array(linked))
            events[kind] = event_arrays(kind, codes[linked], taken.column(first),
                                        taken.column(second))  # fmt: skip
        for field, found in reads.items():
            pending[field] = np.bincount(found.column("code").to_numpy(), minlength=n)
        steps("read")
        after = status_arrays(n, events, pending, as_of)
        after["status_hash"] = status_hash_arrays(after)
        steps("compute")
        outcome = _changes(before, after, _empty_hash())
        changed = outcome.pop("changed_mask")
        taken = np.flatnonzero(changed)  # in key order
        if len(taken):
            rows = stored_rows(STORED_COLUMNS, keys, after, taken, as_of, seq)
            write_changed(self, cur, STORED_COLUMNS, rows, before["known"][taken])
        steps("write")
        return outcome

    def _of_touched(
        self, cur, keys: pa.Array, staged: list, table: str, person: str, values: dict
    ) -> pa.Table:
        """The rows of ``table`` (alias ``x``) whose ``person`` (SQL) is one of ``keys``: their
        person's position among ``keys`` (``code``) and ``values`` (name -> (SQL, type)), in no
        particular order; or, read whole, every row with a person, and the ``person`` itself
        (``_coded`` finds them among ``keys``).

        Joined where it costs least. Few people: in the database, with the people in the
        temporary table ``status_touched`` (staged once, ``staged``); the rows of others never
        leave it. Many people (at least ``CLIENT_JOIN_SHARE`` of the table's rows, by the
        planner's estimate): every row is read, and its person found by hashing in Arrow; a
        hash table of hundreds of thousands of IDs costs PostgreSQL three times what sending
        the rows costs (measured)."""
        types = {name: kind for name, (_, kind) in values.items()}
        select = "".join(f", {expression}" for expression, _ in values.values())
        if not self._many(cur, table, len(keys)):
            if not staged:
                self._stage_touched(cur, keys)
                staged.append(True)
            return read_arrow(
                self, cur,
                f"SELECT t.code{select} FROM {{table}} x "  # noqa: S608 (fixed SQL)
                f"JOIN status_touched t ON t.so_dinh_danh = {person}",
                (), {"code": INT, **types}, table=table,
            )  # fmt: skip
        return read_arrow(
            self, cur, f"SELECT {person}{select} FROM {{table}} x WHERE {person} IS NOT NULL",  # noqa: S608
            (), {"person": TEXT, **types}, table=table,
        )  # fmt: skip

    def _many(self, cur, table: str, people: int) -> bool:
        """Whether ``people`` are many for a read of ``table`` (see ``_of_touched``)."""
        if self._db.name != "postgresql" or not people:
            return False
        plan = self._scalar(cur, "EXPLAIN (FORMAT JSON) SELECT 1 FROM {table}", table=table)
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return people >= CLIENT_JOIN_SHARE * plan[0]["Plan"]["Plan Rows"]


def _event_read(kind: str) -> tuple[str, dict]:
    """What a refresh reads of an extract's rows (alias ``x``): the person (SQL) and the values
    (name -> (SQL, type)). A linked row counts for its person; an unlinked one is counted
    beside the status of the person whose ID it declares."""
    first, second = EVENT_COLUMNS[kind]
    person = ("CASE WHEN x.decision = 'match' THEN x.so_dinh_danh "
              "WHEN x.decision = 'no_match' THEN x.id_number END")  # fmt: skip
    return person, {"linked": ("x.decision = 'match'", BOOL), first: (f"x.{first}", DATE),
                    second: (f"x.{second}", TEXT if kind == "doses" else DATE)}  # fmt: skip


def _coded(reads: dict[str, pa.Table], keys: pa.Array) -> dict[str, pa.Table]:
    """The reads that came whole (a ``person`` column) as rows of the people of ``keys`` only,
    with their position (``code``): the people of every such read found in one hash lookup
    (the hash table of ``keys`` is built once; per read it cost as much again)."""
    whole = [name for name, rows in reads.items() if "person" in rows.column_names]
    if not whole:
        return reads
    chunks = [chunk for name in whole for chunk in reads[name].column("person").chunks]
    codes = positions(pa.chunked_array(chunks, pa.string()), keys)
    coded, at = dict(reads), 0
    for name in whole:
        rows = reads[name]
        found = codes.slice(at, rows.num_rows)
        at += rows.num_rows
        rows = rows.drop_columns(["person"]).add_column(0, "code", found.cast(pa.int64()))
        coded[name] = rows.filter(pc.is_valid(found))
    return coded


def _before(found: pa.Table, n: int) -> dict[str, np.ndarray]:
    """What the stored status of the people read says (``_BEFORE``, by position; ``known``:
    they had one)."""
    at = found.column("code").to_numpy()
    before = {"known": np.zeros(n, dtype=bool)}
    before["known"][at] = True
    for name, kind in _BEFORE.items():
        before[name] = np.zeros(n, dtype=bool if kind == BOOL else np.int64)
        values = found.column(name).fill_null(False if kind == BOOL else 0)
        before[name][at] = values.to_numpy(zero_copy_only=False)
    return before


def _changes(before: dict, after: dict, empty: int) -> dict:
    """Who changed (the digest differs; a person never seen whose status is empty is not a
    change) and the counts the batch summary carries."""
    known = before["known"]
    old_hash, new_hash = before["status_hash"].astype(np.int64), after["status_hash"]
    changed = (known & (old_hash != new_hash)) | (~known & (new_hash != empty))
    was_complete, is_complete = before["primary_complete"], after["primary_complete"]
    was_insured, is_insured = before["insured"], after["insured"]
    more = {name: int((after[name] > before[name]).sum()) for name in ("boosters", "f0_episodes")}
    pending = sum(after[name] for name in PENDING_FIELDS) > 0
    return {
        "changed_mask": changed,
        "changed": int(changed.sum()),
        "new": int((changed & ~known).sum()),
        "became_fully_vaccinated": int((is_complete & ~was_complete).sum()),
        "no_longer_fully_vaccinated": int((was_complete & ~is_complete).sum()),
        "got_booster": more["boosters"],
        "new_f0_episode": more["f0_episodes"],
        "became_insured": int((is_insured & ~was_insured).sum()),
        "no_longer_insured": int((was_insured & ~is_insured).sum()),
        "with_pending_rows": int(pending.sum()),
    }


@cache
def _empty_hash() -> int:
    """The digest of a person with nothing: no event, no pending row."""
    nobody = status_arrays(1, {}, {}, dt.date(2000, 1, 1))
    return int(status_hash_arrays(nobody)[0])
