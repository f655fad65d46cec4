"""Events per person: vaccination doses with consistent schedules, F0 episodes, BHXH
participation periods. Counts are decided globally (so totals hit the targets), details per
chunk of households."""

from __future__ import annotations

import numpy as np

from .population import Population
from .util import NO_DATE, day, from_ymd, sample_idx, ymd

CAMPAIGN = day("2021-03-08")
VACC_END = day("2023-06-30")
F0_END = day("2023-06-30")
VACCINES = [
    "AstraZeneca",
    "Sputnik V",
    "Vero Cell",
    "Pfizer",
    "Moderna",
    "Janssen",
    "Abdala",
    "Hayat-Vax",
    "Covaxin",
]
V = {n: i for i, n in enumerate(VACCINES)}


def _thin(rng, counts, P: Population, target_total: float, visitor_share: float):
    res = P.in_reg
    for mask, tgt in (
        (res, target_total * (1 - visitor_share)),
        (~res, target_total * visitor_share),
    ):
        base = counts[mask].sum()
        if base <= 0:
            continue
        keep = min(1.0, tgt / base)
        drop = mask & (rng.random(P.n) >= keep)
        counts[drop] = 0
    return counts


def dose_counts(P: Population, rng, target_total: float, visitor_share: float) -> np.ndarray:
    a = (day("2022-06-01") - P.birth) / 365.25
    counts = np.zeros(P.n, dtype=np.int8)
    groups = [
        (a >= 18, [0.05, 0.04, 0.24, 0.45, 0.22]),
        ((a >= 12) & (a < 18), [0.07, 0.05, 0.58, 0.27, 0.03]),
        ((a >= 5.2) & (a < 12), [0.35, 0.17, 0.48, 0.0, 0.0]),
    ]
    for m, p in groups:
        counts[m] = sample_idx(rng, np.array(p), int(m.sum()))
    # no doses for people who died before the campaign
    counts[P.death < CAMPAIGN + 30] = 0
    return _thin(rng, counts, P, target_total, visitor_share)


def f0_counts(P: Population, rng, target_total: float, visitor_share: float):
    a = (day("2022-03-01") - P.birth) / 365.25
    p = np.where(a < 0, 0.0, np.where(a < 18, 0.16, np.where(a < 65, 0.17, 0.10)))
    inf = rng.random(P.n) < p
    ep = 1 + sample_idx(rng, np.array([0.94, 0.053, 0.007]), P.n)
    counts = np.where(inf, ep, 0).astype(np.int8)
    counts[P.death < day("2020-03-01")] = 0
    counts = _thin(rng, counts, P, target_total, visitor_share)
    # deaths from COVID-19: an episode 5-20 days before death
    covid_death = (
        (P.death >= day("2021-07-20"))
        & (P.death <= day("2022-05-15"))
        & ((P.snapshot - P.birth) / 365.25 > 55)
        & (rng.random(P.n) < 0.35)
    )
    counts[covid_death] = np.maximum(counts[covid_death], 1)
    return counts, covid_death


CAT_NONE, CAT_CAREER, CAT_HGD, CAT_HSSV = 0, 1, 2, 3


def bhxh_counts(P: Population, rng, target_total: float, visitor_share: float):
    a = (P.snapshot - P.birth) / 365.25
    u = rng.random(P.n)
    cat = np.zeros(P.n, dtype=np.int8)
    work = (a >= 18) & (a < 63)
    cat[work & (u < 0.64)] = CAT_CAREER
    cat[work & (u >= 0.64) & (u < 0.84)] = CAT_HGD
    old = a >= 63
    cat[old & (u < 0.30)] = CAT_CAREER  # retired: career periods that ended
    cat[old & (u >= 0.30) & (u < 0.65)] = CAT_HGD
    cat[(a >= 15) & (a < 18) & (u < 0.35)] = CAT_HSSV
    counts = np.zeros(P.n, dtype=np.int8)
    c = cat == CAT_CAREER
    counts[c] = np.minimum(1 + rng.poisson(1.8, int(c.sum())), 12)
    h = cat == CAT_HGD
    counts[h] = 1 + sample_idx(rng, np.array([0.35, 0.3, 0.2, 0.15]), int(h.sum()))
    s = cat == CAT_HSSV
    counts[s] = 1 + sample_idx(rng, np.array([0.4, 0.35, 0.25]), int(s.sum()))
    counts = _thin(rng, counts, P, target_total, visitor_share)
    cat[counts == 0] = CAT_NONE
    return counts, cat


# ---------------------------------------------------------------- vaccination


def _tri(rng, lo, mode, hi, n):
    return rng.triangular(day(lo), day(mode), day(hi), n).astype(np.int64)


