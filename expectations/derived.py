"""Domain rules as boolean columns (pandas/numpy only): True = the row keeps the rule or the rule
does not apply to it. A GX expectation from ``expectations.gx_rules`` then checks each column.

Computing the rule here and letting GX check a boolean is ~20x cheaper than a datetime or
row-wise GX expectation on a million rows (see ``bench/validate.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core import domain
from popsync.core.sources import SourceSpec, load_catalog, spec_of

# Every date field the standardizer parses (``birth_date`` for every source, then each source's).
DATE_FIELDS = frozenset(f for spec in load_catalog().values() for f in spec.date_fields)
_NON_ASCII = r"[^\x00-\x7f]"


@dataclass
class Batch:
    """What the rules look at: the standardized rows (positional index) and, after linking, the
    decision and the linked register person of each row (register columns prefixed ``reg_``)."""

    std: pd.DataFrame
    source: str | SourceSpec
    run_date: pd.Timestamp
    linked: pd.DataFrame | None = None
    register_age_days: int | None = None
    params: dict[str, dict] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    @cached_property
    def spec(self) -> SourceSpec:
        return spec_of(self.source)

    def col(self, name: str) -> pd.Series:
        """A column of the linked frame (decision, ``reg_*``), else of the standardized rows."""
        if self.linked is not None and name in self.linked.columns:
            return self.linked[name]
        if name in self.std.columns:
            return self.std[name]
        return pd.Series(pd.NA, index=self.std.index, dtype="object")

    @cached_property
    def flag_rows(self) -> dict[str, np.ndarray]:
        """Flag code -> positions of the rows carrying it (flags are few: parse them once)."""
        flags = self.col("flags").fillna("").astype("string")
        positions = np.flatnonzero(flags.ne("").to_numpy(dtype=bool))
        if not len(positions):
            return {}
        codes = flags.iloc[positions].set_axis(positions).str.split(";").explode()
        return {code: rows.index.to_numpy() for code, rows in codes.groupby(codes, sort=False)}

    def has_flag(self, *codes: str) -> np.ndarray:
        out = np.zeros(len(self.std), dtype=bool)
        for code in codes:
            out[self.flag_rows.get(code, [])] = True
        return out

    def matched(self) -> np.ndarray:
        return self.col("decision").eq("match").fillna(False).to_numpy(dtype=bool)


def _bool(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.fillna(False).to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    """True unless both are given and differ."""
    differ = a.astype("string").ne(b.astype("string")).fillna(False)
    return ~_bool(differ)


def _has_diacritics(values: pd.Series) -> np.ndarray:
    """True for empty values or values with at least one non-ASCII letter."""
    text = values.astype("string")
    return _bool(text.isna() | text.str.contains(_NON_ASCII, regex=True))


def _after(a: pd.Series, b) -> np.ndarray:
    """a > b where both are known (NaT compares False)."""
    return _bool(a > b)


def _written_as_standard(b: Batch, field: str, *repairs: str) -> np.ndarray:
    """``raw_<field>`` was already the standardized value, and none of ``repairs`` was needed."""
    return _same_text(b.col(f"raw_{field}"), b.col(field)) & ~b.has_flag(*repairs)


def _given_is_valid(b: Batch, field: str, valid: np.ndarray, flag: str) -> np.ndarray:
    """A given ``raw_<field>`` is ``valid`` and not flagged; an empty one is another rule's."""
    given = _bool(b.col(f"raw_{field}").notna())
    return ~((given & ~valid) | b.has_flag(flag))


def _both_to_the_day(b: Batch, a: str, c: str) -> np.ndarray:
    """Dates ``a`` and ``c`` both known to the day (``<date>_precision`` is ``day``)."""
    return _bool(b.col(f"{a}_precision").eq("day") & b.col(f"{c}_precision").eq("day"))


def _all_but(b: Batch, positions) -> np.ndarray:
    """True for every row but those at ``positions``."""
    out = np.ones(len(b.std), dtype=bool)
    out[positions] = False
    return out


# Rules by derived column name; ``<date>_readable`` and ``<date>_not_after_run_date`` are
# resolved by pattern for every date field.
RULES: dict[str, Callable[[Batch], np.ndarray]] = {}


def rule(name: str):
    def register(fn):
        RULES[name] = fn
        return fn

    return register


def is_rule(name: str) -> bool:
    return _resolve(name) is not None


