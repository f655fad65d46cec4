"""Pulling a landing area: a local folder and a real SFTP server (OpenSSH's sshd), each file
processed exactly once through the warehouse's ledger; files still being written left for later,
late files taken next time, a corrected re-delivery replacing its batch, and a stated row count
that does not match blocking the file."""

from __future__ import annotations

import json

import pytest
from pull_helpers import (
    REGISTER,
    age,
    bhxh_rows,
    ledger,
    quarantined,
    resources,
    settings,
    table_rows,
    write_extract,
)

from popsync import pull


def _names(outcomes) -> dict[str, str]:
    return {o["delivery"]: o["outcome"] for o in outcomes}


def _stored(res, delivery: str) -> set[str]:
    """Record ids the warehouse holds for a delivery, loaded or quarantined."""
    rows = {r for d, r in table_rows(res) if d == delivery}
    return rows | {r for d, r in quarantined(res) if d == delivery}


def _record_ids(rows) -> set[str]:
    return {f"{row[0]}|{row[9]}" for row in rows}


def test_a_landing_folder_is_pulled_once_and_a_late_file_next_time(tmp_path):
    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    age(write_extract(land / "bhxh_2023-01-16.csv", rows[:60]))
    age(write_extract(land / "bhxh_2023-01-17.csv", rows[60:120]))
    write_extract(land / "bhxh_2023-01-18.csv.part", rows[120:180])  # still being copied
    (land / "readme.txt").write_text("not an extract")
    write_extract(land / "bhxh_2023-02-30.csv", rows[:5])  # no such day: not a delivery name
    res = resources(tmp_path, None)  # the embedded database
    config = settings(res, land)

    first = pull.pull_source(res, config, REGISTER)
    assert _names(first) == {"bhxh_2023-01-16.csv": "loaded", "bhxh_2023-01-17.csv": "loaded"}
    assert first[0]["run_id"] and first[0]["rows"]["read"] == 60
    assert _stored(res, "bhxh_2023-01-16.csv") == _record_ids(rows[:60])
    assert _stored(res, "bhxh_2023-01-17.csv") == _record_ids(rows[60:120])
    assert pull.pending(res, config) == []  # nothing new: nothing pulled, no file read

    (land / "bhxh_2023-01-18.csv.part").rename(land / "bhxh_2023-01-18.csv")
    age(write_extract(land / "bhxh_2023-01-15.csv", rows[180:230]))  # a late file, dated earlier
    second = pull.pull_source(res, config, REGISTER)
    assert _names(second) == {"bhxh_2023-01-15.csv": "loaded", "bhxh_2023-01-18.csv": "loaded"}
    assert [o["delivery"] for o in second] == ["bhxh_2023-01-15.csv", "bhxh_2023-01-18.csv"]
    assert _stored(res, "bhxh_2023-01-15.csv") == _record_ids(rows[180:230])
    assert {d for d, _, s in ledger(res) if s == "loaded"} == {
        "bhxh_2023-01-15.csv", "bhxh_2023-01-16.csv", "bhxh_2023-01-17.csv", "bhxh_2023-01-18.csv"
    }  # fmt: skip
    assert pull.pending(res, config) == []


