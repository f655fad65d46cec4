"""The warehouse against the real PostgreSQL server and the embedded SQLite file: reruns,
rollback, concurrency, quarantine and review, reconciliation, migrations, the live register."""

from __future__ import annotations

import json
import sqlite3
import threading

import pandas as pd
import psycopg2
import pytest

from popsync import pipeline, warehouse
from popsync.core.errors import UserError
from popsync.core.sources import load_catalog
from popsync.resources import Resources
from popsync.warehouse import Batch, ReconciliationError, build_batch

SHA = "ab" * 32
TABLES = ["person", "person_history", "vaccination_dose", "f0_case",
          "social_insurance_period", "quality_finding", "quarantine", "review_candidate"]  # fmt: skip
EXTRA = {
    "tiem_chung": {"dose_number": pd.array([1], dtype="Int8"), "vaccine": "AstraZeneca",
                   "vaccination_date": pd.Timestamp("2021-08-01"),
                   "vaccination_date_precision": "day", "lot_number": "A1", "site": "TYT P1"},
    "f0": {"positive_date": pd.Timestamp("2022-02-01"), "positive_date_precision": "day",
           "test_type": "RAT", "recovery_date": pd.NaT, "recovery_date_precision": None,
           "treatment_place": "Tại nhà"},
}  # fmt: skip


def extract(source: str, links: dict[str, str | None], decision: str | None = None):
    """Standardized + linked rows: record id -> so_dinh_danh (None: no_match)."""
    n = len(links)
    frame = pd.DataFrame({
        "source": source, "record_id": list(links), "src_file": f"in/{source}.csv",
        "src_sha256": SHA, "src_row": range(1, n + 1), "full_name": "Nguyễn Văn An",
        "name_key": "nguyen van an", "birth_date": pd.Timestamp("1990-05-01"),
        "birth_date_precision": "day", "sex": "M", "id_number": "001090000001",
        "id_kind": "cccd", "phone": "0912345678", "address": "1 Phố Huế, Hà Nội",
        "province_code": "01", "district_code": "001", "ward_code": "00001",
        "admin_scheme": "2008", "flags": "", "repairs": "",
        "so_dinh_danh": list(links.values()), "score": 0.97,
        "explanation": json.dumps({"pass": "id", "fields": {"name": "exact"}}),
    })  # fmt: skip
    for column, value in EXTRA[source].items():
        frame[column] = value[0] if isinstance(value, pd.api.extensions.ExtensionArray) else value
    frame["decision"] = decision or frame["so_dinh_danh"].map(
        lambda p: "no_match" if pd.isna(p) else "match"
    )
    return frame


def register(*people: dict) -> pd.DataFrame:
    base = {"cmnd": None, "birth_date": pd.Timestamp("1990-05-01"), "birth_date_precision": "day",
            "sex": "M", "province_code": "01", "district_code": "001", "ward_code": "00001",
            "admin_scheme": "2008", "address": "1 Phố Huế", "phone": "0912345678",
            "death_date": pd.NaT, "updated_at": pd.Timestamp("2024-01-01 08:00")}  # fmt: skip
    return pd.DataFrame([{**base, **person} for person in people])


PEOPLE = [{"person_id": f"00109000000{i}", "full_name": f"Nguyễn Văn {name}"}
          for i, name in enumerate(["An", "Bình", "Cường"], start=1)]  # fmt: skip


def sample_batch(run_id: str = "run-1", source: str = "tiem_chung") -> Batch:
    """2 loaded, 1 review (2 candidates), 1 quarantined; 3 findings."""
    prefix = source.upper()[:2]
    rows = pd.concat([
        extract(source, {f"{prefix}1": "001090000001", f"{prefix}2": None}),
        extract(source, {f"{prefix}3": None}, decision="review"),
        extract(source, {f"{prefix}4": "001090000002"}),
    ], ignore_index=True)  # fmt: skip
    findings = pd.DataFrame({
        "source": source, "record_id": [f"{prefix}4", f"{prefix}4", f"{prefix}1"],
        "stage": ["pre_link", "post_link", "pre_link"],
        "rule": ["date_future", "event_after_death", "phone_format"],
        "pillar": ["dung", "song", "sach"], "severity": ["quarantine", "quarantine", "warn"],
        "observed": ["2030-01-01", "2030-01-01", "091****678"], "reason": "test",
    })  # fmt: skip
    candidates = pd.DataFrame({
        "record_id": [f"{prefix}3", f"{prefix}3"], "so_dinh_danh": ["001090000001", "001090000003"],
        "score": [0.6, 0.4], "rank": [1, 2], "explanation": ['{"a": 1}', '{"a": 2}'],
    })  # fmt: skip
    return build_batch(run_id=run_id, source=source, delivery=f"{source}.csv",
                       input_file=f"in/{source}.csv",
                       input_sha256=SHA, run_date="2024-06-01", rows=rows, findings=findings,
                       candidates=candidates, timings={"link": 1.5})  # fmt: skip


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'w.sqlite3'}"


