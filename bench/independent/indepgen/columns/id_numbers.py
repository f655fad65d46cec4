"""The ID column: which number (CCCD, the old CMND, a household member's, a placeholder),
its digits (typos, swaps, drops) and its surface (lost leading zero, separators, labels)."""

from __future__ import annotations

import numpy as np

from ..noise import Ctx
from ..population import Population
from ..util import from_ymd
from .household import other_member

PLACEHOLDERS = [
    "000000000000",
    "999999999999",
    "0",
    "123456789",
    "111111111111",
    "Không có",
    "chưa có",
    "KCO",
    "x",
    "-",
    "000000000",
    "khong co",
    "Chưa cấp",
]
LABELS = ["CCCD: ", "CCCD ", "Số CCCD: ", "CMND: ", "CC: ", "CCCD số "]


def _fmt_ids(vals: np.ndarray, width: np.ndarray) -> np.ndarray:
    return np.array(
        [
            (f"{v:012d}" if w == 12 else f"{v:09d}") if w else ""
            for v, w in zip(vals.tolist(), width.tolist(), strict=True)
        ],
        dtype=object,
    )


def _digit_typo(s: str, r: int) -> str:
    i = r % len(s)
    d = (int(s[i]) + 1 + (r >> 8) % 9) % 10
    return s[:i] + str(d) + s[i + 1 :]


def _adjacent(s: str, r: int) -> str:
    for k in range(len(s) - 1):
        i = (r + k) % (len(s) - 1)
        if s[i] != s[i + 1]:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s


def _dropped(s: str, r: int) -> str:
    i = 3 + r % (len(s) - 3)
    return s[:i] + s[i + 1 :]


def _doubled(s: str, r: int) -> str:
    i = r % len(s)
    return s[:i] + s[i] + s[i:]


def _separators(s: str, r: int) -> str:
    sep = [" ", ".", "-", " "][r % 4]
    if len(s) == 12:
        return (
            sep.join([s[:3], s[3:6], s[6:]]) if (r >> 4) % 2 else sep.join([s[:4], s[4:8], s[8:]])
        )
    return sep.join([s[:3], s[3:6], s[6:]])


def _whitespace(s: str, r: int) -> str:
    return [s + " ", " " + s, s + "\t", "\u00a0" + s, s + "  "][r % 5]


def build_id(P: Population, pi, ctx: Ctx, minor, age) -> np.ndarray:
    n = len(pi)
    val = P.pid[pi].copy()
    width = np.full(n, 12, dtype=np.int8)
    has_cmnd = P.cmnd[pi] > 0
    size2 = P.hh_size[P.hh[pi]] >= 2
    adult_old = (age >= 18) & (P.birth[pi] < from_ymd(2003, 1, 1))
    kinds = [
        "id_empty",
        "id_cmnd",
        "id_cmnd_unknown",
        "id_household_member",
        "id_random_other",
        "id_placeholder",
    ]
    c, r = ctx.choose(
        "id_which",
        kinds,
        {"id_cmnd": has_cmnd, "id_cmnd_unknown": adult_old, "id_household_member": size2},
    )
    sel = c == 1
    val[sel] = P.cmnd[pi[sel]]
    width[sel] = 9
    ctx.log("id_cmnd", sel)
    sel = c == 2
    if sel.any():
        val[sel] = ((r[sel] >> np.uint64(3)) % np.uint64(10**9)).astype(np.int64)
        width[sel] = 9
        ctx.log("id_cmnd_unknown", sel)
    sel = c == 3
    if sel.any():
        o = other_member(P, pi[sel], r[sel], minor[sel])
        use_cmnd = (P.cmnd[o] > 0) & ((r[sel] >> np.uint64(20)) % np.uint64(4) == 0)
        v = np.where(use_cmnd, P.cmnd[o], P.pid[o])
        changed = o != pi[sel]
        idx = np.nonzero(sel)[0][changed]
        val[idx] = v[changed]
        width[idx] = np.where(use_cmnd[changed], 9, 12)
        ctx.log("id_household_member", idx)
    sel = c == 4
    if sel.any():
        o = (r[sel] % np.uint64(P.n_res)).astype(np.int64)
        o = np.where(o == pi[sel], (o + 1) % P.n_res, o)
        val[sel] = P.pid[o]
        ctx.log("id_random_other", sel)
    width[c == 0] = 0
    width[c == 5] = 0
    ctx.log("id_empty", c == 0)
    out = _fmt_ids(val, width)
    sel = c == 5
    if sel.any():
        out[sel] = np.array(PLACEHOLDERS, dtype=object)[
            (r[sel] % np.uint64(len(PLACEHOLDERS))).astype(np.int64)
        ]
        ctx.log("id_placeholder", sel)
    numeric = width > 0
    c, r = ctx.choose(
        "id_digits",
        ["id_digit_typo", "id_adjacent_swap", "id_digit_dropped", "id_digit_doubled"],
        {
            k: numeric
            for k in ["id_digit_typo", "id_adjacent_swap", "id_digit_dropped", "id_digit_doubled"]
        },
    )
    for i, (k, f) in enumerate(
        [
            ("id_digit_typo", _digit_typo),
            ("id_adjacent_swap", _adjacent),
            ("id_digit_dropped", _dropped),
            ("id_digit_doubled", _doubled),
        ]
    ):
        ctx.apply_str(k, out, c == i, r, f)
    starts0 = numeric & np.array([s[:1] == "0" for s in out.tolist()])
    kinds = ["id_leading_zero_lost", "id_separators", "id_label", "id_apostrophe", "id_whitespace"]
    c, r = ctx.choose(
        "id_surface",
        kinds,
        {
            "id_leading_zero_lost": starts0,
            "id_separators": numeric,
            "id_label": numeric,
            "id_apostrophe": numeric,
            "id_whitespace": numeric,
        },
    )
    ctx.apply_str("id_leading_zero_lost", out, c == 0, r, lambda s, x: s.lstrip("0"))
    ctx.apply_str("id_separators", out, c == 1, r, _separators)
    ctx.apply_str(
        "id_label",
        out,
        c == 2,
        r,
        lambda s, x: ("CMND: " if len(s) == 9 and x % 2 else LABELS[x % len(LABELS)]) + s,
    )
    ctx.apply_str("id_apostrophe", out, c == 3, r, lambda s, x: "'" + s)
    ctx.apply_str("id_whitespace", out, c == 4, r, _whitespace)
    return out
