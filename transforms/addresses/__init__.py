"""Administrative address standardization: GSO codes, unit names or free text -> codes of one scheme.

Three inputs, by precedence per row: register codes (validated and padded), unit names in
separate columns (``tiem_chung``), or a free-text address parsed from its end (``f0``, ``bhxh``).
Every distinct input is resolved once and mapped back to the rows.

Resolution is top-down and conservative: a district is looked up only inside the resolved
province and a ward only inside the resolved district (or, when the district is unknown, among
the wards of the province, or of the country, where its name is unique). Names are compared by a
folded key (no diacritics, case, spaces or punctuation); a typo is tolerated only through a
unique, close fuzzy match inside an already-resolved parent, reported as ``<level>:typo``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.addresses.codes import check_codes
from transforms.addresses.gazetteer import scheme_index
from transforms.addresses.parse import Result, parse_names, parse_text
from transforms.columns import arrow
from transforms.text import PY_WHITESPACE, split_join

OUTPUT_COLUMNS = (
    "address",
    "province_code",
    "district_code",
    "ward_code",
    "admin_scheme",
    "flags",
    "repairs",
)

# --- vectorized entry point ------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """A column as ids into its distinct values; -1 for null, empty or blank."""

    ids: np.ndarray
    values: list[str]

    @classmethod
    def of(cls, s: pd.Series | None, n: int) -> _Column:
        if s is None:
            return cls(np.full(n, -1, dtype=np.int64), [])
        encoded = arrow(s).dictionary_encode()
        distinct = encoded.dictionary
        keep = pc.not_equal(pc.utf8_trim(distinct, PY_WHITESPACE), "").to_numpy(
            zero_copy_only=False
        )
        renumber = np.append(np.where(keep, np.cumsum(keep) - 1, -1), -1)
        ids = encoded.indices.fill_null(len(distinct)).to_numpy()
        return cls(renumber[ids], distinct.filter(pa.array(keep)).to_pylist())

    def value(self, i: int) -> str | None:
        return self.values[i] if i >= 0 else None


def _distinct(columns: list[_Column], mask: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """Masked row -> id of its distinct combination of ``columns``, and each combination."""
    combined = np.zeros(int(mask.sum()), dtype=np.int64)
    for column in columns:
        ids = column.ids[mask] + 1
        combined, _ = pd.factorize(combined * (len(column.values) + 1) + ids)
    firsts = np.unique(combined, return_index=True)[1]
    rows = np.flatnonzero(mask)[firsts]
    per_column = [c.ids[rows].tolist() for c in columns]
    combos = [
        tuple(c.value(i) for c, i in zip(columns, row, strict=True))
        for row in zip(*per_column, strict=True)
    ]
    return combined, combos


def standardize_address(
    address: pd.Series | None = None,
    province: pd.Series | None = None,
    district: pd.Series | None = None,
    ward: pd.Series | None = None,
    province_code: pd.Series | None = None,
    district_code: pd.Series | None = None,
    ward_code: pd.Series | None = None,
    scheme: str = "2008",
) -> pd.DataFrame:
    """Administrative codes of each row in ``scheme`` (``2008`` or ``2025``), with flags and repairs.

    Per row the register codes win when any is given, then the unit names, then the free text.
    A row with none of them is flagged ``address:missing``.
    """
    given = [
        s
        for s in (address, province, district, ward, province_code, district_code, ward_code)
        if s is not None
    ]
    if not given:
        raise ValueError("standardize_address needs at least one column")
    index = given[0].index
    n = len(index)
    scheme_index(scheme)  # unknown scheme -> ValueError before any work

    # Distinct texts are cleaned, and cleaned texts parsed, once each.
    raw = _Column.of(address, n)
    clean = split_join(pc.utf8_normalize(pa.array(raw.values, pa.large_string()), "NFC"))
    clean = clean.dictionary_encode()
    clean_values = clean.dictionary.to_pylist()
    text_ids = np.append(clean.indices.fill_null(-1).to_numpy(), -1)[raw.ids]  # -1: no text
    cleaned = pd.array([*clean_values, None], dtype="string").take(text_ids)

    codes_in = [_Column.of(s, n) for s in (province_code, district_code, ward_code)]
    names_in = [_Column.of(s, n) for s in (province, district, ward)]
    has_codes = np.logical_or.reduce([c.ids >= 0 for c in codes_in])
    has_names = np.logical_or.reduce([c.ids >= 0 for c in names_in]) & ~has_codes
    has_text = (text_ids >= 0) & ~has_codes & ~has_names

    # Every row points into ``results``; rows without any input keep the first one.
    results: list[Result] = [(None, None, None, "address:missing", "")]
    row_result = np.zeros(n, dtype=np.int64)
    if has_codes.any():
        ids, combos = _distinct(codes_in, has_codes)
        row_result[has_codes] = ids + len(results)
        results.extend(check_codes(scheme, *combo) for combo in combos)
    if has_names.any():
        ids, combos = _distinct(names_in, has_names)
        row_result[has_names] = ids + len(results)
        results.extend(parse_names(scheme, *combo) for combo in combos)
    if has_text.any():
        used, ids = np.unique(text_ids[has_text], return_inverse=True)
        row_result[has_text] = ids + len(results)
        results.extend(parse_text(scheme, clean_values[u]) for u in used)

    frame = pd.DataFrame({"address": cleaned}, index=index)
    for i, name in enumerate(("province_code", "district_code", "ward_code")):
        frame[name] = pd.array([r[i] for r in results], dtype="string").take(row_result)
    schemes = [scheme if r[0] or r[2] else None for r in results]
    frame["admin_scheme"] = pd.array(schemes, dtype="string").take(row_result)
    frame["flags"] = pd.array([r[3] for r in results], dtype="string").take(row_result)
    frame["repairs"] = pd.array([r[4] for r in results], dtype="string").take(row_result)
    return frame[list(OUTPUT_COLUMNS)]