def test_sftp_landing_takes_only_new_and_changed_files_and_a_redelivery_replaces(
    tmp_path, pg_url, sftp_server
):
    _, rows = bhxh_rows()
    land = tmp_path / "outgoing"
    age(write_extract(land / "bhxh_2023-01-15.csv", rows[:50]))
    age(write_extract(land / "bhxh_2023-01-16.csv", rows[50:110]))
    res = resources(tmp_path, pg_url)
    config = settings(res, sftp_server.url(land), landing_options=sftp_server.options)

    items = pull.pending(res, config)
    assert [i.delivery for i in items] == ["bhxh_2023-01-15.csv", "bhxh_2023-01-16.csv"]
    assert all(i.location.startswith("sftp://") and i.key is None for i in items)
    assert pull.PullItem.from_dict(json.loads(json.dumps(items[0].to_dict()))) == items[0]
    first = pull.pull_source(res, config, REGISTER)
    assert _names(first) == {"bhxh_2023-01-15.csv": "loaded", "bhxh_2023-01-16.csv": "loaded"}
    old_run = first[1]["run_id"]

    corrected = rows[50:90] + rows[300:310]  # 20 rows withdrawn, 10 added
    age(write_extract(land / "bhxh_2023-01-16.csv", corrected), 30)
    age(write_extract(land / "bhxh_2023-01-17.csv", rows[110:150]))
    (land / "bhxh_2023-01-15.csv").touch()  # touched, same content
    second = pull.pull_source(res, config, REGISTER)
    assert _names(second) == {
        "bhxh_2023-01-15.csv": "done", "bhxh_2023-01-16.csv": "loaded",
        "bhxh_2023-01-17.csv": "loaded",
    }  # fmt: skip
    assert _stored(res, "bhxh_2023-01-16.csv") == _record_ids(corrected)
    assert _stored(res, "bhxh_2023-01-17.csv") == _record_ids(rows[110:150])
    assert ledger(res) == [
        ("bhxh_2023-01-15.csv", 1, "loaded"),
        ("bhxh_2023-01-16.csv", 1, "superseded"),
        ("bhxh_2023-01-16.csv", 2, "loaded"),
        ("bhxh_2023-01-17.csv", 1, "loaded"),
    ]
    with res.warehouse() as store:
        assert store.fetch("SELECT status, replaced_by FROM run WHERE run_id = %s",
                           (old_run,)) == [("superseded", second[1]["run_id"])]  # fmt: skip
        store.reconcile(old_run)
    assert pull.pending(res, config) == []  # the touched file is known as it is now


def test_a_file_being_written_is_left_until_it_settles(tmp_path):
    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    growing = write_extract(land / "bhxh_2023-01-16.csv", rows[:30])
    res = resources(tmp_path, None)
    config = settings(res, land, settle_seconds=0.2)
    waited = []

    def writer_still_appending(seconds):
        waited.append(seconds)
        with open(growing, "a", encoding="utf-8") as handle:
            handle.write(",".join(rows[30]) + "\n")

    assert pull.pending(res, config, sleep=writer_still_appending) == []
    assert waited == [0.2]
    items = pull.pending(res, config)  # the writer is done: the same size over the settle time
    assert [(i.delivery, i.size) for i in items] == [
        ("bhxh_2023-01-16.csv", growing.stat().st_size)
    ]


