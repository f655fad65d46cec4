"""read_source: every format and encoding of the contract, header variants, provenance, errors."""

from __future__ import annotations

import datetime as dt
import hashlib

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from popsync.core.errors import UserError
from popsync.core.sources import load_catalog
from transforms.readers import PROVENANCE, ReadError, header_key, read_source

F0_HEADER = [
    "Mã ca bệnh", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Số điện thoại",
    "Địa chỉ", "Ngày dương tính", "Loại xét nghiệm", "Ngày khỏi bệnh", "Nơi điều trị",
]  # fmt: skip
F0_ROWS = [
    ["F0-001", "Nguyễn Văn Đức", "05/03/1988", "Nam", "001088012345", "0912345678",
     "Số 12 ngõ 34 phố Huế, Hai Bà Trưng", "12/02/2022", "RT-PCR", "20/02/2022", "Tại nhà"],
    ["F0-002", "Trần Thị Thủy", "1990", "Nữ", "", "0389123456",
     "Thôn Đông, xã Tiên Dương, Đông Anh", "15/02/2022", "Test nhanh kháng nguyên", "",
     "Bệnh viện Đa khoa Đức Giang"],
]  # fmt: skip


def _csv(rows, sep=",") -> str:
    def cell(value: str) -> str:
        if any(ch in value for ch in f'{sep}"\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(sep.join(cell(v) for v in row) + "\r\n" for row in rows)


def test_utf8_csv_all_columns_as_strings_with_provenance(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER, *F0_ROWS]), encoding="utf-8")
    df = read_source(path, "f0")
    assert list(df.columns[: len(PROVENANCE)]) == list(PROVENANCE)
    assert list(df["record_id"]) == ["F0-001", "F0-002"]
    assert df.loc[0, "full_name"] == "Nguyễn Văn Đức"
    assert df.loc[0, "id_number"] == "001088012345"  # leading zeros kept
    assert pd.isna(df.loc[1, "id_number"]) and pd.isna(df.loc[1, "recovery_date"])
    assert df.loc[1, "test_type"] == "Test nhanh kháng nguyên"
    assert set(df["source"]) == {"f0"} and set(df["src_file"]) == {str(path)}
    assert set(df["src_sha256"]) == {hashlib.sha256(path.read_bytes()).hexdigest()}
    assert list(df["src_row"]) == [1, 2]
    assert df["read_error"].isna().all()
    assert all(str(df[c].dtype) == "string" for c in df.columns if c != "src_row")


def test_bom_and_semicolon_and_quoted_newline(tmp_path):
    rows = [F0_ROWS[0][:], F0_ROWS[1][:]]
    rows[0][6] = "Số 12; ngõ 34\nphố Huế"
    path = tmp_path / "f0.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv([F0_HEADER, *rows], sep=";").encode("utf-8"))
    df = read_source(path, "f0")
    assert list(df["record_id"]) == ["F0-001", "F0-002"]  # BOM not glued to the first header
    assert df.loc[0, "address"] == "Số 12; ngõ 34\nphố Huế"
    assert list(df["src_row"]) == [1, 2]


def test_cp1258_csv_is_decoded_to_nfc(tmp_path):
    from transforms.legacy_encodings import to_cp1258_bytes

    rows = [F0_ROWS[0][:], F0_ROWS[1][:]]
    rows[1][10] = "Bệnh viện Đa khoa Đức Giang;\ncơ sở 2"
    path = tmp_path / "f0_cp1258.csv"
    path.write_bytes(to_cp1258_bytes(_csv([F0_HEADER, *rows], sep=";")))
    assert b"\xd0" in path.read_bytes()  # Windows-1258 "Đ", not UTF-8
    df = read_source(path, "f0")
    assert df.loc[0, "full_name"] == "Nguyễn Văn Đức"  # NFC: "ễ" is one code point
    assert len(df.loc[0, "full_name"]) == len("Nguyễn Văn Đức")
    assert df.loc[1, "treatment_place"] == "Bệnh viện Đa khoa Đức Giang;\ncơ sở 2"


@pytest.mark.parametrize("label", ["HO VA TEN", " họ  và tên ", "Ho va ten", "HỌ VÀ TÊN:"])
def test_header_variants(tmp_path, label):
    path = tmp_path / "f0.csv"
    path.write_text(_csv([[label if h == "Họ và tên" else h for h in F0_HEADER], F0_ROWS[0]]))
    assert read_source(path, "f0").loc[0, "full_name"] == "Nguyễn Văn Đức"


def test_header_key_folds_case_spaces_punctuation_and_diacritics():
    assert header_key("  Số CMND/CCCD ") == "so cmnd cccd"
    assert header_key("so_dinh_danh") == header_key("Số định danh") == "so dinh danh"


def test_missing_required_column_names_file_columns_and_headers(tmp_path):
    header = [h for h in F0_HEADER if h not in ("Số CCCD", "Ngày dương tính")]
    path = tmp_path / "f0_bad.csv"
    path.write_text(_csv([header, ["x"] * len(header)]))
    with pytest.raises(ReadError) as err:
        read_source(path, "f0")
    message = str(err.value)
    assert str(path) in message
    assert "id_number ('Số CCCD')" in message and "positive_date ('Ngày dương tính')" in message
    assert "headers found: 'Mã ca bệnh'" in message
    assert isinstance(err.value, UserError)


