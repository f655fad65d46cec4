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
    if header_key(name) in label_keys(cfg) or not any(ch.isdigit() for ch in name):
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
