"""Addresses: a ward weighted by density and a street part (house, alley, lane, apartment,
Tổ, Thôn/Xóm/Đội) per household; a second address for movers (another ward, or a home in
another province) and for visitors (their home elsewhere)."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..public_tables import Admin
from ..util import sample_idx
from .households import Households


def draw(rng, h: Households, admin: Admin, prefixes: dict, pref: np.ndarray, age) -> dict:
    """Population fields ward, atype, street, n1, n2, alt_* (the second address; alt_ward < 0
    is -(1 + index into other_wards)), mover, other_wards."""
    hh, hh_start, in_reg = h.hh, h.start, h.in_reg
    n, H, H_r = len(hh), len(h.size), h.n_res_households
    prov = admin.province_code
    nw = len(admin.ward_codes)
    ward_h = sample_idx(rng, admin.ward_weight, H)
    is_xa = np.array([t == "xã" for t in admin.ward_type])

    def addr(hw, k):
        rural = is_xa[hw]
        t_urban = sample_idx(rng, np.array([0.25, 0.33, 0.12, 0.17, 0.13]), k)
        t_rural = 5 + sample_idx(rng, np.array([0.6, 0.3, 0.1]), k)
        at = np.where(rural, t_rural, t_urban).astype(np.int8)
        streets = len(L.STREETS_HN) if prov == "01" else len(L.STREETS_GENERIC)
        st = np.where(at >= 5, rng.integers(0, len(L.VILLAGES), k), rng.integers(0, streets, k))
        st = np.where(at == 3, rng.integers(0, len(L.APARTMENTS), k), st)
        return (
            at,
            st.astype(np.int16),
            rng.integers(1, 300, k).astype(np.int16),
            rng.integers(1, 400, k).astype(np.int16),
        )

    # address type codes: see columns/addresses.street_part (8 = boarding room)
    at_h, st_h, n1_h, n2_h = addr(ward_h, H)
    # visitors: temporary lodging in the province (boarding rooms) or a home elsewhere
    vis_h = np.arange(H) >= H_r
    at_h[vis_h & (rng.random(H) < 0.45)] = 8
    # alternative address: another ward (most in the same district)
    same_d = rng.random(H) < 0.55
    alt_h = sample_idx(rng, admin.ward_weight, H)
    d_of = admin.ward_district
    for _ in range(4):
        bad = same_d & (d_of[alt_h] != d_of[ward_h])
        if not bad.any():
            break
        alt_h[bad] = sample_idx(rng, admin.ward_weight, int(bad.sum()))
    alt_h = np.where(alt_h == ward_h, (alt_h + 1) % nw, alt_h)
    a_at, a_st, a_n1, a_n2 = addr(alt_h, H)
    other = []
    for pc in sorted(admin.all_wards_by_prov):
        other.extend(admin.all_wards_by_prov[pc][:25])
    other_pref = np.array([int(prefixes.get(_code_of(admin, t[2]), "0")) for t in other])
    # movers to/from another province get a home there (visitors: their home address)
    other_idx = rng.integers(0, max(len(other), 1), H)
    head_pref = pref[hh_start]
    if len(other):
        # pick an address in the head's province of birth when we have one
        for pv in np.unique(head_pref):
            cand = np.nonzero(other_pref == pv)[0]
            m = head_pref == pv
            if len(cand) and m.any():
                other_idx[m] = cand[rng.integers(0, len(cand), int(m.sum()))]
    # visitors: register address slot = where they live now (in province); alt = home elsewhere
    alt_ward = alt_h[hh].astype(np.int32)
    alt_atype = a_at[hh]
    # movers: whole households (6%) plus single people (2%, often to another province)
    mover_h = rng.random(H) < 0.06
    mover = mover_h[hh] | (in_reg & (age >= 18) & (rng.random(n) < 0.02))
    to_other = (~mover_h[hh]) & mover & (rng.random(n) < 0.35) & (len(other) > 0)
    to_other |= (~in_reg) & (at_h[hh] != 8) & (rng.random(n) < 0.5)
    alt_ward[to_other] = -(1 + other_idx[hh[to_other]])
    alt_atype[to_other] = np.where(rng.random(int(to_other.sum())) < 0.6, 5, 6)
    mover &= in_reg
    return {
        "ward": ward_h[hh],
        "atype": at_h[hh],
        "street": st_h[hh],
        "n1": n1_h[hh],
        "n2": n2_h[hh],
        "alt_ward": alt_ward,
        "alt_atype": alt_atype,
        "alt_street": a_st[hh],
        "alt_n1": a_n1[hh],
        "alt_n2": a_n2[hh],
        "mover": mover,
        "other_wards": other,
    }


def _code_of(admin: Admin, prov_name: str) -> str:
    for c, nm in admin.prov_names_2008.items():
        if nm == prov_name:
            return c
    return ""
