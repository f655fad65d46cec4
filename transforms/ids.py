"""ID number standardizer: 12-digit CCCD / 9-digit CMND, and the facts a CCCD encodes.

A CCCD is ``PPP G YY RRRRRR`` (province prefix, century+sex digit, birth year, serial) with no
check digit, so a valid-looking number is only evidence. Leading zeros lost by Excel are put
back only when the result is unambiguous. Every province prefix starts with ``0`` (``001``
Hà Nội), so Excel turns a CCCD into 11 digits (``079...``) or 10 (``001...``): such a number is
padded back to 12 when the result has a known province prefix and a century digit of a century
that has begun. 8 digits -> a CMND with a leading 0.

Before that, a leading label (``CCCD: 001088012345``, ``Số CMND 012345678``) and the thousands
separators of an Excel number format (``1,088,012,345``) are dropped. A number Excel wrote in
scientific notation (``1.08801E+09``) has lost digits and stays ``invalid``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core import domain
from transforms import regex_columns
from transforms.codes import clean_digits
from transforms.columns import STRING, arrow, by_unique, codes_from_masks

OUTPUT = ("id_number", "id_kind", "id_province_code", "id_sex", "id_birth_year")


@cache
def _placeholders() -> frozenset[str]:
    """Filler numbers typed when the person had none: one repeated digit, 0123.../1234.../9876..."""
    runs = ["0123456789" * 2, "1234567890" * 2, "9876543210" * 2, "0987654321" * 2]
    return frozenset(
        [str(d) * n for d in range(10) for n in range(8, 13)]
        + [run[:n] for run in runs for n in range(8, 13)]
    )


# A label written before the number: "CCCD:", "Số CMND", "CMND/CCCD -", "CMT", "Số định danh".
_LABEL = (
    r"^(?i:(?:s(?:o|ố|ô)\p{M}*\s*)?(?:cccd|cmnd|cmt|cc|can cuoc|căn cước|dinh danh|định danh)"
    r"(?:\s*/\s*(?:cccd|cmnd|cmt|cc))?)\s*[:#.\-]?\s*"
)
# Excel's thousands format: 1,088,012,345 (groups of three after the first).
_THOUSANDS = r"^\d{1,3}(?:,\d{3})+$"


def _unlabel(unique: pd.Series) -> pd.Series:
    """Drop a leading label and Excel thousands separators (Arrow kernels, no Python per value)."""
    text = pc.utf8_trim_whitespace(arrow(unique))
    text = pc.replace_substring_regex(text, _LABEL, "")
    grouped = pc.match_substring_regex(text, _THOUSANDS)
    text = pc.if_else(grouped, pc.replace_substring(text, ",", ""), text)
    return pd.Series(pd.array(text, dtype=STRING), index=unique.index)


@cache
def _century_tables() -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Century digit -> century start; and per digit 0-9 the start (NaN) and sex (None) as arrays
    (looked up by position: no dict lookup per value)."""
    table = domain.id_century_sex()
    entries = [table.get(str(d), (np.nan, None)) for d in range(10)]
    starts = np.array([start for start, _ in entries], dtype=float)
    sexes = np.array([sex for _, sex in entries], dtype=object)
    return {d: start for d, (start, _) in table.items()}, starts, sexes


