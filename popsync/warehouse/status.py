"""Each person's status in the warehouse: ``person_status``, derived from the linked rows of the
extracts by ``popsync.core.status`` and recomputed, in one transaction, for the people that a
batch, a steward's decision or a re-check touched (``refresh_status``).

Only rows linked to the person (decision ``match``) count; rows that may be theirs are counted
beside the status: rows in review naming them as a candidate, rows left unlinked that declare
their ID, quarantined rows the linker gave them (or that declare their ID). The same event
stored twice (in one file, or re-sent in another delivery) counts once: the core rules
deduplicate by content, not by record id.

Set-based throughout: the touched people go to a temporary table once, each source table is
read once for all of them (a hash join, one query per table), the rules run vectorized in
Python, and only the people whose status changed are written (a COPY, sorted by key).
"""

from __future__ import annotations

import datetime as dt
import json

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
    compute_status,
    people_keys,
    person_codes,
    status_hash,
)
from popsync.core.timing import Steps
from popsync.warehouse.batch import to_arrow
from popsync.warehouse.db import now
from popsync.warehouse.frames import read_frame
from popsync.warehouse.status_queue import StatusQueue, quarantine_person, unique_ids

# Refreshes (and the reads of a publication) are serialized by this lock.
STATUS_LOCK = "person_status"
STORED_COLUMNS = {
    "so_dinh_danh": TEXT, **STATUS_FIELDS, "as_of": DATE, VALID_UNTIL: DATE, "status_hash": INT,
    "change_seq": INT,
}  # fmt: skip
# What the batch summary says changed, compared before / after for the people touched.
_BEFORE = {"status_hash": INT, "primary_complete": BOOL, "boosters": INT, "f0_episodes": INT,
           "insured": BOOL}  # fmt: skip


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
        the register. Always also the people queued by the transactions that changed their
        rows (``status_dirty``: a later version of a delivery replaced them, a steward decided,
        a re-check moved a link), and the people whose status changes by itself by ``as_of``
        (their coverage ended, or one begins). ``as_of``: the day "insured" is about; default
        the run's date, else the latest run date loaded, else today.

        A person whose status digest changed gets the refresh's number (``change_seq``): the
        next publication carries them. Returns ``seq``, ``as_of``, ``people`` (touched),
        ``changed``, ``new`` and what changed for how many: ``became_fully_vaccinated``,
        ``no_longer_fully_vaccinated``, ``got_booster``, ``new_f0_episode``,
        ``became_insured``, ``no_longer_insured``; ``with_pending_rows`` (people touched with
        rows in review, unlinked or quarantined) and ``timings``."""
        steps = Steps()
        started = now()
        with self._transaction() as cur:
            self._db.lock(cur, STATUS_LOCK)
            seq = 1 + self._scalar(cur, "SELECT coalesce(max(seq), 0) FROM status_refresh")
            as_of = self._status_date(cur, run_id, as_of)
            people = self._touched(cur, person_ids, run_id, everyone, as_of)
            steps("touched")
            result = self._recompute(cur, seq, people, as_of, steps)
            summary = {"seq": seq, "as_of": str(as_of), "people": len(people), **result}
            summary["timings"] = steps.seconds
            self._run(
                cur,
                "INSERT INTO status_refresh (seq, run_id, reason, as_of, started_at, "
                "finished_at, people, changed, summary) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                (seq, run_id, reason or ("batch" if run_id else "people"), str(as_of), started,
                 now(), len(people), result["changed"], json.dumps(summary)),
            )  # fmt: skip
        return summary

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
                self._stage_people(cur, people_keys(unique_ids(person_ids)))
                frame = read_frame(
                    self, cur,
                    "SELECT {columns} FROM person_status p WHERE so_dinh_danh IN "
                    "(SELECT so_dinh_danh FROM status_touched)",
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

    def _touched(self, cur, person_ids, run_id, everyone, as_of) -> pa.Array:
        """The people to recompute (register people only), each once, as Arrow strings."""
        relations = ["SELECT so_dinh_danh FROM person_status WHERE valid_until <= %s"]
        params: list = [str(as_of)]
        queued = self._take_queue(cur)
        table = None
        if everyone:
            relations.append("SELECT so_dinh_danh FROM person")
        if person_ids is not None:
            # People named by the caller: only those of the register.
            self._stage_people(cur, people_keys(unique_ids(person_ids)))
            relations.append(
                "SELECT t.so_dinh_danh FROM status_touched t JOIN person p "
                "ON p.so_dinh_danh = t.so_dinh_danh"
            )
        if run_id is not None:
            found = self._run(cur, "SELECT source FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found and found[0] != self.catalog.register.id:
                table = self._table_of(found[0])
                person = quarantine_person(self._db.name, "q.")
                relations += [
                    "SELECT so_dinh_danh FROM {table} WHERE run_id = %s AND decision = 'match'",
                    "SELECT so_dinh_danh FROM review_candidate WHERE run_id = %s",
                    "SELECT x.id_number FROM {table} x JOIN person p "
                    "ON p.so_dinh_danh = x.id_number WHERE x.run_id = %s "
                    "AND x.decision = 'no_match'",
                    f"SELECT {person} FROM quarantine q JOIN person p "  # noqa: S608 (fixed SQL)
                    f"ON p.so_dinh_danh = {person} WHERE q.run_id = %s",
                ]
                params += [run_id] * 4
        found = read_frame(
            self, cur, "\nUNION ALL\n".join(relations), tuple(params), {"so_dinh_danh": TEXT},
            **({"table": table} if table else {}),
        )  # fmt: skip
        keys = people_keys(pd.concat([found["so_dinh_danh"], queued]).dropna())
        return keys.filter(pc.greater(pc.utf8_length(keys), 0))

    def _stage_people(self, cur, people: pa.Array) -> None:
        """The people of this refresh in the temporary table ``status_touched``. PostgreSQL
        joins it by hashing (no index to build); SQLite looks it up, by its primary key."""
        self._run(cur, "DROP TABLE IF EXISTS status_touched")
        key = "" if self._db.name == "postgresql" else " PRIMARY KEY"
        self._run(cur, f"CREATE TEMP TABLE status_touched (so_dinh_danh text{key})")
        if len(people):
            ordered = people.take(pc.sort_indices(people))
            self._db.bulk_insert(cur, "status_touched", pa.table({"so_dinh_danh": ordered}))
        self._run(cur, "ANALYZE status_touched")

    def _recompute(self, cur, seq: int, people: pa.Array, as_of: dt.date, steps) -> dict:
        self._stage_people(cur, people)
        inputs, pending = {}, []
        for kind, source in EVENT_SOURCES.items():
            if source not in self.catalog:
                continue
            first, second = EVENT_COLUMNS[kind]
            rows = read_frame(
                self, cur,
                "SELECT t.so_dinh_danh, x.decision, x.{first}, x.{second} FROM {table} x "
                "JOIN status_touched t ON t.so_dinh_danh = CASE WHEN x.decision = 'match' "
                "THEN x.so_dinh_danh WHEN x.decision = 'no_match' THEN x.id_number END",
                (),
                {"so_dinh_danh": TEXT, "decision": TEXT, first: DATE,
                 second: TEXT if kind == "doses" else DATE},
                table=self._table_of(source), first=first, second=second,
            )  # fmt: skip
            linked = rows["decision"].eq("match").to_numpy(dtype=bool)
            inputs[kind] = rows[linked]
            pending.append(rows.loc[~linked, ["so_dinh_danh"]].assign(rows_unlinked=1))
        person = quarantine_person(self._db.name, "q.")
        for field, query in (
            ("rows_in_review", "SELECT c.so_dinh_danh FROM review_candidate c "
             "JOIN status_touched t ON t.so_dinh_danh = c.so_dinh_danh"),
            ("rows_quarantined", "SELECT t.so_dinh_danh FROM quarantine q "  # noqa: S608
             f"JOIN status_touched t ON t.so_dinh_danh = {person}"),
        ):  # fmt: skip
            found = read_frame(self, cur, query, (), {"so_dinh_danh": TEXT})
            pending.append(found.assign(**{field: 1}))
        pending = pd.concat(pending, ignore_index=True)
        pending = pending.reindex(columns=["so_dinh_danh", *PENDING_FIELDS]).fillna(
            dict.fromkeys(PENDING_FIELDS, 0)
        )
        stored = read_frame(
            self, cur,
            "SELECT p.so_dinh_danh, {columns} FROM person_status p JOIN status_touched t "
            "ON t.so_dinh_danh = p.so_dinh_danh",
            (), {"so_dinh_danh": TEXT, **_BEFORE}, columns=list(_BEFORE),
        )  # fmt: skip
        # Aligned with the people, by position (no string index).
        before = (
            stored.drop(columns="so_dinh_danh")
            .astype({name: "Int64" for name, kind in _BEFORE.items() if kind == INT})
            .set_axis(person_codes(people, stored["so_dinh_danh"]))
            .reindex(range(len(people)))
        )
        steps("read")
        after = compute_status(people, pending=pending, as_of=as_of, **inputs)
        after = after.reset_index()
        after["status_hash"] = status_hash(after)
        steps("compute")
        outcome = _changes(before, after, _empty_hash())
        changed = outcome.pop("changed_mask")
        known = before["status_hash"].notna().to_numpy()
        constants = {"as_of": as_of, "change_seq": seq}
        for rows, target in (
            (changed & known, "status_stage"),
            (changed & ~known, "person_status"),
        ):
            if not rows.any():
                continue
            rows = after[rows]
            rows = rows.iloc[pc.sort_indices(pa.array(rows["so_dinh_danh"])).to_numpy()]
            if target == "status_stage":
                self._run(cur, "DROP TABLE IF EXISTS status_stage")
                self._run(cur, "CREATE TEMP TABLE status_stage AS SELECT * FROM person_status "
                               "WHERE 1 = 0")  # fmt: skip
            data = to_arrow(rows, STORED_COLUMNS, constants, "person status")
            self._db.bulk_insert(cur, target, data)
        if (changed & known).any():
            # An update in place: the key does not change, so PostgreSQL rewrites the row in its
            # page (a HOT update: fillfactor leaves the room, 0003) without touching the index.
            sets = ", ".join(f"{c} = s.{c}" for c in STORED_COLUMNS if c != "so_dinh_danh")
            self._run(
                cur,
                f"UPDATE person_status SET {sets} FROM status_stage s "  # noqa: S608 (fixed names)
                "WHERE person_status.so_dinh_danh = s.so_dinh_danh",
            )
        steps("write")
        return outcome


def _changes(before: pd.DataFrame, after: pd.DataFrame, empty: int) -> dict:
    """Who changed (the digest differs; a person never seen whose status is empty is not a
    change) and the counts the batch summary carries."""
    known = before["status_hash"].notna().to_numpy()
    old_hash = before["status_hash"].fillna(0).to_numpy(dtype=np.int64)
    new_hash = after["status_hash"].to_numpy(dtype=np.int64)
    changed = (known & (old_hash != new_hash)) | (~known & (new_hash != empty))
    was_complete = before["primary_complete"].fillna(False).astype(bool).to_numpy()
    is_complete = after["primary_complete"].to_numpy(dtype=bool)
    was_insured = before["insured"].fillna(False).astype(bool).to_numpy()
    is_insured = after["insured"].to_numpy(dtype=bool)
    more = {
        name: int(
            (after[name].to_numpy(dtype=np.int64) > before[name].fillna(0).to_numpy(np.int64)).sum()
        )
        for name in ("boosters", "f0_episodes")
    }
    pending = after[list(PENDING_FIELDS)].sum(axis=1).to_numpy() > 0
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


def _empty_hash() -> int:
    """The digest of a person with nothing: no event, no pending row."""
    nobody = compute_status(["-"], as_of=dt.date(2000, 1, 1))
    return int(status_hash(nobody).iloc[0])
