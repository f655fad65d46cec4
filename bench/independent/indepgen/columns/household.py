"""Helpers the identity columns share: another member of a person's household, and uniform
numbers hashed from row/profile/batch keys."""

from __future__ import annotations

import numpy as np

from ..population import Population
from ..util import hashed, salt, unit


def other_member(P: Population, pi: np.ndarray, r: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Another member of the person's household: a parent for a minor, the twin for a twin."""
    h = P.hh[pi]
    start = P.hh_start[h]
    size = P.hh_size[h].astype(np.int64)
    own = pi - start
    k = (r % np.maximum(size - 1, 1).astype(np.uint64)).astype(np.int64)
    out = start + (own + 1 + k) % np.maximum(size, 1)
    parent = start + np.where((r >> np.uint64(7)) % np.uint64(2) == 0, 0, 1)
    parent = np.where(parent == pi, start, parent)
    out = np.where(minor & (own >= 1), parent, out)
    nxt = np.minimum(pi + 1, P.n - 1)
    prv = np.maximum(pi - 1, 0)
    tw_n = P.twin[pi] & P.twin[nxt] & (P.hh[nxt] == h) & (P.birth[nxt] == P.birth[pi])
    tw_p = P.twin[pi] & P.twin[prv] & (P.hh[prv] == h) & (P.birth[prv] == P.birth[pi])
    out = np.where(tw_n, nxt, np.where(tw_p, prv, out))
    return np.where(size >= 2, out, pi)


def uniform(keys, *salt_parts) -> np.ndarray:
    """Deterministic uniform [0, 1) per key."""
    return unit(hashed(keys, salt(*salt_parts)))
