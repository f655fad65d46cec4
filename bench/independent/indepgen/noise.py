"""Noise decisions. Every decision is a hash of (level key, kind), so it is deterministic,
independent of chunking, and shared by all rows of a person (p level) or of a batch (b level)."""

from __future__ import annotations

import numpy as np

from .config import BOOST_ELDERLY, BOOST_MINOR, Rates
from .util import hashed, salt, unit

LEVELS = ("p", "b", "r")


class Ctx:
    def __init__(
        self,
        rates: Rates,
        source: str,
        seed: int,
        row_keys,
        prof_keys,
        batch_keys,
        minor=None,
        elderly=None,
    ):
        self.rates = rates
        self.source = source
        self.seed = seed
        self.n = len(row_keys)
        self.keys = {"p": prof_keys, "b": batch_keys, "r": row_keys}
        self.minor = minor
        self.elderly = elderly
        self.entries: list[tuple[str, np.ndarray]] = []

    def rate(self, kind: str) -> float:
        return self.rates.rate(self.source, kind)

    def _width(self, kind: str, level_share: float):
        w = self.rate(kind) * level_share
        if w == 0:
            return 0.0
        boost = None
        if self.minor is not None and kind in BOOST_MINOR:
            boost = np.where(self.minor, BOOST_MINOR[kind], 1.0)
        if self.elderly is not None and kind in BOOST_ELDERLY:
            b2 = np.where(self.elderly, BOOST_ELDERLY[kind], 1.0)
            boost = b2 if boost is None else boost * b2
        return w if boost is None else np.minimum(w * boost, 0.95)

    def choose(self, group: str, kinds: list[str], eligible: dict | None = None):
        """At most one kind of the group per row. Returns (choice, r): choice is the index in
        `kinds` or -1; r is a uint64 parameter stream (same for all rows of a profile/batch
        when the choice came from that level)."""
        n = self.n
        choice = np.full(n, -1, dtype=np.int16)
        r = np.zeros(n, dtype=np.uint64)
        if n == 0:
            return choice, r
        for li, level in enumerate(LEVELS):
            widths = [self._width(k, self.rates.levels[k][li]) for k in kinds]
            if all(np.isscalar(w) and w == 0 for w in widths):
                continue
            keys = self.keys[level]
            u = unit(hashed(keys, salt(self.seed, self.source, group, level)))
            cum = np.zeros(n) if any(not np.isscalar(w) for w in widths) else 0.0
            free = choice < 0
            for ki, w in enumerate(widths):
                if np.isscalar(w) and w == 0:
                    continue
                sel = free & (u >= cum) & (u < cum + w)
                if eligible and kinds[ki] in eligible and eligible[kinds[ki]] is not None:
                    sel &= eligible[kinds[ki]]
                choice[sel] = ki
                cum = cum + w
            got = free & (choice >= 0)
            if got.any():
                r[got] = hashed(keys[got], salt(self.seed, self.source, group, level, "param"))
        return choice, r

    def draw(self, kind: str, eligible=None):
        c, r = self.choose(kind, [kind], {kind: eligible} if eligible is not None else None)
        return c == 0, r

    def log(self, kind: str, mask_or_idx) -> None:
        idx = np.asarray(mask_or_idx)
        if idx.dtype == bool:
            idx = np.nonzero(idx)[0]
        if len(idx):
            self.entries.append((kind, idx.astype(np.int64)))

    def apply_str(self, kind: str, col: np.ndarray, mask: np.ndarray, r: np.ndarray, fn) -> None:
        """col[mask] = fn(value, r) in place, logging the rows that really changed."""
        idx = np.nonzero(mask)[0]
        if not len(idx):
            return
        old = col[idx]
        new = np.array([fn(v, int(x)) for v, x in zip(old, r[idx], strict=True)], dtype=object)
        ch = new != old
        col[idx[ch]] = new[ch]
        self.log(kind, idx[ch])


class Conditions:
    """Realism that is not noise (visitor, moved, twin ...), per row."""

    def __init__(self):
        self.entries: list[tuple[str, np.ndarray]] = []

    def add(self, cond: str, mask_or_idx) -> None:
        idx = np.asarray(mask_or_idx)
        if idx.dtype == bool:
            idx = np.nonzero(idx)[0]
        if len(idx):
            self.entries.append((cond, idx.astype(np.int64)))