@pytest.fixture
def store(url):
    with warehouse.connect(url) as opened:
        opened.migrate()
        opened.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        yield opened


def query(store, statement: str) -> list[tuple]:
    return store.fetch(statement)


def tamper(url: str, statement: str) -> None:
    """Change the database behind the warehouse's back, over a connection of its own."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(statement)
        return
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(statement)


class FailingCopy:
    """A backend that fails the bulk insert into one table, and is the real one otherwise."""

    def __init__(self, real, table: str):
        self.real, self.table = real, table

    def __getattr__(self, name):
        return getattr(self.real, name)

    def bulk_insert(self, cur, table, data):
        if table == self.table:
            raise RuntimeError("disk full")
        self.real.bulk_insert(cur, table, data)


def dump(store, drop_run_ids: bool = False) -> dict[str, list]:
    """Every table's rows, sorted; run ids left out when asked (a rerun has a new one)."""
    out = {}
    for table in TABLES:
        with store._transaction() as cur:
            cur.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        keep = [i for i, n in enumerate(names) if not (drop_run_ids and n == "run_id")]
        out[table] = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
    return out


def runs(store) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in query(store, "SELECT run_id, status, replaced_by, rows_read, "
                                              "rows_loaded, rows_quarantined, rows_review, error "
                                              "FROM run")}  # fmt: skip


def test_migrations_are_idempotent(url):
    with warehouse.connect(url) as store:
        assert store.migrate() == [
            "0001_initial",
            "0002_person_status",
            "0003_person_status_change",
            "0004_stewards",
            "0005_run_lifecycle",
            "0006_pull_watermark",
            "0007_run_kind",
            "0008_status_run_queued",
            "table vaccination_dose",
            "table f0_case",
            "table social_insurance_period",
        ]
        assert store.migrate() == []
        assert query(store, "SELECT version, name FROM schema_migrations ORDER BY 1") == [
            (1, "0001_initial"),
            (2, "0002_person_status"),
            (3, "0003_person_status_change"),
            (4, "0004_stewards"),
            (5, "0005_run_lifecycle"),
            (6, "0006_pull_watermark"),
            (7, "0007_run_kind"),
            (8, "0008_status_run_queued"),
        ]
        assert query(store, "SELECT count(*) FROM link") == [(0,)]


def test_batch_lands_in_its_tables(store):
    result = store.load_batch(sample_batch())
    assert (result["rows_read"], result["rows_loaded"], result["rows_quarantined"],
            result["rows_review"], result["findings"], result["candidates"]) == (4, 2, 1, 1, 3, 2)  # fmt: skip
    assert query(store, "SELECT record_id, decision, so_dinh_danh FROM link ORDER BY 1") == [
        ("TI1", "match", "001090000001"), ("TI2", "no_match", None), ("TI3", "review", None),
    ]  # fmt: skip
    [(record_id, rules, row_data)] = query(
        store, "SELECT record_id, rules, row_data FROM quarantine"
    )
    row = row_data if isinstance(row_data, dict) else json.loads(row_data)
    assert (record_id, rules) == ("TI4", "date_future;event_after_death")
    assert (row["full_name"], row["so_dinh_danh"], row["vaccination_date"][:10]) == (
        "Nguyễn Văn An", "001090000002", "2021-08-01")  # fmt: skip
    assert query(store, "SELECT record_id, rank, so_dinh_danh FROM review_candidate ORDER BY 2") == [
        ("TI3", 1, "001090000001"), ("TI3", 2, "001090000003")]  # fmt: skip
    assert sorted(query(store, "SELECT record_id, rule, severity FROM quality_finding")) == [
        ("TI1", "phone_format", "warn"), ("TI4", "date_future", "quarantine"),
        ("TI4", "event_after_death", "quarantine")]  # fmt: skip
    assert query(store, "SELECT dose_number, vaccination_date FROM vaccination_dose "
                        "WHERE record_id = 'TI1'")[0][0] == 1  # fmt: skip
    assert runs(store)["run-1"] == ("loaded", None, 4, 2, 1, 1, None)
    assert store.reconcile("run-1") == {"rows_loaded": 2, "rows_quarantined": 1, "rows_review": 1}


