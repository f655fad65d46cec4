"""The date-of-birth column (the register's imprecision, declared dates and their noise) and
the date format of a row."""

from __future__ import annotations

import numpy as np

from .. import dates
from ..noise import Conditions, Ctx
from ..population import Population
from ..util import from_ymd, ymd
from .household import other_member, uniform


def build_dob(P: Population, pi, ctx: Ctx, cond: Conditions, minor):
    """Declared date of birth as (days, precision): precision 0 exact, 1 year only, -1 empty."""
    y, m, d = ymd(P.birth[pi])
    prec = np.zeros(len(pi), dtype=np.int8)
    rp = P.reg_prec[pi]
    pk = ctx.keys["p"]
    real = ctx.rates.realism
    u = uniform(pk, ctx.seed, ctx.source, "regdob")
    ph = (rp == 2) & (u >= real["declares_real_dob_when_register_has_placeholder"])
    m = np.where(ph, 1, m)
    d = np.where(ph, 1, d)
    yo = (rp == 1) & (u >= real["declares_full_dob_when_register_has_year_only"])
    prec[yo] = 1
    cond.add("register_dob_placeholder", rp == 2)
    cond.add("register_dob_year_only", rp == 1)

    kinds = [
        "dob_empty",
        "dob_year_typo",
        "dob_day_month_swap",
        "dob_day_typo",
        "dob_year_only",
        "dob_placeholder_0101",
        "dob_of_household_member",
    ]
    exact = prec == 0
    size2 = P.hh_size[P.hh[pi]] >= 2
    c, r = ctx.choose(
        "dob_value",
        kinds,
        {
            "dob_empty": None,
            "dob_year_typo": prec >= 0,
            "dob_day_month_swap": exact & (d <= 12) & (d != m),
            "dob_day_typo": exact,
            "dob_year_only": exact,
            "dob_placeholder_0101": exact & ~((d == 1) & (m == 1)),
            "dob_of_household_member": size2,
        },
    )
    y = y.copy()
    sel = c == 1
    if sel.any():
        rr = r[sel]
        v = (rr % np.uint64(10)).astype(np.int64)
        sign = np.where((rr >> np.uint64(8)) % np.uint64(2) == 0, 1, -1)
        yy = y[sel]
        dig = ((rr >> np.uint64(12)) % np.uint64(9)).astype(np.int64) + 1
        one_digit = yy - yy % 10 + (yy % 10 + dig) % 10
        ny = np.where(v < 5, yy + sign, np.where(v < 7, yy + 10 * sign, one_digit))
        ny = np.where(ny > 2024, yy - np.abs(ny - yy), ny)
        y[sel] = ny
        ctx.log("dob_year_typo", sel)
    sel = c == 2
    if sel.any():
        m2, d2 = m[sel].copy(), d[sel].copy()
        m = m.copy()
        d = d.copy()
        m[sel], d[sel] = d2, m2
        ctx.log("dob_day_month_swap", sel)
    sel = c == 3
    if sel.any():
        rr = r[sel]
        delta = ((rr % np.uint64(3)).astype(np.int64) + 1) * np.where(
            (rr >> np.uint64(4)) % np.uint64(2) == 0, 1, -1
        )
        dd = d[sel] + delta
        dd = np.where(dd < 1, d[sel] + 10, np.where(dd > 28, d[sel] - 10, dd))
        d = d.copy()
        d[sel] = dd
        ctx.log("dob_day_typo", sel)
    sel = c == 4
    prec[sel] = 1
    ctx.log("dob_year_only", sel)
    sel = c == 5
    if sel.any():
        m = np.where(sel, 1, m)
        d = np.where(sel, 1, d)
        ctx.log("dob_placeholder_0101", sel)
    days = from_ymd(y, m, d)
    sel = c == 6
    if sel.any():
        o = other_member(P, pi[sel], r[sel], minor[sel])
        nd = P.birth[o]
        changed = nd != days[sel]
        idx = np.nonzero(sel)[0][changed]
        days[idx] = nd[changed]
        prec[idx] = 0
        ctx.log("dob_of_household_member", idx)
    sel = c == 0
    prec[sel] = -1
    ctx.log("dob_empty", sel)
    return days, prec


def date_codes(ctx: Ctx) -> np.ndarray:
    c, _ = ctx.choose("date_fmt", dates.FMT_KINDS)
    for i, k in enumerate(dates.FMT_KINDS):
        ctx.log(k, c == i)
    return (c + 1).astype(np.int8)  # -1 -> 0 (standard dd/mm/yyyy)
