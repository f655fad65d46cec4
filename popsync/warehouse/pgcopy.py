"""An Arrow table in PostgreSQL's binary COPY format, built with Arrow's kernels (no Python
object per value): the server stores the values as they come, without parsing text (dates,
integers, booleans).

Each Arrow type maps to one PostgreSQL type, which must be the column's: string -> text,
int32 -> integer, int64 -> bigint, bool -> boolean, date32 -> date. The format: a header, then
per row the number of fields (int16) and per field its length (int32, -1 for null) and its
bytes, big-endian; a trailer (-1). Each field is made a binary column of its encoded values
(length and bytes), and each row the concatenation of its fields (``binary_join_element_wise``):
the rows' bytes, end to end, are the body."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" * 2
TRAILER = b"\xff\xff"
NULL = pa.scalar(b"\xff\xff\xff\xff", pa.binary())  # a null field: length -1, no bytes
# Days between 1970-01-01 (Arrow's date32) and 2000-01-01 (PostgreSQL's date).
_PG_EPOCH_DAYS = 10_957
# Rows encoded at once: well under 2 GiB, the most a binary column of Arrow holds.
ROWS_PER_PART = 1_000_000
_FIXED = {pa.int32(): ">i4", pa.int64(): ">i8", pa.bool_(): "u1", pa.date32(): ">i4"}


def binary_copy(table: pa.Table) -> tuple[list[str], list]:
    """``table`` as the body of ``COPY ... (columns) FROM STDIN (FORMAT binary)``: the columns
    in the order the body holds them (the fixed-size columns without nulls first: they are
    encoded together, as one record per row) and the body, as a list of buffers."""
    n = table.num_rows
    dense = [name for name, column in zip(table.column_names, table.columns, strict=True)
             if column.type in _FIXED and not column.null_count]  # fmt: skip
    names = dense + [name for name in table.column_names if name not in dense]
    parts = [HEADER]
    for start in range(0, n, ROWS_PER_PART):  # Arrow's binary offsets are 32-bit
        parts.append(_rows(table.slice(start, ROWS_PER_PART), names, dense))
    return names, [*parts, TRAILER]


def _rows(table: pa.Table, names: list[str], dense: list[str]) -> pa.Buffer:
    """The rows of ``table`` encoded, end to end."""
    n = table.num_rows
    fields = [_fixed_binary(_records(table, dense, len(names)))] if dense else []
    fields += [_encoded(table.column(name).combine_chunks()) for name in names[len(dense) :]]
    if not dense:
        fields.insert(0, _fixed_binary(np.full(n, len(names), dtype=">i2")))
    rows = pc.binary_join_element_wise(*fields, b"") if len(fields) > 1 else fields[0]
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + n + 1]
    return rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def _records(table: pa.Table, names: list[str], count: int) -> np.ndarray:
    """The field count and the columns ``names`` (fixed-size, no null), encoded, one record
    per row."""
    layout = [("count", ">i2")]
    for i, name in enumerate(names):
        layout += [(f"s{i}", ">i4"), (f"v{i}", _FIXED[table.column(name).type])]
    records = np.empty(table.num_rows, dtype=layout)
    records["count"] = count
    for i, name in enumerate(names):
        dtype = np.dtype(_FIXED[table.column(name).type])
        records[f"s{i}"], records[f"v{i}"] = dtype.itemsize, _values(table.column(name))
    return records


def _values(column) -> np.ndarray:
    """A fixed-size column's values as PostgreSQL counts them (dates from 2000-01-01)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.type == pa.date32():
        values = pc.cast(column, pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return values.astype(np.int64) - _PG_EPOCH_DAYS
    values = column.fill_null(False if column.type == pa.bool_() else 0)
    return values.to_numpy(zero_copy_only=False)


def _encoded(column: pa.Array) -> pa.Array:
    """Each value as its length (int32) and bytes; a null as the length -1."""
    kind, n = column.type, len(column)
    if kind == pa.string():
        lengths = pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        data = column.fill_null("").cast(pa.binary())
        encoded = pc.binary_join_element_wise(_fixed_binary(lengths.astype(">i4")), data, b"")
    elif kind in _FIXED:
        dtype = np.dtype(_FIXED[kind])
        record = np.empty(n, dtype=[("size", ">i4"), ("value", dtype)])
        record["size"], record["value"] = dtype.itemsize, _values(column)
        encoded = _fixed_binary(record)
    else:
        raise TypeError(f"no binary COPY for Arrow type {kind}")
    if column.null_count:
        encoded = pc.if_else(column.is_valid(), encoded, NULL)
    return encoded


def _fixed_binary(values: np.ndarray) -> pa.Array:
    """A numpy array of fixed-size records as an Arrow binary column, one value per record."""
    width = values.dtype.itemsize
    buffer = pa.py_buffer(np.ascontiguousarray(values).tobytes())
    return pa.Array.from_buffers(pa.binary(width), len(values), [None, buffer]).cast(pa.binary())
