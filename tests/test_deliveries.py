"""Deliveries: a re-issued file replaces its earlier version whole, record ids are scoped to their
file, an incremental pull replaces only its record ids, and every run keeps reconciling; the
ledger says what became of each version. On PostgreSQL and on the embedded database."""

from __future__ import annotations

import sqlite3

import pytest
from test_warehouse import PEOPLE, extract, register, url  # noqa: F401 (url: a fixture)

from popsync import warehouse
from popsync.core.errors import UserError
from popsync.warehouse import build_batch


@pytest.fixture
def store(url):  # noqa: F811
    with warehouse.connect(url) as opened:
        opened.migrate()
        opened.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        yield opened


def version(
    run_id: str, links: dict, sha: str, delivery="tiem_chung_2022-01-17.csv", mode="replace"
):
    rows = extract("tiem_chung", links)
    return build_batch(run_id=run_id, source="tiem_chung", delivery=delivery, mode=mode,
                       input_file=f"landing/{delivery}", input_sha256=sha * 32,
                       run_date="2024-06-01", rows=rows)  # fmt: skip


def rows_of(store, delivery="tiem_chung_2022-01-17.csv") -> dict[str, tuple]:
    found = store.fetch(
        "SELECT record_id, so_dinh_danh, run_id FROM vaccination_dose WHERE delivery = %s",
        (delivery,),
    )
    return {record: (person, run) for record, person, run in found}


def run_states(store) -> dict[str, tuple]:
    found = store.fetch(
        "SELECT run_id, status, version, rows_read, rows_loaded, rows_moved, rows_retired, "
        "replaced_by FROM run WHERE source = 'tiem_chung'"
    )
    return {row[0]: row[1:] for row in found}


def test_a_reissued_file_replaces_its_earlier_version_whole(store):
    p1, p2, p3 = (p["person_id"] for p in PEOPLE)
    store.load_batch(version("v1", {"A": p1, "B": p2, "C": p3}, "a1"))
    store.load_batch(version("v2", {"A": p2, "B": p2, "D": None}, "b2"))  # A edited, C gone, D new
    store.load_batch(version("v3", {"A": p2, "D": p1, "E": p3}, "c3"))  # B gone, E new
    assert rows_of(store) == {"A": (p2, "v3"), "D": (p1, "v3"), "E": (p3, "v3")}
    assert run_states(store) == {
        "v1": ("superseded", 1, 3, 0, 3, 0, "v2"),
        "v2": ("superseded", 2, 3, 0, 3, 1, "v3"),
        "v3": ("loaded", 3, 3, 3, 0, 1, None),
    }
    for run_id in ("v1", "v2", "v3"):
        store.reconcile(run_id)  # every run still reconciles, superseded ones too
    assert store.fetch("SELECT version, status, run_id FROM delivery ORDER BY version") == [
        (1, "superseded", "v1"),
        (2, "superseded", "v2"),
        (3, "loaded", "v3"),
    ]


def test_the_same_content_again_replaces_its_run_not_its_version(store):
    p1 = PEOPLE[0]["person_id"]
    store.load_batch(version("first", {"A": p1, "B": None}, "a1"))
    store.load_batch(version("again", {"A": p1, "B": None}, "a1"))
    assert run_states(store)["first"][:2] == ("replaced", 1)
    assert run_states(store)["again"][:2] == ("loaded", 1)
    assert store.fetch("SELECT count(*) FROM delivery") == [(1,)]
    assert store.delivery_state("tiem_chung", "tiem_chung_2022-01-17.csv", "a1" * 32) == {
        "version": 1, "status": "loaded", "run_id": "again"
    }  # fmt: skip


def test_record_ids_of_two_files_are_two_sets_of_rows(store):
    p1, p2 = PEOPLE[0]["person_id"], PEOPLE[1]["person_id"]
    store.load_batch(version("site-a", {"1": p1, "2": None}, "aa", delivery="tram_a.csv"))
    store.load_batch(version("site-b", {"1": p2, "2": p2}, "bb", delivery="tram_b.csv"))
    assert rows_of(store, "tram_a.csv") == {"1": (p1, "site-a"), "2": (None, "site-a")}
    assert rows_of(store, "tram_b.csv") == {"1": (p2, "site-b"), "2": (p2, "site-b")}
    assert store.reconcile("site-a")["rows_loaded"] == 2
    assert store.reconcile("site-b")["rows_loaded"] == 2


def test_an_incremental_pull_replaces_only_its_record_ids(store):
    p1, p2, p3 = (p["person_id"] for p in PEOPLE)
    table = "table:public.vaccination"
    store.load_batch(version("pull-1", {"A": p1, "B": p2}, "d1", delivery=table, mode="upsert"))
    store.load_batch(version("pull-2", {"B": p3, "C": p3}, "d2", delivery=table, mode="upsert"))
    assert rows_of(store, table) == {"A": (p1, "pull-1"), "B": (p3, "pull-2"), "C": (p3, "pull-2")}
    assert run_states(store)["pull-1"][:6] == ("loaded", 1, 2, 1, 1, 0)  # one row moved on
    assert store.reconcile("pull-1") == {"rows_loaded": 1, "rows_quarantined": 0, "rows_review": 0}
    assert store.fetch("SELECT version, status FROM delivery ORDER BY version") == [
        (1, "loaded"), (2, "loaded")
    ]  # fmt: skip


def test_the_ledger_tells_a_pull_what_became_of_a_file(store):
    name, sha = "f0_2022-02-01.csv", "ee" * 32
    assert store.delivery_state("f0", name, sha) is None
    received = store.receive_delivery("f0", name, sha, origin="sftp://landing/f0", stated_rows=9)
    assert received == {"version": 1, "status": "received", "run_id": None}
    assert store.receive_delivery("f0", name, sha) == received  # the same file again: known
    store.mark_delivery("f0", name, sha, "blocked", "run-9")
    assert store.delivery_state("f0", name, sha)["status"] == "blocked"
    newer = store.receive_delivery("f0", name, "ff" * 32)
    assert newer["version"] == 2
    assert store.fetch("SELECT stated_rows, origin FROM delivery WHERE version = 1") == [
        (9, "sftp://landing/f0")
    ]


def test_a_table_made_before_deliveries_is_named_not_mangled(tmp_path):
    old = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    with warehouse.connect(old) as store:
        store.migrate()
    with sqlite3.connect(tmp_path / "old.sqlite3") as db:
        db.execute("DROP VIEW link")
        db.execute("DROP TABLE f0_case")
        db.execute("CREATE TABLE f0_case (source text, record_id text)")
    with warehouse.connect(old) as store, pytest.raises(UserError, match="older than deliveries"):
        store.migrate()
