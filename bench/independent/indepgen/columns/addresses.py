"""The address: street part, ward, district, province (register or second address), value
noise (wrong ward, no street, 2025 units, the pre-2008 province), text noise (abbreviations,
accents, capitals, typos, line breaks), and tiem_chung's separate admin columns."""

from __future__ import annotations

import numpy as np

from .. import own_lists as L
from ..noise import Conditions, Ctx
from ..population import Population
from ..vntext import one_letter_typo, strip_diacritics
from .household import uniform


def _street_name(s: int, prov_hn: bool) -> str:
    lst = L.STREETS_HN if prov_hn else L.STREETS_GENERIC
    name = lst[s % len(lst)]
    return ("phố " if s % 3 == 0 else "đường " if s % 3 == 1 else "") + name


def street_part(at: int, s: int, n1: int, n2: int, hn: bool) -> str:
    if at == 0:
        return f"Số {n1} {_street_name(s, hn)}"
    if at == 1:
        return f"Số {n1} ngõ {n2} {_street_name(s, hn)}"
    if at == 2:
        return f"Số {n1} ngách {(n1 * 7 + n2) % 60 + 1}/{n2} {_street_name(s, hn)}"
    if at == 3:
        return f"Phòng {n1 % 30 + 1}{n2 % 20 + 1:02d}, tòa {'ABCDEFGH'[n2 % 8]}, {L.APARTMENTS[s % len(L.APARTMENTS)]}"
    if at == 4:
        return f"Tổ {n1 % 40 + 1}"
    if at == 5:
        return f"Thôn {L.VILLAGES[s % len(L.VILLAGES)]}"
    if at == 6:
        return f"Xóm {n1 % 15 + 1}"
    if at == 7:
        return f"Đội {n1 % 12 + 1}, thôn {L.VILLAGES[s % len(L.VILLAGES)]}"
    return f"Phòng trọ số {n1 % 20 + 1}, ngõ {n2} {_street_name(s, hn)}"


class AddrParts:
    def __init__(self, street, ward, district, province, ward_idx, district_idx):
        self.street = street
        self.ward = ward
        self.district = district
        self.province = province
        self.ward_idx = ward_idx  # -1: other province
        self.district_idx = district_idx


def address_parts(P: Population, pi, use_alt: np.ndarray) -> AddrParts:
    A = P.admin
    hn = A.province_code == "01"
    ward = np.where(use_alt, P.alt_ward[pi], P.ward[pi]).astype(np.int64)
    at = np.where(use_alt, P.alt_atype[pi], P.atype[pi])
    st = np.where(use_alt, P.alt_street[pi], P.street[pi])
    n1 = np.where(use_alt, P.alt_n1[pi], P.n1[pi])
    n2 = np.where(use_alt, P.alt_n2[pi], P.n2[pi])
    street = np.array(
        [
            street_part(a, s, x, y, hn)
            for a, s, x, y in zip(at.tolist(), st.tolist(), n1.tolist(), n2.tolist(), strict=True)
        ],
        dtype=object,
    )
    wn = np.array(A.ward_names, dtype=object)
    dn = np.array(A.district_names, dtype=object)
    inprov = ward >= 0
    widx = np.where(inprov, ward, 0)
    didx = A.ward_district[widx]
    wname = wn[widx]
    dname = dn[didx]
    pname = np.full(len(pi), A.province_name, dtype=object)
    if (~inprov).any():
        o = -(ward[~inprov] + 1)
        ow = P.other_wards
        wname[~inprov] = np.array([ow[i][0] for i in o], dtype=object)
        dname[~inprov] = np.array([ow[i][1] for i in o], dtype=object)
        pname[~inprov] = np.array([ow[i][2] for i in o], dtype=object)
    return AddrParts(
        street, wname, dname, pname, np.where(inprov, ward, -1), np.where(inprov, didx, -1)
    )


