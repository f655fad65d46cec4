"""Each person's status in the warehouse (``Warehouse.refresh_status``), on PostgreSQL and the
embedded SQLite: only linked rows count, rows in review, unlinked or quarantined are counted
beside the status, a dose re-sent in another delivery counts once, and the people that a later
version of a delivery, a steward's decision or a re-check touched are recomputed."""

from __future__ import annotations

import pandas as pd
import pytest
from test_warehouse import (  # noqa: F401 (url: fixture)
    PEOPLE,
    extract,
    register,
    sample_batch,
    tamper,
    url,
)

from popsync import warehouse
from popsync.warehouse import build_batch
from popsync.warehouse import status as status_module

P1, P2, P3 = (person["person_id"] for person in PEOPLE)
SHA = "cd" * 32
BHXH = {"bhxh_number": "0123456789", "employer_code": "TA00001", "employer_name": "Công ty A",
        "participant_type": "Bắt buộc", "period_start_precision": "day",
        "period_end_precision": "day"}  # fmt: skip


@pytest.fixture
def store(url):  # noqa: F811 (the url fixture)
    with warehouse.connect(url) as opened:
        opened.migrate()
        opened.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        yield opened


def rows(source: str, links: dict, decision: str | None = None, **values) -> pd.DataFrame:
    """Linked rows (record id -> so_dinh_danh) of a source, with the event values given."""
    if source == "bhxh":
        frame = extract("f0", links, decision).drop(
            columns=["positive_date", "positive_date_precision", "test_type", "recovery_date",
                     "recovery_date_precision", "treatment_place"]
        ).assign(source="bhxh", **BHXH)  # fmt: skip
    else:
        frame = extract(source, links, decision)
    for column, value in values.items():
        is_date = column.endswith("_date") or column.startswith("period_")
        frame[column] = pd.Timestamp(value) if is_date else value
    return frame


def load(store, source: str, frame: pd.DataFrame, run_id: str, delivery: str | None = None,
         sha: str = SHA, run_date: str = "2022-12-31", **parts) -> dict:  # fmt: skip
    batch = build_batch(
        run_id=run_id, source=source, delivery=delivery or f"{source}.csv",
        input_file=f"in/{source}.csv", input_sha256=sha, run_date=run_date, rows=frame, **parts,
    )  # fmt: skip
    return store.load_batch(batch)


def status(store, person: str) -> pd.Series:
    return store.status_of([person]).loc[person]


def test_only_linked_rows_count_and_the_others_are_counted_beside(store):
    store.load_batch(sample_batch())  # TI1 -> P1, TI2 no_match, TI3 review (P1, P3), TI4 quar.
    done = store.refresh_status(run_id="run-1")
    assert (done["people"], done["changed"], done["new"]) == (3, 3, 3)
    assert done["with_pending_rows"] == 3
    first = status(store, P1)
    assert (first["doses"], first["vaccination_status"], first["primary_vaccine"]) == (
        1, "partial", "AstraZeneca")  # fmt: skip
    # TI2 declares P1's ID but was left unlinked; TI3 waits for review with P1 as a candidate.
    assert (first["rows_unlinked"], first["rows_in_review"], first["rows_quarantined"]) == (1, 1, 0)
    second = status(store, P2)  # TI4 was linked to P2 but quarantined: it does not count
    assert (second["doses"], second["rows_quarantined"]) == (0, 1)
    third = status(store, P3)
    assert (third["doses"], third["rows_in_review"]) == (0, 1)
    assert first["as_of"] == pd.Timestamp("2024-06-01")  # the run's date


def test_a_dose_re_sent_in_another_delivery_counts_once(store):
    one = rows("tiem_chung", {"A1": P1}, vaccination_date="2021-08-01", vaccine="Pfizer")
    load(store, "tiem_chung", one, "run-a", delivery="site_a.csv")
    again = rows("tiem_chung", {"B7": P1, "B8": P1}, vaccination_date="2021-08-01",
                 vaccine="Pfizer")  # fmt: skip
    load(store, "tiem_chung", again, "run-b", delivery="site_b.csv", sha="ef" * 32)
    store.refresh_status(run_id="run-b")
    assert status(store, P1)[["doses", "primary_doses"]].tolist() == [1, 1]
    second = rows("tiem_chung", {"B9": P1}, vaccination_date="2021-08-22", vaccine="Pfizer")
    load(store, "tiem_chung", second, "run-c", delivery="site_c.csv", sha="aa" * 32)
    done = store.refresh_status(run_id="run-c")
    assert done["became_fully_vaccinated"] == 1 and done["changed"] == 1
    assert status(store, P1)["primary_complete_date"] == pd.Timestamp("2021-08-22")


def test_people_who_lost_rows_to_a_later_version_are_recomputed(store):
    frame = pd.concat([rows("f0", {"C1": P1}), rows("f0", {"C2": P2})], ignore_index=True)
    load(store, "f0", frame, "run-1")
    assert store.refresh_status(run_id="run-1")["changed"] == 2
    assert status(store, P2)["f0_episodes"] == 1
    # The same delivery again, without P2's case: P2 is touched though no row of run-2 is theirs.
    load(store, "f0", rows("f0", {"C1": P1}), "run-2", sha="ef" * 32)
    done = store.refresh_status(run_id="run-2")
    assert (done["changed"], status(store, P2)["f0_episodes"]) == (1, 0)
    assert status(store, P2)["change_seq"] == done["seq"]
    assert status(store, P1)["change_seq"] < done["seq"]  # unchanged: not written again
    assert store.fetch("SELECT count(*) FROM status_dirty") == [(0,)]


