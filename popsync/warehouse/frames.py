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
    query = store._db.query(template, **identifiers)
    columns, names = types, list(types)
    if store._db.name == "postgresql":
        text = cur.mogrify(query, params or None).decode()
        buffer = io.BytesIO()
        cur.copy_expert(f"COPY ({text}) TO STDOUT (FORMAT csv)", buffer, size=COPY_CHUNK)
        if not buffer.tell():
            return _typed(pd.DataFrame({name: [] for name in names}), columns)
        buffer.seek(0)
        table = pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(
                column_types={name: _ARROW[kind] for name, kind in columns.items()},
                true_values=["t"],
                false_values=["f"],
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        return _typed(table.to_pandas(date_as_object=False), columns)
    cur.execute(query, params)
    return _typed(pd.DataFrame(cur.fetchall(), columns=names), columns)


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