def compute(batch: Batch, name: str) -> np.ndarray:
    """The boolean column ``name`` for ``batch`` (cached per batch)."""
    if name not in batch._cache:
        fn = _resolve(name)
        if fn is None:
            raise KeyError(f"no derived rule column named {name!r}")
        batch._cache[name] = fn(batch)
    return batch._cache[name]


def _resolve(name: str) -> Callable[[Batch], np.ndarray] | None:
    if name in RULES:
        return RULES[name]
    match = re.fullmatch(r"(?P<f>[a-z_]+)_(?P<kind>readable|not_after_run_date)", name)
    if match and match["f"] in DATE_FIELDS:
        date = match["f"]
        if match["kind"] == "readable":
            return lambda b: ~b.has_flag(f"{date}:unparseable", f"{date}:impossible")
        return lambda b: ~_after(b.col(date), b.run_date)
    return None


_ADMIN_MISMATCH = ("district:mismatch", "ward:mismatch")

# Rules the standardizer already decided: the row carries none of these flag codes.
NOT_FLAGGED = {
    # pre-link: the row on its own
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
    # register: the ward lies in the district, the district in the province
    "admin_codes_consistent": _ADMIN_MISMATCH,
    "updated_at_readable": ("updated_at:unparseable", "updated_at:impossible"),
}
for _name, _codes in NOT_FLAGGED.items():
    RULES[_name] = lambda b, codes=_codes: ~b.has_flag(*codes)

# ---------------------------------------------------------------- pre-link: the row on its own


@rule("full_name_written_in_standard_form")
def _full_name_standard(b: Batch) -> np.ndarray:
    return _written_as_standard(b, "full_name")


@rule("full_name_has_diacritics")
def _full_name_diacritics(b: Batch) -> np.ndarray:
    return _has_diacritics(b.col("full_name"))


@rule("birth_date_plausible")
def _birth_plausible(b: Batch) -> np.ndarray:
    first_year = min(start for start, _ in domain.id_century_sex().values())
    birth = b.col("birth_date")
    return ~(_after(birth, b.run_date) | _bool(birth.dt.year < first_year))


@rule("id_century_digit_matches_sex_and_birth_year")
def _id_century(b: Batch) -> np.ndarray:
    """Recomputed from the derived ID columns, and the standardizer's flags honoured too."""
    cccd = _bool(b.col("id_kind").eq("cccd"))
    sex_differs = _bool(b.col("id_sex").ne(b.col("sex")))
    year_differs = _bool(b.col("id_birth_year").astype("Int64").ne(b.col("birth_year")))
    flagged = b.has_flag("id_number:sex_mismatch", "id_number:year_mismatch")
    return ~((cccd & (sex_differs | year_differs)) | flagged)


@rule("id_written_in_standard_form")
def _id_standard(b: Batch) -> np.ndarray:
    return _written_as_standard(b, "id_number", "id_number:leading_zero")


@rule("phone_written_in_standard_form")
def _phone_standard(b: Batch) -> np.ndarray:
    return _written_as_standard(b, "phone")


@rule("address_has_diacritics")
def _address_diacritics(b: Batch) -> np.ndarray:
    return _has_diacritics(b.col("raw_address"))


@rule("address_without_abbreviations")
def _address_abbreviations(b: Batch) -> np.ndarray:
    """The pattern is the suite's (``params: {regex: ...}``), matched on distinct addresses."""
    text = b.col("raw_address").astype("string")
    uniques = pd.Series(text.dropna().unique(), dtype="string")
    abbreviated = uniques[
        _bool(uniques.str.contains(b.params["address_without_abbreviations"]["regex"]))
    ]
    return ~_bool(text.isin(abbreviated))


@rule("event_not_before_birth")
def _event_not_before_birth(b: Batch) -> np.ndarray:
    return ~_after(b.col("birth_date"), b.col(b.spec.event_date))


@rule("vaccination_on_or_after_campaign_start")
def _after_campaign_start(b: Batch) -> np.ndarray:
    start = pd.Timestamp(domain.facts()["vaccination_campaign_start"])
    return ~_bool(b.col("vaccination_date") < start)


@rule("dose_number_in_approved_range")
def _dose_number(b: Batch) -> np.ndarray:
    dose = b.col("dose_number").astype("Int64")
    in_range = _bool(dose.between(1, int(domain.facts()["max_dose_number"])))
    return _given_is_valid(b, "dose_number", in_range, "dose_number:invalid")


