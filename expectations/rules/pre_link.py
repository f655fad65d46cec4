"""Pre-link rules: a standardized row on its own (the register's suite uses several of them too).

Rules whose inputs differ by source take them from the source's declaration: the event date
(``event_date``) and what makes two rows one record (``duplicate_keys``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.rules.base import (
    Batch,
    after,
    as_bool,
    given_is_valid,
    has_diacritics,
    not_flagged,
    rule,
    written_as_standard,
)
from popsync.core import domain

not_flagged(
    {
        "row_readable": ("row:parse_error",),
        "full_name_valid": ("full_name:invalid",),
        "birth_date_complete": ("birth_date:year_only",),
        "birth_date_not_placeholder": ("birth_date:placeholder",),
        "sex_valid": ("sex:invalid",),
        "id_not_placeholder": ("id_number:placeholder",),
        "id_structure_valid": ("id_number:invalid", "id_number:province_invalid"),
        "phone_valid": ("phone:invalid",),
        "address_units_known": ("province:unknown", "district:unknown", "ward:unknown"),
        "test_type_known": ("test_type:unknown",),
    }
)


@rule("full_name_written_in_standard_form")
def _full_name_standard(b: Batch) -> np.ndarray:
    return written_as_standard(b, "full_name")


@rule("full_name_has_diacritics")
def _full_name_diacritics(b: Batch) -> np.ndarray:
    return has_diacritics(b.col("full_name"))


@rule("birth_date_plausible")
def _birth_plausible(b: Batch) -> np.ndarray:
    first_year = min(start for start, _ in domain.id_century_sex().values())
    birth = b.col("birth_date")
    return ~(after(birth, b.run_date) | as_bool(birth.dt.year < first_year))


@rule("id_century_digit_matches_sex_and_birth_year")
def _id_century(b: Batch) -> np.ndarray:
    """Recomputed from the derived ID columns, and the standardizer's flags honoured too."""
    cccd = as_bool(b.col("id_kind").eq("cccd"))
    sex_differs = as_bool(b.col("id_sex").ne(b.col("sex")))
    year_differs = as_bool(b.col("id_birth_year").astype("Int64").ne(b.col("birth_year")))
    flagged = b.has_flag("id_number:sex_mismatch", "id_number:year_mismatch")
    return ~((cccd & (sex_differs | year_differs)) | flagged)


@rule("id_written_in_standard_form")
def _id_standard(b: Batch) -> np.ndarray:
    return written_as_standard(b, "id_number", "id_number:leading_zero")


@rule("phone_written_in_standard_form")
def _phone_standard(b: Batch) -> np.ndarray:
    return written_as_standard(b, "phone")


@rule("address_has_diacritics")
def _address_diacritics(b: Batch) -> np.ndarray:
    return has_diacritics(b.col("raw_address"))


@rule("address_without_abbreviations")
def _address_abbreviations(b: Batch) -> np.ndarray:
    """The pattern is the suite's (``params: {regex: ...}``), matched on distinct addresses."""
    text = b.col("raw_address").astype("string")
    uniques = pd.Series(text.dropna().unique(), dtype="string")
    abbreviated = uniques[
        as_bool(uniques.str.contains(b.params["address_without_abbreviations"]["regex"]))
    ]
    return ~as_bool(text.isin(abbreviated))


@rule("event_not_before_birth")
def _event_not_before_birth(b: Batch) -> np.ndarray:
    return ~after(b.col("birth_date"), b.col(b.spec.event_date))


@rule("vaccination_on_or_after_campaign_start")
def _after_campaign_start(b: Batch) -> np.ndarray:
    start = pd.Timestamp(domain.facts()["vaccination_campaign_start"])
    return ~as_bool(b.col("vaccination_date") < start)


@rule("dose_number_in_approved_range")
def _dose_number(b: Batch) -> np.ndarray:
    dose = b.col("dose_number").astype("Int64")
    in_range = as_bool(dose.between(1, int(domain.facts()["max_dose_number"])))
    return given_is_valid(b, "dose_number", in_range, "dose_number:invalid")


@rule("vaccine_in_approved_list")
def _vaccine(b: Batch) -> np.ndarray:
    approved = [row["vaccine"] for row in domain.vaccines()]
    known = as_bool(b.col("vaccine").isin(approved))
    return given_is_valid(b, "vaccine", known, "vaccine:unknown")


@rule("bhxh_number_valid")
def _bhxh_number(b: Batch) -> np.ndarray:
    pattern = domain.facts()["bhxh_number_pattern"]
    valid = as_bool(b.col("bhxh_number").astype("string").str.fullmatch(pattern))
    return given_is_valid(b, "bhxh_number", valid, "bhxh_number:invalid")


@rule("bhxh_number_written_in_standard_form")
def _bhxh_standard(b: Batch) -> np.ndarray:
    return written_as_standard(b, "bhxh_number")


# With the source's declared ``duplicate_keys`` (the event): what makes two rows one record.
PERSON_KEYS = ("name_key", "birth_date", "sex", "id_number")


def _duplicated(b: Batch, keep: str | bool) -> np.ndarray:
    keys = [k for k in (*PERSON_KEYS, *b.spec.duplicate_keys) if k in b.std.columns]
    return b.std.duplicated(subset=keys, keep=keep).to_numpy(dtype=bool)


@rule("row_not_duplicated")
def _not_duplicated(b: Batch) -> np.ndarray:
    """Every row of a group but the first one in file order is a duplicate."""
    return ~_duplicated(b, keep="first")


@rule("row_has_no_copy")
def _has_no_copy(b: Batch) -> np.ndarray:
    """The first row of a group too: which copy is the original cannot be told."""
    return ~_duplicated(b, keep=False)
