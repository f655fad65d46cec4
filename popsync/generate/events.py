"""The true events behind the extracts: vaccination doses, F0 episodes, BHXH periods.

Each function returns one row per event with the person (``pid``) and dates as day numbers;
the extract text is made later (``extracts.py``) and then noised (``noise.py``).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from popsync.core import domain
from popsync.generate.common import MISSING, day, month_start, pick, unique_ints, zfill

LAST_EVENT = day("2022-12-31")
MONTH_2021_03 = (2021 - 1970) * 12 + 2
MONTH_2021_07 = (2021 - 1970) * 12 + 6
MONTH_2010_01 = (2010 - 1970) * 12

# Share of primary courses by product for adults from July 2021 (before: AstraZeneca only).
PRIMARY_SHARES = {
    "AstraZeneca": 36,
    "Vero Cell": 30,
    "Pfizer": 20,
    "Moderna": 10,
    "Sputnik V": 1.5,
    "Abdala": 1,
    "Hayat-Vax": 0.5,
    "Janssen": 0.8,
    "Covaxin": 0.2,
}
BOOSTER_SHARES = {"Pfizer": 50, "Moderna": 30, "AstraZeneca": 20}
CHILD_SHARES = {"Pfizer": 82, "Moderna": 18}
# First doses of adults by month, March 2021 to June 2022.
FIRST_DOSE_MONTHS = [0.5, 0.5, 1, 2, 6, 18, 22, 18, 10, 5, 3, 2, 1, 0.5, 0.5, 0.3]
# First F0 episodes by month, July 2021 to December 2022 (the 2022 Omicron wave).
F0_MONTHS = [1, 2, 2, 1, 2, 4, 10, 25, 30, 12, 3, 2, 1, 1, 1, 1, 1, 1]
LOT_PREFIXES = {
    "AstraZeneca": ("ABV", "NJ", "A"),
    "Sputnik V": ("I",),
    "Vero Cell": ("2021",),
    "Pfizer": ("FF", "FG", "FK"),
    "Moderna": ("300",),
    "Janssen": ("XD",),
    "Abdala": ("AB",),
    "Hayat-Vax": ("HV",),
    "Covaxin": ("EC",),
}


@cache
def vaccine_table() -> pd.DataFrame:
    table = pd.DataFrame(domain.vaccines())
    table["primary_doses"] = table["primary_doses"].astype(int)
    table["min_days"] = pd.to_numeric(table["min_interval_days"]).fillna(0).astype(int)
    table["span_days"] = (pd.to_numeric(table["max_interval_days"]) - table["min_days"]).fillna(14)
    table["span_days"] = table["span_days"].astype(int)
    return table


def _product_codes(shares: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    names = list(vaccine_table()["vaccine"])
    return np.array([names.index(name) for name in shares]), np.array(list(shares.values()))


def _draw_products(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    codes, weights = _product_codes(shares)
    return codes[pick(rng, weights, size)]


def _months(
    rng: np.random.Generator, first_month: int, weights: list[float], size: int
) -> np.ndarray:
    months = first_month + pick(rng, weights, size)
    return month_start(months) + rng.integers(0, 28, size)


def vaccinations(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """Doses: adults from March 2021, 12-17 year-olds from October 2021, children 5-11 in 2022;
    primary course by product schedule, boosters 6+ months later; nothing after a death."""
    table = vaccine_table()
    n = len(people)
    birth = people["birth"].to_numpy()
    death = people["death"].to_numpy()
    dates = np.full((n, 4), MISSING, dtype=np.int64)
    products = np.full((n, 4), -1, dtype=np.int64)
    primary = table["primary_doses"].to_numpy()
    min_days, span = table["min_days"].to_numpy(), table["span_days"].to_numpy()
    u = rng.random(n)
    adult = (birth <= day("2003-07-01")) & (u < 0.93)
    teen = (birth > day("2003-07-01")) & (birth <= day("2009-12-31")) & (u < 0.92)
    child = (birth > day("2009-12-31")) & (birth <= day("2017-06-30")) & (u < 0.6)

    groups = (
        (adult, _months(rng, MONTH_2021_03, FIRST_DOSE_MONTHS, n), PRIMARY_SHARES, 0.75, 0.35),
        (teen, rng.integers(day("2021-10-15"), day("2022-02-28"), n), CHILD_SHARES, 0.45, 0.0),
        (child, rng.integers(day("2022-04-14"), day("2022-11-30"), n), CHILD_SHARES, 0.0, 0.0),
    )
    for members, first, shares, p_booster, p_second in groups:
        idx = np.flatnonzero(members)
        d1 = np.maximum(first[idx], day("2021-03-08"))
        prod = _draw_products(rng, shares, idx.size)
        if shares is PRIMARY_SHARES:
            prod[d1 < month_start(MONTH_2021_07)] = _product_codes({"AstraZeneca": 1})[0][0]
        dates[idx, 0], products[idx, :] = d1, prod[:, None]
        count = np.ones(idx.size, dtype=np.int64)
        for k in (1, 2):
            more = (primary[prod] > k) & (count == k) & (rng.random(idx.size) < 0.96)
            gap = min_days[prod] + (rng.random(idx.size) * (span[prod] + 1)).astype(np.int64)
            dates[idx[more], k] = dates[idx[more], k - 1] + gap[more]
            count += more
        complete = count == primary[prod]
        for p_dose, low, high in ((p_booster, 180, 330), (p_second, 120, 240)):
            take = complete & (count < 4) & (rng.random(idx.size) < p_dose)
            last = dates[idx, :][np.arange(idx.size), count - 1]
            rows = idx[take]
            dates[rows, count[take]] = last[take] + rng.integers(low, high, take.sum())
            products[rows, count[take]] = _draw_products(rng, BOOSTER_SHARES, take.sum())
            count += take
            complete &= take

    alive = (death[:, None] < 0) | (dates < death[:, None])
    valid = np.logical_and.accumulate((dates != MISSING) & (dates <= LAST_EVENT) & alive, axis=1)
    pid_idx, dose_idx = np.nonzero(valid)
    return pd.DataFrame(
        {
            "pid": pid_idx,
            "dose": dose_idx + 1,
            "product": products[pid_idx, dose_idx],
            "date": dates[pid_idx, dose_idx],
        }
    )


def vaccine_texts(rng: np.random.Generator, product: np.ndarray) -> pd.Series:
    """Product as typed: mostly the canonical name, else one of its aliases (vaccines.csv)."""
    out = np.empty(product.size, dtype=object)
    for code, row in vaccine_table().iterrows():
        rows = np.flatnonzero(product == code)
        aliases = np.array(row["aliases"].split("|"), dtype=object)
        choice = aliases[rng.integers(0, aliases.size, rows.size)]
        out[rows] = np.where(rng.random(rows.size) < 0.75, row["vaccine"], choice)
    return pd.Series(out, dtype="str")


def lot_numbers(rng: np.random.Generator, product: np.ndarray) -> pd.Series:
    """Lot numbers from a pool of 40 per product (many doses share a lot)."""
    out = np.empty(product.size, dtype=object)
    for code, name in enumerate(vaccine_table()["vaccine"]):
        prefixes = LOT_PREFIXES.get(name, ("L",))
        pool = np.array(
            [
                prefixes[i % len(prefixes)] + f"{n:04d}"
                for i, n in enumerate(rng.integers(0, 10_000, 40))
            ],
            dtype=object,
        )
        rows = np.flatnonzero(product == code)
        out[rows] = pool[rng.integers(0, pool.size, rows.size)]
    return pd.Series(out, dtype="str")


def f0_cases(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """F0 episodes: a fifth of people, mostly in the 2022 wave, some twice; recovery 7-14 days
    after the positive test (unknown for some); nothing before the birth or after the death."""
    n = len(people)
    death = people["death"].to_numpy()
    birth = people["birth"].to_numpy()
    infected = np.flatnonzero(rng.random(n) < 0.2)
    first = _months(rng, MONTH_2021_07, F0_MONTHS, infected.size)
    again = rng.random(infected.size) < 0.06
    second = first[again] + rng.integers(90, 300, again.sum())
    pid = np.concatenate([infected, infected[again]])
    positive = np.concatenate([first, second])
    keep = (
        (positive <= LAST_EVENT)
        & (positive > birth[pid])
        & ((death[pid] < 0) | (positive < death[pid]))
    )
    pid, positive = pid[keep], positive[keep]
    order = np.lexsort((positive, pid))
    pid, positive = pid[order], positive[order]
    recovery = positive + rng.integers(7, 15, pid.size)
    recovery[rng.random(pid.size) < 0.1] = MISSING
    facilities = np.array(
        [f["name"] for f in domain.health_facilities() if f["used_for"] in ("treatment", "both")],
        dtype=object,
    )
    place = np.where(
        rng.random(pid.size) < 0.88,
        "Tại nhà",
        facilities[rng.integers(0, facilities.size, pid.size)],
    )
    test = np.where(rng.random(pid.size) < 0.3, "RT-PCR", "Test nhanh kháng nguyên")
    return pd.DataFrame(
        {
            "pid": pid,
            "positive": positive,
            "recovery": recovery,
            "test_type": pd.Series(test, dtype="str"),
            "treatment_place": pd.Series(place, dtype="str"),
        }
    )


def bhxh_periods(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """Participation periods of working-age people: 1-3 periods from 2010 on, by month; the
    last one may still be open (empty end); nothing starts after a death."""
    birth = people["birth"].to_numpy()
    death = people["death"].to_numpy()
    working = (birth <= day("2004-06-01")) & (birth > day("1960-06-01"))
    working &= (death < 0) | (death > day("2015-01-01"))
    idx = np.flatnonzero(working & (rng.random(len(people)) < 0.45))
    number = zfill(unique_ints(rng, 100_000_000, 200_000_000, idx.size), 10)
    birth_month = birth[idx].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    earliest = np.maximum(MONTH_2010_01, birth_month + 18 * 12)
    last_start = (2022 - 1970) * 12 + 5
    start = earliest + (rng.random(idx.size) * np.maximum(last_start - earliest, 1)).astype(
        np.int64
    )
    n_periods = 1 + pick(rng, [0.5, 0.3, 0.2], idx.size)
    death_month = np.where(
        death[idx] < 0,
        10**6,
        death[idx].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64),
    )
    end_cap = (2022 - 1970) * 12 + 11
    rows = []
    for k in range(3):
        end = start + rng.integers(6, 61, idx.size) - 1
        keep = (k < n_periods) & (start <= end_cap) & (start <= death_month)
        end = np.minimum(end, death_month)
        is_last = (k == n_periods - 1) | (end + 1 > end_cap)
        open_end = (
            keep
            & (death_month > end_cap)
            & ((end >= end_cap) | (is_last & (rng.random(idx.size) < 0.5)))
        )
        end_day = np.where(open_end, MISSING, month_start(end + 1) - 1)
        rows.append(
            pd.DataFrame(
                {
                    "person": np.flatnonzero(keep),
                    "start": month_start(start)[keep],
                    "end": end_day[keep],
                }
            )
        )
        start = end + 1 + rng.integers(0, 13, idx.size)
        n_periods = np.where(open_end, k + 1, n_periods)
    periods = pd.concat(rows, ignore_index=True).sort_values(["person", "start"], kind="stable")
    periods = periods.reset_index(drop=True)
    people_idx = periods["person"].to_numpy()
    m = len(periods)
    parts = domain.employer_name_parts()
    n_employers = max(50, idx.size // 20)
    form, trade, brand = (np.array(parts[p], dtype=object) for p in ("form", "trade", "brand"))
    employer_names = pd.Series(
        form[rng.integers(0, form.size, n_employers)]
        + " "
        + trade[rng.integers(0, trade.size, n_employers)]
        + " "
        + brand[rng.integers(0, brand.size, n_employers)],
        dtype="str",
    )
    employer_codes = "TA" + zfill(unique_ints(rng, 1000, 100_000, n_employers), 5)
    employer = rng.integers(0, n_employers, m)
    kind = np.array(["Bắt buộc", "Tự nguyện", "Hộ gia đình"], dtype=object)[
        pick(rng, [82, 13, 5], m)
    ]
    compulsory = kind == "Bắt buộc"
    return pd.DataFrame(
        {
            "pid": idx[people_idx],
            "bhxh_number": number.iloc[people_idx].to_numpy(),
            "start": periods["start"].to_numpy(),
            "end": periods["end"].to_numpy(),
            "employer_code": employer_codes.iloc[employer].where(compulsory, "").to_numpy(),
            "employer_name": employer_names.iloc[employer].where(compulsory, "").to_numpy(),
            "participant_type": pd.Series(kind, dtype="str"),
        }
    )
