"""Builds the population: households, then what the register knows of each person (date of
birth precision, names, numbers, phones, addresses), deaths and the register's update time.
One random stream, drawn in this order."""

from __future__ import annotations

import numpy as np

from ..public_tables import load_admin, load_prefixes
from ..util import NO_DATE, day, rng_for, ymd
from . import addresses, households, id_numbers, names, phones
from .model import Population


def build(
    n_res: int, seed: int, snapshot_s: str, province: str = "01", visitor_pool: float = 0.09
) -> Population:
    rng = rng_for(seed, "population")
    snapshot = day(snapshot_s)
    admin = load_admin(province, rng_for(seed, "admin"))
    prefixes = load_prefixes()
    h = households.draw(rng, n_res, visitor_pool, snapshot)
    birth, in_reg = h.birth, h.in_reg
    n = len(birth)
    by, bm, bd = ymd(birth)
    reg_prec = _register_dob_precision(rng, by, bm, bd)
    person_names = names.draw(rng, h, by)
    numbers, pref = id_numbers.draw(rng, h, by, admin.province_code, prefixes, snapshot)
    age = (snapshot - birth) / 365.25
    person_phones = phones.draw(rng, h, age)
    person_addresses = addresses.draw(rng, h, admin, prefixes, pref, age)
    death = _deaths(rng, birth, age, in_reg, snapshot)
    bhxh_no = id_numbers.bhxh_numbers(rng, pref, admin.province_code, prefixes)
    update_ts = _update_times(rng, death, snapshot)
    return Population(
        n_res=n_res,
        n=n,
        snapshot=snapshot,
        in_reg=in_reg,
        hh=h.hh,
        hh_start=h.start,
        hh_size=h.size,
        sex=h.sex,
        birth=birth,
        twin=h.twin,
        reg_prec=reg_prec,
        death=death,
        bhxh_no=bhxh_no,
        update_ts=update_ts,
        admin=admin,
        **person_names,
        **numbers,
        **person_phones,
        **person_addresses,
    )


def _register_dob_precision(rng, by, bm, bd) -> np.ndarray:
    """0 exact, 1 only the year, 2 a 01/01 placeholder (mostly the elderly)."""
    u = rng.random(len(by))
    p_year_only = np.where(
        by < 1945, 0.10, np.where(by < 1960, 0.035, np.where(by < 1980, 0.006, 0.0008))
    )
    p_placeholder = np.where(
        by < 1950, 0.16, np.where(by < 1965, 0.07, np.where(by < 1985, 0.012, 0.002))
    )
    reg_prec = np.zeros(len(by), dtype=np.int8)
    reg_prec[u < p_year_only] = 1
    reg_prec[(u >= p_year_only) & (u < p_year_only + p_placeholder)] = 2
    # some people really are born on 1 January (and many on "round" days): no quirk
    reg_prec[(bm == 1) & (bd == 1)] = 0
    return reg_prec


def _deaths(rng, birth, age, in_reg, snapshot: int) -> np.ndarray:
    """Gompertz-like mortality from 2019 to the snapshot with a COVID-19 bump for the elderly;
    NO_DATE for the living (visitors never die here)."""
    n = len(birth)
    q = np.exp(-10.3 + 0.089 * np.clip(age, 0, 110))
    years = (snapshot - day("2019-01-01")) / 365.25
    p_dead = 1 - (1 - np.minimum(q, 0.5)) ** years
    dead = (rng.random(n) < p_dead) & in_reg
    lo = np.maximum(birth + 30, day("2019-01-01"))
    death = np.full(n, NO_DATE, dtype=np.int32)
    dd = lo + (rng.random(n) * np.maximum(snapshot - 10 - lo, 1)).astype(np.int64)
    covid = rng.random(n) < 0.18
    dd = np.where(covid & (age > 55), day("2021-07-20") + rng.integers(0, 270, n), dd)
    death[dead] = np.minimum(dd[dead], snapshot - 5).astype(np.int32)
    return death


def _update_times(rng, death, snapshot: int) -> np.ndarray:
    """ngay_cap_nhat as seconds since the epoch: since 07/2021, after a death, office hours."""
    n = len(death)
    lo_ts = day("2021-07-01")
    upd = lo_ts + (rng.random(n) ** 0.6 * (snapshot - lo_ts)).astype(np.int64)
    upd = np.where(
        death < NO_DATE, np.maximum(upd, np.minimum(death.astype(np.int64) + 3, snapshot)), upd
    )
    return upd * 86400 + rng.integers(7 * 3600, 18 * 3600, n)
