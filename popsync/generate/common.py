"""Helpers shared by the generator's steps: dates as day numbers, fast string columns."""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

MISSING = np.iinfo(np.int64).min  # an absent date in day-number arrays
EXTRACT_DATE = dt.date(2023, 1, 15)
SNAPSHOT_DATE = dt.date(2023, 1, 10)
_TABLE_START = dt.date(1900, 1, 1)
_TABLE_END = dt.date(2030, 12, 31)


def day(value: dt.date | str) -> int:
    """Days since 1970-01-01."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return (value - dt.date(1970, 1, 1)).days


def to_date(days: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))


@cache
def _date_table() -> pa.Array:
    first, last = day(_TABLE_START), day(_TABLE_END)
    return pa.array(
        [to_date(d).strftime("%d/%m/%Y") for d in range(first, last + 1)], type=pa.string()
    )


def format_dates(days: np.ndarray) -> pd.Series:
    """``dd/mm/yyyy`` strings for day numbers; ``MISSING`` gives an empty string."""
    days = np.asarray(days, dtype=np.int64)
    missing = days == MISSING
    index = np.where(missing, 0, days - day(_TABLE_START))
    out = pd.Series(_date_table().take(pa.array(index)), dtype="str")
    return out.mask(missing, "")


def year_month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = np.asarray(days, dtype="datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    return years, months, days_of_month


def from_ymd(years: np.ndarray, months: np.ndarray, days: np.ndarray) -> np.ndarray:
    month_index = (np.asarray(years) - 1970) * 12 + np.asarray(months) - 1
    first = month_index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + np.asarray(days) - 1


def month_start(month_index: np.ndarray) -> np.ndarray:
    """Day number of the first day of a month counted from 1970-01 (month 0)."""
    return np.asarray(month_index).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def zfill(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.int64)).astype("str").str.zfill(width)


def pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Indices drawn with the given (unnormalized) weights."""
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def unique_ints(rng: np.random.Generator, low: int, high: int, size: int) -> np.ndarray:
    """``size`` distinct integers in [low, high), in random order."""
    values = rng.integers(low, high, size=size)
    while True:
        _, first = np.unique(values, return_index=True)
        repeated = np.setdiff1d(np.arange(size), first)
        if repeated.size == 0:
            return values
        values[repeated] = rng.integers(low, high, size=repeated.size)


def strip_diacritics(text: str) -> str:
    """Vietnamese text without diacritics, case kept (``Đ`` -> ``D``)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
