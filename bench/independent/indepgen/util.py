"""Small shared helpers: dates as int days since 1970-01-01, deterministic hashing, RNG streams."""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np

EPOCH = dt.date(1970, 1, 1)
NO_DATE = np.int32(2**31 - 1)
D0 = dt.date(1890, 1, 1)
D0_DAYS = (D0 - EPOCH).days
D1 = dt.date(2040, 12, 31)
N_DAYS = (D1 - D0).days + 1


def day(s: str | dt.date) -> int:
    d = dt.date.fromisoformat(s) if isinstance(s, str) else s
    return (d - EPOCH).days


def ymd(days: np.ndarray):
    """int days -> (year, month, day) int arrays."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (
        y.astype(np.int64) + 1970,
        (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
        (d - m.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def from_ymd(y, m, d) -> np.ndarray:
    """(year, month, day) -> int days; day clipped to the month's length."""
    y = np.asarray(y, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    mon = (y - 1970) * 12 + (m - 1)
    first = mon.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (mon + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + np.minimum(d, nxt - first) - 1


def rng_for(seed: int, *stream) -> np.random.Generator:
    ints = [int(seed)] + [zlib.crc32(str(s).encode()) for s in stream]
    return np.random.default_rng(np.random.SeedSequence(ints))


_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64, copy=True)
        z += _C1
        z ^= z >> np.uint64(30)
        z *= _C2
        z ^= z >> np.uint64(27)
        z *= _C3
        z ^= z >> np.uint64(31)
    return z


def salt(*parts) -> np.uint64:
    return np.uint64(zlib.crc32("|".join(map(str, parts)).encode()) * 2654435761 % 2**64)


def hashed(keys: np.ndarray, s: np.uint64) -> np.ndarray:
    return mix64(keys.astype(np.uint64) ^ mix64(np.array([s], dtype=np.uint64))[0])


def unit(h: np.ndarray) -> np.ndarray:
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def sample_idx(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int32)


def unique_fix(rng, values: np.ndarray, regen, fixed: np.ndarray | None = None) -> np.ndarray:
    """Regenerate duplicated values (keep the first of each) until all are unique.
    regen(k) returns k new candidate values. `fixed` marks values that must not change."""
    values = values.copy()
    for _ in range(100):
        order = np.argsort(values, kind="stable")
        sv = values[order]
        dup = np.zeros(len(values), dtype=bool)
        dup[order[1:][sv[1:] == sv[:-1]]] = True
        if fixed is not None:
            # a duplicate of a fixed value: move the non-fixed one
            dup &= ~fixed
        k = int(dup.sum())
        if k == 0:
            return values
        values[dup] = regen(k)
    raise RuntimeError("could not make values unique")
