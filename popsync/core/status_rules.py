"""The status rules as arrays (``rules()``): each product's schedule (``vaccines.csv``), which
product may follow which (``vaccine_mixing.csv``, primary series and boosters) and the intervals
and thresholds of ``status_rules.yaml``, read through ``popsync.core.domain`` with their
sources."""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from functools import cache

import numpy as np

from popsync.core import domain


@dataclass(frozen=True)
class Rules:
    """The rules as arrays: products in ``vaccines.csv`` order, matrices [series, product]."""

    products: tuple[str, ...]
    primary_doses: np.ndarray
    min_interval: np.ndarray
    primary_ok: np.ndarray
    booster_ok: np.ndarray
    additional_min: int
    max_additional: int
    booster_min: np.ndarray
    reinfection_days: int
    continuity_days: int


@cache
def rules() -> Rules:
    vaccines = domain.vaccines()
    products = tuple(row["vaccine"] for row in vaccines)
    n = len(products)
    position = {name: i for i, name in enumerate(products)}
    primary_ok, booster_ok = np.eye(n, dtype=bool), np.zeros((n, n), dtype=bool)
    for row in domain.vaccine_mixing():
        series = range(n) if row["series"] == "*" else [position[row["series"]]]
        for s in series:
            target = s if row["product"] == "=" else position[row["product"]]
            (primary_ok if row["dose"] == "primary" else booster_ok)[s, target] = True
    facts = domain.status_rules()
    boosters = sorted(facts["boosters"], key=lambda b: b["booster"])
    return Rules(
        products=products,
        primary_doses=np.array([int(row["primary_doses"]) for row in vaccines]),
        min_interval=np.array([int(row["min_interval_days"] or 0) for row in vaccines]),
        primary_ok=primary_ok,
        booster_ok=booster_ok,
        additional_min=int(facts["additional_dose"]["min_days"]),
        max_additional=int(facts["additional_dose"]["max_doses"]),
        booster_min=np.array([int(b["min_days"]) for b in boosters], dtype=np.int64),
        reinfection_days=int(facts["f0_reinfection_min_days"]),
        continuity_days=int(facts["insurance_continuity_days"]),
    )


def rules_digest() -> str:
    """The sha256 of the rules' values (not of the files: a source or a comment edited does not
    count): a refresh under rules whose digest differs from the last refresh's recomputes
    everyone (``Warehouse.refresh_status``)."""
    digest = hashlib.sha256()
    for value in astuple(rules()):
        digest.update(
            np.asarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode()
        )
        digest.update(b"\0")
    return digest.hexdigest()
