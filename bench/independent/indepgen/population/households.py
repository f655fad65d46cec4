"""Households with consistent ages: head, spouse, children born to the mother at plausible
ages (twins included), grandparents; residents of the register first, then visitors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..util import from_ymd, sample_idx, ymd

ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_GP, ROLE_SINGLE = 0, 1, 2, 3, 4
HH_SIZE_P = np.array([0.11, 0.18, 0.22, 0.25, 0.13, 0.065, 0.03, 0.015])  # sizes 1..8
VIS_HH_SIZE_P = np.array([0.45, 0.25, 0.18, 0.12])


@dataclass
class Households:
    """Per person (residents first, then visitors) and per household."""

    n_res: int  # residents: people in the register
    n_res_households: int
    hh: np.ndarray  # person -> household
    start: np.ndarray  # household -> its first person
    size: np.ndarray  # household -> number of members
    role: np.ndarray  # ROLE_*
    sex: np.ndarray  # 0 male, 1 female
    birth: np.ndarray  # true date of birth (days)
    twin: np.ndarray
    in_reg: np.ndarray


def _sizes(rng, n: int, probs: np.ndarray) -> np.ndarray:
    mean = float((np.arange(1, len(probs) + 1) * probs).sum())
    h = int(n / mean * 1.05) + 16
    s = (sample_idx(rng, probs, h) + 1).astype(np.int64)
    while s.sum() < n:
        s = np.concatenate([s, sample_idx(rng, probs, h // 4 + 16) + 1])
    c = np.cumsum(s)
    k = int(np.searchsorted(c, n))
    s = s[: k + 1].copy()
    s[-1] -= int(c[k] - n)
    return s[s > 0]


def soft_clip(rng, x: np.ndarray, lo: float, hi: float, width: float = 3.0) -> np.ndarray:
    """Clip without piling values on the bounds (a hard clip makes thousands of people share
    one birth date)."""
    x = np.asarray(x, dtype=float).copy()
    w = min(width, (hi - lo) / 2)
    below = x < lo
    above = x > hi
    x[below] = lo + rng.uniform(0, w, int(below.sum()))
    x[above] = hi - rng.uniform(0, w, int(above.sum()))
    return x


def _members(rng, sizes: np.ndarray, snapshot: int, visitors: bool):
    """Roles, sexes and exact birth dates for households of the given sizes."""
    H = len(sizes)
    n = int(sizes.sum())
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    hh = np.repeat(np.arange(H, dtype=np.int32), sizes)
    pos = (np.arange(n) - np.repeat(start, sizes)).astype(np.int16)
    size_p = np.repeat(sizes, sizes)

    has_spouse = (sizes >= 2) & (rng.random(H) < (0.80 if visitors else 0.87))
    gp = np.zeros(H, dtype=np.int64)
    u = rng.random(H)
    gp[(sizes == 4) & (u < 0.22)] = 1
    gp[(sizes == 5) & (u < 0.40)] = 1
    gp[(sizes >= 6) & (u < 0.50)] = 2
    gp[(sizes >= 6) & (u >= 0.50) & (u < 0.70)] = 1
    if visitors:
        gp[:] = 0
    nkids = sizes - 1 - has_spouse - gp
    nkids[sizes == 1] = 0

    role = np.full(n, ROLE_CHILD, dtype=np.int8)
    role[pos == 0] = ROLE_HEAD
    role[(pos == 0) & (size_p == 1)] = ROLE_SINGLE
    role[(pos == 1) & np.repeat(has_spouse, sizes)] = ROLE_SPOUSE
    role[pos >= (size_p - np.repeat(gp, sizes))] = ROLE_GP
    role[pos == 0] = np.where(size_p[pos == 0] == 1, ROLE_SINGLE, ROLE_HEAD)

    # head age
    head_age = 27 + rng.gamma(3.0, 5.2, H)
    single = sizes == 1
    k = rng.random(H)
    head_age[single] = np.where(
        k[single] < 0.45,
        rng.uniform(19, 35, H)[single],
        np.where(k[single] < 0.62, rng.uniform(35, 60, H)[single], rng.uniform(60, 94, H)[single]),
    )
    couple = (sizes == 2) & has_spouse
    head_age[couple] = np.where(
        k[couple] < 0.4, rng.uniform(21, 33, H)[couple], rng.uniform(52, 90, H)[couple]
    )
    head_age = np.where(gp > 0, soft_clip(rng, head_age, 26, 56), soft_clip(rng, head_age, 19, 92))
    if visitors:
        head_age = soft_clip(rng, head_age, 18, 62)
    head_male = rng.random(H) < np.where(has_spouse, 0.86, np.where(sizes == 1, 0.5, 0.3))
    spouse_age = soft_clip(
        rng, head_age + np.where(head_male, -3.0, 3.0) + rng.normal(0, 3.2, H), 18, 98
    )
    mother_age = np.where(has_spouse, np.where(head_male, spouse_age, head_age), head_age)
    mother_age = np.where(~has_spouse & head_male, head_age - 2, mother_age)

    age = np.zeros(n)
    sex = np.zeros(n, dtype=np.int8)
    twin = np.zeros(n, dtype=bool)
    hp = np.repeat(head_age, sizes)
    age[role == ROLE_HEAD] = head_age[sizes > 1]
    age[role == ROLE_SINGLE] = head_age[sizes == 1]
    sex[(role == ROLE_HEAD) | (role == ROLE_SINGLE)] = np.where(head_male, 0, 1)
    sp = role == ROLE_SPOUSE
    age[sp] = spouse_age[hh[sp]]
    sex[sp] = np.where(head_male[hh[sp]], 1, 0)
    # children, in order of position
    prev_age = np.repeat(mother_age, 1)
    first_child_pos = 1 + has_spouse.astype(np.int64)
    for kk in range(int(nkids.max()) if len(nkids) else 0):
        have = nkids > kk
        hidx = np.nonzero(have)[0]
        p = start[hidx] + first_child_pos[hidx] + kk
        if kk == 0:
            a = mother_age[hidx] - (19.5 + rng.gamma(2.2, 2.3, len(hidx)))
        else:
            gap = 1.2 + rng.gamma(2.0, 1.4, len(hidx))
            is_twin = rng.random(len(hidx)) < 0.02
            gap[is_twin] = 0.0
            a = prev_age[hidx] - gap
            twin[p[is_twin]] = True
            twin[p[is_twin] - 1] = True
        neg = a < 0
        a[neg] = np.maximum(prev_age[hidx][neg], 0.3) * rng.uniform(0.0, 1.0, int(neg.sum()))
        if kk > 0:
            a = np.where(twin[p], prev_age[hidx], a)
        age[p] = a
        prev_age = prev_age.copy()
        prev_age[hidx] = a
        boy = rng.random(len(hidx)) < np.where(a < 20, 0.527, 0.505)
        sex[p] = np.where(boy, 0, 1)
    g = role == ROLE_GP
    gi = np.nonzero(g)[0]
    first_gp = np.ones(len(gi), dtype=bool)
    first_gp[1:] = hh[gi[1:]] != hh[gi[:-1]]
    gp_age = hp[gi] + 21 + rng.gamma(2.0, 3.2, len(gi))
    gp_age[~first_gp] = gp_age[np.maximum(np.arange(len(gi)) - 1, 0)][~first_gp] + rng.normal(
        -2.5, 3, int((~first_gp).sum())
    )
    age[gi] = soft_clip(rng, gp_age, 45, 104)
    gsex = np.where(rng.random(len(gi)) < 0.38, 0, 1)
    gsex[~first_gp] = 1 - gsex[np.maximum(np.arange(len(gi)) - 1, 0)][~first_gp]
    sex[gi] = gsex
    age = soft_clip(rng, age, 0.01, 104.5)
    birth = (snapshot - np.round(age * 365.2425)).astype(np.int32)
    # twins share the exact birth date with the sibling before them
    tw = np.nonzero(twin)[0]
    for _ in range(3):
        later = tw[(tw > 0)]
        later = later[
            twin[later - 1] & (hh[later] == hh[later - 1]) & (role[later - 1] == ROLE_CHILD)
        ]
        birth[later] = birth[later - 1]
    return hh, start, role, sex, birth, twin


def draw(rng, n_res: int, visitor_pool: float, snapshot: int) -> Households:
    """The register's households, then a pool of visitor households (visitor_pool x n_res
    people) who appear in extracts but not in the register."""
    sizes_r = _sizes(rng, n_res, HH_SIZE_P)
    n_vis = max(int(round(n_res * visitor_pool)), 4)
    sizes_v = _sizes(rng, n_vis, VIS_HH_SIZE_P)
    hh_r, st_r, role_r, sex_r, birth_r, twin_r = _members(rng, sizes_r, snapshot, False)
    hh_v, st_v, role_v, sex_v, birth_v, twin_v = _members(rng, sizes_v, snapshot, True)
    n = n_res + n_vis
    twin = np.concatenate([twin_r, twin_v])
    in_reg = np.zeros(n, dtype=bool)
    in_reg[:n_res] = True
    birth = np.concatenate([birth_r, birth_v])
    by, bm, bd = ymd(birth)
    # estimated dates of the elderly heap on round days of the month
    heap = (by < 1960) & (rng.random(n) < 0.08) & ~twin
    round_day = np.array([1, 1, 5, 10, 15, 15, 20, 25])[rng.integers(0, 8, n)]
    birth = np.where(heap, from_ymd(by, bm, round_day), birth).astype(np.int32)
    return Households(
        n_res=n_res,
        n_res_households=len(sizes_r),
        hh=np.concatenate([hh_r, hh_v + len(sizes_r)]).astype(np.int32),
        start=np.concatenate([st_r, st_v + n_res]).astype(np.int64),
        size=np.concatenate([sizes_r, sizes_v]).astype(np.int16),
        role=np.concatenate([role_r, role_v]),
        sex=np.concatenate([sex_r, sex_v]),
        birth=birth,
        twin=twin,
        in_reg=in_reg,
    )
