"""The catalogue of injected noise and violation kinds (docs/DESIGN.md, "Injected noise and
violation kinds"): kind -> default rate, the sources it applies to, what it does.

A rate is the expected share of a source's rows that get the kind. Rows are drawn among the
rows where the kind can apply (e.g. ``id_cmnd`` needs a person with a CMND, ``event_after_death``
a deceased person), so a kind with few eligible rows can fall short of its rate; the
manifest records the counts actually injected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from popsync.core.errors import UserError

EXTRACTS = ("tiem_chung", "f0", "bhxh")  # the extracts this generator writes

EVENTS = ("tiem_chung", "f0")


@dataclass(frozen=True)
class Kind:
    name: str
    rate: float
    sources: tuple[str, ...]
    description: str


KINDS: tuple[Kind, ...] = (
    # ID problems: ~12.5% of rows in total, at most one per row.
    Kind("id_missing", 0.030, EXTRACTS, "ID left empty"),
    Kind("id_cmnd", 0.030, EXTRACTS, "the person's 9-digit CMND instead of the CCCD"),
    Kind("id_typo_digit", 0.015, EXTRACTS, "one digit substituted"),
    Kind("id_typo_swap", 0.010, EXTRACTS, "two adjacent (different) digits swapped"),
    Kind("id_leading_zero_lost", 0.015, EXTRACTS, "leading zero dropped (11 digits)"),
    Kind(
        "id_borrowed", 0.015, EVENTS, "a household member's ID, mostly a parent's on a child's row"
    ),
    Kind("id_wrong", 0.005, EXTRACTS, "a random other valid-looking 12-digit ID"),
    Kind("name_twin", 0.0002, EVENTS, "a twin's row with the co-twin's given name (own ID)"),
    Kind("id_placeholder", 0.005, EXTRACTS, "000000000000, 111111111111, 123456789012, ..."),
    # Name problems: ~12% of rows; the four text-form kinds exclude each other.
    Kind("name_no_diacritics", 0.040, EXTRACTS, "diacritics stripped (đ -> d)"),
    Kind("name_nfd", 0.020, EXTRACTS, "NFD text"),
    Kind("name_upper", 0.020, EXTRACTS, "upper case"),
    Kind("name_typo", 0.010, EXTRACTS, "one letter inserted, deleted or replaced"),
    Kind("name_middle_dropped", 0.010, EXTRACTS, "middle name left out"),
    Kind("name_order_swapped", 0.005, EXTRACTS, "given name first"),
    Kind("name_tone_placement", 0.005, EXTRACTS, "old/new tone-mark placement swapped (hòa/hoà)"),
    Kind("name_tcvn3", 0.005, EXTRACTS, "TCVN3 bytes read as Windows-1252"),
    Kind("name_vni", 0.005, EXTRACTS, "VNI bytes read as Windows-1252"),
    # Birth date and sex: at most one birth kind and one sex kind per row.
    Kind("birth_year_only", 0.010, EXTRACTS, "yyyy only"),
    Kind("birth_day_month_swapped", 0.007, EXTRACTS, "day and month swapped (day <= 12)"),
    Kind("birth_placeholder", 0.007, EXTRACTS, "01/01/yyyy"),
    Kind("sex_missing", 0.010, EXTRACTS, "sex empty"),
    Kind("sex_wrong", 0.005, EXTRACTS, "the other sex"),
    # Address and phone formatting.
    Kind("address_abbreviated", 0.080, EXTRACTS, "P., Q., H., X., TP., HN abbreviations"),
    Kind("address_no_diacritics", 0.030, EXTRACTS, "address without diacritics"),
    Kind("phone_format", 0.060, EVENTS, "+84, 84, spaces, dots"),
    Kind("phone_old_prefix", 0.010, EVENTS, "11-digit pre-2018 mobile prefix"),
    # Quality violations: ~0.5-1% each; the date kinds exclude each other.
    Kind("duplicate_row", 0.005, EVENTS, "a second row with the same content and a new record id"),
    Kind("date_before_campaign", 0.005, ("tiem_chung",), "a first dose before 2021-03-08"),
    Kind("date_future", 0.005, EXTRACTS, "event date after the extract date"),
    Kind("dose_number_invalid", 0.005, ("tiem_chung",), "dose 0 or 5+"),
    Kind("vaccine_unknown", 0.005, ("tiem_chung",), "product not in the approved list"),
    Kind("dose_interval_short", 0.007, ("tiem_chung",), "a dose 5-12 days after the previous one"),
    Kind("event_after_death", 0.005, EXTRACTS, "dose / case / period dated after the death"),
    Kind("recovery_before_positive", 0.007, ("f0",), "recovered before the positive test"),
    Kind("bhxh_period_reversed", 0.007, ("bhxh",), "period end before start"),
    Kind("bhxh_number_invalid", 0.007, ("bhxh",), "BHXH number not 10 digits"),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}

# Injected values that are noise, not domain facts.
PLACEHOLDER_IDS = ("000000000000", "111111111111", "123456789012", "999999999999", "012345678901")
UNKNOWN_VACCINES = ("Nanocovax", "Covivac", "CoronaVac", "Sinovac", "Novavax", "Vắc xin khác")


def effective_rates(noise_scale: float = 1.0, noise_config: str | Path | None = None) -> dict:
    """Rate of every kind after the YAML overrides (``kind: rate``) and the scale (capped at 1)."""
    rates = {kind.name: kind.rate for kind in KINDS}
    if noise_config is not None:
        with open(noise_config, encoding="utf-8") as handle:
            overrides = yaml.safe_load(handle) or {}
        if not isinstance(overrides, dict):
            raise UserError(f"{noise_config}: expected a mapping 'kind: rate'")
        for name, rate in overrides.items():
            if name not in rates:
                raise UserError(f"{noise_config}: unknown noise kind {name!r}")
            if not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise UserError(f"{noise_config}: rate of {name} must be a number in [0, 1]")
            rates[name] = float(rate)
    return {name: min(1.0, rate * noise_scale) for name, rate in rates.items()}
