"""XLSX (every sheet with the first sheet's header, the header on the first non-empty row or
below title rows) and Parquet, as string columns."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.readers.headers import ReadError, header_row

log = logging.getLogger(__name__)


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


# A later sheet's rows are numbered after its sheet: sheet n (from 1) row r is src_row
# (n - 1) * SHEET_ROWS + r, so every row of a workbook has its own number (XLSX holds at most
# 1,048,576 rows per sheet).
SHEET_ROWS = 10_000_000


def read_xlsx(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list]:
    """Every sheet whose header is the first sheet's (a long extract split over sheets); the
    header is the first non-empty row (title rows above it are skipped when a later row among
    the first ones carries more known header labels); data rows keep their sheet row number
    (``SHEET_ROWS`` apart per sheet). Other sheets with rows (notes, a summary) are named in a
    warning, never read silently as data nor dropped silently."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    header, parts = None, []
    for number, name in enumerate(book.sheet_names):
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        start = header_row(rows, known)
        if start is None:
            continue
        cells = ["" if c == "" else _cell_text(c) for c in rows[start]]
        if header is None:
            header = cells
        elif [c.strip() for c in cells] != [c.strip() for c in header]:
            filled = sum(1 for row in rows[start + 1 :] if any(c != "" for c in row))
            log.warning("sheet %r (%d rows) not read: its header is not the first sheet's",
                        name, filled)  # fmt: skip
            continue
        parts.append(_sheet_rows(rows, start, len(header), number * SHEET_ROWS))
    if header is None:
        raise ReadError("empty sheet (no header row)")
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return table.rename_columns([*header, "__row"]), None


def _sheet_rows(rows: list, start: int, width: int, offset: int) -> pa.Table:
    """The data rows under the header at ``start``, as strings, numbered from the sheet."""
    numbered = [(offset + start + 2 + i, row) for i, row in enumerate(rows[start + 1 :])]
    numbered = [(number, row) for number, row in numbered if any(c != "" for c in row)]
    body = [row for _, row in numbered]
    converted: dict[tuple[type, object], str | None] = {}
    arrays = []
    for j in range(width):
        column = [row[j] if j < len(row) else "" for row in body]
        for value in {(type(v), v) for v in column if type(v) is not str}:
            converted.setdefault(value, _cell_text(value[1]))
        texts = [v if type(v) is str else converted[(type(v), v)] for v in column]
        arrays.append(pa.array(texts, pa.string()))
    arrays.append(pa.array([number for number, _ in numbered], pa.int64()))
    return pa.table(arrays, names=[*(f"c{j}" for j in range(width)), "__row"])


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
