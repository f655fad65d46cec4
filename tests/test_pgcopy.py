"""PostgreSQL's binary COPY built from Arrow (``warehouse.pgcopy``, what a status refresh writes
person_status with): every value comes back as it went, nulls, non-ASCII text, empty text,
the extremes of each type, dates before 2000-01-01, columns in any order, sliced tables."""

from __future__ import annotations

import datetime as dt

import psycopg2
import pyarrow as pa
import pytest

from popsync.warehouse import pgcopy
from popsync.warehouse.backends import Postgres

TABLE = pa.table({
    "name": pa.array(["Nguyễn Văn A", None, "", "x" * 300, "b"]),
    "count": pa.array([1, None, -(2**31), 2**31 - 1, 0], pa.int32()),
    "digest": pa.array([None, 2**63 - 1, -(2**63), 0, 5], pa.int64()),
    "flag": pa.array([True, False, None, True, False]),
    "day": pa.array([dt.date(2021, 3, 8), None, dt.date(1969, 12, 31), dt.date(2000, 1, 1),
                     dt.date(9999, 12, 31)]),
    "dense_int": pa.array([1, 2, 3, 4, 5], pa.int32()),
    "dense_day": pa.array([dt.date(2023, 1, 15)] * 5),
    "dense_flag": pa.array([True, False, True, False, True]),
    "dense_big": pa.array([7, -8, 9, 10, 2**40]),
})  # fmt: skip


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table",
    [TABLE, TABLE.slice(1, 3), TABLE.slice(0, 0), TABLE.select(["name"]),
     TABLE.select(["dense_int", "dense_big"]), TABLE.select(["day", "count"])],
    ids=["all", "sliced", "empty", "text only", "dense only", "nullable only"],
)  # fmt: skip
@pytest.mark.parametrize("rows_per_part", [pgcopy.ROWS_PER_PART, 2])
def test_every_value_comes_back_as_it_went(pg_url, table, rows_per_part, monkeypatch):
    monkeypatch.setattr(pgcopy, "ROWS_PER_PART", rows_per_part)  # 2: rows encoded in parts
    backend = Postgres(pg_url)
    try:
        cur = backend.conn.cursor()
        cur.execute(
            "CREATE TABLE x (name text, count integer, digest bigint, flag boolean, day date, "
            "dense_int integer, dense_day date, dense_flag boolean, dense_big bigint)"
        )
        backend.bulk_insert(cur, "x", table, binary=True)
        cur.execute(f"SELECT {', '.join(table.column_names)} FROM x")  # noqa: S608 (fixed)
        assert cur.fetchall() == [tuple(row.values()) for row in table.to_pylist()]
    finally:
        backend.conn.close()


@pytest.mark.postgres
def test_a_type_that_is_not_the_column_s_is_refused(pg_url):
    """A bigint sent to an integer column is not silently cut: the server refuses it."""
    backend = Postgres(pg_url)
    try:
        cur = backend.conn.cursor()
        cur.execute("CREATE TABLE x (count integer)")
        with pytest.raises(psycopg2.Error):
            backend.bulk_insert(cur, "x", pa.table({"count": pa.array([1, 2])}), binary=True)
    finally:
        backend.conn.close()
