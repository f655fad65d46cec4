"""Readers that never lose a row silently (issue 11, defects 5 and 15): an unterminated quote,
extra sheets, a duplicated ID column, negative dose numbers, and files whose encoding or format
is not what they claim get either every row (each problem flagged on its row) or a message that
says what is wrong."""

from __future__ import annotations

import logging

import openpyxl
import pandas as pd
import pytest
from test_readers import F0_HEADER, F0_ROWS, _csv

from transforms.legacy_encodings import to_cp1258_bytes
from transforms.readers import ReadError, read_source
from transforms.standardize import standardize

ROW3 = ["F0-003", "Lê Văn Hùng", "01/01/1975", "Nam", "001075012345", "0912000111",
        "Thôn Bắc", "16/02/2022", "RAT", "", "Tại nhà"]  # fmt: skip


def test_an_unterminated_quote_does_not_swallow_the_next_record(tmp_path):
    broken = F0_ROWS[0][:]
    broken[6] = '"Số 12 ngõ 34 phố Huế'  # the quote is never closed
    text = _csv([F0_HEADER]) + ",".join(broken) + "\r\n" + _csv([F0_ROWS[1], ROW3])
    path = tmp_path / "f0.csv"
    path.write_text(text, encoding="utf-8")
    frame = read_source(path, "f0")
    assert list(frame["record_id"]) == ["F0-001", "F0-002", "F0-003"]
    assert frame.loc[0, "read_error"].startswith("unterminated quote")
    assert frame["read_error"].iloc[1:].isna().all()
    assert frame.loc[1, "full_name"] == "Trần Thị Thủy"


def test_an_unterminated_quote_closed_rows_later_is_caught_too(tmp_path):
    """The quote closes inside a later record: pyarrow alone reads one row of two."""
    broken = F0_ROWS[0][:]
    broken[6] = '"Số 12 ngõ 34'
    later = F0_ROWS[1][:]
    later[6] = 'Thôn Đông" xã Tiên Dương'
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER]) + ",".join(broken) + "\n" + ",".join(later) + "\n"
                    + _csv([ROW3]), encoding="utf-8")  # fmt: skip
    frame = read_source(path, "f0")
    assert list(frame["record_id"]) == ["F0-001", "F0-002", "F0-003"]
    assert frame["read_error"].notna().sum() >= 1


def test_a_quoted_value_over_two_lines_is_still_one_value(tmp_path):
    rows = [F0_ROWS[0][:], F0_ROWS[1][:]]
    rows[0][6] = "Số 12, ngõ 34\nphố Huế"
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER, *rows, ROW3]), encoding="utf-8")
    frame = read_source(path, "f0")
    assert list(frame["record_id"]) == ["F0-001", "F0-002", "F0-003"]
    assert frame.loc[0, "address"] == "Số 12, ngõ 34\nphố Huế" and frame["read_error"].isna().all()


def test_a_line_between_two_quoted_line_breaks_is_not_taken_for_a_record(tmp_path):
    """The first and the last value of a record both span lines: the line between them holds
    as many fields as a record and balanced quotes, yet the file is valid CSV (a case the slow
    property test found)."""
    rows = [F0_ROWS[0][:], F0_ROWS[1][:]]
    rows[0][0] = "F0-001\nbản sửa"
    rows[0][10] = "Tại nhà\ncách ly"
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER, *rows, ROW3]), encoding="utf-8")
    frame = read_source(path, "f0")
    assert list(frame["full_name"]) == ["Nguyễn Văn Đức", "Trần Thị Thủy", "Lê Văn Hùng"]
    assert frame["read_error"].isna().all()
    assert frame.loc[0, "treatment_place"] == "Tại nhà\ncách ly"


def test_every_sheet_with_the_same_header_is_read_and_others_named(tmp_path, caplog):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Tháng 1"
    for row in [F0_HEADER, F0_ROWS[0]]:
        first.append(row)
    second = book.create_sheet("Tháng 2")
    for row in [F0_HEADER, F0_ROWS[1], ROW3]:
        second.append(row)
    notes = book.create_sheet("Ghi chú")
    notes.append(["Người lập", "Ngày lập"])
    notes.append(["Lan", "01/03/2022"])
    path = tmp_path / "f0.xlsx"
    book.save(path)
    with caplog.at_level(logging.WARNING):
        frame = read_source(path, "f0")
    assert list(frame["record_id"]) == ["F0-001", "F0-002", "F0-003"]
    assert frame["src_row"].is_unique
    assert "Ghi chú" in caplog.text and "not read" in caplog.text


