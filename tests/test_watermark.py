"""Pulling a table of a source database (PostgreSQL) by a watermark column: all rows first, then
only the rows changed or added since, updated rows replacing their earlier version; the watermark
advances only with the load's commit, so a failed load pulls the same rows again. Into
PostgreSQL and into the embedded database."""

from __future__ import annotations

import datetime as dt

import psycopg2
import pytest
from pull_helpers import REGISTER, SAMPLES, ledger, quarantined, resources, table_rows

from popsync import pull
from transforms.readers import read_source

RUN_DATE = dt.date(2023, 1, 15)
TABLE = "source_sys.f0_cases"
DELIVERY = "table:source_sys.f0_cases"
T0 = dt.datetime(2023, 1, 14, 8, 0, tzinfo=dt.UTC)
COLUMNS = ("record_id", "full_name", "birth_date", "sex", "id_number", "phone", "address",
           "positive_date", "test_type", "recovery_date", "treatment_place")  # fmt: skip


INSERT_CASE = (
    "INSERT INTO source_sys.f0_cases VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _sample_cases() -> list[dict]:
    """F0 rows of the sample set whose positive date is a clean dd/mm/yyyy (stored as a date),
    the newest first (the F0 suite blocks an extract whose newest case is stale)."""
    raw = read_source(SAMPLES / "f0.csv", "f0")
    cases = []
    for row in raw[list(COLUMNS)].to_dict("records"):
        try:
            row["positive_date"] = dt.datetime.strptime(row["positive_date"], "%d/%m/%Y").date()
        except (TypeError, ValueError):
            continue
        cases.append(row)
    return sorted(cases, key=lambda c: c["positive_date"], reverse=True)  # the newest first


def _source_table(url: str, cases: list[dict]) -> None:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA source_sys")
        cur.execute(
            "CREATE TABLE source_sys.f0_cases (record_id text PRIMARY KEY, full_name text, "
            "birth_date text, sex text, id_number text, phone text, address text, "
            "positive_date date, test_type text, recovery_date text, treatment_place text, "
            "updated_at timestamptz NOT NULL)"
        )
        _insert(cur, cases, T0)


def _insert(cur, cases: list[dict], at: dt.datetime) -> None:
    for i, case in enumerate(cases):
        cur.execute(
            INSERT_CASE,
            (*[case[c] for c in COLUMNS], at + dt.timedelta(seconds=i)),
        )


def _settings(res, url: str) -> pull.PullSettings:
    return pull.PullSettings(spec=res.catalog["f0"], table=TABLE, table_url=url)


def _stored(res) -> dict[str, str]:
    """record id -> run id of every stored f0 row of the table's delivery, quarantined too."""
    with res.warehouse() as store:
        found = store.fetch("SELECT record_id, run_id FROM f0_case WHERE delivery = %s "
                            "UNION ALL SELECT record_id, run_id FROM quarantine "
                            "WHERE delivery = %s", (DELIVERY, DELIVERY))  # fmt: skip
    return dict(found)


@pytest.mark.parametrize("warehouse", ["postgresql", "sqlite"])
def test_a_table_is_pulled_by_its_watermark_and_updates_replace(tmp_path, pg_url, warehouse):
    cases = _sample_cases()
    _source_table(pg_url, cases[:60])
    res = resources(tmp_path, pg_url if warehouse == "postgresql" else None)
    config = _settings(res, pg_url)

    first = pull.pull_source(res, config, REGISTER, run_date=RUN_DATE)
    assert [(o["delivery"], o["outcome"], o["rows"]["read"]) for o in first] == [
        (DELIVERY, "loaded", 60)
    ]
    assert set(_stored(res)) == {c["record_id"] for c in cases[:60]}
    highest = (T0 + dt.timedelta(seconds=59)).isoformat()
    with res.warehouse() as store:
        assert store.committed_watermark("f0", DELIVERY) == ("updated_at", highest)
    assert pull.pending(res, config) == []

    later = T0 + dt.timedelta(hours=5)
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        loaded = {r for _, r in table_rows(res, "f0_case")}  # (quarantined rows are not)
        changed = [c["record_id"] for c in cases[:60] if c["record_id"] in loaded][:3]
        cur.execute("UPDATE source_sys.f0_cases SET test_type = 'RT-PCR', updated_at = %s "
                    "WHERE record_id = ANY(%s)", (later, changed))  # fmt: skip
        _insert(cur, cases[60:64], later + dt.timedelta(minutes=1))
    (item,) = pull.pending(res, config)
    assert (item.mode, item.watermark_from) == ("upsert", highest)
    second = pull.pull_source(res, config, REGISTER, run_date=RUN_DATE)
    assert [(o["outcome"], o["rows"]["read"]) for o in second] == [("loaded", 7)]
    stored = _stored(res)
    assert set(stored) == {c["record_id"] for c in cases[:64]}  # updated rows replaced, not added
    assert {r for r, run in stored.items() if run == second[0]["run_id"]} == {
        *changed, *(c["record_id"] for c in cases[60:64])
    }  # fmt: skip
    with res.warehouse() as store:
        assert store.fetch("SELECT status, rows_read, rows_moved FROM run WHERE run_id = %s",
                           (first[0]["run_id"],)) == [("loaded", 60, 3)]  # fmt: skip
        store.reconcile(first[0]["run_id"])
        tests = dict(store.fetch("SELECT record_id, test_type FROM f0_case"))
    assert [tests[r] for r in changed if r in tests] == ["RT-PCR"] * len(set(changed) & set(tests))
    assert set(changed) & set(tests)  # the updated version is what is stored
    assert ledger(res, "f0") == [(DELIVERY, 1, "loaded"), (DELIVERY, 2, "loaded")]
    assert pull.pending(res, config) == []


def test_a_failed_load_leaves_the_watermark_and_the_rows_are_pulled_again(tmp_path, pg_url):
    cases = _sample_cases()
    _source_table(pg_url, cases[:30])
    res = resources(tmp_path, pg_url)
    config = _settings(res, pg_url)
    with res.warehouse() as store:
        store.migrate()
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:  # the load's commit fails
        cur.execute(
            "CREATE FUNCTION refuse_load() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'injected: the warehouse refuses the commit'; END $$; "
            "CREATE TRIGGER refuse_load BEFORE INSERT OR UPDATE ON run FOR EACH ROW "
            "WHEN (NEW.status = 'loaded' AND NEW.source = 'f0') EXECUTE FUNCTION refuse_load()"
        )

    (failed,) = pull.pull_source(res, config, REGISTER, run_date=RUN_DATE)
    assert failed["outcome"] == "failed" and "injected" in failed["error"]
    assert _stored(res) == {}
    with res.warehouse() as store:
        assert store.committed_watermark("f0", DELIVERY) is None
        assert store.fetch("SELECT status FROM run WHERE source = 'f0'") == [("failed",)]
    assert ledger(res, "f0") == [(DELIVERY, 1, "failed")]
    (again,) = pull.pending(res, config)
    assert again.watermark_from is None  # the same rows again

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("DROP TRIGGER refuse_load ON run")
        _insert(cur, cases[30:32], T0 + dt.timedelta(hours=1))
    (loaded,) = pull.pull_source(res, config, REGISTER, run_date=RUN_DATE)
    assert (loaded["outcome"], loaded["rows"]["read"]) == ("loaded", 32)
    assert set(_stored(res)) == {c["record_id"] for c in cases[:32]}
    assert not quarantined(res) - {(DELIVERY, r) for r in _stored(res)}
    with res.warehouse() as store:
        assert (
            store.committed_watermark("f0", DELIVERY)[1]
            == (T0 + dt.timedelta(hours=1, seconds=1)).isoformat()
        )
    assert table_rows(res, "f0_case")