def vaccination(P: Population, persons: np.ndarray, counts: np.ndarray, rng) -> dict:
    p = persons[counts[persons] > 0]
    n = len(p)
    k = counts[p].astype(np.int64)
    birth = P.birth[p].astype(np.int64)
    a_oct = (day("2021-10-20") - birth) / 365.25
    adult = a_oct >= 18
    teen = (a_oct >= 12) & ~adult
    kid = ~adult & ~teen
    u = rng.random(n)
    d1 = np.where(
        u < 0.06,
        rng.integers(CAMPAIGN, day("2021-07-14"), n),
        np.where(
            u < 0.70,
            _tri(rng, "2021-07-15", "2021-08-28", "2021-10-05", n),
            np.where(
                u < 0.90,
                rng.integers(day("2021-10-01"), day("2021-12-31"), n),
                rng.integers(day("2022-01-01"), day("2022-08-31"), n),
            ),
        ),
    )
    d1 = np.where(teen, _tri(rng, "2021-10-20", "2021-11-15", "2022-02-28", n), d1)
    d1 = np.where(kid, _tri(rng, "2022-04-14", "2022-05-20", "2022-11-30", n), d1)
    fifth = birth + int(5 * 365.25)
    d1 = np.where(kid & (d1 < fifth), fifth + rng.integers(0, 60, n), d1)
    # primary product by date and group
    v1 = np.empty(n, dtype=np.int64)
    mixes = [
        (day("2021-06-01"), [0.95, 0.05, 0, 0, 0, 0, 0, 0, 0]),
        (day("2021-08-01"), [0.45, 0.03, 0.25, 0.1, 0.15, 0.02, 0, 0, 0]),
        (day("2021-10-01"), [0.30, 0.03, 0.35, 0.15, 0.10, 0.01, 0.02, 0.04, 0]),
        (day("2030-01-01"), [0.30, 0, 0.15, 0.45, 0.08, 0, 0.01, 0, 0.01]),
    ]
    lo = -(10**9)
    for hi, mix in mixes:
        m = adult & (d1 >= lo) & (d1 < hi)
        v1[m] = sample_idx(rng, np.array(mix, dtype=float), int(m.sum()))
        lo = hi
    v1[~adult] = np.where(rng.random(int((~adult).sum())) < 0.88, V["Pfizer"], V["Moderna"])
    primary = np.where(v1 == V["Janssen"], 1, np.where(v1 == V["Abdala"], 3, 2))
    iv_lo = np.array([56, 21, 21, 21, 28, 0, 14, 21, 28])
    iv_hi = np.array([84, 30, 28, 35, 42, 0, 16, 30, 35])
    dates = np.zeros((n, 4), dtype=np.int64)
    vacc = np.zeros((n, 4), dtype=np.int64)
    dates[:, 0] = d1
    vacc[:, 0] = v1
    for j in range(1, 4):
        prev = dates[:, j - 1]
        in_primary = j < primary
        iv = rng.integers(iv_lo[v1], iv_hi[v1] + 1)
        late = rng.random(n) < 0.12
        iv = iv + np.where(late, rng.exponential(25, n).astype(np.int64), 0)
        first_boost = j == primary
        bgap = 180 + rng.gamma(2.0, 40, n).astype(np.int64)
        b_start = np.where(adult, day("2021-11-20"), day("2022-05-01"))
        boost_date = np.maximum(prev + bgap, b_start + rng.integers(0, 40, n))
        gap2 = 120 + rng.gamma(2.0, 35, n).astype(np.int64)
        boost2 = np.maximum(prev + gap2, day("2022-05-20") + rng.integers(0, 60, n))
        dates[:, j] = np.where(in_primary, prev + iv, np.where(first_boost, boost_date, boost2))
        bv = sample_idx(rng, np.array([0.2, 0, 0, 0.5, 0.3, 0, 0, 0, 0]), n)
        bv = np.where(adult, bv, V["Pfizer"])
        switch = rng.random(n) < 0.03
        same = np.where(switch & (v1 == V["AstraZeneca"]), V["Pfizer"], v1)
        vacc[:, j] = np.where(in_primary, same, bv)
    rows_p = np.repeat(np.arange(n), k)
    dose = np.arange(len(rows_p)) - np.repeat(np.cumsum(k) - k, k)
    rd = dates[rows_p, dose]
    rv = vacc[rows_p, dose]
    limit = np.minimum(VACC_END, P.death[p].astype(np.int64) - 1)
    keep = rd <= limit[rows_p]
    # a first dose given in another province is missing from this extract
    elsewhere = rng.random(n) < 0.03
    keep &= ~((dose == 0) & elsewhere[rows_p])
    persons_r = p[rows_p][keep]
    out = {
        "person": persons_r,
        "dose": dose[keep] + 1,
        "date": rd[keep],
        "vaccine": rv[keep],
    }
    # vaccination site: the ward's health station, the district centre, or a hospital
    nw = len(P.admin.ward_codes)
    nd = len(P.admin.district_names)
    w = P.ward[persons_r].astype(np.int64)
    us = rng.random(len(persons_r))
    site = np.where(
        us < 0.78,
        w,
        np.where(
            us < 0.9, nw + P.admin.ward_district[w], nw + nd + rng.integers(0, 16, len(persons_r))
        ),
    )
    out["site"] = site
    return out