def test_a_duplicated_id_column_never_drops_the_real_ids(tmp_path, caplog):
    header = [*F0_HEADER, "Số CCCD"]
    rows = [[*F0_ROWS[0][:4], "", *F0_ROWS[0][5:], "001088012345"],
            [*F0_ROWS[1], "079190000001"],
            [*ROW3[:4], "001075012345", *ROW3[5:], "001075099999"]]  # fmt: skip
    path = tmp_path / "f0.csv"
    path.write_text(_csv([header, *rows]), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        frame = read_source(path, "f0")
    assert list(frame["id_number"]) == ["001088012345", "079190000001", "001075012345"]
    assert pd.isna(frame.loc[0, "read_error"]) and pd.isna(frame.loc[1, "read_error"])
    assert "disagree" in frame.loc[2, "read_error"]
    assert "appears 2 times" in caplog.text


@pytest.mark.parametrize("dose", ["-1", "Mũi -2", "−1"])
def test_a_negative_dose_number_is_invalid(dose):
    raw = pd.DataFrame({"dose_number": [dose, "Mũi 2"]}, dtype="string")
    from transforms.codes import standardize_dose_number

    result = standardize_dose_number(raw["dose_number"])
    assert pd.isna(result["value"].iloc[0]) and result["flags"].iloc[0] == "dose_number:invalid"
    assert result["value"].iloc[1] == 2


def test_utf16_is_named(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_bytes(_csv([F0_HEADER, *F0_ROWS]).encode("utf-16"))
    with pytest.raises(ReadError, match="UTF-16"):
        read_source(path, "f0")


def test_mixed_encodings_are_read_line_by_line(tmp_path, caplog):
    utf8 = _csv([F0_HEADER, F0_ROWS[0]]).encode("utf-8")
    legacy = to_cp1258_bytes(_csv([F0_ROWS[1]]))
    path = tmp_path / "f0.csv"
    path.write_bytes(utf8 + legacy)
    with caplog.at_level(logging.WARNING):
        frame = read_source(path, "f0")
    assert list(frame["full_name"]) == ["Nguyễn Văn Đức", "Trần Thị Thủy"]
    assert "mixed encodings" in caplog.text


def test_an_xlsx_renamed_csv_is_read_as_a_workbook(tmp_path, caplog):
    book = openpyxl.Workbook()
    for row in [F0_HEADER, *F0_ROWS]:
        book.active.append(row)
    path = tmp_path / "f0.csv"
    book.save(path)
    with caplog.at_level(logging.WARNING):
        frame = read_source(path, "f0")
    assert list(frame["record_id"]) == ["F0-001", "F0-002"]
    assert "the file is XLSX, not CSV" in caplog.text


def test_an_encrypted_or_old_workbook_is_named(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    encrypted = tmp_path / "f0.xlsx"
    encrypted.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64)
    with pytest.raises(ReadError, match="protected by a password"):
        read_source(encrypted, "f0")
    old = tmp_path / "f0_old.xlsx"
    old.write_bytes(ole + "Workbook".encode("utf-16-le"))
    with pytest.raises(ReadError, match=r"Excel 97-2003 workbook \(.xls\)"):
        read_source(old, "f0")


def test_flagged_rows_stay_rows_after_standardizing(tmp_path):
    broken = F0_ROWS[0][:]
    broken[6] = '"Số 12 ngõ 34 phố Huế'
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER]) + ",".join(broken) + "\n" + _csv([F0_ROWS[1]]),
                    encoding="utf-8")  # fmt: skip
    std = standardize(read_source(path, "f0"), "f0")
    assert len(std) == 2 and "row:parse_error" in std.loc[0, "flags"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from popsync.generate import generate_dataset

    out = tmp_path_factory.mktemp("tiny")
    generate_dataset(out_dir=out, people=300, seed=3, formats="csv")
    return out


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def database_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return None  # the embedded database


def test_one_bad_row_never_fails_the_batch(tiny, tmp_path, database_url):
    """A NUL byte, U+0085 / U+2028 / U+2029 and a 3,000-character record id: each row is
    quarantined (or loaded), the batch loads and reconciles, on both databases."""
    from popsync import pipeline
    from popsync.resources import Resources

    frame = pd.read_csv(tiny / "f0.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "Họ và tên"] = "Nguyễn\x00 Văn An"
    frame.loc[1, "Địa chỉ"] = "Số 1\u2028phố Huế"
    frame.loc[2, "Họ và tên"] = "Trần\u0085Thị Bình"
    frame.loc[3, "Nơi điều trị"] = "Tại nhà\u2029"
    frame.loc[4, "Mã ca bệnh"] = "F" + "9" * 3000
    path = tmp_path / "f0.csv"
    path.write_bytes(frame.to_csv(index=False).encode("utf-8"))
    res = Resources.from_environment(database_url=database_url, workdir=tmp_path / "w")
    done = pipeline.run_source(res, "f0", path, tiny / "dan_cu.csv", "2023-01-15")
    counts = done["counts"]
    assert counts["read"] == len(frame)
    assert counts["read"] == counts["loaded"] + counts["quarantined"] + counts["review"]
    with res.warehouse() as store:
        quarantined = {row[0] for row in store.fetch(
            "SELECT src_row FROM quarantine WHERE run_id = %s", (done["run_id"],))}  # fmt: skip
        store.reconcile(done["run_id"])
    assert {1, 5} <= quarantined  # the NUL row and the over-long id
