"""Each person's status from their linked events (popsync.core.status): doses counted once, the
primary series by each product's schedule and the allowed mixes, the additional dose, boosters
and the next dose due; F0 episodes and recovery; BHXH coverage on the run date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popsync.core import domain
from popsync.core.status import STATUS_FIELDS, compute_status, event_arrays, status_arrays
from popsync.core.status_digest import status_hash, status_hash_arrays

AS_OF = dt.date(2022, 12, 31)
P = "001090000001"


def d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def doses(*rows: tuple) -> pd.DataFrame:
    """(date, product) or (person, date, product) rows."""
    rows = [r if len(r) == 3 else (P, *r) for r in rows]
    return pd.DataFrame(
        {
            "so_dinh_danh": [r[0] for r in rows],
            "vaccination_date": pd.to_datetime([r[1] for r in rows]),
            "vaccine": pd.Series([r[2] for r in rows], dtype="string"),
        }
    )


def cases(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "so_dinh_danh": P,
            "positive_date": pd.to_datetime([r[0] for r in rows]),
            "recovery_date": pd.to_datetime([r[1] for r in rows]),
        }
    )


def periods(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "so_dinh_danh": P,
            "period_start": pd.to_datetime([r[0] for r in rows]),
            "period_end": pd.to_datetime([r[1] for r in rows]),
        }
    )


def status(people=(P,), vaccination=None, f0=None, bhxh=None, pending=None, as_of=AS_OF):
    frame = compute_status(
        list(people), doses=vaccination, cases=f0, periods=bhxh, pending=pending, as_of=as_of
    )
    return frame.loc[people[0]] if len(people) == 1 else frame


def test_the_same_dose_reported_twice_counts_once():
    one = status(vaccination=doses(("2021-08-01", "Pfizer"), ("2021-08-01", "Pfizer")))
    assert one["doses"] == 1
    assert one["primary_doses"] == 1
    assert one["vaccination_status"] == "partial"
    assert one["next_dose"] == "primary"
    assert one["next_dose_due"] == d("2021-08-22")


def test_two_pfizer_doses_21_days_apart_complete_the_series():
    one = status(vaccination=doses(("2021-08-01", "Pfizer"), ("2021-08-22", "Pfizer")))
    assert one["primary_complete"]
    assert one["primary_complete_date"] == d("2021-08-22")
    assert one["primary_vaccine"] == "Pfizer"
    assert one["vaccination_status"] == "complete"
    assert one["next_dose"] == "booster"
    assert one["next_dose_due"] == d("2021-08-22") + pd.Timedelta(days=90)


def test_a_dose_before_the_minimum_interval_does_not_count():
    one = status(vaccination=doses(("2021-06-01", "AstraZeneca"), ("2021-07-01", "AstraZeneca")))
    assert (one["doses"], one["primary_doses"], one["doses_not_counted"]) == (2, 1, 1)
    assert not one["primary_complete"]
    assert one["next_dose_due"] == d("2021-06-01") + pd.Timedelta(days=56)
    later = status(
        vaccination=doses(
            ("2021-06-01", "AstraZeneca"), ("2021-07-01", "AstraZeneca"),
            ("2021-08-01", "AstraZeneca"),
        )
    )  # fmt: skip
    assert later["primary_complete_date"] == d("2021-08-01")


def test_mixed_products_follow_the_ministry_s_guidance():
    allowed = status(vaccination=doses(("2021-06-01", "AstraZeneca"), ("2021-08-01", "Pfizer")))
    assert allowed["primary_complete"]
    assert allowed["primary_vaccine"] == "AstraZeneca"
    refused = status(vaccination=doses(("2021-06-01", "Vero Cell"), ("2021-07-01", "Pfizer")))
    assert not refused["primary_complete"]
    assert refused["doses_not_counted"] == 1


def test_a_one_dose_product_completes_at_once():
    one = status(vaccination=doses(("2021-09-01", "Janssen")))
    assert one["primary_complete"] and one["primary_complete_date"] == d("2021-09-01")


def test_boosters_follow_the_series_at_their_intervals():
    one = status(
        vaccination=doses(
            ("2021-08-01", "Pfizer"), ("2021-08-22", "Pfizer"),
            ("2021-12-01", "Moderna"), ("2022-05-01", "Pfizer"),
        )
    )  # fmt: skip
    assert one["boosters"] == 2
    assert one["last_booster_date"] == d("2022-05-01")
    assert one["vaccination_status"] == "boosted"
    assert pd.isna(one["next_dose"]) and pd.isna(one["next_dose_due"])
    assert one["last_dose_date"] == d("2022-05-01")


def test_an_early_dose_after_the_series_is_the_additional_dose():
    one = status(
        vaccination=doses(
            ("2021-08-01", "Vero Cell"), ("2021-08-25", "Vero Cell"),
            ("2021-10-01", "Vero Cell"), ("2022-01-15", "Pfizer"),
        )
    )  # fmt: skip
    assert one["additional_dose_date"] == d("2021-10-01")
    assert one["boosters"] == 1
    assert one["next_dose_due"] == d("2022-01-15") + pd.Timedelta(days=120)


def test_doses_the_guidance_does_not_allow_are_not_counted():
    too_soon = status(vaccination=doses(("2021-09-01", "Janssen"), ("2021-09-10", "Pfizer")))
    assert (too_soon["boosters"], too_soon["doses_not_counted"]) == (0, 1)
    wrong_product = status(
        vaccination=doses(("2021-09-01", "Janssen"), ("2022-03-01", "AstraZeneca"))
    )
    assert (wrong_product["boosters"], wrong_product["doses_not_counted"]) == (0, 1)
    unknown = status(vaccination=doses(("2021-09-01", None)))
    assert unknown["doses"] == 1 and unknown["vaccination_status"] == "partial"
    assert pd.isna(unknown["next_dose"])


def test_f0_episodes_latest_positive_and_recovery():
    one = status(
        f0=cases(
            ("2022-01-10", None), ("2022-01-12", "2022-01-20"),  # one episode, two tests
            ("2022-06-01", None), ("2022-06-01", "2022-06-09"),  # re-sent with its recovery
        )
    )  # fmt: skip
    assert one["f0_episodes"] == 2
    assert one["f0_latest_positive_date"] == d("2022-06-01")
    assert one["f0_recovered"] and one["f0_recovery_date"] == d("2022-06-09")
    ill = status(f0=cases(("2022-01-10", "2022-01-18"), ("2022-07-01", None)))
    assert ill["f0_episodes"] == 2 and not ill["f0_recovered"]
    assert pd.isna(ill["f0_recovery_date"])
    never = status()
    assert never["f0_episodes"] == 0 and pd.isna(never["f0_recovered"])


def test_insured_on_the_run_date_since_the_start_of_continuous_coverage():
    one = status(
        bhxh=periods(("2018-01-01", "2019-06-30"), ("2019-07-01", None), ("2019-07-01", None))
    )
    assert one["insured"] and one["insured_since"] == d("2018-01-01")
    assert pd.isna(one["coverage_end"]) and pd.isna(one["uninsured_since"])
    assert pd.isna(one["valid_until"])
    gap = status(bhxh=periods(("2018-01-01", "2019-06-30"), ("2020-01-01", "2023-03-31")))
    assert gap["insured_since"] == d("2020-01-01") and gap["coverage_end"] == d("2023-03-31")
    assert gap["valid_until"] == d("2023-04-01")  # the status changes by itself that day
    ended = status(bhxh=periods(("2018-01-01", "2022-06-30"), ("2023-02-01", None)))
    assert not ended["insured"] and ended["uninsured_since"] == d("2022-07-01")
    assert pd.isna(ended["insured_since"]) and ended["valid_until"] == d("2023-02-01")
    assert status(bhxh=periods(("2018-01-01", "2022-06-30")), as_of=dt.date(2022, 6, 1))["insured"]


def test_everyone_asked_for_gets_a_row_and_pending_rows_are_counted():
    pending = pd.DataFrame(
        {"so_dinh_danh": ["001090000002"], "rows_in_review": [2], "rows_unlinked": [1],
         "rows_quarantined": [0]}
    )  # fmt: skip
    both = status(
        people=(P, "001090000002"),
        vaccination=doses(("2021-08-01", "Pfizer")),
        pending=pending,
    )
    assert list(both.index) == [P, "001090000002"]
    assert list(both.columns) == [*STATUS_FIELDS, "valid_until"]
    other = both.loc["001090000002"]
    assert (other["doses"], other["vaccination_status"], other["insured"]) == (0, "none", False)
    assert (other["rows_in_review"], other["rows_unlinked"]) == (2, 1)


def test_events_of_people_not_asked_for_are_left_out():
    other = doses(("001090000009", "2021-08-01", "Pfizer"), (P, "2021-08-01", "Moderna"))
    assert status(vaccination=other)["primary_vaccine"] == "Moderna"


def test_the_status_hash_changes_with_the_status_only():
    rows = doses(("2021-08-01", "Pfizer"), ("2021-08-22", "Pfizer"))
    first = compute_status([P], doses=rows, as_of=AS_OF)
    again = compute_status([P], doses=rows.iloc[::-1], as_of=dt.date(2023, 1, 5))
    changed = compute_status([P], doses=rows.iloc[:1], as_of=AS_OF)
    assert status_hash(first).tolist() == status_hash(again).tolist()
    assert status_hash(first).tolist() != status_hash(changed).tolist()
    narrow = first.astype({"doses": "int64", "boosters": "int16"})
    assert status_hash(narrow).tolist() == status_hash(first).tolist()


def test_the_arrays_the_warehouse_writes_give_the_same_status_and_digests():
    """The warehouse computes from Arrow columns and person codes, without a frame: the same
    status and the same digests as compute_status (a digest that differed would put everyone in
    the next delta)."""
    people = [P, "001090000002", "001090000003", "001090000004"]
    vaccination = pd.DataFrame({
        "so_dinh_danh": [P, P, P, "001090000002", "001090000003"],
        "vaccination_date": pd.to_datetime(["2021-08-01", "2021-08-22", "2022-03-01",
                                            "2021-09-01", None]),
        "vaccine": ["Pfizer", "Pfizer", "Moderna", "Sinopharm-unknown", "Pfizer"],
    })  # fmt: skip
    cases = pd.DataFrame({"so_dinh_danh": ["001090000002"], "positive_date": [d("2022-02-01")],
                          "recovery_date": [pd.NaT]})  # fmt: skip
    periods = pd.DataFrame({"so_dinh_danh": ["001090000004"], "period_start": [d("2020-01-01")],
                            "period_end": [pd.NaT]})  # fmt: skip
    pending = {"rows_in_review": np.array([0, 2, 0, 0]), "rows_unlinked": np.array([1, 0, 0, 0]),
               "rows_quarantined": np.array([0, 0, 0, 3])}  # fmt: skip
    framed = compute_status(
        people, doses=vaccination, cases=cases, periods=periods, as_of=AS_OF,
        pending=pd.DataFrame({"so_dinh_danh": people, **pending}),
    )  # fmt: skip
    events = {}
    for kind, frame in (("doses", vaccination), ("cases", cases), ("periods", periods)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        codes = np.array([people.index(p) for p in frame["so_dinh_danh"]])
        first, second = table.column(1), table.column(2)
        events[kind] = event_arrays(kind, codes, first.cast(pa.date32()),
                                    second if kind == "doses" else second.cast(pa.date32()))  # fmt: skip
    arrays = status_arrays(len(people), events, pending, AS_OF)
    assert status_hash_arrays(arrays).tolist() == status_hash(framed).tolist()
    assert arrays["doses"].tolist() == framed["doses"].tolist()
    assert arrays["boosters"].tolist() == framed["boosters"].tolist()


@pytest.mark.parametrize("size", [200_000])
def test_it_is_vectorized(size):
    import time

    rng = pd.Series(range(size))
    people = ("0010" + (rng % (size // 2)).astype(str).str.zfill(8)).tolist()
    frame = pd.DataFrame(
        {
            "so_dinh_danh": people,
            "vaccination_date": pd.Timestamp("2021-06-01") + pd.to_timedelta(rng % 400, "D"),
            "vaccine": pd.Series(["Pfizer", "Moderna", "AstraZeneca", "Vero Cell"] * (size // 4)),
        }
    )
    started = time.perf_counter()
    out = compute_status(sorted(set(people)), doses=frame, as_of=AS_OF)
    assert len(out) == size // 2
    assert time.perf_counter() - started < 10


def test_the_rules_are_data_with_their_sources():
    products = {row["vaccine"] for row in domain.vaccines()}
    for row in domain.vaccine_mixing():
        assert row["series"] in products | {"*"}
        assert row["product"] in products | {"="}
        assert row["dose"] in ("primary", "booster")
        assert row["source"] and row["verified"] in ("yes", "partly", "no")
    from importlib import resources

    import yaml

    text = resources.files("popsync.reference").joinpath("status_rules.yaml").read_text("utf-8")
    for name, entry in yaml.safe_load(text).items():
        assert entry["source"] and entry["verified"] in ("yes", "partly", "no"), name
    assert set(domain.status_rules()) >= {"boosters", "additional_dose", "f0_reinfection_min_days"}