def test_unreadable_and_unknown_and_invalid_files(tmp_path):
    with pytest.raises(ReadError, match="nope.csv: cannot read the file"):
        read_source(tmp_path / "nope.csv", "f0")
    (tmp_path / "f0.json").write_text("{}")
    with pytest.raises(ReadError, match="f0.json: unknown format '.json'"):
        read_source(tmp_path / "f0.json", "f0")
    (tmp_path / "f0.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(ReadError, match="f0.xlsx: not a valid XLSX file"):
        read_source(tmp_path / "f0.xlsx", "f0")
    (tmp_path / "f0.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(ReadError, match="f0.parquet: not a valid PARQUET file"):
        read_source(tmp_path / "f0.parquet", "f0")


def test_malformed_rows_are_kept_with_read_error(tmp_path):
    long_row = F0_ROWS[0][:1] + ["extra"] + F0_ROWS[0][1:]
    short_row = ["F0-003", "Lê Văn Hùng", "1975"]
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER, F0_ROWS[0], long_row, short_row, F0_ROWS[1]]))
    df = read_source(path, "f0")
    assert list(df["src_row"]) == [1, 2, 3, 4]
    assert list(df["read_error"].fillna("")) == [
        "", "12 fields, expected 11", "3 fields, expected 11", "",
    ]  # fmt: skip
    assert df.loc[1, "full_name"] == "extra"  # fields kept as far as they go
    assert df.loc[2, "birth_date"] == "1975" and pd.isna(df.loc[2, "id_number"])
    assert df.loc[3, "record_id"] == "F0-002"


def test_empty_file_with_header_gives_all_columns(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER]))
    df = read_source(path, "f0")
    assert len(df) == 0
    assert list(df.columns) == [
        *PROVENANCE,
        *[c for c in load_catalog()["f0"].columns if c != "record_id"],
    ]


def test_blank_cells_are_null_and_unknown_columns_ignored(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(_csv([[*F0_HEADER, "Ghi chú"], [*F0_ROWS[0][:3], "   ", *F0_ROWS[0][4:], "x"]]))
    df = read_source(path, "f0")
    assert pd.isna(df.loc[0, "sex"])
    assert "Ghi chú" not in df.columns


def test_xlsx_numbers_serial_dates_and_sheet_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])  # header on the first non-empty row
    ws.append(F0_HEADER)
    row = F0_ROWS[0][:]
    row[2], row[4], row[5], row[7] = 32207, 1088012345, 912345678, dt.datetime(2022, 2, 12)
    ws.append(row)
    ws.append([])
    ws.append(F0_ROWS[1])
    path = tmp_path / "f0.xlsx"
    wb.save(path)
    df = read_source(path, "f0")
    assert list(df["src_row"]) == [3, 5]
    first = df.loc[0]
    assert (first["birth_date"], first["id_number"], first["phone"]) == (
        "32207", "1088012345", "912345678",
    )  # fmt: skip
    assert first["positive_date"] == "12/02/2022"
    assert df.loc[1, "full_name"] == "Trần Thị Thủy" and pd.isna(df.loc[1, "id_number"])