ABBREV = [
    ("Phường ", ["P. ", "P.", "P ", "phường "]),
    ("Quận ", ["Q. ", "Q.", "Q ", "quận "]),
    ("Huyện ", ["H. ", "H.", "huyện "]),
    ("Thị xã ", ["TX. ", "TX "]),
    ("Thị trấn ", ["TT. ", "TT "]),
    ("Xã ", ["X. ", "xã "]),
    ("Thành phố Hà Nội", ["TP. Hà Nội", "TP Hà Nội", "HN", "Hà Nội", "TPHN", "T.P Hà Nội"]),
    ("Tỉnh ", ["T. ", "", "tỉnh "]),
    ("Thành phố ", ["TP. ", "TP ", "Tp "]),
    ("Số ", ["số ", "", "SN "]),
    (" ngõ ", [" ng. ", " Ngõ ", " ngõ số "]),
    ("ngách ", ["ngh. ", "ng. "]),
    ("Phòng ", ["P", "P.", "Phòng "]),
    ("Khu đô thị ", ["KĐT "]),
    ("KĐT ", ["Khu đô thị ", "KDT "]),
    ("phố ", ["P. ", "", "Phố "]),
    ("đường ", ["Đ. ", "", "Đường "]),
    ("Thôn ", ["thôn ", "Th. "]),
    ("Xóm ", ["xóm ", "X "]),
]


def _abbrev(s: str, r: int) -> str:
    for k, (a, opts) in enumerate(ABBREV):
        if a in s and ((r >> k) & 3) != 0:
            s = s.replace(a, opts[(r >> (k + 20)) % len(opts)])
    return s


def _newline(s: str, r: int) -> str:
    i = s.find(", ")
    if i < 0:
        return s
    return s[:i] + ("\n" if r % 2 else ",\r\n") + s[i + 2 :]


def join_full(parts: AddrParts, idx=None) -> np.ndarray:
    if idx is None:
        idx = slice(None)
    return (
        parts.street[idx]
        + ", "
        + parts.ward[idx]
        + ", "
        + parts.district[idx]
        + ", "
        + parts.province[idx]
    )


def build_address(P: Population, pi, ctx: Ctx, cond: Conditions, full_text: bool, when):
    """Returns (address text, AddrParts after value noise). full_text: street+ward+district+
    province in one cell (f0, bhxh); otherwise street part only (tiem_chung: separate columns)."""
    A = P.admin
    real = ctx.rates.realism["mover_uses_alt_address"][ctx.source]
    u = uniform(ctx.keys["p"], ctx.seed, ctx.source, "alt")
    vis_alt = {"tiem_chung": 0.25, "f0": 0.15, "bhxh": 0.6}[ctx.source]
    use_alt = (P.mover[pi] & (u < real)) | (~P.in_reg[pi] & (u < vis_alt))
    cond.add("moved", P.mover[pi] & use_alt)
    parts = address_parts(P, pi, use_alt)
    n = len(pi)
    inprov = parts.ward_idx >= 0
    kinds = ["addr_empty", "addr_no_street", "addr_wrong_ward", "addr_2025_units"]
    c, r = ctx.choose("addr_value", kinds, {"addr_wrong_ward": inprov, "addr_2025_units": inprov})
    sel = np.nonzero(c == 2)[0]
    if len(sel):
        w = parts.ward_idx[sel]
        d = A.ward_district[w]
        # the next ward of the same district (wrapping), as a neighbour
        order = np.argsort(A.ward_district, kind="stable")
        dstart = np.searchsorted(A.ward_district[order], d)
        dcount = np.bincount(A.ward_district, minlength=len(A.district_names))[d]
        posn = _pos_in(order, w)
        step = 1 + (r[sel] % np.uint64(3)).astype(np.int64)
        nw_ = order[dstart + (posn - dstart + step) % np.maximum(dcount, 1)]
        ok = nw_ != w
        s2 = sel[ok]
        parts.ward_idx[s2] = nw_[ok]
        parts.ward[s2] = np.array(A.ward_names, dtype=object)[nw_[ok]]
        ctx.log("addr_wrong_ward", s2)
    text = join_full(parts) if full_text else parts.street.copy()
    sel = c == 0
    text[sel] = ""
    ctx.log("addr_empty", sel)
    sel = c == 1
    if sel.any():
        text[sel] = (
            (parts.ward[sel] + ", " + parts.district[sel] + ", " + parts.province[sel])
            if full_text
            else ""
        )
        ctx.log("addr_no_street", sel)
    sel = np.nonzero(c == 3)[0]
    if len(sel):
        nn = np.array(A.ward_new_name, dtype=object)[parts.ward_idx[sel]]
        pn = A.prov_names_2025.get(A.province_code, A.province_name)
        text[sel] = parts.street[sel] + ", " + nn + ", " + pn
        ctx.log("addr_2025_units", sel)
    # the old province name for districts that belonged to Hà Tây / Vĩnh Phúc until 2008
    elig_old = np.zeros(n, dtype=bool)
    if A.province_code == "01":
        dcodes = A.district_codes[np.maximum(parts.district_idx, 0)]
        elig_old = inprov & np.isin(dcodes, list(L.FORMER_PROVINCE))
    m, r = ctx.draw("addr_old_province", elig_old)
    if m.any():
        dcodes = A.district_codes[np.maximum(parts.district_idx, 0)]
        oldp = np.array([L.FORMER_PROVINCE.get(c, "") for c in dcodes.tolist()])
        if full_text:
            idx = np.nonzero(m)[0]
            new = np.array(
                [
                    s.replace(A.province_name, ("Tỉnh " if x % 2 else "") + o)
                    for s, o, x in zip(text[idx], oldp[idx], r[idx].tolist(), strict=True)
                ],
                dtype=object,
            )
            ch = new != text[idx]
            text[idx[ch]] = new[ch]
            ctx.log("addr_old_province", idx[ch])
        else:
            parts.province = parts.province.copy()
            parts.province[m] = np.where((r[m] % np.uint64(2)) == 0, oldp[m], "Tỉnh " + oldp[m])
            ctx.log("addr_old_province", m)
    m, r = ctx.draw("addr_abbrev")
    ctx.apply_str("addr_abbrev", text, m, r, _abbrev)
    c, r = ctx.choose("addr_script", ["addr_no_diacritics", "addr_upper"])
    ctx.apply_str("addr_no_diacritics", text, c == 0, r, lambda s, x: strip_diacritics(s))
    ctx.apply_str("addr_upper", text, c == 1, r, lambda s, x: s.upper())
    m, r = ctx.draw("addr_typo")
    ctx.apply_str("addr_typo", text, m, r, one_letter_typo)
    m, r = ctx.draw("addr_newline")
    ctx.apply_str("addr_newline", text, m, r, _newline)
    return text, parts


