"""What the three extracts share: the rows of a chunk, retyped duplicate rows, the noise
context of a row, the identity columns, event-date noise and scrambled record ids."""

from __future__ import annotations

import math

import numpy as np

from ..columns.birth_dates import build_dob
from ..columns.id_numbers import build_id
from ..columns.names import build_name
from ..columns.sex import build_sex
from ..config import Rates
from ..noise import Conditions, Ctx
from ..util import NO_DATE, from_ymd, hashed, salt, ymd

SRC_ID = {"tiem_chung": 1, "f0": 2, "bhxh": 3}


def scramble(serial: np.ndarray, modulus: int, seed: int, source: str) -> np.ndarray:
    """Record-id numbers: a bijection of the row serial, so ids do not reveal row order."""
    a = 7_777_777_777 % modulus
    if math.gcd(a, modulus) != 1:
        a = 1_000_003
    b = int(
        hashed(np.array([seed], dtype=np.uint64), salt("recid", source))[0] % np.uint64(modulus)
    )
    return (serial.astype(object) * a + b) % modulus  # python ints: no overflow


class Rows:
    """Rendered rows of one source for one chunk."""

    def __init__(self, cols, record_ids, person, ctx: Ctx, cond: Conditions, P):
        self.cols = cols
        self.record_ids = record_ids
        self.person = person
        self.ctx = ctx
        self.cond = cond
        self.P = P


def duplicate_rows(ev: dict, serial0: int, rates: Rates, source: str, seed: int, batch: np.ndarray):
    """Events entered twice: the chosen ones appended again; dup_of = index of the original
    (-1 for originals)."""
    n = len(ev["person"])
    sid = np.uint64(SRC_ID[source] << 40)
    keys = np.arange(serial0, serial0 + n, dtype=np.uint64) + sid
    mini = Ctx(
        rates,
        source,
        seed,
        keys,
        ev["person"].astype(np.uint64) + sid,
        batch.astype(np.uint64) + sid,
    )
    m, _ = mini.draw("duplicate_row")
    idx = np.nonzero(m)[0]
    ev = {k: np.concatenate([v, v[idx]]) for k, v in ev.items()}
    dup_of = np.concatenate([np.full(n, -1, dtype=np.int64), idx])
    return ev, dup_of


def noise_context(rates, source, seed, serial0, person, batch, when, P):
    """The noise context of a chunk's rows (row, profile and batch keys; minors and elderly
    at the event date) and the age at the event."""
    n = len(person)
    sid = np.uint64(SRC_ID[source] << 40)
    age = (when - P.birth[person]) / 365.25
    ctx = Ctx(
        rates,
        source,
        seed,
        np.arange(serial0, serial0 + n, dtype=np.uint64) + sid,
        person.astype(np.uint64) + sid,
        batch.astype(np.uint64) + sid,
        minor=age < 18,
        elderly=age >= 70,
    )
    return ctx, age


def identity(P, pi, ctx, cond, age, allow_other_sex):
    """Name, declared date of birth (days, precision), sex and ID columns."""
    minor = age < 18
    name = build_name(P, pi, ctx, minor)
    dob_days, dob_prec = build_dob(P, pi, ctx, cond, minor)
    sex = build_sex(P, pi, ctx, allow_other_sex)
    idc = build_id(P, pi, ctx, minor, age)
    return name, dob_days, dob_prec, sex, idc


def common_conditions(P, pi, cond, age):
    """Conditions every extract logs: visitor, twin, deceased, minor."""
    cond.add("visitor", ~P.in_reg[pi])
    cond.add("twin", P.twin[pi])
    cond.add("deceased", P.death[pi] < NO_DATE)
    cond.add("minor", age < 18)


def event_date_noise(ctx, d: np.ndarray, person, P, extract_day) -> np.ndarray:
    """The event date with noise: after the person's death, or a year/day typo."""
    d = d.copy()
    dead = P.death[person] < NO_DATE
    m, r = ctx.draw("event_after_death", dead)
    if m.any():
        nd = P.death[person[m]].astype(np.int64) + 1 + (r[m] % np.uint64(120)).astype(np.int64)
        ok = nd <= extract_day
        idx = np.nonzero(m)[0][ok]
        d[idx] = nd[ok]
        ctx.log("event_after_death", idx)
    m, r = ctx.draw("event_date_typo")
    if m.any():
        idx = np.nonzero(m)[0]
        y, mo, dd = ymd(d[idx])
        v = (r[idx] % np.uint64(3)).astype(np.int64)
        ny = np.where(v == 0, y - 9, np.where(v == 1, y + 1, y))
        swap = (v == 2) & (dd <= 12) & (dd != mo)
        nm = np.where(swap, dd, mo)
        nd_ = np.where(swap, mo, np.where(v == 2, np.minimum(dd + 1, 28), dd))
        d[idx] = from_ymd(ny, nm, nd_)
        ctx.log("event_date_typo", idx)
    return d
