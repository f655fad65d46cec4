"""BHXH participation rows: identity columns, BHXH number, unit (employer, People's
Committee, school, district office), participant type, period dates."""

from __future__ import annotations

import numpy as np

from .. import dates
from .. import own_lists as L
from ..columns.addresses import build_address
from ..columns.birth_dates import date_codes
from ..noise import Conditions
from ..util import NO_DATE, rng_for
from ..vntext import strip_diacritics
from .shared import Rows, common_conditions, duplicate_rows, identity, noise_context

PTYPE = ["Bắt buộc", "Tự nguyện", "Hộ gia đình", "Học sinh, sinh viên"]
PTYPE_VARIANTS = {
    "Bắt buộc": ["BB", "bat buoc", "Bắt Buộc", "BẮT BUỘC", "Bắt buộc (BB)"],
    "Tự nguyện": ["TN", "tu nguyen", "Tự nguyện (TN)", "TỰ NGUYỆN"],
    "Hộ gia đình": ["HGĐ", "HGD", "Hộ GĐ", "hộ gia đình", "BHYT hộ gia đình"],
    "Học sinh, sinh viên": ["HSSV", "Học sinh - sinh viên", "HS-SV", "Học sinh sinh viên"],
}
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def employer_tables(P, n_emp: int, seed: int):
    rng = rng_for(seed, "employers")
    forms = [f for f, _ in L.EMPLOYER_FORMS]
    fw = np.array([w for _, w in L.EMPLOYER_FORMS])
    fi = rng.choice(len(forms), n_emp, p=fw / fw.sum())
    ti = rng.integers(0, len(L.EMPLOYER_TRADES), n_emp)
    bi = rng.integers(0, len(L.EMPLOYER_BRANDS), n_emp)
    wn = P.admin.ward_names
    wi = rng.integers(0, len(wn), n_emp)
    pub = rng.random(n_emp) < 0.08
    names, codes = [], []
    for e in range(n_emp):
        codes.append(f"T{ALPHA[(e // 10000) % 26]}{e % 10000:04d}{ALPHA[(e // 260000) % 26]}")
        if pub[e]:
            w = wn[wi[e]]
            short = w.split(" ", 1)[1] if " " in w else w
            t = L.PUBLIC_EMPLOYERS[e % len(L.PUBLIC_EMPLOYERS)]
            names.append(t.format(w=short, W=w))
        else:
            names.append(f"{forms[fi[e]]} {L.EMPLOYER_TRADES[ti[e]]} {L.EMPLOYER_BRANDS[bi[e]]}")
    return np.array(codes, dtype=object), np.array(names, dtype=object)


def _emp_variant(s: str, r: int) -> str:
    v = r % 4
    if v == 0:
        return s.upper()
    if v == 1:
        return (
            s.replace("Công ty TNHH", "Cty TNHH")
            .replace("Công ty Cổ phần", "Cty CP")
            .replace("Một thành viên", "MTV")
        )
    if v == 2:
        return s.replace("Công ty Cổ phần", "CTCP").replace("Công ty TNHH", "CÔNG TY TNHH")
    return strip_diacritics(s)


def bhxh_rows(P, ev, serial0, rates, seed, extract_day, emp_codes, emp_names):
    A = P.admin
    w0 = P.ward[ev["person"]].astype(np.int64)
    batch0 = np.where(ev["ptype"] == 0, ev["employer"], 10**7 + ev["ptype"] * 10**5 + w0)
    # the person's last period in this extract
    last0 = np.ones(len(ev["person"]), dtype=bool)
    order = np.lexsort((ev["period"], ev["person"]))
    sp = ev["person"][order]
    lm = np.ones(len(sp), dtype=bool)
    lm[:-1] = sp[1:] != sp[:-1]
    last0[order] = lm
    ev = dict(ev)
    ev["last"] = last0
    ev, dup_of = duplicate_rows(ev, serial0, rates, "bhxh", seed, batch0)
    pi = ev["person"]
    w = P.ward[pi].astype(np.int64)
    batch = np.where(ev["ptype"] == 0, ev["employer"], 10**7 + ev["ptype"] * 10**5 + w)
    ctx, age = noise_context(rates, "bhxh", seed, serial0, pi, batch, ev["start"], P)
    cond = Conditions()
    ctx.log("duplicate_row", dup_of >= 0)
    common_conditions(P, pi, cond, age)
    codes = date_codes(ctx)
    # a retyped duplicate shows its start date another way, else the record id would repeat
    isdup = dup_of >= 0
    codes = np.where(isdup, np.where(codes == 1, 2, 1), codes).astype(np.int8)
    m, r = ctx.draw("period_month_only")
    codes_period = np.where(m, 8, codes).astype(np.int8)
    ctx.log("period_month_only", m)
    name, dob_days, dob_prec, sex, idc = identity(P, pi, ctx, cond, age, False)
    ngay_sinh = dates.render(dob_days, dob_prec, codes)
    addr, _ = build_address(P, pi, ctx, cond, True, ev["start"])
    ma = np.array([f"{x:010d}" for x in P.bhxh_no[pi].tolist()], dtype=object)
    m, r = ctx.draw("bhxh_code_is_cccd")
    if m.any():
        ma[m] = np.array([f"{x:012d}" for x in P.pid[pi[m]].tolist()], dtype=object)
        ctx.log("bhxh_code_is_cccd", m)
    # unit
    pt = ev["ptype"]
    d_of = A.ward_district[w]
    wc = np.array(A.ward_codes, dtype=object)[w]
    dc = A.district_codes.astype(object)[d_of]
    wname = np.array(A.ward_names, dtype=object)[w]
    dname = np.array(A.district_names, dtype=object)[d_of]
    emp = np.minimum(ev["employer"], len(emp_codes) - 1)
    unit_code = np.where(
        pt == 0,
        emp_codes[emp],
        np.where(pt == 1, "TN" + dc + "V", np.where(pt == 2, "HG" + wc, "HS" + wc + "T")),
    ).astype(object)
    unit_name = np.where(
        pt == 0,
        emp_names[emp],
        np.where(
            pt == 1,
            "BHXH " + dname,
            np.where(
                pt == 2,
                "UBND " + wname,
                "Trường THPT " + np.array([x.split(" ", 1)[-1] for x in wname], dtype=object),
            ),
        ),
    ).astype(object)
    m, r = ctx.draw("employer_name_variant")
    ctx.apply_str("employer_name_variant", unit_name, m, r, _emp_variant)
    ptype = np.array(PTYPE, dtype=object)[pt]
    m, r = ctx.draw("participant_type_variant")
    ctx.apply_str(
        "participant_type_variant",
        ptype,
        m,
        r,
        lambda s, x: PTYPE_VARIANTS[s][x % len(PTYPE_VARIANTS[s])],
    )
    # dates
    start = ev["start"].astype(np.int64)
    end = ev["end"].astype(np.int64)
    open_ = ev["open"].copy()
    dead = (P.death[pi] < NO_DATE) & ev["last"]
    m, r = ctx.draw("event_after_death", dead)
    open_[m] = True
    ctx.log("event_after_death", m)
    tu = dates.render(start, None, codes_period)
    den = dates.render(end, np.where(open_, -1, 0).astype(np.int8), codes_period)
    m, r = ctx.draw("period_reversed", ~open_)
    if m.any():
        tu[m], den[m] = den[m].copy(), tu[m].copy()
        ctx.log("period_reversed", m)
    rid = ma + "|" + tu
    cols = [ma, name, ngay_sinh, sex, idc, addr, unit_code, unit_name, ptype, tu, den]
    return Rows(cols, rid, pi, ctx, cond, P)
