"""A fourth source, declared only by files in a folder of its own: its declaration, its two
suites and a small extract. The whole job then runs on it, against the sample register, into
the embedded database and into PostgreSQL, with no line of popsync changed for it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from popsync import pipeline
from popsync.resources import Resources
from popsync.warehouse.schema import table_columns

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
RUN_DATE = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))["extract_date"]

DECLARATION = """\
# Health insurance cards (BHYT): one row per card issued.
id: bhyt
title: Health insurance cards (BHYT)
title_vi: Thẻ bảo hiểm y tế (BHYT)
role: extract
order: 4
table: health_insurance_card
record_id: {fields: [card_number]}
event_date: valid_from
duplicate_keys: [valid_from, valid_to]
suites_dir: .
fields:
  card_number: {kind: record_id, required: true, labels: ["Mã thẻ BHYT", "Số thẻ BHYT"]}
  full_name: {kind: name, required: true, labels: ["Họ và tên", "Họ tên"]}
  birth_date: {kind: birth_date, required: true, labels: ["Ngày sinh"]}
  sex: {kind: sex, labels: ["Giới tính"]}
  id_number: {kind: person_id, labels: ["Số CCCD", "Số định danh"]}
  valid_from: {kind: date, required: true, labels: ["Giá trị từ ngày"]}
  valid_to: {kind: date, labels: ["Giá trị đến ngày"]}
  facility: {kind: text, labels: ["Nơi đăng ký KCB ban đầu"]}
"""

PRE_LINK = """\
include: [common_pre_link]
expectations:
- rule: valid_from_present
  expect: ExpectColumnValuesToNotBeNull
  column: raw_valid_from
  pillar: du
  severity: quarantine
  reason: Giá trị từ ngày is required.
  observed: [src_row]
- rule: valid_from_readable
  expect: ExpectDateToBeReadable
  column: valid_from_readable
  pillar: dung
  severity: quarantine
  reason: The card's first valid day cannot be read or does not exist.
  observed: [raw_valid_from]
- rule: valid_to_readable
  expect: ExpectDateToBeReadable
  column: valid_to_readable
  pillar: dung
  severity: quarantine
  reason: The card's last valid day cannot be read or does not exist.
  observed: [raw_valid_to]
- rule: valid_from_not_after_run_date
  expect: ExpectDateNotAfterRunDate
  column: valid_from_not_after_run_date
  pillar: dung
  severity: quarantine
  reason: The card is valid from a day after the extract was taken.
  observed: [valid_from]
- rule: card_not_before_birth
  expect: ExpectEventNotBeforeBirth
  column: event_not_before_birth
  pillar: dung
  severity: quarantine
  reason: The card is valid from before the person's birth.
  observed: [birth_date, event_date]
- rule: valid_to_on_or_after_valid_from
  expect: ExpectDatesInOrder
  column: valid_to_on_or_after_valid_from
  pillar: dung
  severity: quarantine
  reason: The card stops being valid before it starts.
  observed: [valid_from, valid_to]
- rule: row_not_duplicated
  expect: ExpectRowNotDuplicated
  column: row_not_duplicated
  pillar: sach
  severity: quarantine
  reason: The same person and card period already appear under another card number.
  observed: [valid_from, valid_to]
"""

POST_LINK = """\
include: [common_post_link]
expectations:
- rule: extract_recent
  expect: ExpectLatestEventWithinDaysOfRunDate
  column: event_age_days
  kwargs: {max_value: 400}
  pillar: song
  severity: block
  reason: The newest card in the extract is more than 400 days older than the run date.
