"""Vaccination rows (tiem_chung): identity columns, separate admin columns, dose number and
label, vaccine product and spelling, date, lot and site."""

from __future__ import annotations

import numpy as np

from .. import dates
from .. import own_lists as L
from ..columns.addresses import admin_columns, build_address
from ..columns.birth_dates import date_codes
from ..columns.phones import build_phone
from ..events import LOT_STYLE, VACCINES
from ..noise import Conditions
from ..public_tables import Admin, load_vaccine_aliases
from ..util import hashed, salt, unit
from .shared import (
    Rows,
    common_conditions,
    duplicate_rows,
    event_date_noise,
    identity,
    noise_context,
    scramble,
)

DOSE_LABELS = [
    lambda n: f"Mũi {n}",
    lambda n: f"M{n}",
    lambda n: f"Mũi thứ {n}",
    lambda n: f"mũi {n}",
    lambda n: f"{n}.0",
    lambda n: "Mũi nhắc lại" if n == 3 else "Mũi nhắc lại lần 2" if n == 4 else f"Mũi {n}",
    lambda n: f"Mũi {n} (nhắc lại)" if n >= 3 else f"Mũi {n}",
]


def vaccination_sites(admin: Admin) -> np.ndarray:
    """Vaccination sites: each ward's health station, each district's centre, hospitals."""
    return np.array(
        ["Trạm Y tế " + w for w in admin.ward_names]
        + ["Trung tâm Y tế " + d for d in admin.district_names]
        + list(L.HOSPITALS),
        dtype=object,
    )


def vaccine_spellings() -> dict[str, list[str]]:
    """Other spellings of each product: the public table's aliases and our own."""
    spell = {}
    for name, aliases in load_vaccine_aliases().items():
        lst = list(
            dict.fromkeys(
                [x for x in aliases if x != name] + L.VACCINE_EXTRA_SPELLINGS.get(name, [])
            )
        )
        spell[name] = [x for x in lst if x != name] or [name]
    return spell


def tiem_chung_rows(P, ev, serial0, rates, seed, extract_day, vacc_spellings, site_names):
    ev, dup_of = duplicate_rows(ev, serial0, rates, "tiem_chung", seed, ev["site"])
    pi = ev["person"]
    n = len(pi)
    ctx, age = noise_context(rates, "tiem_chung", seed, serial0, pi, ev["site"], ev["date"], P)
    cond = Conditions()
    ctx.log("duplicate_row", dup_of >= 0)
    common_conditions(P, pi, cond, age)
    codes = date_codes(ctx)
    name, dob_days, dob_prec, sex, idc = identity(P, pi, ctx, cond, age, True)
    ngay_sinh = dates.render(dob_days, dob_prec, codes)
    phone = build_phone(P, pi, ctx, cond)
    addr, parts = build_address(P, pi, ctx, cond, False, ev["date"])
    # some sites type the ward into the address cell as well (a style, not an error)
    ub = unit(hashed(ctx.keys["b"], salt(seed, "tc_addr_style")))
    with_ward = (ub < 0.35) & (addr != "")
    addr[with_ward] = addr[with_ward] + ", " + parts.ward[with_ward]
    prov, dist, ward = admin_columns(P, parts, ctx)
    # dose number and label
    dose = ev["dose"].copy()
    m, r = ctx.draw("dose_number_wrong")
    dose[m] = np.where(dose[m] > 1, dose[m] - 1, dose[m] + 1)
    ctx.log("dose_number_wrong", m)
    dose_s = np.array([str(x) for x in dose.tolist()], dtype=object)
    m, r = ctx.draw("dose_label_variant")
    ctx.apply_str(
        "dose_label_variant", dose_s, m, r, lambda s, x: DOSE_LABELS[x % len(DOSE_LABELS)](int(s))
    )
    # vaccine product
    vac = ev["vaccine"].copy()
    m, r = ctx.draw("vaccine_wrong_product")
    vac[m] = (vac[m] + 1 + (r[m] % np.uint64(4)).astype(np.int64)) % len(VACCINES)
    ctx.log("vaccine_wrong_product", m)
    vname = np.array(VACCINES, dtype=object)[vac]
    m, r = ctx.draw("vaccine_name_variant")
    ctx.apply_str(
        "vaccine_name_variant",
        vname,
        m,
        r,
        lambda s, x: vacc_spellings[s][x % len(vacc_spellings[s])],
    )
    # date given
    d = event_date_noise(ctx, ev["date"], pi, P, extract_day)
    ngay_tiem = dates.render(d, None, codes)
    # lot: shared by a site over a fortnight
    h = hashed(
        (ev["vaccine"] * 1_000_003 + (ev["date"] // 14) * 7 + ev["site"] % 5).astype(np.uint64),
        salt(seed, "lot"),
    )
    lot = np.array(
        [
            LOT_STYLE[VACCINES[v]](int(x))
            for v, x in zip(ev["vaccine"].tolist(), h.tolist(), strict=True)
        ],
        dtype=object,
    )
    m, r = ctx.draw("lot_empty")
    lot[m] = ""
    ctx.log("lot_empty", m)
    site = site_names[ev["site"]]
    serial = np.arange(serial0, serial0 + n)
    rid = np.array(
        [str(10**11 + x) for x in scramble(serial, 9 * 10**10, seed, "tiem_chung")], dtype=object
    )
    cols = [
        rid,
        name,
        ngay_sinh,
        sex,
        idc,
        phone,
        addr,
        prov,
        dist,
        ward,
        dose_s,
        vname,
        ngay_tiem,
        lot,
        site,
    ]
    return Rows(cols, rid, pi, ctx, cond, P)
