"""XLSX (first sheet, header on the first non-empty row or below title rows) and Parquet, as
string columns."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.readers.headers import ReadError, header_row


def _cell_text(value) -> str | None:
    """A non-string Excel cell as the text a person would read in it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.strftime("%d/%m/%Y")
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.timedelta | dt.time):
        return str(value)
    return None if value is None else str(value)


def read_xlsx(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list]:
    """First sheet; the header is the first non-empty row (title rows above it are skipped when
    a later row among the first ones carries more known header labels); data rows keep their
    sheet row number."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=False)
    start = header_row(rows, known)
    if start is None:
        raise ReadError("empty sheet (no header row)")
    header = ["" if c == "" else _cell_text(c) for c in rows[start]]
    numbered = [(start + 2 + i, row) for i, row in enumerate(rows[start + 1 :])]
    numbered = [(number, row) for number, row in numbered if any(c != "" for c in row)]
    sheet_rows = [number for number, _ in numbered]
    body = [row for _, row in numbered]
    converted: dict[tuple[type, object], str | None] = {}
    arrays = []
    for j in range(len(header)):
        column = [row[j] if j < len(row) else "" for row in body]
        for value in {(type(v), v) for v in column if type(v) is not str}:
            converted.setdefault(value, _cell_text(value[1]))
        texts = [v if type(v) is str else converted[(type(v), v)] for v in column]
        arrays.append(pa.array(texts, pa.string()))
    table = pa.table(arrays, names=[f"c{j}" for j in range(len(header))])
    return table.rename_columns(header).append_column(
        "__row", pa.array(sheet_rows, pa.int64())
    ), None


def read_parquet(data: bytes) -> pa.Table:
    table = pq.read_table(io.BytesIO(data))
    return pa.table(
        [col if pa.types.is_string(col.type) else _to_string(col) for col in table.itercolumns()],
        names=table.column_names,
    )


def _to_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        return pc.strftime(col, "%d/%m/%Y" if pa.types.is_date(col.type) else "%Y-%m-%dT%H:%M:%S")
    return pc.cast(col, pa.string())