"""

# People of data_samples/dan_cu.csv, and one who is not in it.
EXTRACT = """\
Mã thẻ BHYT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Giá trị từ ngày,Giá trị đến ngày,Nơi đăng ký KCB ban đầu
GD4010100000001,Nguyễn Kim Hoa,29/03/1978,Nữ,001178291580,01/01/2023,31/12/2023,Trạm Y tế Phường Thụy Phương
HT2010100000002,Nguyễn Minh Vy,21/10/2014,Nữ,001314901408,01/10/2022,30/09/2023,Trạm Y tế Xã Hưng Đạo
TE1010100000003,Nguyễn Văn Thịnh,29/07/2021,Nam,001221515032,01/08/2022,31/07/2023,Trạm Y tế Xã Quảng Bị
HT3010100000004,Trần Hồng Vân,04/12/1956,Nữ,001156668272,01/01/2023,31/12/2022,Bệnh viện Đa khoa Tây Hồ
DN4010100000005,Nguyễn Thị Thu Hằng,09/04/1999,Nữ,001199918782,31/02/2022,31/12/2022,Trạm Y tế Xã Đại Đồng
TE1010100000006,Nguyễn Minh Tuấn,27/04/2016,Nam,001216214682,01/06/2022,31/05/2023,Trạm Y tế Phường Yên Phụ
HT3010100000007,Hồ Thị Vy,01/04/1936,Nữ,001136823052,01/01/2022,31/12/2022,Trạm Y tế Phường Thụy Phương
GD4010100000008,Phạm Quốc Khánh,12/12/1990,Nam,,01/01/2023,31/12/2023,Trạm Y tế Phường Yên Phụ
"""
LINKED = {"GD4010100000001", "HT2010100000002", "TE1010100000003", "TE1010100000006"}


@pytest.fixture
def declared(tmp_path) -> tuple[Path, Path]:
    """The source's folder (declaration and suites) and its extract."""
    folder = tmp_path / "bhyt"
    folder.mkdir()
    for name, text in {
        "bhyt.yaml": DECLARATION,
        "bhyt_pre_link.yaml": PRE_LINK,
        "bhyt_post_link.yaml": POST_LINK,
    }.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    extract = tmp_path / "the_bhyt.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    return folder, extract


def _columns(store, table: str) -> set[str]:
    if store.backend == "postgresql":
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
    else:
        query = "SELECT name FROM pragma_table_info(%s)"
    return {row[0] for row in store.fetch(query, (table,))}


def _run_and_check(res: Resources, extract: Path) -> None:
    spec = res.catalog.extract("bhyt")
    batch = pipeline.run_source(res, "bhyt", extract, SAMPLES / "dan_cu.csv", RUN_DATE)

    counts = batch["counts"]
    assert counts["read"] == 8
    assert counts["read"] == counts["loaded"] + counts["quarantined"] + counts["review"]
    with res.warehouse() as store:
        assert store.reconcile(batch["run_id"]) == {
            f"rows_{name}": counts[name] for name in ("loaded", "quarantined", "review")
        }
        table = spec.table
        assert table == "health_insurance_card"
        assert _columns(store, table) == set(table_columns(spec))
        rows = store.fetch(
            "SELECT record_id, decision, so_dinh_danh, valid_from, valid_to, facility "
            "FROM {table} WHERE run_id = %s ORDER BY record_id",
            (batch["run_id"],),
            table=table,
        )
        quarantined = dict(
            store.fetch(
                "SELECT record_id, rules FROM quarantine WHERE run_id = %s", (batch["run_id"],)
            )
        )
        findings = store.fetch(
            "SELECT record_id, stage, rule, severity FROM quality_finding WHERE run_id = %s",
            (batch["run_id"],),
        )

    assert len(rows) == counts["loaded"] + counts["review"]
    by_card = {row[0]: row for row in rows}
    # the people of the register are linked; the one who is not in it is not
    assert {card: row[1] for card, row in by_card.items()} == {
        **dict.fromkeys(LINKED, "match"),
        "GD4010100000008": "no_match",
    }
    first = by_card["GD4010100000001"]
    assert first[2] == "001178291580" and str(first[3])[:10] == "2023-01-01"
    assert first[5] == "Trạm Y tế Phường Thụy Phương"
    assert quarantined == {
        "HT3010100000004": "valid_to_on_or_after_valid_from",
        "DN4010100000005": "valid_from_readable",
        "HT3010100000007": "no_event_after_death",  # she died on 25/02/2021
    }
    found = {(record_id, rule) for record_id, _, rule, _ in findings}
    assert ("GD4010100000008", "record_linked") in found
    assert ("GD4010100000008", "id_number_present") in found
    assert {(r, q) for r, q in quarantined.items()} <= found
    assert {stage for _, stage, _, _ in findings} == {"pre_link", "post_link"}


def test_a_fourth_source_declared_by_files_runs_into_the_embedded_database(
    declared, tmp_path, monkeypatch
):
    monkeypatch.delenv("POPSYNC_DATABASE_URL", raising=False)
    folder, extract = declared
    res = Resources.from_environment(workdir=tmp_path / "work", sources_dir=(str(folder),))
    assert res.database_url is None
    _run_and_check(res, extract)


@pytest.mark.postgres
def test_a_fourth_source_declared_by_files_runs_into_postgresql(declared, tmp_path, pg_url):
    folder, extract = declared
    res = Resources.from_environment(
        database_url=pg_url, workdir=tmp_path / "work", sources_dir=(str(folder),)
    )
    _run_and_check(res, extract)