@rule("vaccine_in_approved_list")
def _vaccine(b: Batch) -> np.ndarray:
    approved = [row["vaccine"] for row in domain.vaccines()]
    known = _bool(b.col("vaccine").isin(approved))
    return _given_is_valid(b, "vaccine", known, "vaccine:unknown")


@rule("recovery_on_or_after_positive_test")
def _recovery(b: Batch) -> np.ndarray:
    return ~_after(b.col("positive_date"), b.col("recovery_date"))


@rule("bhxh_number_valid")
def _bhxh_number(b: Batch) -> np.ndarray:
    pattern = domain.facts()["bhxh_number_pattern"]
    valid = _bool(b.col("bhxh_number").astype("string").str.fullmatch(pattern))
    return _given_is_valid(b, "bhxh_number", valid, "bhxh_number:invalid")


@rule("bhxh_number_written_in_standard_form")
def _bhxh_standard(b: Batch) -> np.ndarray:
    return _written_as_standard(b, "bhxh_number")


@rule("period_end_on_or_after_start")
def _period_order(b: Batch) -> np.ndarray:
    return ~_after(b.col("period_start"), b.col("period_end"))


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


# ------------------------------------------------- post-link: against the register and the person


def _agrees_with_register(b: Batch, field: str) -> np.ndarray:
    """Unlinked rows, or ``field`` equal to the linked person's (when both are given)."""
    return ~b.matched() | _same_text(b.col(field), b.col(f"reg_{field}"))


@rule("record_linked")
def _record_linked(b: Batch) -> np.ndarray:
    return b.matched()


@rule("declared_id_belongs_to_linked_person")
def _declared_id(b: Batch) -> np.ndarray:
    number, kind = b.col("id_number"), b.col("id_kind")
    own_cccd = _bool(number.eq(b.col("so_dinh_danh")))
    own_cmnd = _bool(number.eq(b.col("reg_cmnd")))
    declared = _bool(kind.isin(["cccd", "cmnd"]))
    return ~(b.matched() & declared & ~(own_cccd | own_cmnd))


@rule("name_agrees_with_register")
def _name_agrees(b: Batch) -> np.ndarray:
    return _agrees_with_register(b, "full_name")


@rule("birth_date_agrees_with_register")
def _birth_agrees(b: Batch) -> np.ndarray:
    """Day precision on both sides: the date; otherwise the year."""
    mine, theirs = b.col("birth_date"), b.col("reg_birth_date")
    both_days = _both_to_the_day(b, "birth_date", "reg_birth_date")
    date_differs = _bool(mine.ne(theirs) & mine.notna() & theirs.notna())
    year_differs = _bool(mine.dt.year.ne(theirs.dt.year) & mine.notna() & theirs.notna())
    return ~(b.matched() & np.where(both_days, date_differs, year_differs))


@rule("sex_agrees_with_register")
def _sex_agrees(b: Batch) -> np.ndarray:
    return _agrees_with_register(b, "sex")


@rule("no_event_after_death")
def _no_event_after_death(b: Batch) -> np.ndarray:
    death = b.col("reg_death_date")
    after = np.zeros(len(b.std), dtype=bool)
    for date in b.spec.fields_of("date"):
        if date in b.std.columns:
            after |= _after(b.col(date), death)
    return ~(b.matched() & after)


def _previous_dose(b: Batch) -> pd.DataFrame:
    """For each matched dose, the person's previous dose by date (then dose number)."""
    if "previous_dose" in b._cache:
        return b._cache["previous_dose"]
    doses = pd.DataFrame(
        {
            "person": b.col("so_dinh_danh").astype("string"),
            "date": b.col("vaccination_date"),
            "dose": b.col("dose_number").astype("Int64"),
            "vaccine": b.col("vaccine").astype("string"),
        }
    )
    doses = doses[b.matched() & doses["date"].notna().to_numpy()]
    doses = doses.sort_values(["person", "date", "dose"], kind="stable")
    same_person = doses["person"].eq(doses["person"].shift()).fillna(False)
    previous = doses.shift().where(same_person)
    previous.columns = [f"prev_{c}" for c in previous.columns]
    out = pd.concat([doses, previous], axis=1)
    b._cache["previous_dose"] = out
    return out


