"""Synthetic people: households, names, birth dates, IDs, addresses, phones, deaths.

Everything is drawn column-wise with numpy; Python loops only run over small tables (names,
wards, households' sizes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from popsync.core import domain
from popsync.generate.common import SNAPSHOT_DATE, day, pick, year_month_day, zfill

HANOI = "01"
HOUSEHOLD_SIZES = np.arange(1, 8)
HOUSEHOLD_SIZE_WEIGHTS = np.array([0.08, 0.18, 0.20, 0.28, 0.14, 0.07, 0.05])  # mean ~3.6
MALE_BIRTH_SHARE = 111.4 / 211.4  # sex ratio at birth 111.4 (domain.md)
TWIN_BIRTH_SHARE = 0.015
MOTHER_AGE_GAP = (18, 42)  # mother's age at a child's birth, years (tuned, see HEAD_AGES)
# CMND police codes: share of residents born elsewhere who kept the CMND of their birth province
# (the rest got a Hà Nội number after moving), and share of people whose CMND came from a police
# other than that of their birth province (ours; unverified).
CMND_KEPT_FROM_BIRTH_PROVINCE = 0.6
CMND_ISSUED_ELSEWHERE = 0.05
ROLE_HEAD, ROLE_SPOUSE, ROLE_GRANDPARENT, ROLE_CHILD = 0, 1, 2, 3


def _age_weights(bands: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray]:
    ages = np.concatenate([np.arange(lo, hi + 1) for lo, hi, _ in bands])
    weights = np.concatenate([np.full(hi - lo + 1, w) for lo, hi, w in bands])
    return ages, weights


# Tuned (with MOTHER_AGE_GAP) so that the people alive at the snapshot, by their age on that
# day, land near the 2024 pyramid (23.3 / 67.4 / 9.3 %; domain.md): on 3 x 100k residents
# 23.34 / 67.37 / 9.29. The dead (mostly old) are still in the register, so all rows have more 65+.
HEAD_AGES = _age_weights([(24, 34, 1.0), (35, 54, 1.25), (55, 69, 0.82), (70, 88, 0.30)])
SINGLE_AGES = _age_weights([(18, 30, 1.1), (31, 64, 0.55), (65, 95, 0.75)])


@dataclass(frozen=True)
class Names:
    family: np.ndarray  # object arrays of the name tables
    family_weights: np.ndarray
    middle: dict[int, np.ndarray]  # by sex 0 = M, 1 = F
    middle_weights: dict[int, np.ndarray]
    given: dict[int, np.ndarray]
    given_weights: dict[int, np.ndarray]


@cache
def names() -> Names:
    family = domain.family_names()
    parts: dict[tuple[str, int], list[tuple[str, float]]] = {}
    for row in domain.given_names():
        parts.setdefault((row["part"], 0 if row["sex"] == "M" else 1), []).append(
            (row["name"], float(row["weight"]))
        )

    def table(part: str, sex: int) -> tuple[np.ndarray, np.ndarray]:
        values, weights = zip(*parts[(part, sex)], strict=True)
        return np.array(values, dtype=object), np.array(weights)

    middle = {sex: table("middle", sex) for sex in (0, 1)}
    given = {sex: table("given", sex) for sex in (0, 1)}
    return Names(
        family=np.array([row["family_name"] for row in family], dtype=object),
        family_weights=np.array([float(row["share_percent"]) for row in family]),
        middle={sex: middle[sex][0] for sex in (0, 1)},
        middle_weights={sex: middle[sex][1] for sex in (0, 1)},
        given={sex: given[sex][0] for sex in (0, 1)},
        given_weights={sex: given[sex][1] for sex in (0, 1)},
    )


@cache
def wards() -> pd.DataFrame:
    """Every 2008-scheme ward with its district and province: codes and names."""
    units = pd.DataFrame(domain.admin_units("2008"))
    ward = units[units["level"] == "ward"]
    district = units[units["level"] == "district"].set_index("code")
    province = units[units["level"] == "province"].set_index("code")
    out = pd.DataFrame(
        {
            "ward_code": ward["code"].to_numpy(),
            "ward_name": ward["name"].to_numpy(),
            "district_code": ward["parent_code"].to_numpy(),
        }
    )
    out["district_name"] = district["name"].reindex(out["district_code"]).to_numpy()
    out["district_type"] = district["division_type"].reindex(out["district_code"]).to_numpy()
    out["province_code"] = district["parent_code"].reindex(out["district_code"]).to_numpy()
    out["province_name"] = province["name"].reindex(out["province_code"]).to_numpy()
    return out.astype("str")


def _century_sex_digit() -> dict[tuple[int, int], int]:
    return {
        (start, 0 if sex == "M" else 1): int(digit)
        for digit, (start, sex) in domain.id_century_sex().items()
    }


def _ages(rng: np.random.Generator, table: tuple[np.ndarray, np.ndarray], size: int) -> np.ndarray:
    ages, weights = table
    return ages[pick(rng, weights, size)]


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Household sizes summing to exactly ``n`` and each person's household number."""
    estimate = int(n / 3.0) + 10
    sizes = HOUSEHOLD_SIZES[pick(rng, HOUSEHOLD_SIZE_WEIGHTS, estimate)]
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= ends[count - 1] - n
    return sizes, np.repeat(np.arange(count), sizes)


