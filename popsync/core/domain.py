"""The one loader of the domain reference data in ``popsync/reference/``.

Every fact here is data with its source recorded in ``reference/SOURCES.yaml``;
code asks this module and never opens those files itself.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Any

import yaml

ADMIN_SCHEMES = ("2008", "2025")


def _open(name: str):
    return resources.files("popsync.reference").joinpath(name).open(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    with _open(name) as handle:
        return list(csv.DictReader(handle))


@cache
def facts() -> dict[str, Any]:
    """Scalar facts by name (value only; each entry of ``domain_facts.yaml`` also names its
    source)."""
    with _open("domain_facts.yaml") as handle:
        raw = yaml.safe_load(handle)
    return {name: entry["value"] for name, entry in raw.items()}


@cache
def admin_units(scheme: str = "2008") -> tuple[dict[str, str], ...]:
    """Rows of the administrative reference for a scheme: level, code, name, division_type, parent_code."""
    if scheme not in ADMIN_SCHEMES:
        raise ValueError(f"unknown administrative scheme {scheme!r}; known: {ADMIN_SCHEMES}")
    return tuple(_rows(f"admin_units_{scheme}.csv"))


@cache
def id_province_prefixes() -> dict[str, str]:
    """12-digit ID prefix (``001``) -> province name."""
    return {row["prefix"]: row["name"] for row in _rows("id_province_prefixes.csv")}


@cache
def id_century_sex() -> dict[str, tuple[int, str]]:
    """4th ID digit -> (first year of the century, sex ``M``/``F``)."""
    return {
        row["digit"]: (int(row["century_start"]), row["sex"]) for row in _rows("id_century_sex.csv")
    }


@cache
def vaccines() -> tuple[dict[str, str], ...]:
    return tuple(_rows("vaccines.csv"))


@cache
def family_names() -> tuple[dict[str, str], ...]:
    """family_name, share_percent (sums to 100), regional_variant_of, share_source."""
    return tuple(_rows("family_names.csv"))


@cache
def cmnd_police_codes() -> tuple[dict[str, Any], ...]:
    """Leading 2 digits of a 9-digit CMND (issuing provincial police): code, issuing_police,
    id_prefixes (tuple of 12-digit ID prefixes the police covered), verified (yes|partly|no),
    note."""
    return tuple(
        {**row, "id_prefixes": tuple(row["id_prefixes"].split("|"))}
        for row in _rows("cmnd_police_codes.csv")
    )


@cache
def given_names() -> tuple[dict[str, str], ...]:
    """Middle and given names by sex with sampling weights: part, sex, name, weight."""
    return tuple(_rows("given_names.csv"))


@cache
def mobile_prefixes() -> dict[str, str]:
    """10-digit mobile prefix (``091``) -> carrier."""
    return {row["prefix"]: row["carrier"] for row in _rows("mobile_prefixes.csv")}


@cache
def health_facilities() -> tuple[dict[str, str], ...]:
    """Hà Nội health facilities: name, used_for (vaccination|treatment|both)."""
    return tuple(_rows("health_facilities.csv"))


@cache
def street_names() -> tuple[str, ...]:
    return tuple(row["name"] for row in _rows("street_names.csv"))


@cache
def employer_name_parts() -> dict[str, tuple[str, ...]]:
    """Parts of synthetic employer names by part (form, trade, brand)."""
    parts: dict[str, list[str]] = {}
    for row in _rows("employer_name_parts.csv"):
        parts.setdefault(row["part"], []).append(row["value"])
    return {part: tuple(values) for part, values in parts.items()}


@cache
def admin_aliases() -> tuple[dict[str, str], ...]:
    """Alternative names (abbreviations, former names, merged units) of administrative units."""
    return tuple(_rows("admin_aliases.csv"))


@cache
def status_rules() -> dict[str, Any]:
    """The rules of each person's status by name (value only; each entry of
    ``status_rules.yaml`` also names its source and whether it was verified)."""
    with _open("status_rules.yaml") as handle:
        raw = yaml.safe_load(handle)
    return {name: entry["value"] for name, entry in raw.items()}


@cache
def vaccine_mixing() -> tuple[dict[str, str], ...]:
    """Which product may follow which: series, dose (primary|booster), product, source,
    verified (``*`` any series, ``=`` the series' own product)."""
    return tuple(_rows("vaccine_mixing.csv"))
