"""The register (dan_cu): clean-ish rows in the contract layout, with the register's own
quirks (imprecise dates of birth, old tone placement) logged as conditions."""

from __future__ import annotations

import numpy as np

from .. import dates
from ..columns.addresses import address_parts, join_full
from ..columns.names import clean_names
from ..noise import Conditions
from ..util import NO_DATE, from_ymd, hashed, salt, unit, ymd


def register_rows(P, pi: np.ndarray, seed: int):
    A = P.admin
    n = len(pi)
    sdd = np.array([f"{x:012d}" for x in P.pid[pi].tolist()], dtype=object)
    cm = np.array([f"{x:09d}" if x > 0 else "" for x in P.cmnd[pi].tolist()], dtype=object)
    name = clean_names(P, pi)[0]
    y, m, d = ymd(P.birth[pi])
    prec = P.reg_prec[pi]
    bdays = np.where(prec == 2, from_ymd(y, 1, 1), P.birth[pi])
    ns = dates.render(bdays, np.where(prec == 1, 1, 0).astype(np.int8), 0)
    sex = np.where(P.sex[pi] == 0, "Nam", "Nữ").astype(object)
    w = P.ward[pi].astype(np.int64)
    ma_tinh = np.full(n, A.province_code, dtype=object)
    ma_huyen = A.district_codes.astype(object)[A.ward_district[w]]
    ma_xa = np.array(A.ward_codes, dtype=object)[w]
    parts = address_parts(P, pi, np.zeros(n, dtype=bool))
    dia_chi = join_full(parts)
    ph = P.reg_phone[pi]
    u = unit(hashed(pi.astype(np.uint64), salt(seed, "regphone")))
    phone = np.array(
        [
            (
                ""
                if x == 0
                else (
                    "+84" + str(x)
                    if uu < 0.015
                    else ("0" + str(x))
                    if uu >= 0.03
                    else "0" + str(x)[:3] + " " + str(x)[3:6] + " " + str(x)[6:]
                )
            )
            for x, uu in zip(ph.tolist(), u.tolist(), strict=True)
        ],
        dtype=object,
    )
    dead = P.death[pi] < NO_DATE
    ngay_mat = np.full(n, "", dtype=object)
    ngay_mat[dead] = dates.render(P.death[pi][dead], None, 0)
    ts = P.update_ts[pi]
    dd = ts // 86400
    sec = ts % 86400
    upd = dates.render(dd, None, 2) + np.array(
        [f"T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}+07:00" for s in sec.tolist()],
        dtype=object,
    )
    cols = [sdd, cm, name, ns, sex, ma_tinh, ma_huyen, ma_xa, dia_chi, phone, ngay_mat, upd]
    cond = Conditions()
    cond.add("register_dob_year_only", prec == 1)
    cond.add("register_dob_placeholder", prec == 2)
    cond.add("deceased", dead)
    cond.add("twin", P.twin[pi])
    cond.add("shared_cmnd", P.shared_cmnd[pi])
    cond.add("old_tone_style", P.old_tone[pi] & (name != _new_style(P, pi)))
    return cols, sdd, cond


def _new_style(P, pi):
    W = np.append(P.words, "")
    fam, m1, m2, gv = W[P.fam[pi]], W[P.mid1[pi]], W[P.mid2[pi]], W[P.given[pi]]
    mids = np.where(P.mid2[pi] >= 0, m1 + " " + m2, m1)
    return np.where(P.mid1[pi] >= 0, fam + " " + mids + " " + gv, fam + " " + gv)