def _pos_in(order: np.ndarray, w: np.ndarray) -> np.ndarray:
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return inv[w]


UNIT_PREFIXES = ["Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Phường ", "Xã ", "Thị trấn "]
PROV_VARIANTS = [
    "Hà Nội",
    "TP Hà Nội",
    "TP. Hà Nội",
    "HN",
    "Ha Noi",
    "Tp Hà Nội",
    "Thành Phố Hà Nội",
]


def _unprefix(s: str) -> str:
    for p in UNIT_PREFIXES:
        if s.startswith(p):
            return s[len(p) :]
    return s


def admin_columns(P: Population, parts: AddrParts, ctx: Ctx):
    prov = parts.province.copy()
    dist = parts.district.copy()
    ward = parts.ward.copy()
    m, r = ctx.draw("admin_province_variant", prov == P.admin.province_name)
    if m.any() and P.admin.province_code == "01":
        prov[m] = np.array(PROV_VARIANTS, dtype=object)[
            (r[m] % np.uint64(len(PROV_VARIANTS))).astype(np.int64)
        ]
        ctx.log("admin_province_variant", m)
    m, r = ctx.draw("admin_unprefixed")
    if m.any():
        idx = np.nonzero(m)[0]
        for col in (dist, ward):
            col[idx] = np.array([_unprefix(s) for s in col[idx]], dtype=object)
        ctx.log("admin_unprefixed", idx)
    m, r = ctx.draw("admin_no_diacritics")
    if m.any():
        idx = np.nonzero(m)[0]
        for col in (prov, dist, ward):
            col[idx] = np.array([strip_diacritics(s) for s in col[idx]], dtype=object)
        ctx.log("admin_no_diacritics", idx)
    m, r = ctx.draw("admin_ward_empty")
    ward[m] = ""
    ctx.log("admin_ward_empty", m)
    return prov, dist, ward
