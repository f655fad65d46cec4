"""The stewards' queue from the command line (issue 12): the list says how many rows wait, shows
each row's own declared ID (masked) and which fields agree with each candidate; a masked ID as
printed can be passed back; a decision can be undone, and both are audited."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, copy_workdir

from popsync.cli import main
from popsync.core.privacy import mask_id

EXTRACT_DATE = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))["extract_date"]


def _invoke(*args: str):
    return CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(
        main, list(args), catch_exceptions=False
    )


@pytest.fixture
def workdir(samples_workdir, tmp_path):
    return copy_workdir(samples_workdir, tmp_path / "work")


def _query(workdir, sql: str, params=()):
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def test_the_header_counts_every_row_waiting_not_the_rows_shown(workdir):
    ((waiting,),) = _query(
        workdir,
        "SELECT (SELECT count(*) FROM vaccination_dose WHERE decision = 'review') "
        "+ (SELECT count(*) FROM f0_case WHERE decision = 'review') "
        "+ (SELECT count(*) FROM social_insurance_period WHERE decision = 'review')",
    )
    assert waiting > 2
    listed = _invoke("review", "list", "--limit", "2", "--workdir", str(workdir))
    assert listed.exit_code == 0, listed.output
    assert f"{waiting} rows waiting for review" in listed.output
    assert "showing 1-2" in listed.output


def test_the_list_shows_the_declared_id_masked_and_which_fields_agree(workdir):
    (record_id, declared), *_ = _query(
        workdir,
        "SELECT record_id, id_number FROM vaccination_dose WHERE decision = 'review' "
        "AND id_number IS NOT NULL ORDER BY record_id",
    )
    listed = _invoke("review", "list", "--source", "tiem_chung", "--workdir", str(workdir))
    assert listed.exit_code == 0, listed.output
    assert mask_id(declared) in listed.output
    assert not re.search(r"\d{12}", listed.output)
    # each candidate line names the fields that agree and those that do not
    assert "agree:" in listed.output and "differ:" in listed.output


def _two_candidates(workdir):
    return _query(
        workdir,
        "SELECT record_id, rank, so_dinh_danh FROM review_candidate WHERE source = 'tiem_chung' "
        "AND record_id = (SELECT min(record_id) FROM review_candidate WHERE rank = 2 "
        "AND source = 'tiem_chung') "
        "ORDER BY rank",
    )


def test_a_masked_id_as_printed_can_be_passed_back(workdir):
    (record_id, _, first), (_, _, second), *_ = _two_candidates(workdir)
    assert mask_id(first) != mask_id(second)
    decided = _invoke("review", "decide", "--source", "tiem_chung", "--record-id", record_id,
                      "--so-dinh-danh", mask_id(second), "--by", "Lan",
                      "--workdir", str(workdir))  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert _query(
        workdir, "SELECT so_dinh_danh FROM vaccination_dose WHERE record_id = ?", (record_id,)
    ) == [(second,)]


def test_an_id_that_is_no_candidate_is_refused_with_the_candidates_by_rank(workdir):
    (record_id, _, first), (_, _, second), *_ = _two_candidates(workdir)
    refused = _invoke("review", "decide", "--source", "tiem_chung", "--record-id", record_id,
                      "--so-dinh-danh", "999******999", "--by", "Lan",
                      "--workdir", str(workdir))  # fmt: skip
    assert refused.exit_code == 2
    assert f"rank 1 {mask_id(first)}" in refused.output
    assert f"rank 2 {mask_id(second)}" in refused.output
    assert "999******999 is not" in refused.output


def test_a_decision_is_undone_audited_and_not_applied_again_by_a_rerun(workdir):
    (record_id, _, first), (_, _, second), *_ = _two_candidates(workdir)
    candidates = _query(
        workdir,
        "SELECT rank, so_dinh_danh, score, explanation FROM review_candidate "
        "WHERE record_id = ? ORDER BY rank",
        (record_id,),
    )
    before = _query(
        workdir,
        "SELECT decision, so_dinh_danh, score, explanation, run_id FROM vaccination_dose "
        "WHERE record_id = ?",
        (record_id,),
    )
    decided = _invoke("review", "decide", "--source", "tiem_chung", "--record-id", record_id,
                      "--rank", "2", "--by", "Lan", "--workdir", str(workdir))  # fmt: skip
    assert decided.exit_code == 0, decided.output
    undone = _invoke("review", "undo", "--source", "tiem_chung", "--record-id", record_id,
                     "--by", "Minh", "--note", "wrong person", "--workdir", str(workdir))  # fmt: skip
    assert undone.exit_code == 0, undone.output
    assert f"tiem_chung {record_id}: match {mask_id(second)} undone, back in review" in (
        undone.output
    )
    # the row is back as it was, with its candidates, and its run still reconciles
    assert (
        _query(
            workdir,
            "SELECT decision, so_dinh_danh, score, explanation, run_id FROM vaccination_dose "
            "WHERE record_id = ?",
            (record_id,),
        )
        == before
    )
    assert (
        _query(
            workdir,
            "SELECT rank, so_dinh_danh, score, explanation FROM review_candidate "
            "WHERE record_id = ? ORDER BY rank",
            (record_id,),
        )
        == candidates
    )
    ((read, loaded, quarantined, review),) = _query(
        workdir,
        "SELECT rows_read, rows_loaded, rows_quarantined, rows_review FROM run WHERE run_id = ?",
        (before[0][4],),
    )
    assert read == loaded + quarantined + review
    # audited: the decision stays, the undo is recorded with who and why
    assert _query(workdir, "SELECT u.undone_by, u.note FROM review_undo u JOIN review_decision d "
                  "ON d.decision_id = u.decision_id WHERE d.record_id = ?",
                  (record_id,)) == [("Minh", "wrong person")]  # fmt: skip
    assert [row[0] for row in _query(
        workdir, "SELECT action FROM steward_audit WHERE record_id = ? ORDER BY at", (record_id,)
    )] == ["decide", "undo"]  # fmt: skip
    rerun = _invoke("run", "tiem_chung", "--input", str(SAMPLES / "tiem_chung.xlsx"),
                    "--population", str(SAMPLES / "dan_cu.csv"), "--date", EXTRACT_DATE,
                    "--workdir", str(workdir))  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    assert _query(
        workdir, "SELECT decision FROM vaccination_dose WHERE record_id = ?", (record_id,)
    ) == [("review",)]
    again = _invoke("review", "undo", "--source", "tiem_chung", "--record-id", record_id,
                    "--by", "Minh", "--workdir", str(workdir))  # fmt: skip
    assert again.exit_code == 2 and "no decision to undo" in again.output
