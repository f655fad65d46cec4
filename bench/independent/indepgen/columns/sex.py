"""The sex column: empty, wrong, 'Khác', or recoded (M/F, 1/0, nam/nữ ...)."""

from __future__ import annotations

import numpy as np

from ..noise import Ctx
from ..population import Population

SEX_CODES = [
    ("M", "F"),
    ("1", "0"),
    ("1", "2"),
    ("nam", "nữ"),
    ("NAM", "NỮ"),
    ("Nam", "Nu"),
    ("Male", "Female"),
    ("0", "1"),
]


def build_sex(P: Population, pi, ctx: Ctx, allow_other: bool) -> np.ndarray:
    sex = P.sex[pi].copy()
    kinds = ["sex_empty", "sex_wrong", "sex_other"]
    c, r = ctx.choose("sex_value", kinds)
    sex[c == 1] = 1 - sex[c == 1]
    ctx.log("sex_wrong", c == 1)
    out = np.where(sex == 0, "Nam", "Nữ").astype(object)
    rc, rr = ctx.draw("sex_recoded")
    if rc.any():
        v = (rr[rc] % np.uint64(len(SEX_CODES))).astype(np.int64)
        male = np.array([a for a, _ in SEX_CODES], dtype=object)[v]
        fem = np.array([b for _, b in SEX_CODES], dtype=object)[v]
        out[rc] = np.where(sex[rc] == 0, male, fem)
        ctx.log("sex_recoded", rc)
    out[c == 0] = ""
    ctx.log("sex_empty", c == 0)
    if allow_other:
        out[c == 2] = "Khác"
        ctx.log("sex_other", c == 2)
    return out
