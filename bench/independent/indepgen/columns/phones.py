"""The phone column: own or household number, another or a second number, placeholders, and
surface forms (+84, grouping, the old 11-digit prefix, lost leading zero)."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..noise import Conditions, Ctx
from ..population import Population
from .household import uniform

OLD_PREFIX = {int(p): old for p, _, old in L.MOBILE_PREFIXES if old}
NEW_PREFIXES = np.array([int(p) for p, _, _ in L.MOBILE_PREFIXES], dtype=np.int64)


def _phone_surface(kind: str):
    def f(s: str, r: int) -> str:
        if not s.startswith("0"):
            return s
        body = s[1:]
        if kind == "phone_plus84":
            return ["+84", "+84 ", "(+84)"][r % 3] + body
        if kind == "phone_84":
            return "84" + body
        if kind in ("phone_spaces", "phone_dots", "phone_dashes"):
            sep = {"phone_spaces": " ", "phone_dots": ".", "phone_dashes": "-"}[kind]
            if len(s) == 10:
                return (
                    sep.join([s[:4], s[4:7], s[7:]]) if r % 2 else sep.join([s[:3], s[3:6], s[6:]])
                )
            return sep.join([s[:3], s[3:7], s[7:]])
        if kind == "phone_old_11_digit":
            old = OLD_PREFIX.get(int(s[1:3]))
            return old + s[3:] if old else s
        if kind == "phone_no_leading_zero":
            return body
        return s

    return f


def build_phone(P: Population, pi, ctx: Ctx, cond: Conditions) -> np.ndarray:
    own = P.phone_own[pi]
    hhp = P.phone_hh[pi]
    u = uniform(ctx.keys["p"], ctx.seed, ctx.source, "phonechoice")
    num = np.where(
        own > 0, np.where(u < 0.9, own, np.where(hhp > 0, hhp, own)), np.where(u < 0.85, hhp, 0)
    )
    cond.add("household_phone", (num > 0) & (num != own))
    out = np.array(["0" + str(x) if x else "" for x in num.tolist()], dtype=object)
    kinds = ["phone_empty", "phone_other_number", "phone_two_numbers", "phone_placeholder"]
    has = num > 0
    c, r = ctx.choose("phone_value", kinds, {"phone_empty": has, "phone_two_numbers": has})
    out[c == 0] = ""
    ctx.log("phone_empty", c == 0)
    sel = np.nonzero(c == 1)[0]
    if len(sel):
        rr = r[sel]
        pref = NEW_PREFIXES[(rr % np.uint64(len(NEW_PREFIXES))).astype(np.int64)]
        other = pref * 10**7 + ((rr >> np.uint64(8)) % np.uint64(10**7)).astype(np.int64)
        out[sel] = np.array(["0" + str(x) for x in other.tolist()], dtype=object)
        ctx.log("phone_other_number", sel)
    sel = np.nonzero(c == 2)[0]
    if len(sel):
        rr = r[sel]
        other = 9 * 10**8 + ((rr >> np.uint64(8)) % np.uint64(10**8)).astype(np.int64)
        sep = np.array([" - ", "; ", " / ", ", "], dtype=object)[
            (rr % np.uint64(4)).astype(np.int64)
        ]
        out[sel] = out[sel] + sep + np.array(["0" + str(x) for x in other.tolist()], dtype=object)
        ctx.log("phone_two_numbers", sel)
    sel = np.nonzero(c == 3)[0]
    if len(sel):
        out[sel] = np.array(["0000000000", "0123456789", "0", "không có"], dtype=object)[
            (r[sel] % np.uint64(4)).astype(np.int64)
        ]
        ctx.log("phone_placeholder", sel)
    plain = (c < 0) & has
    old_ok = plain & np.isin(num // 10**7, np.array(list(OLD_PREFIX), dtype=np.int64))
    kinds = [
        "phone_plus84",
        "phone_84",
        "phone_spaces",
        "phone_dots",
        "phone_dashes",
        "phone_old_11_digit",
        "phone_no_leading_zero",
    ]
    c, r = ctx.choose(
        "phone_surface", kinds, {k: (old_ok if k == "phone_old_11_digit" else plain) for k in kinds}
    )
    for i, k in enumerate(kinds):
        ctx.apply_str(k, out, c == i, r, _phone_surface(k))
    return out