def test_xlsx_title_rows_above_the_header_are_skipped(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH CA BỆNH COVID-19"])  # a title, as sheets exported by hand carry
    ws.append(["Đơn vị: TTYT Quận Cầu Giấy", "", "Ngày 01/03/2022"])
    ws.append([])
    ws.append(["STT", *F0_HEADER])
    ws.append([1, *F0_ROWS[0]])
    path = tmp_path / "f0.xlsx"
    wb.save(path)
    df = read_source(path, "f0")
    assert list(df["src_row"]) == [5]
    assert df.loc[0, "record_id"] == F0_ROWS[0][0]
    assert df.loc[0, "full_name"] == F0_ROWS[0][1]


def test_xlsx_without_known_headers_reports_the_first_row(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["DANH SÁCH"])
    wb.active.append(["a", "b"])
    path = tmp_path / "f0.xlsx"
    wb.save(path)
    # no known label: the first row may be data, so its cells are shown masked (issue 11, #8)
    with pytest.raises(ReadError, match=r"no header line\? .*: 'D\*\*\* S\*\*\*'"):
        read_source(path, "f0")


def test_parquet_non_string_columns_become_strings(tmp_path):
    table = pa.table(
        {
            "Mã số BHXH": ["0123456789", "0198765432"],
            "Họ và tên": ["Phạm Minh Tuấn", "Vũ Thị Lan"],
            "Ngày sinh": ["12/10/1979", "1985"],
            "Số CCCD": pa.array([1079012345, None], pa.int64()),
            "Từ ngày": pa.array([dt.date(2019, 7, 1), dt.date(2020, 1, 1)]),
        }
    )
    path = tmp_path / "bhxh.parquet"
    pq.write_table(table, path)
    df = read_source(path, "bhxh")
    assert list(df["record_id"]) == ["0123456789|01/07/2019", "0198765432|01/01/2020"]
    assert df.loc[0, "id_number"] == "1079012345" and pd.isna(df.loc[1, "id_number"])
    assert pd.isna(df.loc[0, "period_end"])


def test_dan_cu_record_id_is_person_id(tmp_path):
    path = tmp_path / "dan_cu.csv"
    path.write_text(
        _csv([["so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh"],
              ["001090123456", "Nguyễn Thị Hoà", "01/02/1990", "Nữ"]])
    )  # fmt: skip
    df = read_source(path, "dan_cu")
    assert df.loc[0, "record_id"] == df.loc[0, "person_id"] == "001090123456"


def test_cp1258_csv_whose_first_lines_are_ascii(tmp_path):
    """The UTF-8 fast path checks only the head; a cp1258 byte further on falls back."""
    from transforms.legacy_encodings import to_cp1258_bytes

    ascii_rows = [[f"F0-{i:05d}", "Nguyen Van An", "05/03/1988", "Nam", "", "", "", "", "", "",
                   ""] for i in range(3000)]  # fmt: skip
    header = [header_key(h) for h in F0_HEADER]  # ASCII labels match too
    text = _csv([header, *ascii_rows, F0_ROWS[0]], sep=";")
    path = tmp_path / "f0.csv"
    path.write_bytes(to_cp1258_bytes(text))
    assert path.read_bytes()[:65536].isascii()
    df = read_source(path, "f0")
    assert len(df) == 3001 and df["full_name"].iloc[-1] == "Nguyễn Văn Đức"
    assert df["read_error"].isna().all()


def test_whitespace_only_and_empty_cells_are_null_in_every_format(tmp_path):
    frame = pd.DataFrame({h: ["x"] * 3 for h in F0_HEADER})
    frame["Số CCCD"] = ["  ", "", "001088012345"]
    frame.to_parquet(tmp_path / "f0.parquet", index=False)
    df = read_source(tmp_path / "f0.parquet", "f0")
    assert df["id_number"].isna().tolist() == [True, True, False]
    path = tmp_path / "f0.csv"
    path.write_text(_csv([F0_HEADER, *frame.to_numpy().tolist()]), encoding="utf-8")
    assert read_source(path, "f0")["id_number"].isna().tolist() == [True, True, False]


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_title_lines_above_the_header_are_skipped(tmp_path, sep):
    titles = [["SỞ Y TẾ HÀ NỘI"], ["DANH SÁCH CA BỆNH COVID-19", "", "ngày 20/02/2022"], []]
    path = tmp_path / "f0.csv"
    path.write_text(_csv([*titles, F0_HEADER, *F0_ROWS], sep=sep), encoding="utf-8")
    df = read_source(path, "f0")
    assert list(df["record_id"]) == ["F0-001", "F0-002"]
    assert df.loc[0, "full_name"] == "Nguyễn Văn Đức"
    assert df.loc[1, "treatment_place"] == "Bệnh viện Đa khoa Đức Giang"
    assert list(df["src_row"]) == [1, 2]  # data row numbers, titles and header not counted


def test_csv_title_lines_with_cp1258_and_malformed_rows(tmp_path):
    from transforms.legacy_encodings import to_cp1258_bytes

    short_row = ["F0-003", "Lê Văn Hùng", "1975"]
    text = _csv([["BÁO CÁO F0"], F0_HEADER, F0_ROWS[0], short_row, F0_ROWS[1]], sep=";")
    path = tmp_path / "f0.csv"
    path.write_bytes(to_cp1258_bytes(text))
    df = read_source(path, "f0")
    assert list(df["record_id"]) == ["F0-001", "F0-003", "F0-002"]
    assert list(df["src_row"]) == [1, 2, 3]
    assert list(df["read_error"].fillna("")) == ["", "3 fields, expected 11", ""]
    assert df.loc[0, "full_name"] == "Nguyễn Văn Đức"


def test_csv_with_only_a_header_after_a_title(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(_csv([["DANH SÁCH"], F0_HEADER]), encoding="utf-8")
    df = read_source(path, "f0")
    assert len(df) == 0 and "full_name" in df.columns


def test_ragged_csv_logs_no_row_content(tmp_path, caplog):
    rows = [F0_HEADER, F0_ROWS[0] + ["extra"], F0_ROWS[1]]
    path = tmp_path / "f0.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    with caplog.at_level("DEBUG", logger="transforms.readers"):
        df = read_source(path, "f0")
    assert df["read_error"].notna().tolist() == [True, False]
    assert "fast CSV path failed" in caplog.text
    assert "001088012345" not in caplog.text and "Nguyễn" not in caplog.text


def test_headerless_csv_error_masks_numbers_of_the_first_row(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(_csv(F0_ROWS), encoding="utf-8")  # no header line: the first row is data
    with pytest.raises(ReadError, match="missing required column") as err:
        read_source(path, "f0")
    message = str(err.value)
    assert "001088012345" not in message and "0912345678" not in message
    assert "'#***********'" in message  # masked as free text (popsync.core.privacy.mask_text)