def test_same_batch_twice_gives_identical_tables(store):
    store.load_batch(sample_batch("run-1"))
    first = dump(store, drop_run_ids=True)
    store.load_batch(sample_batch("run-2"))
    assert dump(store, drop_run_ids=True) == first
    assert runs(store)["run-1"][:2] == ("replaced", "run-2")
    assert runs(store)["run-2"][0] == "loaded"
    with_ids = dump(store)
    store.load_batch(sample_batch("run-2"))  # the same run id again: nothing changes at all
    assert dump(store) == with_ids


def test_error_mid_load_leaves_the_database_as_before(store, url):
    store.load_batch(sample_batch("run-1"))
    before = dump(store)
    # The COPY of the findings comes after the keys, the deletes and the rows' COPY.
    failing = warehouse.Warehouse(FailingCopy(warehouse.open_backend(url), "quality_finding"),
                                  load_catalog())  # fmt: skip
    changed = sample_batch("run-2")
    changed.rows = changed.rows.assign(full_name="Trần Thị Bình")
    with failing, pytest.raises(RuntimeError, match="disk full"):
        failing.load_batch(changed)
    assert dump(store) == before
    assert runs(store)["run-1"][0] == "loaded"
    assert runs(store)["run-2"][0] == "failed"
    assert runs(store)["run-2"][-1] == "RuntimeError: disk full"


def test_reconciliation_fails_when_a_row_is_missing(store, url):
    short = sample_batch("run-1")
    short.rows_read += 1
    with pytest.raises(ReconciliationError, match="5 rows read .* 2 loaded \\+ 1 quarantined "
                                                  "\\+ 1 review = 4"):  # fmt: skip
        store.load_batch(short)
    assert query(store, "SELECT count(*) FROM link") == [(0,)]
    assert runs(store)["run-1"][0] == "failed"

    store.load_batch(sample_batch("run-2"))
    tamper(url, "DELETE FROM vaccination_dose WHERE record_id = 'TI2'")
    with pytest.raises(ReconciliationError, match="4 rows read"):
        store.reconcile("run-2")


def test_link_to_a_person_outside_the_register_is_refused(store):
    batch = sample_batch()
    batch.rows.loc[batch.rows["record_id"].eq("TI1"), "so_dinh_danh"] = "079099999999"
    with pytest.raises(UserError, match="1 rows linked to a so_dinh_danh that is not in"):
        store.load_batch(batch)
    assert query(store, "SELECT count(*) FROM vaccination_dose") == [(0,)]


def test_duplicated_record_ids_are_refused(store):
    batch = sample_batch()
    batch.review = batch.review.assign(record_id="TI1")
    with pytest.raises(UserError, match="1 duplicated record_id values, e.g. TI1"):
        store.load_batch(batch)


def test_a_duplicated_register_id_is_refused_with_the_id_masked(store):
    twice = register(*PEOPLE, PEOPLE[0])
    with pytest.raises(UserError, match=r"1 duplicated so_dinh_danh values, e\.g\. 001\*+001$"):
        store.load_register(twice, {"run_date": "2024-01-02"})