def test_an_incremental_pull_recomputes_the_people_of_the_records_it_replaces(store):
    frame = pd.concat([rows("f0", {"C1": P1}), rows("f0", {"C2": P2})], ignore_index=True)
    load(store, "f0", frame, "run-1")
    store.refresh_status(run_id="run-1")
    batch = build_batch(run_id="run-2", source="f0", delivery="f0.csv", input_file="pull",
                        input_sha256="ef" * 32, run_date="2022-12-31",
                        rows=rows("f0", {"C2": P3}), mode="upsert")  # fmt: skip
    store.load_batch(batch)  # C2 now names P3: P2 loses it
    store.refresh_status(run_id="run-2")
    assert [status(store, p)["f0_episodes"] for p in (P1, P2, P3)] == [1, 0, 1]


def test_a_steward_s_decision_changes_the_status_at_once(store):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    decided = store.decide_review("tiem_chung", "TI3", P3, decided_by="steward")
    assert decided["status"]["changed"] == 2  # P3 gets the dose; P1 is no longer a candidate
    assert (status(store, P3)["doses"], status(store, P3)["rows_in_review"]) == (1, 0)
    assert status(store, P1)["rows_in_review"] == 0
    assert status(store, P3)["change_seq"] == decided["status"]["seq"]


def test_a_re_checked_link_moves_the_dose_to_its_new_person(store):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    with store._transaction() as cur:
        cur.execute("UPDATE vaccination_dose SET needs_recheck = TRUE WHERE record_id = 'TI1'")
    decisions = pd.DataFrame({"record_id": ["TI1"], "so_dinh_danh": [P2], "decision": ["match"],
                              "score": [0.99], "explanation": ["{}"]})  # fmt: skip
    assert store.apply_recheck("tiem_chung", decisions, None, "run-9")["changed"] == 1
    done = store.refresh_status()  # what stage_status does after the re-check
    assert done["changed"] == 2
    assert (status(store, P1)["doses"], status(store, P2)["doses"]) == (0, 1)


def test_a_refresh_with_nothing_new_changes_nothing(store):
    store.load_batch(sample_batch())
    store.refresh_status(run_id="run-1")
    again = store.refresh_status(run_id="run-1")
    assert (again["people"], again["changed"]) == (3, 0)
    assert store.refresh_status([P1, "999999999999"])["people"] == 1  # register people only


def test_coverage_that_ends_changes_the_status_by_itself(store):
    period = rows("bhxh", {"0123456789|01/01/2020": P1}, period_start="2020-01-01",
                  period_end="2024-06-30")  # fmt: skip
    load(store, "bhxh", period, "run-1", run_date="2024-06-01")
    store.refresh_status(run_id="run-1")
    insured = status(store, P1)
    assert insured["insured"] and insured["coverage_end"] == pd.Timestamp("2024-06-30")
    done = store.refresh_status(as_of="2024-07-15")  # no batch touched P1
    assert (done["people"], done["no_longer_insured"]) == (1, 1)
    lapsed = status(store, P1)
    assert not lapsed["insured"] and lapsed["uninsured_since"] == pd.Timestamp("2024-07-01")


def test_everyone_can_be_recomputed(store):
    store.load_batch(sample_batch())
    done = store.refresh_status(everyone=True)
    assert (done["people"], done["changed"]) == (3, 3)


@pytest.mark.postgres
def test_rows_joined_in_arrow_give_the_statuses_the_database_join_gives(pg_url, monkeypatch):
    """Many people are found in Arrow among every row of a table, few by a join in the
    database (``CLIENT_JOIN_SHARE``): the same rows count (linked, unlinked, in review,
    quarantined), the same statuses come out, the stored statuses are read back, and the rows
    of people not asked for are left out."""
    with warehouse.connect(pg_url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        store.load_batch(sample_batch())  # linked, unlinked declaring P1, review, quarantined
        unlinked = rows("f0", {"C2": None}).assign(id_number=P2)  # declares P2's ID
        cases = pd.concat([rows("f0", {"C1": P1}), unlinked])
        load(store, "f0", cases.reset_index(drop=True), "run-f0")
        period = rows("bhxh", {"0123456789|01/01/2020": P3}, period_start="2020-01-01",
                      period_end="2024-06-30")  # fmt: skip
        load(store, "bhxh", period, "run-s")
        monkeypatch.setattr(status_module, "CLIENT_JOIN_SHARE", float("inf"))  # never many
        store.refresh_status(everyone=True, as_of="2024-06-01")
        in_database = store.status_of()
        tamper(pg_url, "DELETE FROM person_status")
        monkeypatch.setattr(status_module, "CLIENT_JOIN_SHARE", 0.0)  # always many
        done = store.refresh_status([P1, P3], as_of="2024-06-01")
        in_arrow = store.status_of()
        again = store.refresh_status([P1, P2, P3], as_of="2024-06-01")  # the stored ones read
    assert done["people"] == 2 and list(in_arrow.index) == sorted([P1, P3])
    assert (again["changed"], again["new"]) == (1, 1)  # P2 only: P1's and P3's were read back
    assert in_database.loc[P1, "rows_unlinked"] == 1 and in_database.loc[P3, "insured"]
    assert in_database.loc[P2, "rows_unlinked"] == 1  # P2's unlinked case: not asked for, left out
    pd.testing.assert_frame_equal(in_arrow.drop(columns="change_seq"),
                                  in_database.loc[in_arrow.index].drop(columns="change_seq"))  # fmt: skip