def _minimum_interval_days(previous: pd.DataFrame) -> pd.Series:
    """Minimum days after the previous dose: the product's primary-course interval while the
    primary course is not complete, else the additional-dose minimum."""
    schedule = {row["vaccine"]: row for row in domain.vaccines()}
    primary = previous["prev_vaccine"].map(
        {v: int(r["primary_doses"]) for v, r in schedule.items()}
    )
    interval = previous["prev_vaccine"].map(
        {v: float(r["min_interval_days"] or "nan") for v, r in schedule.items()}
    )
    in_primary = _bool(previous["prev_dose"].astype("Float64") < primary.astype("Float64"))
    additional = float(domain.facts()["additional_dose_min_days"])
    return pd.Series(np.where(in_primary, interval, additional), index=previous.index)


@rule("dose_interval_respected")
def _dose_interval(b: Batch) -> np.ndarray:
    doses = _previous_dose(b)
    gap = (doses["date"] - doses["prev_date"]).dt.days
    too_short = _bool(gap < _minimum_interval_days(doses))
    return _all_but(b, doses.index[too_short])


@rule("dose_numbers_in_date_order")
def _dose_order(b: Batch) -> np.ndarray:
    doses = _previous_dose(b)
    return _all_but(b, doses.index[_bool(doses["dose"] <= doses["prev_dose"])])


@rule("id_claimed_by_one_person")
def _id_one_person(b: Batch) -> np.ndarray:
    """A person is the linked register person, or for unlinked rows the name and birth date."""
    number = b.col("id_number").astype("string")
    declared = _bool(b.col("id_kind").isin(["cccd", "cmnd"]))
    person = b.col("so_dinh_danh").astype("string").where(b.matched())
    fallback = b.col("name_key").astype("string") + "|" + b.col("birth_date").astype("string")
    person = person.fillna(fallback)
    claims = pd.DataFrame({"id": number, "person": person})[declared]
    people = claims.groupby("id")["person"].nunique()
    shared = claims["id"].map(people).gt(1)
    return _all_but(b, claims.index[_bool(shared)])


# ---------------------------------------------------------------- batch level (integer columns)


def days_before_run(b: Batch, dates: pd.Series) -> pd.Series:
    return (b.run_date - dates).dt.days.astype("Int64")


NUMERIC = {
    "event_age_days": lambda b: days_before_run(b, b.col(b.spec.event_date)),
    "register_snapshot_age_days": lambda b: pd.Series(
        b.register_age_days, index=b.std.index, dtype="Int64"
    ),
}


# ------------------------------------------------------------- register (dan_cu) on its own


@rule("person_id_structure_valid")
def _person_id_structure(b: Batch) -> np.ndarray:
    """12 digits (not a placeholder), a birth-province prefix, and a century digit and year
    that give a birth year not after the run date. Empty IDs are another rule's."""
    given = _bool(b.col("raw_person_id").notna())
    cccd = _bool(b.col("id_kind").eq("cccd"))
    prefix = _bool(b.col("id_province_code").notna())
    born = _bool(b.col("id_birth_year").astype("Int64").le(b.run_date.year))
    return ~given | (cccd & prefix & born)


@rule("person_id_written_in_standard_form")
def _person_id_standard(b: Batch) -> np.ndarray:
    return _written_as_standard(b, "person_id", "id_number:leading_zero")


@rule("cmnd_valid")
def _cmnd_valid(b: Batch) -> np.ndarray:
    """An old ID card number, when given, is 9 digits (8 with its leading zero lost)."""
    return _bool(b.col("raw_cmnd").isna()) | _bool(b.col("cmnd").notna())


@rule("sex_is_nam_or_nu")
def _sex_nam_nu(b: Batch) -> np.ndarray:
    """The register records Nam or Nữ; an empty value is another rule's."""
    return _bool(b.col("raw_sex").isna()) | _bool(b.col("sex").isin(["M", "F"]))


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
    both_days = _both_to_the_day(b, "death_date", "birth_date")
    return ~np.where(both_days, _after(birth, death), _bool(birth.dt.year > death.dt.year))


@rule("updated_at_not_after_run_date")
def _updated_not_future(b: Batch) -> np.ndarray:
    """Compared by day: an update during the run date is not in the future."""
    return ~_after(b.col("updated_at").dt.normalize(), b.run_date)


@rule("full_name_is_nfc")
def _full_name_nfc(b: Batch) -> np.ndarray:
    """The name as written is Unicode NFC (checked on the distinct names)."""
    text = b.col("raw_full_name").astype("string")
    uniques = pa.array(text.dropna().unique(), type=pa.string())
    differs = pc.not_equal(pc.utf8_normalize(uniques, "NFC"), uniques)
    not_nfc = uniques.filter(differs).to_pylist()
    return ~_bool(text.isin(not_nfc))
