"""Register rules: the population register snapshot on its own (stage ``register``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from expectations.rules.base import (
    Batch,
    after,
    as_bool,
    both_to_the_day,
    not_flagged,
    rule,
    written_as_standard,
)

_ADMIN_MISMATCH = ("district:mismatch", "ward:mismatch")

not_flagged(
    {
        # the ward lies in the district, the district in the province
        "admin_codes_consistent": _ADMIN_MISMATCH,
        "updated_at_readable": ("updated_at:unparseable", "updated_at:impossible"),
    }
)


@rule("person_id_structure_valid")
def _person_id_structure(b: Batch) -> np.ndarray:
    """12 digits (not a placeholder), a birth-province prefix, and a century digit and year
    that give a birth year not after the run date. Empty IDs are another rule's."""
    given = as_bool(b.col("raw_person_id").notna())
    cccd = as_bool(b.col("id_kind").eq("cccd"))
    prefix = as_bool(b.col("id_province_code").notna())
    born = as_bool(b.col("id_birth_year").astype("Int64").le(b.run_date.year))
    return ~given | (cccd & prefix & born)


@rule("person_id_written_in_standard_form")
def _person_id_standard(b: Batch) -> np.ndarray:
    return written_as_standard(b, "person_id", "id_number:leading_zero")


@rule("cmnd_valid")
def _cmnd_valid(b: Batch) -> np.ndarray:
    """An old ID card number, when given, is 9 digits (8 with its leading zero lost)."""
    return as_bool(b.col("raw_cmnd").isna()) | as_bool(b.col("cmnd").notna())


@rule("sex_is_nam_or_nu")
def _sex_nam_nu(b: Batch) -> np.ndarray:
    """The register records Nam or Nữ; an empty value is another rule's."""
    return as_bool(b.col("raw_sex").isna()) | as_bool(b.col("sex").isin(["M", "F"]))


@rule("admin_codes_valid")
def _admin_codes_valid(b: Batch) -> np.ndarray:
    """Each level has a code of the scheme. A level emptied because it does not sit in its
    parent (``:mismatch``, whose children are emptied too) is the consistency rule's."""
    unknown = b.has_flag(
        "address:missing",
        *(f"{level}:{status}" for level in ("province", "district", "ward")
          for status in ("unknown", "not_in_scheme")),
    )  # fmt: skip
    return ~unknown | b.has_flag(*_ADMIN_MISMATCH)


@rule("death_not_before_birth")
def _death_after_birth(b: Batch) -> np.ndarray:
    """By date when both are known to the day, else by year."""
    death, birth = b.col("death_date"), b.col("birth_date")
    both_days = both_to_the_day(b, "death_date", "birth_date")
    return ~np.where(both_days, after(birth, death), as_bool(birth.dt.year > death.dt.year))


@rule("updated_at_not_after_run_date")
def _updated_not_future(b: Batch) -> np.ndarray:
    """Compared by day: an update during the run date is not in the future."""
    return ~after(b.col("updated_at").dt.normalize(), b.run_date)


@rule("full_name_is_nfc")
def _full_name_nfc(b: Batch) -> np.ndarray:
    """The name as written is Unicode NFC (checked on the distinct names)."""
    text = b.col("raw_full_name").astype("string")
    uniques = pa.array(text.dropna().unique(), type=pa.string())
    differs = pc.not_equal(pc.utf8_normalize(uniques, "NFC"), uniques)
    not_nfc = uniques.filter(differs).to_pylist()
    return ~as_bool(text.isin(not_nfc))
