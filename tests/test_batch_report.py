"""The batch report a steward can act on (issue 12): built from the warehouse, in Vietnamese,
with linked and not-linked counts, defects apart from repairs and a verdict that names what
happened; written again after a decision; a blocked batch leaves one naming the rule; files
beside it that hold personal data say so."""

from __future__ import annotations

import re
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, copy_workdir

from popsync.cli import main


def _invoke(*args: str):
    return CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(
        main, list(args), catch_exceptions=False
    )


def _report(workdir, source="tiem_chung") -> str:
    (path,) = (workdir / "batches" / source).glob("*/report.html")
    return path.read_text(encoding="utf-8")


def test_the_report_says_where_the_rows_went_in_vietnamese(samples_workdir):
    page = _report(samples_workdir)
    with sqlite3.connect(samples_workdir / "popsync.sqlite3") as db:
        linked, not_linked = db.execute(
            "SELECT count(CASE WHEN decision = 'match' THEN 1 END), "
            "count(CASE WHEN decision = 'no_match' THEN 1 END) FROM vaccination_dose"
        ).fetchone()
    number = lambda n: f"{n:,}".replace(",", ".")  # noqa: E731
    assert f"{number(linked)} đã liên kết với CSDL dân cư" in page
    assert f"{number(not_linked)} không liên kết được" in page
    assert "tiem_chung.xlsx" in page  # the input file's name, not an empty one
    assert "Đã sửa về dạng chuẩn (không tính là lỗi)" in page
    assert "phone_written_in_standard_form" in page.split("(không tính là lỗi)")[1]
    assert "Số điện thoại được ghi với +84" in page  # the Vietnamese reason
    assert "(giờ Việt Nam)" in page and "UTC" not in page
    assert '"run_id"' not in page  # no raw run record
    # IDs masked (the placeholders a rule's reason quotes are not anyone's)
    assert not re.search(r"\d{12}", re.sub("000000000000|123456789012", "", page))
    # Sạch counts defects only: far above the 0.1% it showed when repairs counted
    share = re.search(
        r"<b>Sạch</b>.*?<td class=\"num\">[^<]*</td><td class=\"num\">([\d,]+)%", page
    )
    assert share and float(share.group(1).replace(",", ".")) > 50


def test_the_files_with_personal_data_are_named_so(samples_workdir):
    (folder,) = (samples_workdir / "batches" / "tiem_chung").glob("*/")
    names = {path.name for path in (folder / "chunks").iterdir()}
    # A run goes in chunks (popsync.pipeline.chunks): rows as read, linked, review candidates.
    assert {"raw_00000.personal.parquet", "linked_00000.personal.parquet",
            "candidates_00000.personal.parquet"} <= names  # fmt: skip
    personal = ("raw_", "linked_", "candidates_")
    assert all(n.endswith(".personal.parquet") for n in names if n.startswith(personal))


def test_the_report_is_written_again_after_a_decision(samples_workdir, tmp_path):
    workdir = copy_workdir(samples_workdir, tmp_path / "work")
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        (waiting,) = db.execute(
            "SELECT count(*) FROM link WHERE source = 'tiem_chung' AND decision = 'review'"
        ).fetchone()
    assert waiting >= 2 and f"Chờ duyệt: {waiting} dòng" in _report(workdir)
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        (record_id,) = db.execute(
            "SELECT min(record_id) FROM review_candidate WHERE source = 'tiem_chung'"
        ).fetchone()
    decided = _invoke("review", "decide", "--source", "tiem_chung", "--record-id", record_id,
                      "--rank", "1", "--by", "Lan", "--workdir", str(workdir))  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert f"Chờ duyệt: {waiting - 1} dòng" in _report(workdir)
    undone = _invoke("review", "undo", "--source", "tiem_chung", "--record-id", record_id,
                     "--by", "Lan", "--workdir", str(workdir))  # fmt: skip
    assert undone.exit_code == 0, undone.output
    assert f"Chờ duyệt: {waiting} dòng" in _report(workdir)


@pytest.fixture
def unnamed_extract(tmp_path):
    """A BHXH extract whose names are all missing: a block-severity rule stops it."""
    lines = (SAMPLES / "bhxh.csv").read_text(encoding="utf-8-sig").splitlines()[:40]
    header, rows = lines[0], lines[1:]
    blanked = [re.sub(r"^([^,]*),[^,]*,", r"\1,,", row) for row in rows]
    path = tmp_path / "bhxh_no_names.csv"
    path.write_text("\n".join([header, *blanked]) + "\n", encoding="utf-8")
    return path


def test_a_blocked_batch_leaves_a_report_naming_the_rule(unnamed_extract, tmp_path):
    workdir = tmp_path / "work"
    blocked = _invoke("run", "bhxh", "--input", str(unnamed_extract),
                      "--population", str(SAMPLES / "dan_cu.csv"), "--date", "2023-01-15",
                      "--workdir", str(workdir))  # fmt: skip
    assert blocked.exit_code != 0
    assert "names_mostly_present" in blocked.output
    page = _report(workdir, "bhxh")
    assert "Lô bị chặn" in page and "names_mostly_present" in page
    assert "Hơn một nửa số dòng không có họ tên" in page
