"""How a status refresh writes the people whose status changed into ``person_status``, in its
transaction: the new people by a binary COPY; the people who had a status either updated in
place (from a temporary ``status_stage``), or, when they are a large share of the table
(``REWRITE_SHARE``, PostgreSQL), the table rewritten whole: the rows kept and the changed rows
inserted into the emptied table. Updating 451k of 632k rows in place cost PostgreSQL 5.5 s (most
are not HOT updates: each writes its index entry too); the rewrite inserts them once."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa

from popsync.core.contracts import BOOL, DATE, INT, TEXT
from popsync.core.status import NONE

# person_status's types (a binary COPY sends each as its own): the counts are integer, the
# digest and the refresh's number bigint.
_ARROW = {TEXT: pa.string(), INT: pa.int32(), BOOL: pa.bool_()}
_BIGINT = ("status_hash", "change_seq")
# The people who had a status and changed, as a share of person_status's rows, from which the
# table is rewritten rather than updated in place.
REWRITE_SHARE = 0.3


def write_changed(store, cur, columns: dict, rows: pa.Table, known: np.ndarray) -> None:
    """Write ``rows`` (person_status rows of the people whose status changed, ``columns``:
    name -> type; ``known``: they had a status) into person_status."""
    updated = int(known.sum())
    if updated and _rewrite(store, cur, updated) and _keep_others(store, cur, rows):
        store._run(cur, "TRUNCATE person_status")
        store._run(cur, "INSERT INTO person_status SELECT * FROM status_kept")
        store._run(cur, "DROP TABLE status_kept")
        store._db.bulk_insert(cur, "person_status", rows, binary=True)
        return
    if updated:
        store._run(cur, "DROP TABLE IF EXISTS status_stage")
        store._run(cur, "CREATE TEMP TABLE status_stage AS SELECT * FROM person_status "
                        "WHERE 1 = 0")  # fmt: skip
        store._db.bulk_insert(cur, "status_stage", rows.filter(pa.array(known)), binary=True)
    if updated < len(known):
        store._db.bulk_insert(cur, "person_status", rows.filter(pa.array(~known)), binary=True)
    if updated:
        # An update in place: the key does not change, so PostgreSQL rewrites the row in its
        # page (a HOT update: fillfactor leaves the room, 0003) without touching the index.
        sets = ", ".join(f"{c} = s.{c}" for c in columns if c != "so_dinh_danh")
        store._run(
            cur,
            f"UPDATE person_status SET {sets} FROM status_stage s "  # noqa: S608 (fixed names)
            "WHERE person_status.so_dinh_danh = s.so_dinh_danh",
        )


def _keep_others(store, cur, rows: pa.Table) -> bool:
    """The rows of person_status of the people not in ``rows``, in the temporary table
    ``status_kept``; False (nothing made) when PostgreSQL would not hold the changed people's
    IDs in memory for it (it would look for each row's ID among them one by one)."""
    store._run(cur, "DROP TABLE IF EXISTS status_changed")
    store._run(cur, "CREATE TEMP TABLE status_changed (so_dinh_danh text)")
    store._db.bulk_insert(cur, "status_changed", rows.select(["so_dinh_danh"]), binary=True)
    kept = ("SELECT * FROM person_status WHERE so_dinh_danh NOT IN "
            "(SELECT so_dinh_danh FROM status_changed)")  # fmt: skip
    hashed = store._plans_hashed(cur, kept)
    if hashed:
        store._run(cur, "DROP TABLE IF EXISTS status_kept")
        store._run(cur, "CREATE TEMP TABLE status_kept AS " + kept)
    store._run(cur, "DROP TABLE status_changed")
    return hashed


def _rewrite(store, cur, updated: int) -> bool:
    """Whether ``updated`` rows are many for person_status (by the planner's estimate)."""
    if store._db.name != "postgresql":
        return False
    plan = store._scalar(cur, "EXPLAIN (FORMAT JSON) SELECT 1 FROM person_status")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return updated >= REWRITE_SHARE * plan[0]["Plan"]["Plan Rows"]


def stored_rows(
    columns: dict, keys: pa.Array, after: dict, rows: np.ndarray, as_of: dt.date, seq: int
) -> pa.Table:
    """The rows of person_status (``columns``: name -> type) for the people at positions
    ``rows``, as Arrow columns."""
    table = {"so_dinh_danh": keys.take(pa.array(rows))}
    for name, kind in columns.items():
        if name == "so_dinh_danh":
            continue
        if name == "as_of":
            table[name] = pa.array([as_of] * len(rows), pa.date32())
        elif name == "change_seq":
            table[name] = pa.array(np.full(len(rows), seq, dtype=np.int64))
        elif kind == DATE:
            days = after[name][rows]
            missing = days == NONE
            table[name] = pa.array(np.where(missing, 0, days).astype(np.int32), pa.int32(),
                                   mask=missing).cast(pa.date32())  # fmt: skip
        else:
            kind = pa.int64() if name in _BIGINT else _ARROW[kind]
            table[name] = pa.array(after[name][rows], kind, from_pandas=True)
    return pa.table(table)