LOT_STYLE = {
    "AstraZeneca": lambda h: f"{'NJABMPCD'[h % 8]}{'JVKX'[(h >> 3) % 4]}{h % 10000:04d}",
    "Sputnik V": lambda h: f"II-{h % 1000000:06d}",
    "Vero Cell": lambda h: f"2021{(h >> 4) % 12 + 1:02d}B{h % 10000:04d}",
    "Pfizer": lambda h: f"F{'FGJKLMN'[h % 7]}{h % 10000:04d}",
    "Moderna": lambda h: f"{h % 1000000:06d}A",
    "Janssen": lambda h: f"XD{h % 1000000:06d}",
    "Abdala": lambda h: f"A{h % 100000:05d}",
    "Hayat-Vax": lambda h: f"2021{h % 100000:05d}",
    "Covaxin": lambda h: f"EX{h % 10000:04d}",
}


# ---------------------------------------------------------------- F0


def f0_episodes(P: Population, persons, counts, covid_death, rng) -> dict:
    p = persons[counts[persons] > 0]
    n = len(p)
    k = counts[p].astype(np.int64)
    u = rng.random(n)
    first = np.where(
        u < 0.002,
        rng.integers(day("2020-03-06"), day("2020-12-31"), n),
        np.where(
            u < 0.10,
            _tri(rng, "2021-05-01", "2021-12-10", "2021-12-31", n),
            np.where(
                u < 0.90,
                _tri(rng, "2022-01-01", "2022-03-10", "2022-05-31", n),
                rng.integers(day("2022-06-01"), F0_END, n),
            ),
        ),
    )
    cd = covid_death[p]
    death = P.death[p].astype(np.int64)
    first = np.where(cd, death - rng.integers(5, 21, n), first)
    birth = P.birth[p].astype(np.int64)
    first = np.maximum(first, birth + 30)
    ep = np.zeros((n, 3), dtype=np.int64)
    ep[:, 0] = first
    for j in range(1, 3):
        ep[:, j] = ep[:, j - 1] + 90 + rng.gamma(2.0, 90, n).astype(np.int64)
    rows_p = np.repeat(np.arange(n), k)
    epi = np.arange(len(rows_p)) - np.repeat(np.cumsum(k) - k, k)
    pos = ep[rows_p, epi]
    keep = (pos <= F0_END) & (pos < death[rows_p])
    rows_p, epi, pos = rows_p[keep], epi[keep], pos[keep]
    m = len(rows_p)
    yr = pos < day("2022-01-01")
    rt = np.where(yr, rng.random(m) < 0.85, rng.random(m) < 0.3)
    hosp = np.where(
        pos < day("2021-01-01"), True, np.where(yr, rng.random(m) < 0.55, rng.random(m) < 0.12)
    )
    rec = pos + np.where(hosp, 10 + rng.gamma(2.0, 3.0, m), 7 + rng.gamma(1.5, 1.5, m)).astype(
        np.int64
    )
    died = death[rows_p] <= rec + 15
    no_rec = (rng.random(m) < 0.07) | died
    rec = np.where(no_rec, NO_DATE, rec)
    fac = np.where(hosp, rng.integers(0, 16, m), -1)
    return {
        "person": p[rows_p],
        "episode": epi + 1,
        "positive": pos,
        "pcr": rt,
        "recovered": rec,
        "facility": fac,
    }


# ---------------------------------------------------------------- BHXH