@pytest.mark.postgres
def test_two_sources_load_at_the_same_time(pg_url):
    """While the vaccination load holds its transaction open, the F0 load commits."""
    with warehouse.connect(pg_url) as setup:
        setup.migrate()
        setup.load_register(register(*PEOPLE))
    first, second = warehouse.connect(pg_url), warehouse.connect(pg_url)
    f0_done, results, errors = threading.Event(), {}, []
    real_reconcile = first._reconcile

    def reconcile_after_f0(*args):
        assert f0_done.wait(30), "the F0 load was blocked by the vaccination load"
        return real_reconcile(*args)

    first._reconcile = reconcile_after_f0

    def load(store, batch, done=None):
        try:
            results[batch.source] = store.load_batch(batch)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            if done:
                done.set()

    threads = [threading.Thread(target=load, args=(first, sample_batch("tc", "tiem_chung"))),
               threading.Thread(target=load, args=(second, sample_batch("f0", "f0"), f0_done))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    first.close(), second.close()
    assert errors == []
    assert {s: r["rows_loaded"] for s, r in results.items()} == {"tiem_chung": 2, "f0": 2}


def test_two_sources_from_two_threads_on_sqlite(tmp_path):
    """SQLite has one writer: the second load waits for the first, both succeed."""
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    with warehouse.connect(url) as setup:
        setup.migrate()
        setup.load_register(register(*PEOPLE))
    results = {}

    def load(source):
        with warehouse.connect(url) as store:
            results[source] = store.load_batch(sample_batch(source, source))["rows_loaded"]

    threads = [threading.Thread(target=load, args=(s,)) for s in ("tiem_chung", "f0")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {"tiem_chung": 2, "f0": 2}


def test_register_update_keeps_history_applies_deaths_and_flags_links(store):
    store.load_batch(sample_batch("run-1"))  # TI1 -> person 1, TI4 (quarantined) -> person 2
    store.load_batch(build_batch(run_id="run-f0", source="f0", delivery="f0.csv", input_file="f0.csv",
                                 input_sha256="cd" * 32, run_date="2024-06-01",
                                 rows=extract("f0", {"F1": "001090000003", "F2": "001090000002"})))  # fmt: skip
    later = pd.Timestamp("2024-05-01")
    update = register(
        {**PEOPLE[0], "full_name": "Nguyễn Văn Ân", "updated_at": later},  # identity change
        {**PEOPLE[1], "phone": "0987654321", "updated_at": later},  # not identity
        {**PEOPLE[2], "death_date": pd.Timestamp("2024-04-02"), "updated_at": later},
        {"person_id": "079095000004", "full_name": "Lê Thị Dung"},  # new person
    )
    stats = store.load_register(update, {"run_id": "reg-2", "input_sha256": "ef" * 32})
    assert {
        k: stats[k]
        for k in ("inserted", "updated", "unchanged", "history_rows", "deaths", "needs_recheck")
    } == {  # fmt: skip
        "inserted": 1,
        "updated": 3,
        "unchanged": 0,
        "history_rows": 3,
        "deaths": 1,
        "needs_recheck": 2,
    }
    assert sorted(
        query(store, "SELECT so_dinh_danh, field, old_value, new_value, run_id FROM person_history")
    ) == [  # fmt: skip
        ("001090000001", "ho_ten", "Nguyễn Văn An", "Nguyễn Văn Ân", "reg-2"),
        ("001090000002", "so_dien_thoai", "0912345678", "0987654321", "reg-2"),
        ("001090000003", "ngay_mat", None, "2024-04-02", "reg-2"),
    ]
    assert query(store, "SELECT ho_ten FROM person WHERE so_dinh_danh = '001090000001'") == [
        ("Nguyễn Văn Ân",)]  # fmt: skip
    flagged = query(store, "SELECT record_id FROM link WHERE needs_recheck ORDER BY 1")
    assert flagged == [("F1",), ("TI1",)]  # person 2's phone change flags nothing

    stale = register({**PEOPLE[0], "full_name": "Nguyễn Văn Cũ"})  # older ngay_cap_nhat
    assert store.load_register(stale)["unchanged"] == 1
    assert store.load_register(update, {"input_sha256": "ef" * 32})["skipped"] is True
    assert query(store, "SELECT count(*) FROM person_history") == [(3,)]

    store.load_batch(sample_batch("run-3"))  # the next run re-links: the flag is cleared
    assert query(store, "SELECT record_id FROM link WHERE needs_recheck") == [("F1",)]


def test_build_batch_puts_every_row_in_one_outcome():
    batch = sample_batch()
    assert batch.rows_read == 4
    assert list(batch.rows["record_id"]) == ["TI1", "TI2"]
    assert list(batch.review["record_id"]) == ["TI3"]
    assert list(batch.quarantine["rules"]) == ["date_future;event_after_death"]


def test_connect_defaults_to_a_sqlite_file_under_the_workdir(tmp_path, monkeypatch):
    monkeypatch.delenv("POPSYNC_DATABASE_URL", raising=False)
    with Resources.from_environment(workdir=tmp_path / "work").warehouse() as store:
        assert store.backend == "sqlite"
        store.migrate()
    assert (tmp_path / "work" / "popsync.sqlite3").is_file()
    with pytest.raises(UserError, match="unsupported database URL scheme: mysql://"):
        warehouse.connect("mysql://user:secret@host/db")


def test_register_findings_are_stored_with_the_register_load(url):
    findings = pd.DataFrame({
        "source": "dan_cu", "record_id": ["001090000002", None], "stage": "register",
        "rule": ["phone_valid", "register_snapshot_recent"], "pillar": ["dung", "song"],
        "severity": "warn", "observed": ["raw_phone=123", "observed 40"], "reason": "why",
    }).astype("string")  # fmt: skip
    with warehouse.connect(url) as store:
        store.migrate()
        loaded = store.load_register(register(*PEOPLE), {"run_id": "reg-1"}, findings=findings)
        assert loaded["findings"] == 2
        assert sorted(
            query(store, "SELECT source, record_id, stage, rule, run_id FROM quality_finding"),
            key=str,
        ) == [("dan_cu", "001090000002", "register", "phone_valid", "reg-1"),
              ("dan_cu", None, "register", "register_snapshot_recent", "reg-1")]  # fmt: skip
        assert store.load_register(register(*PEOPLE), {"run_id": "reg-2"})["findings"] == 0


def test_flagged_rows_are_rechecked_and_changed_links_recorded(store):
    store.load_batch(sample_batch("run-1"))  # TI1 -> person 1 (match), TI2 no_match, TI3 review
    store.load_batch(build_batch(run_id="run-2", source="tiem_chung", delivery="b.csv", input_file="b.csv",
                                 input_sha256="cd" * 32, run_date="2024-06-01",
                                 rows=extract("tiem_chung", {"TX1": "001090000001",
                                                             "TX2": "001090000002"})))  # fmt: skip
    later = pd.Timestamp("2024-05-01")
    store.load_register(register(
        {**PEOPLE[0], "full_name": "Trịnh Quốc Toản", "updated_at": later},  # identity
        {**PEOPLE[1], "address": "9 Phố Mới", "updated_at": later},  # not identity
    ), {"run_id": "reg-2"})  # fmt: skip
    rows = store.rows_to_recheck("tiem_chung")
    assert list(rows["record_id"]) == ["TI1", "TX1"]  # TX2's person only moved house
    assert list(rows["decision"]) == ["match", "match"]
    assert list(rows["run_id"]) == ["run-1", "run-2"]
    assert rows["birth_date"].tolist() == [pd.Timestamp("1990-05-01")] * 2
    assert store.rows_to_recheck("f0").empty

    decisions = pd.DataFrame({
        "record_id": ["TI1", "TX1"], "so_dinh_danh": [None, "001090000001"],
        "decision": ["review", "match"], "score": [0.6, 0.99],
        "explanation": ['{"pass": "probabilistic"}', '{"pass": "id"}'],
    })  # fmt: skip
    candidates = pd.DataFrame({"record_id": ["TI1", "TX1"], "rank": [1, 1],
                               "so_dinh_danh": ["001090000001", "001090000001"],
                               "score": [0.6, 0.99], "explanation": ['{"b": 1}', "{}"]})  # fmt: skip
    # Linked against a register snapshot older than the last one loaded: nothing is written.
    deferred = store.apply_recheck("tiem_chung", decisions, candidates, "run-3", "reg-1")
    assert deferred == {"rechecked": 0, "changed": 0, "quarantined": 0, "deferred": 2}
    assert len(store.rows_to_recheck("tiem_chung")) == 2

    done = store.apply_recheck("tiem_chung", decisions, candidates, "run-3", "reg-2")
    assert done == {"rechecked": 2, "changed": 1, "quarantined": 0, "deferred": 0}
    assert sorted(query(store, "SELECT record_id, so_dinh_danh, decision, score, run_id "
                               "FROM vaccination_dose WHERE record_id IN ('TI1', 'TX1')")) == [
        ("TI1", None, "review", 0.6, "run-1"),
        ("TX1", "001090000001", "match", 0.97, "run-2"),  # unchanged: only the flag goes
    ]  # fmt: skip
    assert query(store, "SELECT count(*) FROM link WHERE needs_recheck") == [(0,)]
    assert query(store, "SELECT record_id, stage, rule, pillar, severity, observed, reason, run_id "
                        "FROM quality_finding WHERE rule = 'link_rechecked'") == [
        ("TI1", "recheck", "link_rechecked", "song", "warn", "match 001******001 -> review",
         "the linked person's identity changed in the register; the link was checked again",
         "run-3"),
    ]  # fmt: skip
    assert query(store, "SELECT record_id, so_dinh_danh, rank, run_id FROM review_candidate "
                        "WHERE record_id IN ('TI1', 'TX1')") == [
        ("TI1", "001090000001", 1, "run-1")]  # fmt: skip
    # TI1 moved from loaded to review: run-1's counts follow; their sum still reconciles.
    assert runs(store)["run-1"][2:6] == (4, 1, 1, 2)
    assert store.reconcile("run-1") == {"rows_loaded": 1, "rows_quarantined": 1, "rows_review": 2}

    assert store.rows_to_recheck("tiem_chung").empty  # the next run has nothing to do
    assert store.apply_recheck("tiem_chung", decisions, candidates, "run-4", "reg-2") == {
        "rechecked": 0, "changed": 0, "quarantined": 0, "deferred": 0}  # fmt: skip
    assert query(store, "SELECT count(*) FROM quality_finding WHERE rule = 'link_rechecked'") == [
        (1,)]  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small generated set whose vaccination extract is split in two files (two batches)."""
    from popsync.generate import generate_dataset

    folder = tmp_path_factory.mktemp("recheck")
    generate_dataset(folder / "set", 150, seed=5, formats="csv")
    doses = pd.read_csv(folder / "set/tiem_chung.csv", dtype=str, keep_default_na=False)
    doses.iloc[0::2].to_csv(folder / "a.csv", index=False)
    doses.iloc[1::2].to_csv(folder / "b.csv", index=False)
    return folder


def test_a_renamed_person_is_rechecked_by_the_next_run(generated, url, tmp_path, capsys):
    workdir = tmp_path / "work"

    def run(extract: str, population) -> dict:
        res = Resources.from_environment(database_url=url, workdir=workdir)
        return pipeline.run_source(res, "tiem_chung", generated / extract, population,
                                   "2023-01-15", echo=True)  # fmt: skip

    def links(store) -> dict[str, tuple]:
        found = query(store, "SELECT record_id, so_dinh_danh, decision, needs_recheck, run_id "
                             "FROM vaccination_dose")  # fmt: skip
        return {r[0]: (r[1], r[2], bool(r[3]), r[4]) for r in found}

    first = run("a.csv", generated / "set/dan_cu.csv")
    assert first["recheck"] == {"rechecked": 0, "changed": 0}
    with warehouse.connect(url) as store:
        before = links(store)
    # The first two matched doses: the person of one is renamed, the other's moves house.
    (record_id, person), (other_record, other) = sorted(
        (r, v[0]) for r, v in before.items() if v[1] == "match"
    )[:2]
    people = pd.read_csv(generated / "set/dan_cu.csv", dtype=str, keep_default_na=False)
    renamed, moved = people["so_dinh_danh"].eq(person), people["so_dinh_danh"].eq(other)
    assert renamed.sum() == moved.sum() == 1 and person != other
    people.loc[renamed, "ho_ten"] = "Trịnh Quốc Toản"  # agrees with nothing in the dose
    people.loc[moved, "dia_chi"] = "Số 9, Phố Mới, Hà Nội"  # not an identity change
    people.loc[renamed | moved, "ngay_cap_nhat"] = "2023-01-10T08:00:00"
    people.to_csv(tmp_path / "dan_cu_2.csv", index=False)
    capsys.readouterr()

    second = run("b.csv", tmp_path / "dan_cu_2.csv")
    recheck = second["recheck"]
    flagged = sorted(r for r, v in before.items() if v[0] == person)
    assert recheck == {"rechecked": len(flagged), "changed": len(flagged)}
    assert f"{len(flagged):,} earlier rows re-checked after register changes: " in (
        capsys.readouterr().out
    )
    with warehouse.connect(url) as store:
        after = links(store)
        findings = query(store, "SELECT record_id, observed, run_id FROM quality_finding "
                                "WHERE rule = 'link_rechecked' ORDER BY record_id")  # fmt: skip
        counts = runs(store)[first["run_id"]]
        assert store.reconcile(first["run_id"])
    assert record_id in flagged and other_record not in flagged
    for rechecked in flagged:
        assert after[rechecked][1] != "match" and after[rechecked][2:] == (False, first["run_id"])
    assert [(r, run_id) for r, _, run_id in findings] == [(r, second["run_id"]) for r in flagged]
    assert all(observed.startswith(f"match {person[:3]}******") for _, observed, _ in findings)
    assert after[other_record] == before[other_record]
    in_review = sum(1 for r in flagged if after[r][1] == "review")
    assert counts[3:6] == (
        first["counts"]["loaded"] - in_review,
        first["counts"]["quarantined"],
        first["counts"]["review"] + in_review,
    )

    third = run("b.csv", tmp_path / "dan_cu_2.csv")  # nothing flagged: nothing to do
    assert third["recheck"] == {"rechecked": 0, "changed": 0}
    assert "re-checked" not in capsys.readouterr().out
    with warehouse.connect(url) as store:
        again = links(store)
        assert {r: again[r] for r in before} == {r: after[r] for r in before}  # first batch's rows
        assert len(query(store, "SELECT 1 FROM quality_finding WHERE rule = 'link_rechecked'")) == (
            len(flagged)
        )


def review_decisions(store) -> list[tuple]:
    return query(store, "SELECT source, record_id, decision, so_dinh_danh, candidates, "
                        "decided_by, note, decided_at, run_id FROM review_decision")  # fmt: skip


def test_the_review_queue_lists_rows_in_review_with_their_candidates(store):
    store.load_batch(sample_batch("run-1"))
    store.load_batch(sample_batch("run-f", source="f0"))
    queue = store.review_queue()
    assert queue[["source", "record_id", "rank", "so_dinh_danh", "score"]].values.tolist() == [
        ["tiem_chung", "TI3", 1, "001090000001", 0.6],
        ["tiem_chung", "TI3", 2, "001090000003", 0.4],
        ["f0", "F03", 1, "001090000001", 0.6],
        ["f0", "F03", 2, "001090000003", 0.4],
    ]  # fmt: skip
    first = queue.iloc[0]
    assert (first["full_name"], first["birth_date"], first["sex"]) == (
        "Nguyễn Văn An", pd.Timestamp("1990-05-01"), "M")  # fmt: skip
    assert list(queue["candidate_name"]) == ["Nguyễn Văn An", "Nguyễn Văn Cường"] * 2
    assert set(store.review_queue("f0")["record_id"]) == {"F03"}
    assert set(store.review_queue(limit=1)["record_id"]) == {"TI3"}
    with pytest.raises(UserError, match="unknown source"):
        store.review_queue("dan_cu")


def test_a_steward_links_a_review_row_to_a_candidate(store):
    store.load_batch(sample_batch("run-1"))
    done = store.decide_review("tiem_chung", "TI3", "001090000003", decided_by="lan",
                               note="same phone at the site")  # fmt: skip
    assert done["decision"] == "match" and done["so_dinh_danh"] == "001090000003"
    assert done["counts"] == {"rows_loaded": 3, "rows_quarantined": 1, "rows_review": 0}
    assert query(store, "SELECT so_dinh_danh, decision, score FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [("001090000003", "match", 0.4)]  # fmt: skip
    assert query(store, "SELECT count(*) FROM review_candidate WHERE record_id = 'TI3'") == [(0,)]
    (audit,) = review_decisions(store)
    assert audit[:4] == ("tiem_chung", "TI3", "match", "001090000003")
    chosen_among = json.loads(audit[4]) if isinstance(audit[4], str) else audit[4]
    assert chosen_among == ["001090000001", "001090000003"]
    assert audit[5:7] == ("lan", "same phone at the site") and audit[7] and audit[8] == "run-1"
    # The run is counted again: the row moved from review to loaded, the sum still holds.
    assert runs(store)["run-1"][2:6] == (4, 3, 1, 0)
    assert store.reconcile("run-1") == {"rows_loaded": 3, "rows_quarantined": 1, "rows_review": 0}
    assert store.review_queue().empty


def test_a_steward_decides_no_match(store):
    store.load_batch(sample_batch("run-1"))
    done = store.decide_review("tiem_chung", "TI3", None, decided_by="lan")
    assert done["decision"] == "no_match" and done["so_dinh_danh"] is None
    assert query(store, "SELECT so_dinh_danh, decision FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [(None, "no_match")]  # fmt: skip
    assert query(store, "SELECT count(*) FROM review_candidate") == [(0,)]
    assert [row[:4] + row[5:7] for row in review_decisions(store)] == [
        ("tiem_chung", "TI3", "no_match", None, "lan", None)]  # fmt: skip
    assert store.reconcile("run-1") == {"rows_loaded": 3, "rows_quarantined": 1, "rows_review": 0}
    assert runs(store)["run-1"][2:6] == (4, 3, 1, 0)


def test_a_decision_outside_the_candidates_or_the_queue_is_refused(store):
    store.load_batch(sample_batch("run-1"))
    before = dump(store)
    # Person 2 is in the register but not a candidate of TI3: the choices are named, masked.
    with pytest.raises(UserError, match=r"candidates are rank 1 001\*{6}001, rank 2 001\*{6}003"):
        store.decide_review("tiem_chung", "TI3", "001090000002", decided_by="lan")
    with pytest.raises(UserError) as refused:
        store.decide_review("tiem_chung", "TI3", "001090000002", decided_by="lan")
    assert "001090000001" not in str(refused.value) and "001090000002" not in str(refused.value)
    with pytest.raises(UserError, match="not waiting for review: its decision is match"):
        store.decide_review("tiem_chung", "TI1", "001090000001", decided_by="lan")
    with pytest.raises(UserError, match="not in the warehouse"):
        store.decide_review("tiem_chung", "TI4", None, decided_by="lan")  # quarantined
    with pytest.raises(UserError, match="who decided"):
        store.decide_review("tiem_chung", "TI3", None, decided_by=" ")
    with pytest.raises(UserError, match="unknown source"):
        store.decide_review("dan_cu", "TI3", None, decided_by="lan")
    assert dump(store) == before and review_decisions(store) == []
    store.decide_review("tiem_chung", "TI3", None, decided_by="lan")
    with pytest.raises(UserError, match="not waiting for review: its decision is no_match"):
        store.decide_review("tiem_chung", "TI3", None, decided_by="lan")
    assert len(review_decisions(store)) == 1
    assert store.reconcile("run-1")["rows_review"] == 0


def test_a_steward_picks_a_candidate_by_its_rank(store):
    store.load_batch(sample_batch("run-1"))
    with pytest.raises(UserError, match="no candidate of rank 3: its ranks are 1, 2"):
        store.decide_review("tiem_chung", "TI3", rank=3, decided_by="lan")
    with pytest.raises(UserError, match="not both"):
        store.decide_review("tiem_chung", "TI3", "001090000003", rank=2, decided_by="lan")
    assert review_decisions(store) == []
    done = store.decide_review("tiem_chung", "TI3", rank=2, decided_by="lan")
    assert (done["decision"], done["so_dinh_danh"]) == ("match", "001090000003")
    assert query(store, "SELECT so_dinh_danh, decision, score FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [("001090000003", "match", 0.4)]  # fmt: skip
    assert [row[:4] for row in review_decisions(store)] == [
        ("tiem_chung", "TI3", "match", "001090000003")]  # fmt: skip


@pytest.mark.parametrize("rerun_id", ["run-1", "run-2"])
def test_a_rerun_keeps_the_stewards_decisions(store, rerun_id):
    first = store.load_batch(sample_batch("run-1"))
    assert first["decisions_reapplied"] == 0
    store.load_batch(sample_batch("run-f", source="f0"))
    store.decide_review("tiem_chung", "TI3", "001090000003", decided_by="lan")
    store.decide_review("f0", "F03", None, decided_by="lan")
    decided = dump(store, drop_run_ids=True)
    for _ in range(2):  # a rerun, and a rerun of the rerun
        again = store.load_batch(sample_batch(rerun_id))
        assert again["decisions_reapplied"] == 1
        assert (again["rows_read"], again["rows_loaded"], again["rows_quarantined"],
                again["rows_review"]) == (4, 3, 1, 0)  # fmt: skip
        assert store.reconcile(rerun_id) == {
            "rows_loaded": 3, "rows_quarantined": 1, "rows_review": 0}  # fmt: skip
        assert runs(store)[rerun_id][0] == "loaded" and runs(store)[rerun_id][2:6] == (4, 3, 1, 0)
        f0 = store.load_batch(sample_batch("run-f", source="f0"))
        assert (f0["decisions_reapplied"], f0["rows_loaded"], f0["rows_review"]) == (1, 3, 0)
        # The same tables as right after the decisions: nothing of the stewards' work lost.
        assert dump(store, drop_run_ids=True) == decided
        assert store.review_queue().empty
    assert query(store, "SELECT record_id, so_dinh_danh, decision, score FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [("TI3", "001090000003", "match", 0.4)]  # fmt: skip
    assert query(store, "SELECT record_id, so_dinh_danh, decision FROM f0_case "
                        "WHERE record_id = 'F03'") == [("F03", None, "no_match")]  # fmt: skip
    assert len(review_decisions(store)) == 2  # the audit: one row per decision, none added
    if rerun_id == "run-2":
        assert runs(store)["run-1"][:2] == ("replaced", "run-2")


def test_a_match_decision_whose_person_is_no_longer_a_candidate_stays_in_review(store):
    store.load_batch(sample_batch("run-1"))
    store.decide_review("tiem_chung", "TI3", "001090000003", decided_by="lan")
    # The linker now offers persons 1 and 2 for TI3: the steward's choice is not among them.
    changed = sample_batch("run-2")
    changed.candidates = changed.candidates.assign(so_dinh_danh=["001090000001", "001090000002"])
    result = store.load_batch(changed)
    assert (result["decisions_reapplied"], result["rows_loaded"], result["rows_review"]) == (
        0, 2, 1)  # fmt: skip
    assert store.reconcile("run-2") == {"rows_loaded": 2, "rows_quarantined": 1, "rows_review": 1}
    assert runs(store)["run-2"][2:6] == (4, 2, 1, 1)
    assert query(store, "SELECT so_dinh_danh, decision FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [(None, "review")]  # fmt: skip
    assert query(store, "SELECT rank, so_dinh_danh FROM review_candidate "
                        "WHERE record_id = 'TI3' ORDER BY rank") == [
        (1, "001090000001"), (2, "001090000002")]  # fmt: skip
    # Decided again, the latest decision is the one a later rerun applies.
    store.decide_review("tiem_chung", "TI3", rank=2, decided_by="minh")
    result = store.load_batch(changed)
    assert (result["decisions_reapplied"], result["rows_loaded"], result["rows_review"]) == (
        1, 3, 0)  # fmt: skip
    assert query(store, "SELECT so_dinh_danh, decision FROM vaccination_dose "
                        "WHERE record_id = 'TI3'") == [("001090000002", "match")]  # fmt: skip
    assert query(store, "SELECT count(*) FROM review_candidate") == [(0,)]
    assert len(review_decisions(store)) == 2
