"""GSO admin units, ID prefixes and vaccines, read from popsync's *public* reference tables
(popsync/reference/*.csv) as plain CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
REF = REPO / "popsync" / "reference"


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(REF / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Admin:
    province_code: str
    province_name: str  # "Thành phố Hà Nội"
    district_codes: np.ndarray  # per district
    district_names: list[str]
    district_urban: np.ndarray  # bool: quận / thị xã / thành phố
    ward_codes: list[str]
    ward_names: list[str]
    ward_type: list[str]  # phường / xã / thị trấn
    ward_district: np.ndarray  # index into district arrays
    ward_weight: np.ndarray  # population weight (sums to 1)
    ward_new_name: list[str]  # 2025 ward (approximation, see README)
    prov_names_2008: dict[str, str]
    prov_names_2025: dict[str, str]
    all_wards_by_prov: dict[str, list[tuple[str, str, str]]]  # other provinces (visitors)


def load_admin(province: str, rng: np.random.Generator) -> Admin:
    rows = _read_csv("admin_units_2008.csv")
    new = _read_csv("admin_units_2025.csv")
    provs = {r["code"]: r["name"] for r in rows if r["level"] == "province"}
    provs25 = {r["code"]: r["name"] for r in new if r["level"] == "province"}
    if province not in provs:
        raise SystemExit(f"unknown province code {province}")
    dists = [r for r in rows if r["level"] == "district" and r["parent_code"] == province]
    dcode = [d["code"] for d in dists]
    dpos = {c: i for i, c in enumerate(dcode)}
    wards = [r for r in rows if r["level"] == "ward" and r["parent_code"] in dpos]
    urban = np.array([d["division_type"] in ("quận", "thị xã", "thành phố") for d in dists])
    wdist = np.array([dpos[w["parent_code"]] for w in wards])
    wtype = [w["division_type"] for w in wards]
    # Population weight: urban wards are denser; lognormal spread within a type.
    base = np.where(
        np.array([t == "phường" for t in wtype]), 2.6, np.where(np.array(wtype) == "xã", 1.0, 1.6)
    )
    weight = base * rng.lognormal(0.0, 0.45, len(wards))
    weight /= weight.sum()
    # 2025 units: the new ward whose (reused) code is the nearest lower code in the same
    # old district; an approximation, there is no crosswalk in the public table.
    new_codes = {r["code"]: r["name"] for r in new if r["level"] == "ward"}
    last_in_district: dict[int, str] = {}
    order = sorted(range(len(wards)), key=lambda i: wards[i]["code"])
    first_new: dict[int, str] = {}
    for i in order:
        if wards[i]["code"] in new_codes:
            first_new.setdefault(int(wdist[i]), new_codes[wards[i]["code"]])
    tmp = {}
    for i in order:
        d = int(wdist[i])
        if wards[i]["code"] in new_codes:
            last_in_district[d] = new_codes[wards[i]["code"]]
        tmp[i] = last_in_district.get(d) or first_new.get(d) or wards[i]["name"]
    new_names = [tmp[i] for i in range(len(wards))]
    # other provinces' wards (for visitors' home addresses)
    other: dict[str, list[tuple[str, str, str]]] = {}
    dname = {r["code"]: (r["name"], r["parent_code"]) for r in rows if r["level"] == "district"}
    for r in rows:
        if r["level"] == "ward":
            dn, pc = dname[r["parent_code"]]
            if pc != province:
                lst = other.setdefault(pc, [])
                if len(lst) < 60:
                    lst.append((r["name"], dn, provs[pc]))
    return Admin(
        province_code=province,
        province_name=provs[province],
        district_codes=np.array(dcode),
        district_names=[d["name"] for d in dists],
        district_urban=urban,
        ward_codes=[w["code"] for w in wards],
        ward_names=[w["name"] for w in wards],
        ward_type=wtype,
        ward_district=wdist,
        ward_weight=weight,
        ward_new_name=new_names,
        prov_names_2008=provs,
        prov_names_2025=provs25,
        all_wards_by_prov=other,
    )


def load_prefixes() -> dict[str, str]:
    """GSO province code -> 3-digit ID prefix."""
    return {r["gso_province_code"]: r["prefix"] for r in _read_csv("id_province_prefixes.csv")}


def load_vaccine_aliases() -> dict[str, list[str]]:
    """Vaccine product -> the aliases the table lists for it."""
    return {r["vaccine"]: r["aliases"].split("|") for r in _read_csv("vaccines.csv")}