def build_people(
    rng: np.random.Generator, n: int, resident: bool, first_pid: int = 0
) -> pd.DataFrame:
    """``n`` people in households. Residents live in Hà Nội (most born there); non-residents
    (visitors: not in the register) live and were registered in another province."""
    sizes, hh = _households(rng, n)
    n_hh = sizes.size
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n) - starts[hh]

    kind = np.where(
        sizes == 1, 0, np.where(rng.random(n_hh) < 0.82, 1, 2)
    )  # single/couple/lone parent
    has_grandparent = (kind == 1) & (sizes >= 5) & (rng.random(n_hh) < 0.5)
    head_sex = np.where(
        kind == 1, 0, np.where(kind == 2, (rng.random(n_hh) < 0.7), rng.random(n_hh) < 0.5)
    )
    head_age = np.where(kind == 0, _ages(rng, SINGLE_AGES, n_hh), _ages(rng, HEAD_AGES, n_hh))
    spouse_age = np.maximum(20, head_age - rng.integers(0, 6, n_hh))
    mother_age = np.where(kind == 1, spouse_age, head_age)

    role = np.full(n, ROLE_CHILD)
    role[pos == 0] = ROLE_HEAD
    couple = kind[hh] == 1
    role[couple & (pos == 1)] = ROLE_SPOUSE
    role[has_grandparent[hh] & (pos == 2)] = ROLE_GRANDPARENT

    sex = np.where(rng.random(n) < MALE_BIRTH_SHARE, 0, 1)
    sex[role == ROLE_HEAD] = head_sex[hh[role == ROLE_HEAD]]
    sex[role == ROLE_SPOUSE] = 1 - head_sex[hh[role == ROLE_SPOUSE]]
    sex[role == ROLE_GRANDPARENT] = 1

    age = np.zeros(n, dtype=np.int64)
    age[role == ROLE_HEAD] = head_age[hh[role == ROLE_HEAD]]
    age[role == ROLE_SPOUSE] = spouse_age[hh[role == ROLE_SPOUSE]]
    gp = role == ROLE_GRANDPARENT
    age[gp] = np.minimum(100, head_age[hh[gp]] + rng.integers(20, 33, gp.sum()))
    child = role == ROLE_CHILD
    m_age = mother_age[hh[child]]
    c_age = m_age - rng.integers(MOTHER_AGE_GAP[0], MOTHER_AGE_GAP[1] + 1, child.sum())
    young = c_age < 0
    c_age[young] = rng.integers(0, np.maximum(m_age[young] - 17, 1))
    age[child] = c_age

    ref = day(SNAPSHOT_DATE)
    birth = ref - (age * 365.2425).astype(np.int64) - rng.integers(0, 365, n)

    # Twins: the first two children of a household born the same day.
    n_children = np.bincount(hh[child], minlength=n_hh)
    eligible = np.flatnonzero(n_children >= 2)
    n_twins = min(eligible.size, int(round(TWIN_BIRTH_SHARE / 2 * child.sum())))
    twin_hh = np.sort(rng.choice(eligible, n_twins, replace=False))
    twin_a = starts[twin_hh] + 1 + (kind[twin_hh] == 1) + has_grandparent[twin_hh]
    twin_b = twin_a + 1
    birth[twin_b] = birth[twin_a]
    age[twin_b] = age[twin_a]

    # Family names: children take the father's (the head's; a lone mother's own), spouses and
    # grandmothers keep their own.
    table = names()
    head_index = starts[hh]
    fam = pick(rng, table.family_weights, n)
    fam[child] = fam[head_index[child]]
    family = table.family[fam]
    middle = np.empty(n, dtype=object)
    giv = np.zeros(n, dtype=np.int64)
    for s in (0, 1):
        of_sex = sex == s
        middle[of_sex] = table.middle[s][pick(rng, table.middle_weights[s], int(of_sex.sum()))]
        giv[of_sex] = pick(rng, table.given_weights[s], int(of_sex.sum()))
    clash = twin_b[(sex[twin_a] == sex[twin_b]) & (giv[twin_a] == giv[twin_b])]
    sizes_by_sex = np.array([table.given[0].size, table.given[1].size])
    giv[clash] = (giv[clash] + 1) % sizes_by_sex[sex[clash]]
    given = np.where(
        sex == 0,
        table.given[0][np.minimum(giv, sizes_by_sex[0] - 1)],
        table.given[1][np.minimum(giv, sizes_by_sex[1] - 1)],
    )

    # Residence: one ward per household.
    all_wards = wards()
    if resident:
        pool = all_wards[all_wards["province_code"] == HANOI].reset_index(drop=True)
    else:
        pool = all_wards[all_wards["province_code"] != HANOI].reset_index(drop=True)
    hh_ward = rng.integers(0, len(pool), n_hh)
    place = pool.iloc[hh_ward[hh]].reset_index(drop=True)

    # Province of birth registration (ID prefix).
    prefixes = domain.id_province_prefixes()
    gso_to_prefix = {p[1:]: p for p in prefixes}
    others = np.array([p for p in prefixes if p != "0" + HANOI], dtype=object)
    if resident:
        born_elsewhere = rng.random(n) < np.where(age >= 18, 0.22, 0.04)
        prefix = np.where(born_elsewhere, others[rng.integers(0, others.size, n)], "0" + HANOI)
    else:
        prefix = place["province_code"].map(gso_to_prefix).to_numpy(dtype=object)

    years, _, _ = year_month_day(birth)
    digit_of = _century_sex_digit()
    century = (years // 100) * 100
    g = np.zeros(n, dtype=np.int64)
    for (start, s), digit in digit_of.items():
        g[(century == start) & (sex == s)] = digit
    prefix_num = pd.Series(prefix).astype(int).to_numpy()
    stem = prefix_num * 1_000_000_000 + g * 100_000_000 + (years % 100) * 1_000_000
    serial = rng.integers(0, 1_000_000, n)
    while True:
        ids = stem + serial
        _, first = np.unique(ids, return_index=True)
        repeated = np.setdiff1d(np.arange(n), first)
        if repeated.size == 0:
            break
        serial[repeated] = rng.integers(0, 1_000_000, repeated.size)
    id_str = zfill(ids, 12)

    cmnd = _cmnds(rng, prefix, years, resident)

    # Phones: most people aged 15+; children are reached through a parent.
    mobile = np.array(sorted(domain.mobile_prefixes()), dtype=object)
    has_phone = (age >= 15) & (rng.random(n) < 0.93)
    phone = pd.Series(mobile[rng.integers(0, mobile.size, n)]) + zfill(
        rng.integers(0, 10_000_000, n), 7
    )
    phone = phone.where(has_phone, "")

    address = _addresses(rng, pool.iloc[hh_ward].reset_index(drop=True))[hh].reset_index(drop=True)

    # Deaths in 2020-2022, mostly among the old.
    p_death = np.where(age >= 65, 0.15, np.where(age >= 45, 0.015, 0.002))
    dead = rng.random(n) < p_death
    death = np.where(dead, rng.integers(day("2020-01-01"), day(SNAPSHOT_DATE), n), -1)
    death = np.where(dead & (death <= birth), birth + 1, death)

    # Borrowed IDs come from the head (or, for the head, the next member).
    other = np.where(pos == 0, np.where(sizes[hh] > 1, np.arange(n) + 1, -1), head_index)
    twin = np.full(n, -1)
    twin[twin_a], twin[twin_b] = twin_b, twin_a

    frame = pd.DataFrame(
        {
            "pid": np.arange(first_pid, first_pid + n),
            "hh": hh,
            "role": role,
            "sex": sex,
            "age": age,
            "birth": birth,
            "year_only": resident & (years < 1940) & (rng.random(n) < 0.05),
            "death": death,
            "family": pd.Series(family, dtype="str"),
            "middle": pd.Series(middle, dtype="str"),
            "given": pd.Series(given, dtype="str"),
            "id": id_str,
            "cmnd": cmnd,
            "phone": phone,
            "address": address,
            "resident": resident,
            "household_other": np.where(other >= 0, other + first_pid, -1),
            "twin": np.where(twin >= 0, twin + first_pid, -1),
            "head": head_index + first_pid,
        }
    )
    frame["full_name"] = frame["family"] + " " + frame["middle"] + " " + frame["given"]
    for column in (
        "ward_code",
        "ward_name",
        "district_code",
        "district_name",
        "province_code",
        "province_name",
    ):
        frame[column] = place[column].to_numpy()
    return frame


@cache
def _cmnd_codes() -> tuple[dict[str, int], np.ndarray]:
    """12-digit ID prefix -> CMND police code, and every code (ints)."""
    rows = domain.cmnd_police_codes()
    of_prefix = {prefix: int(row["code"]) for row in rows for prefix in row["id_prefixes"]}
    return of_prefix, np.array(sorted({int(row["code"]) for row in rows}))


def _cmnds(
    rng: np.random.Generator, prefix: np.ndarray, years: np.ndarray, resident: bool
) -> pd.Series:
    """Old 9-digit CMND (``PP`` police code + 7 digits) for most people born before 2004, else
    empty. The police code (domain.md) is mostly that of the province of birth registration (the
    ID prefix); residents born elsewhere often got a new Hà Nội number after moving, and a few
    born in Hà Nội got theirs in another province. A few numbers are shared by two people, as
    happened (domain.md: a CMND is a candidate key, never a unique one)."""
    n = prefix.size
    cmnd = pd.Series([""] * n, dtype="str")
    holders = np.flatnonzero((years <= 2003) & (rng.random(n) < 0.8))
    if holders.size == 0:
        return cmnd
    of_prefix, codes = _cmnd_codes()
    hanoi = of_prefix["0" + HANOI]
    own = pd.Series(prefix[holders]).map(of_prefix).to_numpy(dtype=np.int64)
    elsewhere = codes[codes != hanoi]
    other = elsewhere[rng.integers(0, elsewhere.size, holders.size)]
    u = rng.random(holders.size)
    if resident:
        born_hanoi = own == hanoi
        code = np.where(
            born_hanoi,
            np.where(u < CMND_ISSUED_ELSEWHERE, other, hanoi),
            np.where(u < CMND_KEPT_FROM_BIRTH_PROVINCE, own, hanoi),
        )
    else:
        code = np.where(u < CMND_ISSUED_ELSEWHERE, other, own)
    stem = code * 10_000_000
    serial = rng.integers(0, 10_000_000, holders.size)
    while True:
        numbers = stem + serial
        _, first = np.unique(numbers, return_index=True)
        repeated = np.setdiff1d(np.arange(holders.size), first)
        if repeated.size == 0:
            break
        serial[repeated] = rng.integers(0, 10_000_000, repeated.size)
    n_dup = max(1, holders.size // 500) if holders.size > 1 else 0
    dup = rng.choice(holders.size, 2 * n_dup, replace=False)
    numbers[dup[:n_dup]] = numbers[dup[n_dup:]]
    cmnd.iloc[holders] = zfill(numbers, 9).to_numpy()
    return cmnd


def _addresses(rng: np.random.Generator, place: pd.DataFrame) -> pd.Series:
    """One permanent address per household: house, lane, street in urban districts, village
    in rural ones, then ward, district, province."""
    n = len(place)
    streets = np.array(domain.street_names(), dtype=object)
    street = pd.Series(streets[rng.integers(0, streets.size, n)], dtype="str")
    kind = pd.Series(np.where(rng.random(n) < 0.6, "phố ", "đường "), dtype="str")
    house = "Số " + pd.Series(rng.integers(1, 300, n)).astype("str")
    lane = pd.Series(np.where(rng.random(n) < 0.6, "ngõ ", ""), dtype="str")
    lane_no = pd.Series(rng.integers(1, 400, n)).astype("str")
    lane = (lane + lane_no + " ").where(lane != "", "")
    urban = house + " " + lane + kind + street
    rural = "Thôn " + pd.Series(rng.integers(1, 15, n)).astype("str")
    is_urban = place["district_type"].isin(["quận", "thị xã", "thành phố"]).to_numpy()
    first = urban.where(is_urban, rural)
    return (
        first
        + ", "
        + place["ward_name"]
        + ", "
        + place["district_name"]
        + ", "
        + place["province_name"]
    )
