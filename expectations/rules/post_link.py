"""Post-link rules: a row against the register person it was linked to (``reg_*`` columns) and
the person's other rows; and the batch-level ages the freshness rules check.

The dates that cannot follow the person's death are the source's declared date fields.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.rules.base import (
    Batch,
    after,
    all_but,
    as_bool,
    both_to_the_day,
    rule,
    same_text,
)
from popsync.core import domain


def _agrees_with_register(b: Batch, field: str) -> np.ndarray:
    """Unlinked rows, or ``field`` equal to the linked person's (when both are given)."""
    return ~b.matched() | same_text(b.col(field), b.col(f"reg_{field}"))


@rule("record_linked")
def _record_linked(b: Batch) -> np.ndarray:
    return b.matched()


@rule("declared_id_belongs_to_linked_person")
def _declared_id(b: Batch) -> np.ndarray:
    number, kind = b.col("id_number"), b.col("id_kind")
    own_cccd = as_bool(number.eq(b.col("so_dinh_danh")))
    own_cmnd = as_bool(number.eq(b.col("reg_cmnd")))
    declared = as_bool(kind.isin(["cccd", "cmnd"]))
    return ~(b.matched() & declared & ~(own_cccd | own_cmnd))


@rule("name_agrees_with_register")
def _name_agrees(b: Batch) -> np.ndarray:
    return _agrees_with_register(b, "full_name")


@rule("birth_date_agrees_with_register")
def _birth_agrees(b: Batch) -> np.ndarray:
    """Day precision on both sides: the date; otherwise the year."""
    mine, theirs = b.col("birth_date"), b.col("reg_birth_date")
    both_days = both_to_the_day(b, "birth_date", "reg_birth_date")
    date_differs = as_bool(mine.ne(theirs) & mine.notna() & theirs.notna())
    year_differs = as_bool(mine.dt.year.ne(theirs.dt.year) & mine.notna() & theirs.notna())
    return ~(b.matched() & np.where(both_days, date_differs, year_differs))


@rule("sex_agrees_with_register")
def _sex_agrees(b: Batch) -> np.ndarray:
    return _agrees_with_register(b, "sex")


@rule("no_event_after_death")
def _no_event_after_death(b: Batch) -> np.ndarray:
    death = b.col("reg_death_date")
    late = np.zeros(len(b.std), dtype=bool)
    for date in b.spec.fields_of("date"):
        if date in b.std.columns:
            late |= after(b.col(date), death)
    return ~(b.matched() & late)


def _previous_dose(b: Batch) -> pd.DataFrame:
    """For each matched dose, the person's previous dose by date (then dose number)."""

    def make() -> pd.DataFrame:
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
        return pd.concat([doses, previous], axis=1)

    return b.cached("previous_dose", make)


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
    in_primary = as_bool(previous["prev_dose"].astype("Float64") < primary.astype("Float64"))
    additional = float(domain.facts()["additional_dose_min_days"])
    return pd.Series(np.where(in_primary, interval, additional), index=previous.index)


@rule("dose_interval_respected")
def _dose_interval(b: Batch) -> np.ndarray:
    doses = _previous_dose(b)
    gap = (doses["date"] - doses["prev_date"]).dt.days
    too_short = as_bool(gap < _minimum_interval_days(doses))
    return all_but(b, doses.index[too_short])


@rule("dose_numbers_in_date_order")
def _dose_order(b: Batch) -> np.ndarray:
    doses = _previous_dose(b)
    return all_but(b, doses.index[as_bool(doses["dose"] <= doses["prev_dose"])])


@rule("id_claimed_by_one_person")
def _id_one_person(b: Batch) -> np.ndarray:
    """A person is the linked register person, or for unlinked rows the name and birth date."""
    number = b.col("id_number").astype("string")
    declared = as_bool(b.col("id_kind").isin(["cccd", "cmnd"]))
    person = b.col("so_dinh_danh").astype("string").where(b.matched())
    fallback = b.col("name_key").astype("string") + "|" + b.col("birth_date").astype("string")
    person = person.fillna(fallback)
    claims = pd.DataFrame({"id": number, "person": person})[declared]
    people = claims.groupby("id")["person"].nunique()
    shared = claims["id"].map(people).gt(1)
    return all_but(b, claims.index[as_bool(shared)])


# ---------------------------------------------------------------- batch level (integer columns)


def days_before_run(b: Batch, dates: pd.Series) -> pd.Series:
    return (b.run_date - dates).dt.days.astype("Int64")


@rule("event_age_days")
def _event_age_days(b: Batch) -> pd.Series:
    """Days from each row's declared event date to the run date."""
    return days_before_run(b, b.col(b.spec.event_date))


@rule("register_snapshot_age_days")
def _register_snapshot_age_days(b: Batch) -> pd.Series:
    """Days from the register snapshot's newest update to the run date (every row the same)."""
    return pd.Series(b.register_age_days, index=b.std.index, dtype="Int64")
