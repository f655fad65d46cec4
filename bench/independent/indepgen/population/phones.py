"""Phones: own mobiles by age (prefixes after the 2018 renumbering), the household's phone
(a member's mobile or an old 024 landline), and the phone the register holds."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..util import sample_idx, unique_fix
from .households import Households


def draw(rng, h: Households, age: np.ndarray) -> dict:
    """Population fields phone_own, phone_hh, reg_phone (national numbers without the
    leading 0; 0 = none)."""
    hh, hh_start, hh_size = h.hh, h.start, h.size
    n, H = len(hh), len(hh_size)
    p_phone = np.where(
        age < 13,
        0.0,
        np.where(age < 18, 0.55, np.where(age < 70, 0.9, np.where(age < 80, 0.55, 0.25))),
    )
    has_phone = rng.random(n) < p_phone
    mp_w = np.array([w for _, w, _ in L.MOBILE_PREFIXES])
    mp_num = np.array([int(p) for p, _, _ in L.MOBILE_PREFIXES], dtype=np.int64)
    mpi = sample_idx(rng, mp_w, n)
    phone_own = np.where(has_phone, mp_num[mpi] * 10**7 + rng.integers(0, 10**7, n), 0)
    ph_idx = np.nonzero(has_phone)[0]
    phone_own[ph_idx] = unique_fix(
        rng,
        phone_own[ph_idx],
        lambda k: mp_num[sample_idx(rng, mp_w, k)] * 10**7 + rng.integers(0, 10**7, k),
    )
    # household phone: head's, else spouse's, else anybody's
    phone_hh_h = np.zeros(H, dtype=np.int64)
    for pp in range(int(hh_size.max()) - 1, -1, -1):
        ok = hh_size > pp
        who = hh_start[ok] + pp
        ph = phone_own[who]
        cur = phone_hh_h[ok]
        phone_hh_h[ok] = np.where(ph > 0, ph, cur)
    landline = (rng.random(H) < 0.05) & (age[hh_start] > 55)
    phone_hh_h[landline] = 24 * 10**8 + 3 * 10**7 + rng.integers(0, 10**7, int(landline.sum()))
    phone_hh = phone_hh_h[hh]
    reg_phone = np.where(
        (phone_own > 0) & (rng.random(n) < 0.9),
        phone_own,
        np.where(rng.random(n) < 0.55, phone_hh, 0),
    )
    return {"phone_own": phone_own, "phone_hh": phone_hh, "reg_phone": reg_phone}