def test_a_stated_row_count_that_does_not_match_blocks_the_file(tmp_path, pg_url):
    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    age(write_extract(land / "bhxh_2023-01-16.csv", rows[:40], count=43))  # 3 rows lost
    age(write_extract(land / "bhxh_2023-01-17.csv", rows[40:80]))
    (land / "bhxh_2023-01-17.csv.json").write_text(json.dumps({"rows": 40}))
    age(write_extract(land / "bhxh_2023-01-18.csv", rows[80:90]))
    (land / "bhxh_2023-01-18.csv.count").write_text("about ten")
    res = resources(tmp_path, pg_url)
    config = settings(res, land)

    outcomes = {o["delivery"]: o for o in pull.pull_source(res, config, REGISTER)}
    assert {d: o["outcome"] for d, o in outcomes.items()} == {
        "bhxh_2023-01-16.csv": "blocked", "bhxh_2023-01-17.csv": "loaded",
        "bhxh_2023-01-18.csv": "blocked",
    }  # fmt: skip
    assert "states 43 rows but 40 were read" in outcomes["bhxh_2023-01-16.csv"]["error"]
    assert "states no row count" in outcomes["bhxh_2023-01-18.csv"]["error"]
    assert outcomes["bhxh_2023-01-16.csv"]["report"].endswith("report.html")
    assert _stored(res, "bhxh_2023-01-16.csv") == set()  # nothing of it loaded
    assert _stored(res, "bhxh_2023-01-18.csv") == set()
    with res.warehouse() as store:
        blocked = store.fetch("SELECT delivery, status, rows_read, rows_loaded, error FROM run "
                              "WHERE status <> 'loaded' ORDER BY delivery")  # fmt: skip
    assert [row[:4] for row in blocked] == [
        ("bhxh_2023-01-16.csv", "blocked", 40, 0), ("bhxh_2023-01-18.csv", "blocked", 10, 0)
    ]  # fmt: skip
    assert "states 43 rows but 40 were read" in blocked[0][4]
    assert ("bhxh_2023-01-16.csv", 1, "blocked") in ledger(res)
    assert pull.pending(res, config) == []  # a blocked file is not tried again as it is

    (land / "bhxh_2023-01-18.csv.count").write_text("10")  # its sidecar corrected
    assert _names(pull.pull_source(res, config, REGISTER)) == {"bhxh_2023-01-18.csv": "loaded"}
    assert _stored(res, "bhxh_2023-01-18.csv") == _record_ids(rows[80:90])

    age(write_extract(land / "bhxh_2023-01-16.csv", rows[:43], count=43), 30)  # re-sent whole
    again = pull.pull_source(res, config, REGISTER)
    assert _names(again) == {"bhxh_2023-01-16.csv": "loaded"}
    assert _stored(res, "bhxh_2023-01-16.csv") == _record_ids(rows[:43])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_pulled_warehouse_equals_a_run_of_the_same_file(tmp_path, backend, request):
    from popsync import pipeline

    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    extract = write_extract(land / "bhxh_2023-01-16.csv", rows[:150])
    age(extract)
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    pulled = resources(tmp_path / "pulled", url)
    ran = resources(tmp_path / "ran", None)
    assert _names(pull.pull_source(pulled, settings(pulled, land), REGISTER)) == {
        extract.name: "loaded"
    }
    pipeline.run_source(ran, "bhxh", extract, REGISTER, run_date="2023-01-16")

    def value(name, v):
        """Where a row came from is the pulled copy or the file itself: the rest must agree."""
        if name == "row_data":
            data = json.loads(v) if isinstance(v, str) else dict(v)
            return json.dumps({k: x for k, x in data.items() if k != "src_file"}, sort_keys=True)
        return str(v)

    def content(res):
        skip = {"run_id", "src_file"}
        with res.warehouse() as store:
            out = {}
            for table in ("social_insurance_period", "quarantine", "quality_finding"):
                with store._transaction() as cur:
                    cur.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed names)
                    names = [d[0] for d in cur.description]
                    out[table] = sorted(
                        (tuple(value(n, v) for n, v in zip(names, row, strict=True) if n not in skip)
                         for row in cur.fetchall()), key=repr,
                    )  # fmt: skip
            return out

    expected, got = content(ran), content(pulled)
    assert len(got["social_insurance_period"]) + len(got["quarantine"]) == 150
    if backend == "sqlite":
        assert got == expected
    else:  # the same rows; the two databases print their types their own way
        assert {k: len(v) for k, v in got.items()} == {k: len(v) for k, v in expected.items()}
        assert table_rows(pulled) == table_rows(ran)


def test_a_block_by_the_registers_gate_leaves_the_file_to_be_pulled_again(tmp_path):
    """A register too old for the file's date blocks the batch, but the file is not at fault:
    the ledger keeps it to be taken again (with a fresh register, or a run date that fits)."""
    import datetime as dt

    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    age(write_extract(land / "bhxh_2023-09-01.csv", rows[:60]))
    res = resources(tmp_path, None)
    config = settings(res, land)

    (blocked,) = pull.pull_source(res, config, REGISTER)
    assert blocked["outcome"] == "blocked"
    assert "register_snapshot_not_stale" in blocked["error"]
    with res.warehouse() as store:
        assert store.fetch("SELECT status, error FROM run WHERE source = 'bhxh'")[0][0] == "blocked"
    assert ledger(res) == [("bhxh_2023-09-01.csv", 1, "failed")]
    assert [i.delivery for i in pull.pending(res, config)] == ["bhxh_2023-09-01.csv"]

    (loaded,) = pull.pull_source(res, config, REGISTER, run_date=dt.date(2023, 1, 16))
    assert loaded["outcome"] == "loaded", loaded.get("error")
    assert ledger(res) == [("bhxh_2023-09-01.csv", 1, "loaded")]
