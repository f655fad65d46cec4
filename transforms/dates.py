"""Date standardizer: the forms found in the extracts -> ``datetime64`` + precision + codes.

Accepted: ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``-`` or ``.`` separators, an optional time), ISO
``yyyy-mm-dd`` and ISO timestamps, Excel serial numbers (origin 1899-12-30), and a bare year
(precision ``year``, value 1 January). Day and month are never guessed: ``13/25/1990`` is
``impossible``, a swapped ``05/12`` stays as written (only the register can tell).
"""

from __future__ import annotations

import pandas as pd

from transforms.columns import STRING, by_unique, codes_from_masks

_DMY = r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})(?:[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?))?$"
_ISO = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_NUMBER = r"^\d{1,5}(?:\.\d+)?$"
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


def _parse_unique(unique: pd.Series, keep_time: bool) -> pd.DataFrame:
    text = unique.str.strip()
    dmy = text.str.extract(_DMY)
    iso = text.str.extract(_ISO)
    is_dmy = dmy["y"].notna()
    is_iso = iso["y"].notna()
    parts = dmy.where(is_dmy, iso)
    plausible = pd.to_numeric(parts["y"]).between(*PLAUSIBLE_YEARS)
    day_text = parts["y"] + "-" + parts["m"].str.zfill(2) + "-" + parts["d"].str.zfill(2)
    day_value = pd.to_datetime(day_text.where(plausible), format="%Y-%m-%d", errors="coerce")
    if keep_time:
        time = pd.to_timedelta(parts["t"].str.count(":").map({1: ":00", 2: ""}).radd(parts["t"]))
        day_value = day_value + time.fillna(pd.Timedelta(0))
    written = is_dmy | is_iso
    impossible = written & day_value.isna()

    number = text.where(text.str.fullmatch(_NUMBER).fillna(False) & ~written)
    numeric = pd.to_numeric(number)
    bare_year = (text.str.fullmatch(_YEAR) & numeric.between(*YEAR_RANGE)).fillna(False)
    serial = numeric.between(1, EXCEL_MAX_SERIAL).fillna(False) & ~bare_year
    serial_days = numeric.where(serial) if keep_time else numeric.where(serial).floordiv(1)
    serial_value = EXCEL_ORIGIN + pd.to_timedelta(serial_days, unit="D")
    year_value = pd.to_datetime(numeric.where(bare_year).astype("Int64").astype(STRING) + "-01-01")

    value = day_value.fillna(serial_value).fillna(year_value).astype("datetime64[ns]")
    precision = pd.Series(pd.NA, index=unique.index, dtype=STRING)
    precision = precision.mask(day_value.notna() | serial, "day").mask(bare_year, "year")
    return pd.DataFrame(
        {
            "value": value,
            "precision": precision,
            "unparseable": text.ne("").fillna(False) & ~written & ~serial & ~bare_year,
            "impossible": impossible,
            "serial": serial,
            "iso": is_iso & ~impossible,
        }
    )