def standardize_id(
    values: pd.Series,
    sex: pd.Series | None = None,
    birth_year: pd.Series | None = None,
    birth_precision: pd.Series | None = None,
) -> pd.DataFrame:
    """Standardize an ID column and check it against the row's own sex and birth year.

    Returns ``id_number``, ``id_kind`` (``cccd``/``cmnd``/``invalid``/``missing``),
    ``id_province_code`` (``001``), ``id_sex``, ``id_birth_year`` (Int32), ``flags``, ``repairs``.
    ``sex`` is ``M``/``F``/``O``/null; ``birth_year`` is compared only where ``birth_precision``
    is ``day`` or ``year`` (all rows when it is not given).
    """
    out = by_unique(values.astype(STRING), _standardize_unique)
    index = values.index
    masks = {
        code: out.pop(code)
        for code in [c for c in out.columns if c.startswith("id_number:")]
        if code != "id_number:leading_zero"
    }
    repairs = {"id_number:leading_zero": out.pop("id_number:leading_zero")}
    if sex is not None:
        known = sex.isin(["M", "F"]).fillna(False) & out["id_sex"].notna()
        masks["id_number:sex_mismatch"] = known & out["id_sex"].ne(sex).fillna(False)
    if birth_year is not None:
        year = pd.Series(birth_year, index=index).astype("Int32")
        comparable = year.notna() & out["id_birth_year"].notna()
        if birth_precision is not None:
            comparable &= birth_precision.isin(["day", "year"]).fillna(False)
        masks["id_number:year_mismatch"] = comparable & out["id_birth_year"].ne(year).fillna(False)
    out["flags"] = codes_from_masks(masks, index)
    out["repairs"] = codes_from_masks(repairs, index)
    return out


def _number_at(number: pd.Series, cccd: pd.Series, start: int, stop: int) -> np.ndarray:
    """Characters ``start:stop`` of the CCCD rows' numbers (all digits) as floats, else NaN."""
    part = pc.utf8_slice_codeunits(arrow(number), start, stop)
    part = pc.if_else(pa.array(cccd.to_numpy(bool)), part, pa.scalar(None, part.type))
    return pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False)


def _standardize_unique(unique: pd.Series) -> pd.DataFrame:
    prefixes = domain.id_province_prefixes()
    century, starts, sexes = _century_tables()
    started = {d for d, start in century.items() if start <= dt.date.today().year}

    digits = clean_digits(unique)
    all_digits = regex_columns.fullmatch(digits, r"\d+").fillna(False)
    odd = ~all_digits & digits.notna()  # few: only these can carry a label or thousands commas
    if odd.any():
        digits = digits.mask(odd, clean_digits(_unlabel(unique[odd])))
        all_digits = regex_columns.fullmatch(digits, r"\d+").fillna(False)
    length = digits.str.len().where(all_digits)
    padded = digits.str.zfill(12)
    cccd_zero = (
        length.isin([10, 11])
        & padded.str.slice(0, 3).isin(prefixes)
        & padded.str.slice(3, 4).isin(started)
    ).fillna(False)
    cmnd_zero = length.eq(8).fillna(False)
    leading_zero = cccd_zero | cmnd_zero
    number = digits.mask(cccd_zero, padded).mask(cmnd_zero, "0" + digits)
    length = length.mask(leading_zero, number.str.len())

    missing = digits.isna()
    placeholder = number.isin(_placeholders()).fillna(False)
    cccd = length.eq(12).fillna(False) & ~placeholder
    cmnd = length.eq(9).fillna(False) & ~placeholder
    kind = pd.Series("invalid", index=unique.index, dtype=STRING)
    kind = kind.mask(cccd, "cccd").mask(cmnd, "cmnd").mask(missing, "missing")

    province = number.str.slice(0, 3).where(cccd)
    province_ok = province.isin(prefixes).fillna(False)
    digit = _number_at(number, cccd, 3, 4)
    known = ~np.isnan(digit)
    at = np.where(known, digit, 0).astype(np.int64)
    start = np.where(known, starts[at], np.nan)
    yy = _number_at(number, cccd, 4, 6)
    birth_year = pd.array(start + yy, dtype="Float64").astype("Int32")
    id_sex = pd.array(np.where(known, sexes[at], None), dtype=STRING)
    return pd.DataFrame(
        {
            "id_number": number.where(all_digits),
            "id_kind": kind,
            "id_province_code": province.where(province_ok),
            "id_sex": id_sex,
            "id_birth_year": birth_year,
            "id_number:missing": missing,
            "id_number:invalid": ~missing & ~cccd & ~cmnd & ~placeholder,
            "id_number:cmnd": cmnd,
            "id_number:placeholder": placeholder,
            "id_number:province_invalid": cccd & ~province_ok,
            "id_number:leading_zero": leading_zero & (cccd | cmnd),
        }
    )
