"""Date standardizer: the forms found in the extracts -> ``datetime64`` + precision + codes.

Accepted: ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``-`` or ``.`` separators, an optional time), ISO
``yyyy-mm-dd`` and ISO timestamps, Excel serial numbers (origin 1899-12-30), and a bare year
(precision ``year``, value 1 January), also written with day 00 (``00/00/1985``, ``00/03/1985``)
or as month and year (``03/1985``). Day and month are never guessed: ``13/25/1990`` is
``impossible``, a swapped ``05/12`` stays as written (only the register can tell).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columns import STRING, arrow, by_unique, codes_from_masks

_DMY = r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})(?:[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?))?$"
_ISO = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_NUMBER = r"^\d{1,5}(?:\.\d+)?$"
# Only the year is known but the form is a date: ``00/00/1985``, ``00/03/1985``, ``03/1985``.
_MONTH_YEAR = r"^(?P<m>\d{1,2})[/.\-](?P<y>\d{4})$"
_YEAR = r"^\d{4}$"
# A bare 4-digit number in this range is a year, not an Excel serial (serial 1900 is 1905-03-14).
YEAR_RANGE = (1900, 2100)
# Outside this range a written date is taken as impossible (and datetime64[ns] cannot hold it).
PLAUSIBLE_YEARS = (1800, 2200)
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
EXCEL_MAX_SERIAL = 80000  # 2119-01-11


def parse_dates(
    values: pd.Series,
    field: str,
    *,
    required: bool = False,
    placeholder: bool = False,
    reference_date=None,
    keep_time: bool = False,
    iso_expected: bool = False,
) -> pd.DataFrame:
    """Parse a date column.

    Returns ``value`` (datetime64[ns], NaT when empty or not a date), ``precision`` (``day``,
    ``year`` or null), ``flags`` and ``repairs`` (codes prefixed with ``field``). ``placeholder``
    flags ``01/01/yyyy`` (birth dates); ``reference_date`` flags later dates as ``future``;
    ``keep_time`` keeps the time of timestamps (``updated_at``), else values are midnight;
    ``iso_expected`` (ISO is the field's contract form) records no ``iso`` repair.
    """
    parsed = by_unique(values.astype(STRING), lambda u: _parse_unique(u, keep_time))
    value = parsed["value"]
    present = values.notna()
    masks = {
        f"{field}:missing": ~present if required else False,
        f"{field}:unparseable": parsed["unparseable"],
        f"{field}:impossible": parsed["impossible"],
        f"{field}:year_only": parsed["precision"].eq("year"),
    }
    if placeholder:
        day = parsed["precision"].eq("day")
        masks[f"{field}:placeholder"] = day & value.dt.month.eq(1) & value.dt.day.eq(1)
    if reference_date is not None:
        masks[f"{field}:future"] = value.gt(pd.Timestamp(reference_date))
    repairs = {f"{field}:excel_serial": parsed["serial"]}
    if not iso_expected:
        repairs[f"{field}:iso"] = parsed["iso"]
    return pd.DataFrame(
        {
            "value": value,
            "precision": parsed["precision"],
            "flags": codes_from_masks(masks, values.index),
            "repairs": codes_from_masks(repairs, values.index),
        },
        index=values.index,
    )


# RE2 forms of ``_DMY`` / ``_ISO`` with the time split into parts (Arrow kernels, no per-value
# Python: a register's ``updated_at`` has about one distinct value per row).
_DMY_PARTS = (
    r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"
    r"(?:[ T](?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?)?$"
)
_ISO_PARTS = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_PARTS = ("d", "m", "y", "hh", "mi", "ss")


def _extract(text: pa.Array, pattern: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Whether each value matches, and each group as float (NaN when absent)."""
    found = pc.extract_regex(text, pattern)
    matched = found.is_valid().to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
        zero_copy_only=False
    )
    groups = {}
    for name in _PARTS:
        part = found.field(name)
        part = pc.if_else(pc.equal(part, ""), pa.scalar(None, part.type), part)
        groups[name] = pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False)
    return matched, groups


