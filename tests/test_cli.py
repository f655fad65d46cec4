"""The command line as a user runs it, on the committed sample set (embedded database)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from popsync.cli import main
from popsync.core.privacy import mask_id, mask_name

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
FILES = {source: SAMPLES / entry["file"] for source, entry in MANIFEST["sources"].items()}


def _invoke(*args: str):
    """Run the CLI as a user would, with no warehouse configured (the embedded default)."""
    runner = CliRunner(env={"POPSYNC_DATABASE_URL": None})
    return runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory):
    """`popsync run all --samples data_samples/` into a fresh embedded database."""
    workdir = tmp_path_factory.mktemp("run")
    result = _invoke("run", "all", "--samples", str(SAMPLES), "--workdir", str(workdir))
    assert result.exit_code == 0, result.output
    return workdir, result.output


def _table_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


def test_run_all_reconciles_every_source(samples_run):
    workdir, output = samples_run
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        runs = db.execute(
            "SELECT source, status, rows_read, rows_loaded, rows_quarantined, rows_review FROM run WHERE source <> 'dan_cu'"
        ).fetchall()
    assert {r[0] for r in runs} == {"tiem_chung", "f0", "bhxh"}
    for source, status, read, loaded, quarantined, review in runs:
        assert status == "loaded"
        assert read == MANIFEST["sources"][source]["rows"]
        assert read == loaded + quarantined + review
        assert f"{source}: {read:,} rows read = {loaded:,} loaded" in output
    for source in ("tiem_chung", "f0", "bhxh"):
        reports = list((workdir / "batches" / source).glob("*/report.html"))
        assert len(reports) == 1
        page = reports[0].read_text(encoding="utf-8")
        assert "<svg" in page and "Bốn trụ cột" in page and "Đã liên kết" in page


def test_the_register_is_validated_once_and_its_findings_loaded(samples_run):
    workdir, _ = samples_run
    findings = list((workdir / "register").glob("*.findings.parquet"))
    assert len(findings) == 1
    frame = pd.read_parquet(findings[0])
    assert set(frame["stage"]) <= {"register"} and set(frame["severity"]) <= {"warn"}
    scores = json.loads(
        findings[0]
        .with_name(findings[0].name.replace(".findings.parquet", ".scores.json"))
        .read_text()
    )
    assert scores["run_date"] == MANIFEST["extract_date"] and scores["blocked"] == []
    summaries = [json.loads(p.read_text()) for p in workdir.glob("batches/*/*/summary.json")]
    assert len(summaries) == 3  # one per extract: the next line cannot pass on none
    assert all(s["register_scores"]["stage"] == "register" for s in summaries)
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        stored = db.execute(
            "SELECT count(*), count(DISTINCT f.run_id) FROM quality_finding f "
            "JOIN run r ON r.run_id = f.run_id WHERE f.source = 'dan_cu' AND r.source = 'dan_cu'"
        ).fetchone()
    assert stored == (len(frame), 1 if len(frame) else 0)


def test_a_register_with_duplicated_ids_blocks_the_run(tmp_path):
    register = pd.read_csv(FILES["dan_cu"], dtype=str)
    path = tmp_path / "dan_cu_dup.csv"
    pd.concat([register, register.head(2)]).to_csv(path, index=False)
    workdir = tmp_path / "work"
    result = _invoke(
        "run", "f0", "--input", str(FILES["f0"]), "--population", str(path),
        "--date", MANIFEST["extract_date"], "--workdir", str(workdir),
    )  # fmt: skip
    assert result.exit_code == 3  # blocked by a quality rule
    assert "person_id_unique (4 rows)" in result.output
    assert register["so_dinh_danh"].iloc[0] not in result.output
    assert list((workdir / "register").glob("*.findings.parquet"))
    assert not list((workdir / "register").glob("*[0-9a-f].parquet"))  # not cached as usable


def test_rerun_of_the_same_batches_leaves_the_same_state(samples_run):
    workdir, _ = samples_run
    before = _table_counts(workdir / "popsync.sqlite3")
    result = _invoke("run", "all", "--samples", str(SAMPLES), "--workdir", str(workdir))
    assert result.exit_code == 0, result.output
    after = _table_counts(workdir / "popsync.sqlite3")
    logs = ("run", "status_refresh")  # one row per run, per status refresh: they grow
    assert {t: n for t, n in after.items() if t not in logs} == {
        t: n for t, n in before.items() if t not in logs
    }
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        statuses = db.execute(
            "SELECT status, count(*) FROM run WHERE source <> 'dan_cu' GROUP BY status"
        ).fetchall()
    assert dict(statuses) == {"loaded": 3, "replaced": 3}


def test_reports_and_terminal_output_mask_personal_data(samples_run):
    workdir, output = samples_run
    register = pd.read_csv(FILES["dan_cu"], dtype=str)
    pages = "".join(p.read_text(encoding="utf-8") for p in workdir.glob("batches/*/*/report.html"))
    for person_id in register["so_dinh_danh"].head(200):
        assert person_id not in pages
        assert person_id not in output


def test_match_writes_one_row_per_extract_row(tmp_path):
    out = tmp_path / "links.csv"
    result = _invoke(
        "match",
        "--population",
        str(FILES["dan_cu"]),
        "--extract",
        str(FILES["f0"]),
        "--source",
        "f0",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "candidate pairs by blocking rule: id_exact" in result.output
    links = pd.read_csv(out, dtype={"so_dinh_danh": str, "record_id": str})
    assert len(links) == MANIFEST["sources"]["f0"]["rows"]
    assert list(links.columns[:5]) == [
        "record_id",
        "so_dinh_danh",
        "decision",
        "score",
        "explanation",
    ]
    assert set(links["decision"]) <= {"match", "review", "no_match"}
    assert links["score"].between(0, 1).all()
    assert links.loc[links["decision"] != "match", "so_dinh_danh"].isna().all()


def test_match_on_an_empty_extract_writes_an_empty_output(tmp_path):
    empty = tmp_path / "f0_empty.csv"
    header = pd.read_csv(FILES["f0"], sep=";", encoding="cp1258", nrows=0)
    header.to_csv(empty, index=False)
    out = tmp_path / "links.parquet"
    result = _invoke(
        "match", "--population", str(FILES["dan_cu"]), "--extract", str(empty),
        "--source", "f0", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 0


def test_a_register_with_duplicated_ids_stops_with_a_clear_error(tmp_path):
    register = pd.read_csv(FILES["dan_cu"], dtype=str)
    duplicated = pd.concat([register, register.head(2)])
    path = tmp_path / "dan_cu_dup.csv"
    duplicated.to_csv(path, index=False)
    result = _invoke(
        "match", "--population", str(path), "--extract", str(FILES["f0"]),
        "--source", "f0", "--out", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "duplicate" in result.output.lower()
    assert register["so_dinh_danh"].iloc[0] not in result.output  # masked


def test_an_unreadable_file_names_the_file(tmp_path):
    broken = tmp_path / "tiem_chung.xlsx"
    broken.write_bytes(b"this is not a spreadsheet")
    result = _invoke(
        "standardize", "--source", "tiem_chung", "--input", str(broken),
        "--out", str(tmp_path / "out.parquet"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert str(broken) in result.output


def test_validate_writes_findings_scores_and_data_docs(tmp_path):
    result = _invoke(
        "validate", "--source", "bhxh", "--input", str(FILES["bhxh"]),
        "--population", str(FILES["dan_cu"]), "--out", str(tmp_path), "--date", "2023-01-15",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "findings.parquet").exists() and (tmp_path / "findings.csv").exists()
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores
    assert (tmp_path / "data_docs" / "index.html").exists() or list(
        (tmp_path / "data_docs").rglob("index.html")
    )
    assert "Đúng" in result.output


def test_generate_is_deterministic(tmp_path):
    for name in ("a", "b"):
        result = _invoke(
            "generate", "--people", "200", "--seed", "3", "--out", str(tmp_path / name),
            "--formats", "csv",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    for path in (tmp_path / "a").rglob("*.csv"):
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == twin.read_bytes(), path.name


def test_rows_without_or_with_a_repeated_record_id_are_quarantined_not_lost(tmp_path):
    from popsync.generate import generate_dataset

    generate_dataset(tmp_path / "set", 150, seed=5, formats="csv")
    extract = pd.read_csv(tmp_path / "set/tiem_chung.csv", dtype=str, keep_default_na=False)
    first_id = extract.loc[0, "Mã bản ghi"]
    extract.loc[1, "Mã bản ghi"] = first_id
    extract.loc[2, "Mã bản ghi"] = ""
    extract.to_csv(tmp_path / "tiem_chung.csv", index=False)
    workdir = tmp_path / "work"
    result = _invoke(
        "run", "tiem_chung", "--input", str(tmp_path / "tiem_chung.csv"),
        "--population", str(tmp_path / "set/dan_cu.csv"), "--date", "2023-01-15",
        "--workdir", str(workdir),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        read, loaded, quarantined, review = db.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, rows_review FROM run "
            "WHERE source = 'tiem_chung'"
        ).fetchone()
        held = dict(db.execute("SELECT record_id, rules FROM quarantine").fetchall())
    assert read == len(extract) == loaded + quarantined + review
    # under keys from their content (transforms.row_keys), not their line numbers
    keys = {key.split("~")[0]: key for key in held if "~" in key}
    assert set(keys) == {first_id, ""}
    assert re.fullmatch(r"~[a-z]{12}", keys[""])
    assert re.fullmatch(r"~[a-z]{12}", keys[first_id].removeprefix(first_id))
    assert "record_id_unique" in held[keys[first_id]] and "record_id_unique" in held[first_id]
    assert "record_id_present" in held[keys[""]]


def _copy_run_database(samples_run, tmp_path: Path) -> None:
    """A copy of the run's database in ``tmp_path``: the other tests keep the state `run all`
    left."""
    workdir, _ = samples_run
    with (
        sqlite3.connect(workdir / "popsync.sqlite3") as db,
        sqlite3.connect(tmp_path / "popsync.sqlite3") as copy,
    ):
        db.backup(copy)


def test_a_steward_lists_the_review_queue_masked_and_decides_a_row(samples_run, tmp_path):
    _copy_run_database(samples_run, tmp_path)
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        (waiting,) = db.execute(
            "SELECT count(*) FROM link WHERE source = 'tiem_chung' AND decision = 'review'"
        ).fetchone()
    listed = _invoke("review", "list", "--source", "tiem_chung", "--workdir", str(tmp_path))
    assert listed.exit_code == 0, listed.output
    assert waiting >= 2 and f"{waiting} rows waiting for review" in listed.output
    assert not re.search(r"\d{12}", listed.output)  # so_dinh_danh masked
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        record_id, person, name, run_id = db.execute(
            "SELECT c.record_id, c.so_dinh_danh, v.full_name, v.run_id FROM review_candidate c "
            "JOIN vaccination_dose v ON v.source = c.source AND v.record_id = c.record_id "
            "WHERE c.rank = 1 ORDER BY c.record_id LIMIT 1"
        ).fetchone()
    assert record_id in listed.output and mask_id(person) in listed.output
    assert name not in listed.output and mask_name(name) in listed.output

    decided = _invoke(
        "review", "decide", "--source", "tiem_chung", "--record-id", record_id,
        "--so-dinh-danh", person, "--by", "Lan (steward)", "--note", "same site",
        "--workdir", str(tmp_path),
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert decided.output.strip() == (
        f"tiem_chung {record_id}: review -> match {mask_id(person)}, decided by Lan (steward)"
    )
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        assert db.execute(
            "SELECT decision, so_dinh_danh FROM vaccination_dose WHERE record_id = ?", (record_id,)
        ).fetchone() == ("match", person)
        assert db.execute("SELECT record_id, decided_by, note FROM review_decision").fetchall() == [
            (record_id, "Lan (steward)", "same site")
        ]
        read, loaded, quarantined, review = db.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, rows_review FROM run "
            "WHERE run_id = ?",
            (run_id,),
        ).fetchone()
    assert review == waiting - 1 and read == loaded + quarantined + review

    again = _invoke(
        "review", "decide", "--source", "tiem_chung", "--record-id", record_id, "--no-match",
        "--by", "Lan", "--workdir", str(tmp_path),
    )  # fmt: skip
    assert again.exit_code == 2 and "not waiting for review" in again.output
    relisted = _invoke("review", "list", "--workdir", str(tmp_path))
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        (everywhere,) = db.execute("SELECT count(*) FROM link WHERE decision = 'review'").fetchone()
    assert f"{everywhere} rows waiting for review" in relisted.output
    assert record_id not in relisted.output


def test_a_steward_decides_by_rank_and_a_rerun_keeps_the_decision(samples_run, tmp_path):
    _copy_run_database(samples_run, tmp_path)
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        (waiting,) = db.execute(
            "SELECT count(*) FROM link WHERE source = 'tiem_chung' AND decision = 'review'"
        ).fetchone()
        record_id, person = db.execute(
            "SELECT record_id, so_dinh_danh FROM review_candidate "
            "WHERE source = 'tiem_chung' AND rank = 2 ORDER BY record_id LIMIT 1"
        ).fetchone()

    def decide(*options: str):
        return _invoke("review", "decide", "--source", "tiem_chung", "--record-id", record_id,
                       *options, "--by", "Lan", "--workdir", str(tmp_path))  # fmt: skip

    for options in [(), ("--rank", "2", "--no-match"), ("--rank", "2", "--so-dinh-danh", person)]:
        refused = decide(*options)
        assert refused.exit_code == 2 and "exactly one of" in refused.output
    missing = decide("--rank", "99")
    assert missing.exit_code == 2 and "no candidate of rank 99" in missing.output
    decided = decide("--rank", "2")
    assert decided.exit_code == 0, decided.output
    assert decided.output.strip() == (
        f"tiem_chung {record_id}: review -> match {mask_id(person)}, decided by Lan"
    )
    assert person not in decided.output  # the full ID never shown

    # The operator reruns the same extract: the steward's decision is applied again.
    rerun = _invoke(
        "run", "tiem_chung", "--input", str(FILES["tiem_chung"]),
        "--population", str(SAMPLES / "dan_cu.csv"), "--date", MANIFEST["extract_date"],
        "--workdir", str(tmp_path),
    )  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    with sqlite3.connect(tmp_path / "popsync.sqlite3") as db:
        assert db.execute(
            "SELECT decision, so_dinh_danh FROM vaccination_dose WHERE record_id = ?", (record_id,)
        ).fetchone() == ("match", person)
        read, loaded, quarantined, review = db.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, rows_review FROM run "
            "WHERE source = 'tiem_chung' AND status = 'loaded'"
        ).fetchone()
    assert read == loaded + quarantined + review and review == waiting - 1