def _month_start(mi):
    return from_ymd(mi // 12, mi % 12 + 1, 1)


def bhxh_periods(
    P: Population, persons, counts, cat, rng, extract_day: int, n_employers: int
) -> dict:
    p = persons[counts[persons] > 0]
    n = len(p)
    k = counts[p].astype(np.int64)
    c = cat[p]
    by, bm, _ = ymd(P.birth[p])
    ey, em, _ = ymd(np.array([extract_day]))
    e_mi = int(ey[0] * 12 + em[0] - 1)
    birth_mi = by * 12 + bm - 1
    # career: start at 18-26, not before 1995
    s_mi = np.maximum(
        birth_mi + 12 * 18 + (rng.gamma(2.0, 2.2, n) * 12).astype(np.int64), 1995 * 12
    )
    retire_mi = birth_mi + np.where(P.sex[p] == 0, 60 * 12, 55 * 12) + rng.integers(0, 30, n)
    active = rng.random(n) < 0.78
    end_mi = np.where(
        active,
        e_mi + 1,
        s_mi + 12 + (rng.random(n) * np.maximum(e_mi - s_mi - 12, 1)).astype(np.int64),
    )
    end_mi = np.minimum(end_mi, np.where(retire_mi > s_mi + 12, retire_mi, end_mi))
    active &= end_mi > e_mi
    # yearly cards (household, pupils): the last k calendar years up to this year
    yearly = c != 1
    cur_y = int(ey[0])
    s_mi = np.where(yearly, (cur_y - k + 1) * 12, s_mi)
    end_mi = np.where(yearly, (cur_y + 1) * 12, end_mi)
    span = np.maximum(end_mi - s_mi, 1)
    k = np.where(yearly, k, np.minimum(k, span))
    rows_p = np.repeat(np.arange(n), k)
    j = np.arange(len(rows_p)) - np.repeat(np.cumsum(k) - k, k)
    # breakpoints: cumulative exponential shares of the span (at least one month each)
    L = rng.exponential(1.0, len(rows_p))
    cs = np.cumsum(L)
    tot_end = np.repeat(np.cumsum(k), k) - 1
    first_row = np.repeat(np.cumsum(k) - k, k)
    before = np.where(
        j == 0,
        0.0,
        cs[np.maximum(np.arange(len(rows_p)) - 1, 0)]
        - np.where(first_row > 0, cs[np.maximum(first_row - 1, 0)], 0.0),
    )
    total = cs[tot_end] - np.where(first_row > 0, cs[np.maximum(first_row - 1, 0)], 0.0)
    frac = before / total
    sp = span[rows_p]
    start_off = np.floor(frac * sp).astype(np.int64)
    # strictly increasing within a person, and room for the periods after it
    big = np.int64(1) << np.int64(32)
    acc = (
        np.maximum.accumulate(start_off - j + rows_p.astype(np.int64) * big)
        - rows_p.astype(np.int64) * big
    )
    start_off = np.minimum(acc + j, sp - k[rows_p] + j)
    start_off = np.where(yearly[rows_p], j * 12, start_off)
    start = s_mi[rows_p] + start_off
    nxt = np.concatenate([start[1:], [0]])
    last = j == k[rows_p] - 1
    end_excl = np.where(last, end_mi[rows_p], nxt)
    # gaps between jobs: the next start slips 1-6 months (career only)
    gap = (~yearly[rows_p]) & (j > 0) & (rng.random(len(rows_p)) < 0.15)
    slip = rng.integers(1, 7, len(rows_p))
    start = np.where(gap & (start + slip < end_excl), start + slip, start)
    start_d = _month_start(start)
    end_d = _month_start(end_excl) - 1
    open_end = last & active[rows_p] & ~yearly[rows_p]
    # death: nothing starts after it; the running period ends at the end of that month
    death = P.death[p][rows_p].astype(np.int64)
    keep = start_d <= death
    dy, dm, _ = ymd(np.minimum(death, day("2040-01-01")))
    death_month_end = from_ymd(dy + (dm == 12), dm % 12 + 1, 1) - 1
    cut = (death < NO_DATE) & (end_d > death) | ((death < NO_DATE) & open_end)
    end_d = np.where(cut, death_month_end, end_d)
    open_end &= ~cut
    # employers: change at most boundaries; big employers get many people (Zipf-like)
    change = (j == 0) | (rng.random(len(rows_p)) < 0.65)
    epoch = np.cumsum(change)
    zipf = (n_employers * rng.random(len(rows_p)) ** 2.2).astype(np.int64)
    emp_of_epoch = zipf  # one draw per row, then propagate within the epoch
    first_in_epoch = np.nonzero(change)[0]
    emp = emp_of_epoch[first_in_epoch][epoch - 1]
    ptype = np.where(c[rows_p] == 2, 2, np.where(c[rows_p] == 3, 3, 0))
    vol = (c[rows_p] == 1) & last & ~active[rows_p] & (rng.random(len(rows_p)) < 0.3)
    ptype = np.where(vol, 1, ptype)
    sl = keep
    return {
        "person": p[rows_p][sl],
        "period": j[sl] + 1,
        "start": start_d[sl],
        "end": end_d[sl],
        "open": open_end[sl],
        "employer": emp[sl],
        "ptype": ptype[sl],
    }