def _parse_unique(unique: pd.Series, keep_time: bool) -> pd.DataFrame:
    text = pc.utf8_trim_whitespace(arrow(unique))
    is_dmy, dmy = _extract(text, _DMY_PARTS)
    is_iso, iso = _extract(text, _ISO_PARTS)
    parts = {k: np.where(is_dmy, dmy[k], iso[k]) for k in _PARTS}
    written = is_dmy | is_iso
    year, month, day = parts["y"], parts["m"], parts["d"]
    valid = (
        written
        & (year >= PLAUSIBLE_YEARS[0])
        & (year <= PLAUSIBLE_YEARS[1])
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
    )
    y = np.where(valid, year, 1970).astype(np.int64)
    m = np.where(valid, month, 1).astype(np.int64)
    start = ((y - 1970) * 12 + m - 1).astype("datetime64[M]")
    month_days = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(
        np.int64
    )
    valid &= day <= month_days
    d = np.where(valid, day, 1).astype(np.int64)
    seconds = (start.astype("datetime64[D]") + (d - 1)).astype("datetime64[s]")
    if keep_time:
        clock = (
            np.nan_to_num(parts["hh"]) * 3600
            + np.nan_to_num(parts["mi"]) * 60
            + np.nan_to_num(parts["ss"])
        )
        seconds = seconds + clock.astype(np.int64).astype("timedelta64[s]")
    # Day 00 (month 00 or a real month) is how a form says "only the year is known".
    year_known = written & is_dmy & (day == 0) & (month >= 0) & (month <= 12)
    month_year = pc.extract_regex(text, _MONTH_YEAR)
    is_month_year = month_year.is_valid().to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
        zero_copy_only=False
    )
    if is_month_year.any():
        my_month = pc.cast(month_year.field("m"), pa.float64()).to_numpy(zero_copy_only=False)
        my_year = pc.cast(month_year.field("y"), pa.float64()).to_numpy(zero_copy_only=False)
        is_month_year &= (my_month >= 0) & (my_month <= 12)
        year = np.where(is_month_year, my_year, year)
    year_known = (year_known | is_month_year) & (year >= YEAR_RANGE[0]) & (year <= YEAR_RANGE[1])
    impossible = written & ~valid & ~year_known

    is_number = pc.match_substring_regex(text, _NUMBER).to_numpy(zero_copy_only=False)
    is_number = np.asarray(pd.array(is_number, dtype="boolean").fillna(False), bool) & ~written
    numeric = np.full(len(text), np.nan)
    if is_number.any():
        numbers = pc.cast(pc.filter(text, pa.array(is_number)), pa.float64()).to_numpy()
        numeric[is_number] = numbers
    is_year = np.asarray(
        pd.array(pc.match_substring_regex(text, _YEAR).to_numpy(zero_copy_only=False),
                 dtype="boolean").fillna(False),
        bool,
    )  # fmt: skip
    bare_year = is_year & (numeric >= YEAR_RANGE[0]) & (numeric <= YEAR_RANGE[1])
    numeric = np.where(year_known, year, numeric)
    bare_year |= year_known
    serial = (numeric >= 1) & (numeric <= EXCEL_MAX_SERIAL) & ~bare_year
    serial_days = np.where(serial, numeric, 0.0)
    if not keep_time:
        serial_days = np.floor(serial_days)
    serial_ns = (serial_days * 86400e9).round().astype(np.int64)
    origin_ns = EXCEL_ORIGIN.value

    ns = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    ns[bare_year] = (
        (np.where(bare_year, numeric, 1970).astype(np.int64) - 1970).astype("datetime64[Y]")
        .astype("datetime64[ns]").astype(np.int64)[bare_year]
    )  # fmt: skip
    ns[serial] = origin_ns + serial_ns[serial]
    ns[valid] = seconds[valid].astype("datetime64[ns]").astype(np.int64)
    value = pd.Series(ns.view("datetime64[ns]"), index=unique.index)
    precision = np.where(valid | serial, "day", np.where(bare_year, "year", None))
    present = pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    return pd.DataFrame(
        {
            "value": value,
            "precision": pd.array(precision, dtype=STRING),
            "unparseable": present & ~written & ~serial & ~bare_year,
            "impossible": impossible,
            "serial": serial,
            "iso": is_iso & ~impossible,
        },
        index=unique.index,
    )
