"""Date standardizer: the forms found in the extracts -> ``datetime64`` + precision + codes.

Accepted: ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``-`` or ``.`` separators, an optional time), ISO
``yyyy-mm-dd`` and ISO timestamps, Excel serial numbers (origin 1899-12-30), and a bare year
(precision ``year``, value 1 January), also written with day 00 (``00/00/1985``, ``00/03/1985``)
or as month and year (``03/1985``). Day and month are never guessed: ``13/25/1990`` is
``impossible``, a swapped ``05/12`` stays as written (only the register can tell).

Also accepted (forms seen in outside exports): a two-digit year ``8/3/21`` (``yy`` not after the
current year's two digits -> ``20yy``, else ``19yy``; one simple rule for every date field,
recorded as the repair ``<field>:two_digit_year``), the compact ``yyyymmdd`` (``20210308``), a
Vietnamese or English 12-hour suffix after the time (``08/03/2021 08:30:00 SA`` / ``CH``,
``AM`` / ``PM``) and English month names (``Mar 8, 2021``, ``8 Mar 2021``; rewritten in Python
for the few values no other form matched).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columns import STRING, arrow, by_unique, codes_from_masks

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
    repairs = {
        f"{field}:excel_serial": parsed["serial"],
        f"{field}:two_digit_year": parsed["two_digit_year"],
    }
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


# ``dd/mm/yyyy`` and ISO forms (RE2, for Arrow kernels: no per-value Python, as a register's
# ``updated_at`` has about one distinct value per row), the time split into parts.
# 12-hour suffix: Vietnamese Excel writes SA (sáng, a.m.) / CH (chiều, p.m.).
_AMPM = r"(?:\s*(?P<ap>(?i:SA|CH|AM|PM|S\.A\.|C\.H\.)))?"
_DMY_PARTS = (
    r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?:(?P<y>\d{4})|(?P<yy>\d{2}))"
    r"(?:[ T]+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?" + _AMPM + r")?$"
)
_ISO_PARTS = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?(?:\.\d+)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?" + _AMPM + r")?$"
)
_COMPACT_PARTS = r"^(?P<y>(?:18|19|20|21)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)$"
_PARTS = ("d", "m", "y", "hh", "mi", "ss")
_MONTHS = {
    name: i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ENGLISH_MDY = re.compile(rf"^({_MONTH_NAME})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})$", re.IGNORECASE)
_ENGLISH_DMY = re.compile(rf"^(\d{{1,2}})\s+({_MONTH_NAME})\.?,?\s+(\d{{4}})$", re.IGNORECASE)


def _english(text: str) -> str | None:
    """``Mar 8, 2021`` / ``8 March 2021`` -> ``8/3/2021``; None for anything else."""
    if found := _ENGLISH_MDY.match(text):
        month, day, year = found.groups()
    elif found := _ENGLISH_DMY.match(text):
        day, month, year = found.groups()
    else:
        return None
    return f"{day}/{_MONTHS[month.lower()]}/{year}"


def _two_digit_century(yy: np.ndarray) -> np.ndarray:
    """``yy`` -> ``20yy`` when not after this year's two digits, else ``19yy``."""
    pivot = dt.date.today().year % 100
    return np.where(yy <= pivot, 2000 + yy, 1900 + yy)


def _true(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask (null counts as False)."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _extract(text: pa.Array, pattern: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Whether each value matches, and each group as float (NaN when absent).

    A 12-hour suffix (group ``ap``) is folded into ``hh``: ``CH``/``PM`` add 12 to hours 1-11,
    ``SA``/``AM`` make 12 midnight.
    """
    found = pc.extract_regex(text, pattern)
    matched = found.is_valid().to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
        zero_copy_only=False
    )
    groups = {}
    names = [f.name for f in found.type]
    for name in (*_PARTS, "yy"):
        if name not in names:
            groups[name] = np.full(len(text), np.nan)
            continue
        groups[name] = _numbers(found.field(name))
    if "ap" in names and matched.any():
        ap = pc.utf8_upper(pc.replace_substring(found.field("ap"), ".", ""))
        pm = _true(pc.is_in(ap, pa.array(["CH", "PM"])))
        am = _true(pc.is_in(ap, pa.array(["SA", "AM"])))
        hh = groups["hh"]
        groups["hh"] = np.where(pm & (hh < 12), hh + 12, np.where(am & (hh == 12), 0, hh))
    return matched, groups


def _numbers(part: pa.Array) -> np.ndarray:
    """A captured group as floats; the "" Arrow gives rows that did not match is NaN."""
    part = pc.if_else(pc.equal(part, ""), pa.scalar(None, part.type), part)
    return pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False)


def _parse_unique(unique: pd.Series, keep_time: bool) -> pd.DataFrame:
    out = _parse_arrow(unique, keep_time)
    # English month names: rare, so rewritten in Python only where nothing else matched.
    left = out.index[out["unparseable"].to_numpy()]
    if len(left):
        rewritten = pd.Series([_english(str(unique[i]).strip()) for i in left], dtype=STRING)
        known = rewritten.notna().to_numpy()
        if known.any():
            again = _parse_arrow(rewritten[known].reset_index(drop=True), keep_time)
            again.index = left[known]
            again["iso"] = False
            out.loc[again.index] = again
    return out


def _parse_arrow(unique: pd.Series, keep_time: bool) -> pd.DataFrame:
    text = pc.utf8_trim_whitespace(arrow(unique))
    is_dmy, dmy = _extract(text, _DMY_PARTS)
    is_iso, iso = _extract(text, _ISO_PARTS)
    parts = {k: np.where(is_dmy, dmy[k], iso[k]) for k in _PARTS}
    is_compact = np.zeros(len(text), bool)
    if pc.any(pc.equal(pc.utf8_length(text), 8)).as_py():
        is_compact, compact = _extract(text, _COMPACT_PARTS)
        is_compact &= ~is_dmy & ~is_iso
        parts = {k: np.where(is_compact, compact[k], parts[k]) for k in _PARTS}
    written = is_dmy | is_iso | is_compact
    two_digit = is_dmy & ~np.isnan(dmy["yy"])
    if two_digit.any():
        parts["y"] = np.where(two_digit, _two_digit_century(dmy["yy"]), parts["y"])
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
        my_month, my_year = (_numbers(month_year.field(name)) for name in ("m", "y"))
        is_month_year &= (my_month >= 0) & (my_month <= 12)
        year = np.where(is_month_year, my_year, year)
    year_known = (year_known | is_month_year) & (year >= YEAR_RANGE[0]) & (year <= YEAR_RANGE[1])
    impossible = written & ~valid & ~year_known

    is_number = _true(pc.match_substring_regex(text, _NUMBER)) & ~written
    numeric = np.full(len(text), np.nan)
    if is_number.any():
        numbers = pc.cast(pc.filter(text, pa.array(is_number)), pa.float64()).to_numpy()
        numeric[is_number] = numbers
    is_year = _true(pc.match_substring_regex(text, _YEAR))
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
    present = _true(pc.not_equal(text, ""))
    return pd.DataFrame(
        {
            "value": value,
            "precision": pd.array(precision, dtype=STRING),
            "unparseable": present & ~written & ~serial & ~bare_year,
            "impossible": impossible,
            "serial": serial,
            "iso": is_iso & ~impossible,
            "two_digit_year": two_digit & ~impossible,
        },
        index=unique.index,
    )
