"""A query's rows as a typed DataFrame, read in bulk: PostgreSQL streams them with ``COPY ... TO
STDOUT`` (CSV parsed by pyarrow, no Python object per value), SQLite returns them as rows."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from popsync.core.contracts import BOOL, DATE, INT, TEXT
from popsync.warehouse.backends import COPY_CHUNK

_ARROW = {TEXT: pa.string(), INT: pa.int64(), DATE: pa.date32(), BOOL: pa.bool_()}


def read_frame(
    store, cur, template: str, params: tuple, types: dict[str, str], **identifiers
) -> pd.DataFrame:
    """The rows of a query (``{name}`` identifiers, ``%s`` values) in the caller's transaction,
    as a frame of the columns of ``types`` (name -> ``TEXT`` | ``INT`` | ``DATE`` | ``BOOL``, in
    the query's order): text as strings (Arrow-backed, as pyarrow reads them), integers as int64 (Int64 with nulls), dates as datetime64, booleans
    as the nullable ``boolean``."""
    if store._db.name == "postgresql":
        table = read_arrow(store, cur, template, params, types, **identifiers)
        return _typed(table.to_pandas(date_as_object=False), types)
    cur.execute(store._db.query(template, **identifiers), params)
    return _typed(pd.DataFrame(cur.fetchall(), columns=list(types)), types)


def read_arrow(
    store, cur, template: str, params: tuple, types: dict[str, str], **identifiers
) -> pa.Table:
    """The rows of a query as an Arrow table of ``types`` (dates as date32), for the reads
    that go on in Arrow and numpy without a frame (a status refresh, a publication)."""
    schema = pa.schema([(name, _ARROW[kind]) for name, kind in types.items()])
    query = store._db.query(template, **identifiers)
    if store._db.name != "postgresql":
        cur.execute(query, params)
        rows = cur.fetchall()
        columns = [[row[i] for row in rows] for i in range(len(types))]
        return pa.table([_sqlite_column(c, f.type) for c, f in zip(columns, schema, strict=True)],
                        schema=schema)  # fmt: skip
    text = cur.mogrify(query, params or None).decode()
    buffer = io.BytesIO()
    cur.copy_expert(f"COPY ({text}) TO STDOUT (FORMAT csv)", buffer, size=COPY_CHUNK)
    if not buffer.tell():
        return schema.empty_table()
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(types)),
        convert_options=pacsv.ConvertOptions(
            column_types=dict(zip(schema.names, schema.types, strict=True)),
            true_values=["t"],
            false_values=["f"],
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _sqlite_column(values: list, kind: pa.DataType) -> pa.Array:
    """SQLite's values (dates as ISO text, booleans as 0/1) as an Arrow column."""
    if kind == pa.date32():
        text = pa.array([None if v is None else str(v)[:10] for v in values], pa.string())
        return text.cast(pa.date32())
    if kind == pa.bool_():
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    return pa.array(values, kind)


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    for name, kind in columns.items():
        values = frame[name]
        if kind == DATE and not pd.api.types.is_datetime64_any_dtype(values.dtype):
            frame[name] = pd.to_datetime(values, errors="coerce")
        elif kind == BOOL:
            frame[name] = values.astype("boolean")
        elif kind == INT and not pd.api.types.is_integer_dtype(values.dtype):
            frame[name] = pd.to_numeric(values).astype("Int64")
        elif kind == TEXT and values.dtype == object:
            frame[name] = values.astype("str")
    return frame
