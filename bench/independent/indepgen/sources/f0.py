"""F0 case rows: identity columns, positive and recovery dates, test type, treatment place."""

from __future__ import annotations

import numpy as np

from .. import dates
from .. import own_lists as L
from ..columns.addresses import build_address
from ..columns.birth_dates import date_codes
from ..columns.phones import build_phone
from ..noise import Conditions
from ..util import NO_DATE, ymd
from .shared import (
    Rows,
    common_conditions,
    duplicate_rows,
    event_date_noise,
    identity,
    noise_context,
    scramble,
)

FACILITIES = np.array(L.F0_FACILITIES, dtype=object)  # treatment places (else 'Tại nhà')
TEST_VARIANTS = {
    "RT-PCR": ["PCR", "RT PCR", "Xét nghiệm RT-PCR", "rt-pcr", "RT-PCR (+)"],
    "Test nhanh kháng nguyên": [
        "Test nhanh",
        "TNKN",
        "test nhanh",
        "Xét nghiệm nhanh",
        "Test nhanh KN",
        "Kháng nguyên nhanh",
    ],
}


def f0_rows(P, ev, serial0, rates, seed, extract_day):
    batch = P.ward[ev["person"]].astype(np.int64)
    ev, dup_of = duplicate_rows(ev, serial0, rates, "f0", seed, batch)
    pi = ev["person"]
    n = len(pi)
    batch = P.ward[pi].astype(np.int64)
    ctx, age = noise_context(rates, "f0", seed, serial0, pi, batch, ev["positive"], P)
    cond = Conditions()
    ctx.log("duplicate_row", dup_of >= 0)
    common_conditions(P, pi, cond, age)
    cond.add("reinfection", ev["episode"] > 1)
    codes = date_codes(ctx)
    name, dob_days, dob_prec, sex, idc = identity(P, pi, ctx, cond, age, False)
    ngay_sinh = dates.render(dob_days, dob_prec, codes)
    phone = build_phone(P, pi, ctx, cond)
    addr, _ = build_address(P, pi, ctx, cond, True, ev["positive"])
    pos = event_date_noise(ctx, ev["positive"], pi, P, extract_day)
    rec = ev["recovered"].astype(np.int64)
    rec = np.where(rec < NO_DATE, rec + (pos - ev["positive"]), rec)
    has_rec = rec < NO_DATE
    m, r = ctx.draw("recovery_before_positive", has_rec)
    if m.any():
        idx = np.nonzero(m)[0]
        v = (r[idx] % np.uint64(2)).astype(np.int64)
        a, b = pos[idx].copy(), rec[idx].copy()
        pos[idx] = np.where(v == 0, b, a)
        rec[idx] = np.where(v == 0, a, a - 1 - (r[idx] >> np.uint64(3)).astype(np.int64) % 10)
        ctx.log("recovery_before_positive", idx)
    ngay_dt = dates.render(pos, None, codes)
    ngay_kb = dates.render(
        np.where(has_rec, rec, 0), np.where(has_rec, 0, -1).astype(np.int8), codes
    )
    test = np.where(ev["pcr"], "RT-PCR", "Test nhanh kháng nguyên").astype(object)
    m, r = ctx.draw("test_type_variant")
    ctx.apply_str(
        "test_type_variant", test, m, r, lambda s, x: TEST_VARIANTS[s][x % len(TEST_VARIANTS[s])]
    )
    place = np.where(
        ev["facility"] >= 0, FACILITIES[np.maximum(ev["facility"], 0)], "Tại nhà"
    ).astype(object)
    serial = np.arange(serial0, serial0 + n)
    scr = scramble(serial, 10**8, seed, "f0")
    yrs = ymd(ev["positive"])[0]
    rid = np.array(
        [
            f"BN{s:08d}" if y <= 2021 else f"HN-{y}-{s:08d}"
            for s, y in zip(scr, yrs.tolist(), strict=True)
        ],
        dtype=object,
    )
    cols = [rid, name, ngay_sinh, sex, idc, phone, addr, ngay_dt, test, ngay_kb, place]
    return Rows(cols, rid, pi, ctx, cond, P)
