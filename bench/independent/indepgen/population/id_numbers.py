"""Numbers of a person: the 12-digit ID (CCCD) encoding the province of birth registration,
century/sex and year; the old 9-digit CMND; the 10-digit BHXH number."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..util import sample_idx, unique_fix
from .households import Households


def draw(rng, h: Households, by: np.ndarray, province: str, prefixes: dict, snapshot: int):
    """(Population fields pid, cmnd (-1 = none), shared_cmnd; each person's 3-digit ID prefix
    of the province of birth)."""
    hh, sex, birth, twin, in_reg, n_res = h.hh, h.sex, h.birth, h.twin, h.in_reg, h.n_res
    n = len(hh)
    # ------------------------------------------------------------ birth province, ID
    own_prefix = int(prefixes[province])
    mig_codes = [c for c, _ in L.MIGRANT_ORIGINS if c != province and c in prefixes]
    mig_w = np.array([w for c, w in L.MIGRANT_ORIGINS if c != province and c in prefixes])
    mig_pref = np.array([int(prefixes[c]) for c in mig_codes])
    pref = np.full(n, own_prefix, dtype=np.int64)
    adult = (snapshot - birth) / 365.25 >= 22
    p_mig = np.where(in_reg, np.where(adult, 0.24, 0.07), np.where(adult, 0.82, 0.6))
    is_mig = rng.random(n) < p_mig
    pref[is_mig] = mig_pref[sample_idx(rng, mig_w, int(is_mig.sum()))]
    century = (by - 1900) // 100
    gdig = (2 * century + sex).astype(np.int64)
    yy = (by % 100).astype(np.int64)
    base = pref * 10**9 + gdig * 10**8 + yy * 10**6
    serial = rng.integers(0, 10**6, n)
    # twins: consecutive serial numbers (registered together)
    tw = np.nonzero(twin)[0]
    later = tw[(tw > 0)]
    later = later[twin[later - 1] & (hh[later] == hh[later - 1])]
    serial[later] = (serial[later - 1] + 1) % 10**6
    # regenerate duplicated numbers with the person's own prefix, century/sex and year
    pid = base + serial
    for _ in range(50):
        order = np.argsort(pid, kind="stable")
        sp_ = pid[order]
        dup = np.zeros(n, dtype=bool)
        dup[order[1:][sp_[1:] == sp_[:-1]]] = True
        if not dup.any():
            break
        serial[dup] = rng.integers(0, 10**6, int(dup.sum()))
        pid = base + serial

    # ------------------------------------------------------------ CMND
    p_cmnd = np.where(by <= 1999, 0.86, np.where(by <= 2002, 0.55, np.where(by <= 2005, 0.04, 0.0)))
    has_cmnd = rng.random(n) < p_cmnd
    police = np.full(n, 1, dtype=np.int64)  # issued where they live
    home_card = is_mig & (rng.random(n) < 0.45)
    # pseudo police codes for other provinces (not the real table, see README)
    police[home_card] = 10 + (pref[home_card] * 7) % 28
    cmnd = np.where(has_cmnd, police * 10**7 + rng.integers(0, 10**7, n), -1).astype(np.int64)
    holders = np.nonzero(has_cmnd)[0]
    cm = unique_fix(rng, cmnd[holders], lambda k: 10**7 + rng.integers(0, 10**7, k))
    cmnd[holders] = cm
    # the same CMND issued twice (a batch duplicated between two provinces)
    shared_cmnd = np.zeros(n, dtype=bool)
    res_holders = holders[holders < n_res]
    k = max(1, int(len(res_holders) * 0.0006)) if len(res_holders) > 10 else 0
    if k:
        a = rng.choice(res_holders, k, replace=False)
        b = rng.choice(res_holders, k, replace=False)
        ok = (a != b) & (hh[a] != hh[b])
        cmnd[b[ok]] = cmnd[a[ok]]
        shared_cmnd[a[ok]] = True
        shared_cmnd[b[ok]] = True
    return {"pid": pid, "cmnd": cmnd, "shared_cmnd": shared_cmnd}, pref


def bhxh_numbers(rng, pref: np.ndarray, province: str, prefixes: dict) -> np.ndarray:
    """Unique 10-digit BHXH numbers starting with the province code (of birth, for migrants)."""
    n = len(pref)
    own_prefix = int(prefixes[province])
    bx = np.where(pref == own_prefix, int(province), pref % 100) * 10**8 + rng.integers(0, 10**8, n)
    return unique_fix(rng, bx, lambda k: int(province) * 10**8 + rng.integers(0, 10**8, k))
