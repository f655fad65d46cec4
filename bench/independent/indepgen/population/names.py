"""Names: family names with regional shares, middle and given names weighted by birth cohort,
4-part and 2-part names, children named after the father (or a single mother), siblings
sharing a middle name, and the old tone placement (Hoà, Thuỷ) for part of the register."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..util import sample_idx
from ..vntext import strip_diacritics, swap_tone_style
from .households import ROLE_CHILD, ROLE_GP, ROLE_SPOUSE, Households


def word_table() -> tuple[np.ndarray, np.ndarray, dict]:
    """All family/middle/given strings in one table (so indexes are shared), the same in the
    old tone placement, and the index tables with their weights."""
    words: list[str] = []
    pos: dict[str, int] = {}

    def idx(w: str) -> int:
        if w not in pos:
            pos[w] = len(words)
            words.append(w)
        return pos[w]

    tables = {}
    tables["fam"] = (np.array([idx(w) for w, _ in L.FAMILY]), np.array([s for _, s in L.FAMILY]))
    for key, lst in [
        ("mid_m", L.MIDDLE_M),
        ("mid_f", L.MIDDLE_F),
        ("giv_m", L.GIVEN_M),
        ("giv_f", L.GIVEN_F),
    ]:
        ids = np.array([idx(w) for w, _, _ in lst])
        w_old = np.array([a for _, a, _ in lst], dtype=float)
        w_new = np.array([b for _, _, b in lst], dtype=float)
        tables[key] = (ids, w_old, w_new)
    tables["mid2_f"] = np.array([idx(w) for w in L.MIDDLE2_F])
    tables["mid2_m"] = np.array([idx(w) for w in L.MIDDLE2_M])
    tables["thi"] = idx("Thị")
    tables["van"] = idx("Văn")
    w = np.array(words, dtype=object)
    w_old = np.array([swap_tone_style(x, to_old=True) for x in words], dtype=object)
    return w, w_old, tables


def draw(rng, h: Households, by: np.ndarray) -> dict:
    """Population fields fam, mid1, mid2, given (indexes into words; -1 = none), old_tone,
    words, words_old, tables."""
    hh, hh_start, hh_size, role, sex, twin = h.hh, h.start, h.size, h.role, h.sex, h.twin
    n = len(hh)
    words, words_old, T = word_table()
    era = np.clip((by - 1950) / 60.0, 0, 1)
    bucket = np.minimum((era * 5).astype(np.int64), 4)

    def by_era(key, who):
        ids, w_old, w_new = T[key]
        out = np.empty(int(who.sum()), dtype=np.int32)
        b = bucket[who]
        for k in range(5):
            t = (k + 0.5) / 5
            m = b == k
            if m.any():
                out[m] = ids[sample_idx(rng, w_old * (1 - t) + w_new * t, int(m.sum()))]
        return out

    fam_ids, fam_w = T["fam"]
    fam = fam_ids[sample_idx(rng, fam_w, n)].astype(np.int32)
    male = sex == 0
    mid1 = np.empty(n, dtype=np.int32)
    given = np.empty(n, dtype=np.int32)
    mid1[male] = by_era("mid_m", male)
    mid1[~male] = by_era("mid_f", ~male)
    given[male] = by_era("giv_m", male)
    given[~male] = by_era("giv_f", ~male)
    mid2 = np.full(n, -1, dtype=np.int32)
    p_mid2 = 0.03 + 0.2 * era
    has2 = rng.random(n) < p_mid2
    has2_f = has2 & ~male
    has2_m = has2 & male
    mid2[has2_f] = T["mid2_f"][rng.integers(0, len(T["mid2_f"]), int(has2_f.sum()))]
    mid2[has2_m] = T["mid2_m"][rng.integers(0, len(T["mid2_m"]), int(has2_m.sum()))]
    no_mid = rng.random(n) < np.where(by < 1960, 0.02, 0.005)
    mid1[no_mid] = -1
    mid2[no_mid] = -1

    # family names: children take the father's; grandfather = head's family
    hs = hh_start
    head = hs
    spouse = np.where(hh_size >= 2, hs + 1, hs)
    spouse_is = role[np.minimum(spouse, n - 1)] == ROLE_SPOUSE
    father = np.where(sex[head] == 0, head, np.where(spouse_is & (sex[spouse] == 0), spouse, -1))
    mother = np.where(sex[head] == 1, head, np.where(spouse_is & (sex[spouse] == 1), spouse, -1))
    kids = role == ROLE_CHILD
    f_of = father[hh]
    kf = kids & (f_of >= 0)
    fam[kf] = fam[f_of[kf]]
    m_of = mother[hh]
    km = kids & (f_of < 0) & (m_of >= 0) & (rng.random(n) < 0.4)
    fam[km] = fam[m_of[km]]
    gpm = (role == ROLE_GP) & male
    fam[gpm] = fam[head[hh[gpm]]]
    # siblings of one sex often share the middle name (twins always)
    kid_idx = np.nonzero(kids)[0]
    share = rng.random(n) < 0.45
    for _ in range(2):
        prev = kid_idx[1:]
        p0 = prev - 1
        ok = (hh[prev] == hh[p0]) & kids[p0] & (sex[prev] == sex[p0]) & (share[prev] | twin[prev])
        mid1[prev[ok]] = mid1[p0[ok]]
        t_ok = ok & twin[prev] & twin[p0]
        mid2[prev[t_ok]] = mid2[p0[t_ok]]
    # no sibling (or twin) with the sibling's given name; no "Minh Minh"
    prev = np.arange(1, n)
    same = (hh[prev] == hh[prev - 1]) & (given[prev] == given[prev - 1])
    pool_m, pool_f = T["giv_m"][0], T["giv_f"][0]
    next_m = {int(a): int(b) for a, b in zip(pool_m, np.roll(pool_m, -1), strict=True)}
    next_f = {int(a): int(b) for a, b in zip(pool_f, np.roll(pool_f, -1), strict=True)}
    for idx in np.nonzero(same)[0] + 1:
        nxt = next_m if sex[idx] == 0 else next_f
        given[idx] = nxt.get(int(given[idx]), int(given[idx]))
    clash = given == mid1
    given[clash & male] = pool_m[rng.integers(0, 10, int((clash & male).sum()))]
    given[clash & ~male] = pool_f[rng.integers(0, 10, int((clash & ~male).sum()))]
    folded = np.array([strip_diacritics(w) for w in words], dtype=object)
    m2 = mid2 >= 0
    mid2[m2 & ((folded[np.maximum(mid2, 0)] == folded[given]) | (mid2 == mid1))] = -1
    old_tone = rng.random(n) < np.where(by < 1975, 0.45, 0.22)
    return {
        "fam": fam,
        "mid1": mid1,
        "mid2": mid2,
        "given": given,
        "old_tone": old_tone,
        "words": words,
        "words_old": words_old,
        "tables": T,
    }
