"""Read one source file (CSV / XLSX / Parquet) into canonical string columns with provenance.

Every value comes back as a string or null (never an inferred number: IDs and phones keep their
leading zeros); empty and whitespace-only cells are null. Headers are matched to canonical fields
through the source's declaration (``popsync/sources/<id>.yaml``) after folding (case, spaces, punctuation, diacritics).
A malformed CSV row is kept with ``read_error`` set; only a file that cannot be read at all stops.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core.contracts import READ_PROVENANCE as PROVENANCE
from popsync.core.privacy import mask_text
from popsync.core.sources import SourceSpec, spec_of
from transforms.columns import STRING
from transforms.readers.delimited import read_csv
from transforms.readers.headers import ReadError, header_key, label_keys
from transforms.readers.spreadsheet import read_parquet, read_xlsx

__all__ = ["PROVENANCE", "ReadError", "header_key", "read_source"]

log = logging.getLogger(__name__)

_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}
_MAGIC = {b"PK\x03\x04": "xlsx", b"PAR1": "parquet"}
# An OLE2 compound file: an old .xls, or an encrypted .xlsx (Office wraps those in OLE2).
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
            table, errors = read_csv(data, label_keys(cfg))
        elif fmt == "xlsx":
            table, errors = read_xlsx(data, label_keys(cfg))
        else:
            table, errors = read_parquet(data), None
    except ReadError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    except Exception as exc:  # any parser failure on a file that is not valid in its format
        raise ReadError(f"{path}: not a valid {fmt.upper()} file ({exc})") from exc
    # A CSV is UTF-8 or Windows-1258: only a 0 byte decodes to NUL, so without one no column
    # needs the two NUL scans.
    frame = _map_columns(table, cfg, path, nul_free=fmt == "csv" and b"\x00" not in data)
    return _with_provenance(frame, cfg, path, hashlib.sha256(data).hexdigest(), errors)


def _format(path, data: bytes) -> str:
    """The format by the file's content first (a workbook renamed ``.csv`` is read as a
    workbook), then by its suffix."""
    if data[:8] == _OLE2:
        if "EncryptionInfo".encode("utf-16-le") in data[: 1 << 20]:
            raise ReadError(f"{path}: the workbook is protected by a password (encrypted): "
                            "save it without a password and send it again")  # fmt: skip
        raise ReadError(f"{path}: an Excel 97-2003 workbook (.xls) or another OLE file: "
                        "save it as .xlsx or CSV UTF-8")  # fmt: skip
    by_suffix = _FORMATS.get(Path(path).suffix.lower())
    fmt = _MAGIC.get(data[:4]) or by_suffix
    if by_suffix and fmt != by_suffix:
        log.warning("%s: the file is %s, not %s as its name says: read as %s", path,
                    fmt.upper(), by_suffix.upper(), fmt.upper())  # fmt: skip
    if fmt is None:
        raise ReadError(
            f"{path}: unknown format {Path(path).suffix or '(no extension)'!r}; "
            "expected .csv, .xlsx or .parquet"
        )
    return fmt


def _map_columns(
    table: pa.Table, cfg: SourceSpec, path, nul_free: bool = False
) -> dict[str, pa.ChunkedArray | None]:
    """Canonical field -> column (None when absent); raises on missing required columns.

    A header that appears more than once (two ``Số CCCD`` columns) gives one field: the first
    non-empty value of each row, so a real ID in the second column is never dropped for an
    empty first one; rows whose copies disagree get a read error naming the columns
    (``__row_errors``, with NUL characters found), and the file a warning."""
    by_key: dict[str, list[int]] = {}
    for i, name in enumerate(table.column_names):
        if name != "__row":
            by_key.setdefault(header_key(name), []).append(i)
    found: dict[str, pa.ChunkedArray | None] = {}
    used: set[int] = set()
    row_errors = None
    for field, labels in cfg.columns.items():
        keys = [header_key(label) for label in [*labels, field]]
        indices = next(([i for i in by_key[k] if i not in used] for k in keys
                        if k in by_key and any(i not in used for i in by_key[k])), [])  # fmt: skip
        used.update(indices)
        if not indices:
            found[field] = None
            continue
        columns = [table.column(i) if nul_free else _without_nul(table.column(i)) for i in indices]
        columns = [_blank_to_null(column) for column in columns]
        found[field] = pc.coalesce(*columns) if len(columns) > 1 else columns[0]
        if not nul_free:
            for i in indices:
                row_errors = _nul_rows(row_errors, table.column(i), table.column_names[i])
        if len(columns) > 1:
            row_errors = _conflicts(row_errors, columns, [table.column_names[i] for i in indices],
                                   indices, path)  # fmt: skip
    missing = [f for f in cfg.required if found[f] is None]
    if missing:
        wanted = ", ".join(f"{f} ({cfg.columns[f][0]!r})" for f in missing)
        names = [n for n in table.column_names if n != "__row"]
        known = label_keys(cfg)
        if any(header_key(n) in known for n in names):
            headers = "headers found: " + ", ".join(repr(_shown_header(n, cfg)) for n in names)
        else:  # no known label at all: the first line is most likely a data row
            headers = ("no header line? the first line holds no known column name: "
                       + ", ".join(repr(mask_text(n)) for n in names))  # fmt: skip
        raise ReadError(f"{path}: missing required column(s) {wanted}; {headers}")
    extra = [n for i, n in enumerate(table.column_names) if i not in used and n != "__row"]
    if extra:
        log.debug("%s: ignoring unknown columns %s", path, extra)
    if "__row" in table.column_names:
        found["__row"] = table.column("__row")
    if row_errors is not None:
        found["__row_errors"] = row_errors
    return found


def _without_nul(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """NUL characters removed (PostgreSQL stores none in text; no extract means one)."""
    if not pc.any(pc.match_substring(col, "\x00")).as_py():
        return col
    return pc.replace_substring(col, "\x00", "")


def _nul_rows(earlier, col: pa.ChunkedArray, name: str):
    """Per row, a read error for a NUL character in column ``name`` (the row is quarantined)."""
    has = pc.fill_null(pc.match_substring(col, "\x00"), False)
    if not pc.any(has).as_py():
        return earlier
    here = pc.if_else(has, pa.scalar(f"NUL character in column {name!r} (removed)", pa.string()),
                      pa.scalar(None, pa.string()))  # fmt: skip
    return here if earlier is None else pc.coalesce(earlier, here)


def _conflicts(earlier, columns: list, names: list[str], indices: list[int], path) -> pa.Array:
    """Per row, the read error of copies of one column that hold different values."""
    first = columns[0]
    differ = pc.is_valid(first)
    disagree = pa.repeat(pa.scalar(False), len(first))
    for other in columns[1:]:
        both = pc.and_(differ, pc.is_valid(other))
        disagree = pc.or_(disagree, pc.fill_null(pc.and_(both, pc.not_equal(first, other)), False))
    shown = " and ".join(
        f"{name!r} (column {i + 1})" for name, i in zip(names, indices, strict=True)
    )
    log.warning("%s: the header %s appears %d times; the first non-empty value of each row is "
                "read", path, names[0], len(names))  # fmt: skip
    message = pa.scalar(f"columns {shown} disagree", pa.string())
    here = pc.if_else(disagree, message, pa.scalar(None, pa.string()))
    return here if earlier is None else pc.coalesce(earlier, here)


def _shown_header(name: str, cfg: SourceSpec) -> str:
    """A header cell as an error message may show it: a known label or text without digits as
    is; anything else masked, since a file without a header line puts its first data row (IDs,
    phones, dates) here."""
    if header_key(name) in label_keys(cfg) or not any(ch.isdigit() for ch in name):
        return name
    return mask_text(name)


def _blank_to_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Empty or whitespace-only cells -> null (one scan; no copy when there are none)."""
    blank = pc.or_(pc.utf8_is_space(col), pc.equal(pc.binary_length(col), 0))
    if not pc.any(blank).as_py():
        return col
    return pc.if_else(blank, pa.scalar(None, col.type), col)


