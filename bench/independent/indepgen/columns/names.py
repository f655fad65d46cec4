"""The name column: the person's name in old or new tone placement, then structure (order,
middle name, another member's name), spelling, case and script noise."""

from __future__ import annotations

import unicodedata

import numpy as np

from ..noise import Ctx
from ..population import Population
from ..vntext import (
    cp1258_mojibake,
    has_tone_style_choice,
    one_letter_typo,
    phonetic_error,
    strip_diacritics,
    strip_tones,
    swap_tone_style,
    tcvn3_mojibake,
    telex,
    vni_mojibake,
    vni_typing,
)
from .household import other_member


def clean_names(P: Population, pi: np.ndarray) -> tuple[np.ndarray, ...]:
    W = np.append(P.words, "")
    WO = np.append(P.words_old, "")
    old = P.old_tone[pi]
    fam = np.where(old, WO[P.fam[pi]], W[P.fam[pi]])
    m1 = np.where(old, WO[P.mid1[pi]], W[P.mid1[pi]])
    m2 = np.where(old, WO[P.mid2[pi]], W[P.mid2[pi]])
    gv = np.where(old, WO[P.given[pi]], W[P.given[pi]])
    mids = np.where(P.mid2[pi] >= 0, m1 + " " + m2, m1)
    full = np.where(P.mid1[pi] >= 0, fam + " " + mids + " " + gv, fam + " " + gv)
    return full, fam, mids, gv


def _partial(s: str, r: int) -> str:
    v = r % 4
    if v == 0:
        return strip_tones(s)
    if v == 1:
        w = s.split(" ")
        i = (r >> 8) % len(w)
        w[i] = strip_diacritics(w[i])
        return " ".join(w)
    if v == 2:
        return s.replace("Đ", "D").replace("đ", "d")
    w = s.split(" ")
    return " ".join(strip_diacritics(x) if j < len(w) - 1 else x for j, x in enumerate(w))


def _spaces(s: str, r: int) -> str:
    v = r % 5
    if v == 0:
        return s.replace(" ", "  ", 1 + (r >> 8) % 2)
    if v == 1:
        return " " + s + " "
    if v == 2:
        return s + "  "
    if v == 3:
        return s.replace(" ", "\u00a0", 1)
    return "  " + s


def build_name(P: Population, pi, ctx: Ctx, minor) -> np.ndarray:
    full, fam, mids, gv = clean_names(P, pi)
    full = full.copy()
    has_mid = P.mid1[pi] >= 0
    thi_van = (P.mid1[pi] == P.tables["thi"]) | (P.mid1[pi] == P.tables["van"])
    size2 = P.hh_size[P.hh[pi]] >= 2
    kinds = [
        "name_given_first",
        "name_middle_dropped",
        "name_middle_added",
        "name_of_household_member",
    ]
    c, r = ctx.choose(
        "name_struct",
        kinds,
        {
            "name_middle_dropped": has_mid,
            "name_middle_added": ~thi_van,
            "name_of_household_member": size2,
        },
    )
    m = c == 0
    if m.any():
        alt = (r[m] % np.uint64(2)) == 0
        gf = np.where(has_mid[m], gv[m] + " " + fam[m] + " " + mids[m], gv[m] + " " + fam[m])
        gf2 = np.where(has_mid[m], mids[m] + " " + gv[m] + " " + fam[m], gv[m] + " " + fam[m])
        full[m] = np.where(alt, gf, gf2)
        ctx.log("name_given_first", m)
    m = c == 1
    if m.any():
        full[m] = fam[m] + " " + gv[m]
        ctx.log("name_middle_dropped", m)
    m = c == 2
    if m.any():
        add = np.where(P.sex[pi[m]] == 0, "Văn", "Thị")
        full[m] = np.where(
            has_mid[m],
            fam[m] + " " + add + " " + mids[m] + " " + gv[m],
            fam[m] + " " + add + " " + gv[m],
        )
        ctx.log("name_middle_added", m)
    m = c == 3
    if m.any():
        o = other_member(P, pi[m], r[m], minor[m])
        other = clean_names(P, o)[0]
        changed = other != full[m]
        idx = np.nonzero(m)[0][changed]
        full[idx] = other[changed]
        ctx.log("name_of_household_member", idx)

    # spelling
    word_choice = np.array([has_tone_style_choice(w) for w in P.words] + [False])
    elig_tone = word_choice[P.given[pi]] | word_choice[P.mid1[pi]] | word_choice[P.fam[pi]]
    c, r = ctx.choose(
        "name_spell",
        ["name_typo", "name_phonetic", "name_tone_style"],
        {"name_tone_style": elig_tone},
    )
    ctx.apply_str("name_typo", full, c == 0, r, one_letter_typo)
    ctx.apply_str("name_phonetic", full, c == 1, r, phonetic_error)
    ctx.apply_str("name_tone_style", full, c == 2, r, lambda s, x: swap_tone_style(s))
    # case
    c, r = ctx.choose("name_case", ["name_upper", "name_lower"])
    ctx.apply_str("name_upper", full, c == 0, r, lambda s, x: s.upper())
    ctx.apply_str("name_lower", full, c == 1, r, lambda s, x: s.lower())
    # script
    sk = [
        "name_no_diacritics",
        "name_partial_diacritics",
        "name_telex",
        "name_vni_typing",
        "name_mojibake_tcvn3",
        "name_mojibake_vni",
        "name_mojibake_cp1258",
    ]
    fns = [
        lambda s, x: strip_diacritics(s),
        _partial,
        lambda s, x: telex(s),
        lambda s, x: vni_typing(s),
        lambda s, x: tcvn3_mojibake(s),
        lambda s, x: vni_mojibake(s),
        lambda s, x: cp1258_mojibake(s),
    ]
    c, r = ctx.choose("name_script", sk)
    for i, (k, f) in enumerate(zip(sk, fns, strict=True)):
        ctx.apply_str(k, full, c == i, r, f)
    m, r = ctx.draw("name_nfd")
    ctx.apply_str("name_nfd", full, m, r, lambda s, x: unicodedata.normalize("NFD", s))
    m, r = ctx.draw("name_extra_spaces")
    ctx.apply_str("name_extra_spaces", full, m, r, _spaces)
    m, r = ctx.draw("name_empty")
    ctx.apply_str("name_empty", full, m, r, lambda s, x: "")
    return full
