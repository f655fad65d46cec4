"""Date rendering through lookup tables (one string per day and format)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from .util import D0, D0_DAYS, N_DAYS

FORMATS = {
    0: "{d:02d}/{m:02d}/{y:04d}",
    1: "{d}/{m}/{y:04d}",
    2: "{y:04d}-{m:02d}-{d:02d}",
    3: "{d:02d}-{m:02d}-{y:04d}",
    4: "{d:02d}.{m:02d}.{y:04d}",
    5: "{d:02d}/{m:02d}/{yy:02d}",
    6: "{y:04d}-{m:02d}-{d:02d} 00:00:00",
    7: "{m}/{d}/{y:04d}",
    8: "{m:02d}/{y:04d}",
}
FMT_KINDS = [
    "date_fmt_d_m_yyyy",
    "date_fmt_iso",
    "date_fmt_dash",
    "date_fmt_dot",
    "date_fmt_yy",
    "date_fmt_with_time",
    "date_fmt_us",
]  # codes 1..7
_TABLES: dict[int, np.ndarray] = {}
_YEARS = np.array([str(y) for y in range(0, 3000)], dtype=object)


def table(code: int) -> np.ndarray:
    if code not in _TABLES:
        f = FORMATS[code]
        out = []
        for i in range(N_DAYS):
            x = D0 + dt.timedelta(days=i)
            out.append(f.format(d=x.day, m=x.month, y=x.year, yy=x.year % 100))
        _TABLES[code] = np.array(out, dtype=object)
    return _TABLES[code]


def render(days: np.ndarray, prec: np.ndarray | None, code: np.ndarray | int) -> np.ndarray:
    """days: int days since 1970; prec: 0 exact, 1 year only, -1 empty (None = all exact)."""
    n = len(days)
    out = np.full(n, "", dtype=object)
    days = np.asarray(days, dtype=np.int64)
    if prec is None:
        prec = np.zeros(n, dtype=np.int8)
    code = np.broadcast_to(np.asarray(code, dtype=np.int8), (n,))
    ok = (days - D0_DAYS >= 0) & (days - D0_DAYS < N_DAYS)
    ex = (prec == 0) & ok
    for c in np.unique(code[ex]):
        m = ex & (code == c)
        out[m] = table(int(c))[days[m] - D0_DAYS]
    yo = (prec == 1) & ok
    if yo.any():
        years = days[yo].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        out[yo] = _YEARS[years]
    return out
