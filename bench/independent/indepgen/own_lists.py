"""Our own reference lists (names, streets, facilities, employers, phone prefixes ...), read
from bench/independent/data/. They are made up or common knowledge, not official facts; the
leading # lines of each file say what it holds."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of a data file as dicts, after its leading # comment lines."""
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


def _names(name: str) -> list[str]:
    return [next(iter(r.values())) for r in read_table(name)]


def _by_cohort(name: str) -> list[tuple[str, float, float]]:
    """(name, weight for people born around 1950, weight for people born around 2010)."""
    return [
        (r["name"], float(r["weight_born_1950"]), float(r["weight_born_2010"]))
        for r in read_table(name)
    ]


# ---------------------------------------------------------------- names
FAMILY = [(r["name"], float(r["share_percent"])) for r in read_table("family_names.csv")]
GIVEN_M = _by_cohort("given_names_male.csv")
GIVEN_F = _by_cohort("given_names_female.csv")
MIDDLE_M = _by_cohort("middle_names_male.csv")
MIDDLE_F = _by_cohort("middle_names_female.csv")
MIDDLE2_M = _names("second_middle_names_male.csv")
MIDDLE2_F = _names("second_middle_names_female.csv")

# ---------------------------------------------------------------- places
STREETS_HN = _names("streets_hanoi.csv")
STREETS_GENERIC = _names("streets_generic.csv")
VILLAGES = _names("villages.csv")
APARTMENTS = _names("apartments.csv")
HOSPITALS = _names("hospitals.csv")
F0_FACILITIES = _names("f0_facilities.csv")
# district code -> the province it belonged to until 2008 (Hà Tây; Mê Linh: Vĩnh Phúc)
FORMER_PROVINCE = {
    r["district_code"]: r["former_province"]
    for r in read_table("districts_merged_into_hanoi_2008.csv")
}

# ---------------------------------------------------------------- employers
EMPLOYER_FORMS = [(r["form"], float(r["weight"])) for r in read_table("employer_forms.csv")]
EMPLOYER_TRADES = _names("employer_trades.csv")
EMPLOYER_BRANDS = _names("employer_brands.csv")
PUBLIC_EMPLOYERS = _names("public_employers.csv")  # templates: {W} ward, {w} without its type

# ---------------------------------------------------------------- phones, migrants, vaccines
# (prefix, weight, the old 11-digit prefix it replaced in 2018 or None)
MOBILE_PREFIXES = [
    (r["prefix"], float(r["weight"]), r["old_prefix"] or None)
    for r in read_table("mobile_prefixes.csv")
]
# provinces of birth of migrants (GSO code, weight), seen from Hà Nội
MIGRANT_ORIGINS = [
    (r["gso_province_code"], float(r["weight"])) for r in read_table("migrant_origins.csv")
]
VACCINE_EXTRA_SPELLINGS: dict[str, list[str]] = {}
for _row in read_table("vaccine_spellings.csv"):
    VACCINE_EXTRA_SPELLINGS.setdefault(_row["vaccine"], []).append(_row["spelling"])