# A record id longer than this is no key (PostgreSQL's index entries stop near 2.7 kB): the
# row keeps its start and a hash of the whole, and is quarantined (its read error).
MAX_RECORD_ID = 256


def _bounded_ids(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Record ids over ``MAX_RECORD_ID`` characters as their first 32 and a hash of the whole;
    the original length of those (0 for the others)."""
    lengths = ids.str.len().fillna(0).astype("int64")
    long = lengths > MAX_RECORD_ID
    if not long.any():
        return ids, lengths.where(long, 0)
    keyed = ids[long].map(lambda value: value[:32] + "~h" + hashlib.sha256(
        value.encode("utf-8", "surrogatepass")).hexdigest()[:16])  # fmt: skip
    return ids.mask(long, keyed), lengths.where(long, 0)


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
    row_errors = columns.pop("__row_errors", None)
    if row_errors is not None:
        notes = row_errors.to_pylist()
        errors = [e or n for e, n in zip(errors or [None] * len(notes), notes, strict=True)]
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
    record_id, long_lengths = _bounded_ids(record_id)
    if long_lengths.any():
        errors = list(errors) if errors is not None else [None] * n
        for at in np.flatnonzero(long_lengths.to_numpy() > 0):
            errors[at] = errors[at] or (
                f"record id of {long_lengths.iloc[at]:,} characters (over {MAX_RECORD_ID}): "
                "kept as its start and a hash"
            )
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
