"""Per-source orchestration: a frame from :func:`transforms.readers.read_source` -> the
standardized frame of DESIGN.md (provenance, ``raw_<field>``, standardized fields, codes).

One output row per input row, same order and index. ``flags``/``repairs`` merge the codes of
every standardizer (sorted, unique, ``;``-joined, ``""`` when none).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core.contracts import PROVENANCE
from popsync.core.sources import SourceSpec, spec_of
from transforms.addresses import OUTPUT_COLUMNS as ADDRESS_OUTPUT
from transforms.addresses import standardize_address
from transforms.codes import (
    standardize_bhxh_number,
    standardize_dose_number,
    standardize_sex,
    standardize_test_type,
    standardize_vaccine,
)
from transforms.columns import STRING, arrow, codes_from_masks, merge_codes
from transforms.dates import parse_dates
from transforms.ids import OUTPUT as ID_COLUMNS
from transforms.ids import standardize_id
from transforms.names import COLUMNS as NAME_OUTPUT
from transforms.names import standardize_names
from transforms.phones import standardize_phone
from transforms.readers import read_source

# The value columns of each standardizer (its output without ``flags`` / ``repairs``).
NAME_COLUMNS = [c for c in NAME_OUTPUT if c not in ("flags", "repairs")]
ADDRESS_COLUMNS = [c for c in ADDRESS_OUTPUT if c not in ("flags", "repairs")]
# Event kinds whose standardizer takes the raw column and gives ``value`` (+ flags, repairs).
_VALUE_STANDARDIZERS = {
    "dose_number": standardize_dose_number,
    "vaccine": standardize_vaccine,
    "test_type": standardize_test_type,
    "bhxh_number": standardize_bhxh_number,
}


def _column(raw: pd.DataFrame, field: str | None) -> pd.Series:
    if field is not None and field in raw.columns:
        return raw[field].astype(STRING)
    return pd.Series(pd.NA, index=raw.index, dtype=STRING)


def clean_text(values: pd.Series) -> pd.Series:
    """NFC, trimmed, single spaces; null when blank (Arrow kernels, no per-value Python).

    Works on the distinct values (lot numbers and sites repeat a lot) and takes them back.
    """
    encoded = arrow(values).dictionary_encode()
    text = encoded.dictionary
    text = pc.utf8_normalize(text, "NFC")
    # \s is ASCII only in RE2: \p{Z} adds the no-break and other Unicode spaces of exports
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"[\s\p{Z}]+", " "))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return pd.Series(pd.array(text.take(encoded.indices), dtype=STRING), index=values.index)


def standardize(raw: pd.DataFrame, source: str | SourceSpec, reference_date=None) -> pd.DataFrame:
    """Standardize a read source frame, one step per declared field kind (docs/DESIGN.md);
    ``reference_date`` (the extract date) flags later dates."""
    spec = spec_of(source)

    def field_of(kind: str) -> str | None:
        return next(iter(spec.fields_of(kind)), None)

    index = raw.index
    out: dict[str, pd.Series] = {c: _column(raw, c) for c in PROVENANCE}
    out["src_row"] = (
        raw["src_row"] if "src_row" in raw.columns else pd.Series(range(1, len(raw) + 1), index)
    )
    out |= {f"raw_{f}": _column(raw, f) for f in spec.fields}
    flags = [codes_from_masks({"row:parse_error": _column(raw, "read_error").notna()}, index)]
    repairs = []

    def take(frame: pd.DataFrame, columns: dict[str, str]) -> None:
        out.update({new: frame[old] for old, new in columns.items()})
        flags.append(frame["flags"])
        repairs.append(frame["repairs"])

    take(standardize_names(_column(raw, field_of("name"))), {c: c for c in NAME_COLUMNS})

    birth_field = field_of("birth_date")
    birth = parse_dates(
        _column(raw, birth_field),
        "birth_date",
        required=birth_field in spec.required,
        placeholder=True,
        reference_date=reference_date,
    )
    take(birth, {"value": "birth_date", "precision": "birth_date_precision"})
    for field in spec.fields_of("date"):
        dates = parse_dates(
            _column(raw, field),
            field,
            required=field in spec.required,
            reference_date=reference_date,
        )
        take(dates, {"value": field, "precision": f"{field}_precision"})
    out["birth_year"] = birth["value"].dt.year.astype("Int32").where(birth["precision"].notna())

    sex = standardize_sex(_column(raw, field_of("sex")))
    take(sex, {"value": "sex"})

    ids = standardize_id(
        _column(raw, field_of("person_id")), sex["value"], out["birth_year"], birth["precision"]
    )
    take(ids, {c: c for c in ID_COLUMNS})

    take(standardize_phone(_column(raw, field_of("phone"))), {"phone": "phone"})

    parts = {f: _column(raw, f) for f in spec.fields_of("address_part")}
    address = standardize_address(_column(raw, field_of("address")), **parts)
    take(address, {c: c for c in ADDRESS_COLUMNS})

    if spec.role == "register":
        out["person_id"] = ids["id_number"]
        cmnd = standardize_id(_column(raw, field_of("cmnd")))
        out["cmnd"] = cmnd["id_number"].where(cmnd["id_kind"].eq("cmnd"))
    for field in spec.fields_of("timestamp"):
        stamps = parse_dates(_column(raw, field), field, keep_time=True, iso_expected=True)
        take(stamps, {"value": field})
    for field in spec.event_fields:
        kind = spec.fields[field].kind
        if kind in _VALUE_STANDARDIZERS:
            take(_VALUE_STANDARDIZERS[kind](_column(raw, field)), {"value": field})
    for field in spec.fields_of("text"):
        out[field] = clean_text(_column(raw, field))

    out["flags"] = merge_codes(*flags)
    out["repairs"] = merge_codes(*repairs)
    return pd.DataFrame(out, index=index)


def code_counts(codes: pd.Series) -> dict[str, int]:
    """Rows per code in a ``;``-joined code column (counted once per distinct string)."""
    counts: Counter[str] = Counter()
    for text, rows in codes.value_counts().items():
        for code in filter(None, text.split(";")):
            counts[code] += int(rows)
    return dict(counts.most_common())


def standardize_file(source: str | SourceSpec, input_path, out_path, reference_date=None) -> dict:
    """Read + standardize one file and write it as Parquet; returns a summary for reports.

    Keys: ``source``, ``input``, ``out``, ``rows``, ``rows_flagged``, ``rows_repaired``,
    ``read_errors``, ``flags`` and ``repairs`` (rows per code), ``seconds`` (read, standardize,
    write).
    """
    spec = spec_of(source)
    started = time.perf_counter()
    raw = read_source(input_path, spec)
    read_done = time.perf_counter()
    std = standardize(raw, spec, reference_date=reference_date)
    std_done = time.perf_counter()
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    std.to_parquet(out_path, index=False)
    return {
        "source": spec.id,
        "input": str(input_path),
        "out": str(out_path),
        "rows": len(std),
        "rows_flagged": int(std["flags"].ne("").sum()),
        "rows_repaired": int(std["repairs"].ne("").sum()),
        "read_errors": int(raw["read_error"].notna().sum()),
        "flags": code_counts(std["flags"]),
        "repairs": code_counts(std["repairs"]),
        "seconds": {
            "read": round(read_done - started, 3),
            "standardize": round(std_done - read_done, 3),
            "write": round(time.perf_counter() - std_done, 3),
        },
    }
