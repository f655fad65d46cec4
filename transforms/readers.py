"""Read one source file (CSV / XLSX / Parquet) into canonical string columns with provenance.

Every value comes back as a string or null (never an inferred number: IDs and phones keep their
leading zeros); empty and whitespace-only cells are null. Headers are matched to canonical fields
through the source's declaration (``popsync/sources/<id>.yaml``) after folding (case, spaces, punctuation, diacritics).
A malformed CSV row is kept with ``read_error`` set; only a file that cannot be read at all stops.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popsync.core.contracts import READ_PROVENANCE as PROVENANCE
from popsync.core.errors import UserError
from popsync.core.privacy import mask_text
from popsync.core.sources import SourceSpec, spec_of
from transforms.columns import STRING
from transforms.legacy_encodings import from_cp1258_bytes
from transforms.text import fold_text

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}
_MAGIC = {b"PK\x03\x04": "xlsx", b"PAR1": "parquet"}
# How much of the top of a CSV is searched for the header line.
_CSV_HEAD = 65536
# How many non-empty rows at the top of a sheet or CSV may be titles above the header.
_HEADER_SCAN = 20


class ReadError(UserError):
    """A source file that cannot be read; the message names the file and the reason."""


def header_key(label: str) -> str:
    """Folded form of a header used for matching: ``" Họ  và Tên "`` -> ``"ho va ten"``."""
    return " ".join(_NON_ALNUM.sub(" ", fold_text(str(label))).split())


def read_source(
    path: str | Path,
    source: str | SourceSpec,
) -> pd.DataFrame:
    """Read ``path`` as ``source``: provenance columns then every canonical field (string or null).

    ``source`` is a declaration, or the id of a packaged one.
    """
    cfg = spec_of(source)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReadError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    fmt = _format(path, data)
    try:
        if fmt == "csv":
            table, errors = _read_csv(data, _label_keys(cfg))
        elif fmt == "xlsx":
            table, errors = _read_xlsx(data, _label_keys(cfg))
        else:
            table, errors = _read_parquet(data), None
    except ReadError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    except Exception as exc:  # any parser failure on a file that is not valid in its format
        raise ReadError(f"{path}: not a valid {fmt.upper()} file ({exc})") from exc
    frame = _map_columns(table, cfg, path)
    return _with_provenance(frame, cfg, path, hashlib.sha256(data).hexdigest(), errors)


def _format(path, data: bytes) -> str:
    fmt = _FORMATS.get(Path(path).suffix.lower()) or _MAGIC.get(data[:4])
    if fmt is None:
        raise ReadError(
            f"{path}: unknown format {Path(path).suffix or '(no extension)'!r}; "
            "expected .csv, .xlsx or .parquet"
        )
    return fmt


# --- CSV ---------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, bytes]:
    """Text and UTF-8 bytes of a CSV: UTF-8 (BOM stripped), else Windows-1258 made NFC."""
    data = data.removeprefix(_BOM)
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    try:
        text = from_cp1258_bytes(data)  # cp1258 spells tones as combining marks: made NFC
    except UnicodeDecodeError as exc:
        raise ReadError("text is neither UTF-8 nor Windows-1258") from exc
    return text, text.encode("utf-8")


def _sniff_separator(text: str) -> str:
    """``;`` or ``,``: whichever occurs more in the header line outside quotes."""
    header = re.sub(r'"[^"]*"', "", text[:_CSV_HEAD].split("\n", 1)[0])
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list | None]:
    """A CSV whose header is the first non-empty line, or a later one among the first lines when
    title lines sit above it (as :func:`_header_row` decides for a sheet); ``src_row`` counts
    data rows from 1 either way."""
    body = data.removeprefix(_BOM)
    head = body[:_CSV_HEAD]
    try:  # UTF-8 (the usual case): parse the bytes as they are, no decoded copy of the file
        head_text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
    except UnicodeDecodeError:
        head_text = None
    if head_text is not None:
        header, sep, start = _locate_header(head_text, known)
        try:
            return _read_csv_fast(body, header, sep, len(head_text[:start].encode("utf-8"))), None
        except pa.ArrowInvalid:  # invalid UTF-8 further on, or ragged rows
            # (not the error text: Arrow quotes the offending row, personal data included)
            log.debug("fast CSV path failed; decoding the whole file")
    text, utf8 = _decode(data)
    header, sep, start = _locate_header(text[:_CSV_HEAD], known)
    try:
        return _read_csv_fast(utf8, header, sep, len(text[:start].encode("utf-8"))), None
    except pa.ArrowInvalid:
        log.debug("fast CSV path failed; reading row by row")
        table, errors = _read_csv_tolerant(text[start:], sep, len(header))
    return table.rename_columns(header), errors


def _head_rows(text: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """The first rows of ``text`` (up to the header scan limit of non-empty ones) and the
    character offset where each ends."""
    end = 0

    def lines():
        nonlocal end
        for line in io.StringIO(text, newline=""):
            end += len(line)
            yield line

    rows: list[list[str]] = []
    ends: list[int] = []
    filled = 0
    try:
        for row in csv.reader(lines(), delimiter=sep):
            rows.append(row)
            ends.append(end)
            filled += any(c != "" for c in row)
            if filled >= _HEADER_SCAN:
                break
    except csv.Error:  # the head ends inside a quoted field: what was read is enough
        pass
    return rows, ends


def _locate_header(text: str, known: frozenset[str]) -> tuple[list[str], str, int]:
    """Header cells, separator and the character offset of the first data row.

    The separator is the one under which the header carries the most known labels (the
    first line's own count of ``;`` and ``,`` decides a tie).
    """
    found = {}
    for sep in (",", ";"):
        rows, ends = _head_rows(text, sep)
        at = _header_row(rows, known)
        if at is not None:
            found[sep] = (_label_hits(rows[at], known), rows[at], ends[at])
    if not found:
        raise ReadError("empty file (no header line)")
    hits = {sep: entry[0] for sep, entry in found.items()}
    if len(set(hits.values())) > 1:
        sep = max(hits, key=hits.get)
    else:
        sep = _sniff_separator(text)
        sep = sep if sep in found else next(iter(found))
    _, header, start = found[sep]
    return header, sep, start


def _read_csv_fast(utf8: bytes, header: list[str], sep: str, start: int) -> pa.Table:
    """Parse from byte ``start`` (the first data row) with pyarrow; no copy of the bytes."""
    names = [f"c{i}" for i in range(len(header))]
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8).slice(start)),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table.rename_columns(header)


def _read_csv_tolerant(text: str, sep: str, width: int) -> tuple[pa.Table, list]:
    """Python csv reader: rows with too many/few fields are cut or padded and get a read error."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)  # the data rows only
    fixed, errors = [], []
    for row in rows:
        if not row:  # blank line: not a data row (as in the fast path)
            continue
        if len(row) == width:
            errors.append(None)
        else:
            errors.append(f"{len(row)} fields, expected {width}")
            row = (row + [""] * width)[:width]
        fixed.append(row)
    columns = list(zip(*fixed, strict=True)) if fixed else [()] * width
    arrays = [pa.array(col, pa.string()) for col in columns]
    names = [f"c{i}" for i in range(width)]
    return pa.table(arrays, names=names), errors


# --- XLSX --------------------------------------------------------------------------------------


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


def _label_keys(cfg: SourceSpec) -> frozenset[str]:
    """Folded header labels of every field of ``cfg`` (to find the header row of a sheet)."""
    return frozenset(
        header_key(label) for field, labels in cfg.columns.items() for label in [*labels, field]
    )


def _label_hits(row: list, known: frozenset[str]) -> int:
    return sum(1 for c in row if isinstance(c, str) and header_key(c) in known)


def _header_row(rows: list, known: frozenset[str]) -> int | None:
    """Index of the header row: the first non-empty row, unless title rows sit above the header.

    Among the first non-empty rows, the first one with the most cells that are known header
    labels wins; when no row has any, the first non-empty row stays the header (and the
    missing columns are reported as such).
    """
    non_empty = [i for i, row in enumerate(rows) if any(c != "" for c in row)]
    if not non_empty:
        return None
    best, best_hits = non_empty[0], 0
    for i in non_empty[:_HEADER_SCAN]:
        hits = _label_hits(rows[i], known)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def _read_xlsx(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list]:
    """First sheet; the header is the first non-empty row (title rows above it are skipped when
    a later row among the first ones carries more known header labels); data rows keep their
    sheet row number."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=False)
    start = _header_row(rows, known)
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


# --- Parquet -----------------------------------------------------------------------------------


def _read_parquet(data: bytes) -> pa.Table:
    table = pq.read_table(io.BytesIO(data))
    return pa.table(
        [col if pa.types.is_string(col.type) else _to_string(col) for col in table.itercolumns()],
        names=table.column_names,
    )


def _to_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        return pc.strftime(col, "%d/%m/%Y" if pa.types.is_date(col.type) else "%Y-%m-%dT%H:%M:%S")
    return pc.cast(col, pa.string())


# --- mapping and provenance --------------------------------------------------------------------


def _map_columns(table: pa.Table, cfg: SourceSpec, path) -> dict[str, pa.ChunkedArray | None]:
    """Canonical field -> column (None when absent); raises on missing required columns."""
    by_key: dict[str, int] = {}
    for i, name in enumerate(table.column_names):
        if name != "__row":
            by_key.setdefault(header_key(name), i)
    found: dict[str, pa.ChunkedArray | None] = {}
    used: set[int | None] = set()
    for field, labels in cfg.columns.items():
        keys = [header_key(label) for label in [*labels, field]]
        index = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        found[field] = None if index is None else _blank_to_null(table.column(index))
        used.add(index)
    missing = [f for f in cfg.required if found[f] is None]
    if missing:
        wanted = ", ".join(f"{f} ({cfg.columns[f][0]!r})" for f in missing)
        headers = ", ".join(repr(_shown_header(n, cfg)) for n in table.column_names if n != "__row")
        raise ReadError(f"{path}: missing required column(s) {wanted}; headers found: {headers}")
    extra = [n for i, n in enumerate(table.column_names) if i not in used and n != "__row"]
    if extra:
        log.debug("%s: ignoring unknown columns %s", path, extra)
    if "__row" in table.column_names:
        found["__row"] = table.column("__row")
    return found


def _shown_header(name: str, cfg: SourceSpec) -> str:
    """A header cell as an error message may show it: a known label or text without digits as
    is; anything else masked, since a file without a header line puts its first data row (IDs,
    phones, dates) here."""
    if header_key(name) in _label_keys(cfg) or not any(ch.isdigit() for ch in name):
        return name
    return mask_text(name)


def _blank_to_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Empty or whitespace-only cells -> null (one scan; no copy when there are none)."""
    blank = pc.or_(pc.utf8_is_space(col), pc.equal(pc.binary_length(col), 0))
    if not pc.any(blank).as_py():
        return col
    return pc.if_else(blank, pa.scalar(None, col.type), col)


def _constant(value: str | None, index: pd.Index) -> pd.Series:
    """A string column holding one value (built in Arrow: no Python object per row)."""
    if value is None:
        array = pa.nulls(len(index), pa.large_string())
    else:
        indices = pa.array(np.zeros(len(index), np.int8))
        array = pa.DictionaryArray.from_arrays(indices, pa.array([value], pa.large_string()))
        array = array.cast(pa.large_string())
    return pd.Series(pd.array(array, dtype=STRING), index)


def _with_provenance(columns: dict, cfg: SourceSpec, path, sha256: str, errors) -> pd.DataFrame:
    rows = columns.pop("__row", None)
    n = next(len(c) for c in columns.values() if c is not None)
    index = pd.RangeIndex(n)
    frame = pd.DataFrame(
        {
            field: pd.Series(
                pd.array(col, dtype=STRING) if col is not None else None, index, STRING
            )
            for field, col in columns.items()
        }
    )
    parts = [frame[f] for f in cfg.record_id.fields]
    record_id = parts[0]
    for part in parts[1:]:
        record_id = record_id.fillna("") + cfg.record_id.sep + part.fillna("")
    if len(parts) > 1:
        record_id = record_id.mask(pd.concat(parts, axis=1).isna().all(axis=1))
    provenance = pd.DataFrame(
        {
            "source": _constant(cfg.id, index),
            "record_id": record_id,
            "src_file": _constant(str(path), index),
            "src_sha256": _constant(sha256, index),
            "src_row": rows.to_numpy() if rows is not None else range(1, n + 1),
            "read_error": pd.Series(errors, index, STRING)
            if errors is not None
            else _constant(None, index),
        }
    )
    frame = frame.drop(columns=[c for c in PROVENANCE if c in frame.columns])
    return pd.concat([provenance, frame], axis=1)
