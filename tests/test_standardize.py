"""standardize(): the standardized frame of DESIGN.md for each source, end to end from files."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.readers import read_source
from transforms.standardize import clean_text, code_counts, standardize, standardize_file

NAMES = ["full_name", "family_name", "middle_name", "given_name",
         "name_key", "family_key", "middle_key", "given_key"]  # fmt: skip
IDS = ["id_number", "id_kind", "id_province_code", "id_sex", "id_birth_year"]
ADDRESS = ["address", "province_code", "district_code", "ward_code", "admin_scheme"]
PROVENANCE = ["source", "record_id", "src_file", "src_sha256", "src_row"]


def _write(tmp_path, name, header, rows, sep=","):
    path = tmp_path / name
    lines = [sep.join(header)] + [sep.join(f'"{v}"' for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _std(tmp_path, source, header, rows, **kwargs):
    return standardize(
        read_source(_write(tmp_path, f"{source}.csv", header, rows), source), source, **kwargs
    )


def _expected(fields, dates, extra):
    return (
        PROVENANCE + [f"raw_{f}" for f in fields] + NAMES
        + [c for d in dates for c in (d, f"{d}_precision")] + ["birth_year", "sex"] + IDS
        + ["phone"] + ADDRESS + extra + ["flags", "repairs"]
    )  # fmt: skip


DAN_CU_HEADER = ["so_dinh_danh", "so_cmnd", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_tinh",
                 "ma_huyen", "ma_xa", "dia_chi", "so_dien_thoai", "ngay_mat", "ngay_cap_nhat"]  # fmt: skip


def test_dan_cu(tmp_path):
    rows = [
        ["001088012345", "013579246", "Nguyễn Văn Đức", "05/03/1988", "Nam", "01", "001", "00001",
         "Số 12 phố Phúc Xá", "01689123456", "", "2024-11-03T14:25:07"],
        ["1190012345", "", "TRẦN THỊ THUỶ", "1990", "Nữ", "01", "001", "00001", "", "", "",
         "2024-11-03"],
    ]  # fmt: skip
    std = _std(tmp_path, "dan_cu", DAN_CU_HEADER, rows)
    fields = ["person_id", "cmnd", "full_name", "birth_date", "sex", "province_code",
              "district_code", "ward_code", "address", "phone", "death_date", "updated_at"]  # fmt: skip
    assert list(std.columns) == _expected(
        fields, ["birth_date", "death_date"], ["person_id", "cmnd", "updated_at"]
    )
    first = std.loc[0]
    assert first["record_id"] == first["person_id"] == first["id_number"] == "001088012345"
    assert (first["id_kind"], first["id_sex"], first["id_birth_year"]) == ("cccd", "M", 1988)
    assert first["cmnd"] == "013579246" and first["phone"] == "0389123456"
    assert (first["province_code"], first["district_code"], first["ward_code"]) == (
        "01",
        "001",
        "00001",
    )
    assert first["updated_at"] == pd.Timestamp("2024-11-03 14:25:07")
    assert first["repairs"] == "phone:renumbered" and first["flags"] == ""
    second = std.loc[1]
    assert second["full_name"] == "Trần Thị Thủy" and second["given_key"] == "thuy"
    assert second["birth_date_precision"] == "year" and second["birth_year"] == 1990
    # a register exported through Excel: 001190012345 lost both leading zeros
    assert second["person_id"] == "001190012345" and second["id_kind"] == "cccd"
    assert pd.isna(second["cmnd"])
    assert second["flags"] == "birth_date:year_only"
    assert "id_number:leading_zero" in second["repairs"].split(";")


TC_HEADER = ["Mã bản ghi", "Họ và tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
             "Địa chỉ", "Tỉnh/Thành phố", "Quận/Huyện", "Xã/Phường", "Mũi tiêm", "Tên vắc xin",
             "Ngày tiêm", "Số lô", "Cơ sở tiêm chủng"]  # fmt: skip


def test_tiem_chung(tmp_path):
    rows = [
        ["TC-1", "Nguyễn Văn Đức", "32207", "Nam", "01088012345", "+84 912 345 678",
         "Số 12 phố Phúc Xá", "Hà Nội", "Ba Đình", "Phúc Xá", "2", "Astra Zeneca", "15/07/2021",
         "A1234", "Trạm Y tế  phường Phúc Xá"],
        ["TC-2", "Le Thi Hoa", "01/01/1985", "Nữ", "001088012345", "0912345678", "", "", "", "",
         "5", "Covid-X", "31/02/2021", "", "Bệnh viện Bạch Mai"],
    ]  # fmt: skip
    std = _std(tmp_path, "tiem_chung", TC_HEADER, rows, reference_date="2022-12-31")
    fields = ["record_id", "full_name", "birth_date", "sex", "id_number", "phone", "address",
              "province", "district", "ward", "dose_number", "vaccine", "vaccination_date",
              "lot_number", "site"]  # fmt: skip
    assert list(std.columns) == _expected(
        fields, ["birth_date", "vaccination_date"], ["dose_number", "vaccine", "lot_number", "site"]
    )
    first = std.loc[0]
    assert first["birth_date"] == pd.Timestamp("1988-03-05")
    assert (first["id_number"], first["phone"], first["vaccine"], first["dose_number"]) == (
        "001088012345", "0912345678", "AstraZeneca", 2,
    )  # fmt: skip
    assert first["site"] == "Trạm Y tế phường Phúc Xá"
    assert first["ward_code"] == "00001"
    assert first["repairs"].split(";")[:2] == ["birth_date:excel_serial", "id_number:leading_zero"]
    assert first["flags"] == ""
    second = std.loc[1]
    assert set(second["flags"].split(";")) >= {
        "birth_date:placeholder", "dose_number:invalid", "vaccine:unknown",
        "vaccination_date:impossible", "id_number:sex_mismatch", "id_number:year_mismatch",
    }  # fmt: skip
    assert second["flags"] == ";".join(sorted(set(second["flags"].split(";"))))
    assert pd.isna(second["vaccination_date"]) and pd.isna(second["dose_number"])
    assert str(std["dose_number"].dtype) == "Int8" and str(std["birth_year"].dtype) == "Int32"


F0_HEADER = ["Mã ca bệnh", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Số điện thoại",
             "Địa chỉ", "Ngày dương tính", "Loại xét nghiệm", "Ngày khỏi bệnh", "Nơi điều trị"]  # fmt: skip


def test_f0(tmp_path):
    rows = [
        ["F0-1", "Phạm Minh Tuấn", "12/10/1979", "Nam", "079079012345", "0903123456",
         "Phường Phúc Xá, Quận Ba Đình, Hà Nội", "12/02/2022", "Test nhanh kháng nguyên",
         "19/02/2022", "Tại nhà"],
        ["F0-2", "Vũ Thị Lan", "1985", "", "", "", "", "", "PCR", "", ""],
    ]  # fmt: skip
    std = _std(tmp_path, "f0", F0_HEADER, rows)
    fields = ["record_id", "full_name", "birth_date", "sex", "id_number", "phone", "address",
              "positive_date", "test_type", "recovery_date", "treatment_place"]  # fmt: skip
    assert list(std.columns) == _expected(
        fields, ["birth_date", "positive_date", "recovery_date"], ["test_type", "treatment_place"]
    )
    assert list(std["test_type"]) == ["RAT", "RT-PCR"]
    assert std.loc[0, "treatment_place"] == "Tại nhà"
    assert std.loc[0, "id_province_code"] == "079" and std.loc[0, "id_birth_year"] == 1979
    flags = std.loc[1, "flags"].split(";")
    assert {"positive_date:missing", "id_number:missing", "sex:missing"} <= set(flags)
    assert "recovery_date:missing" not in flags  # optional date


BHXH_HEADER = ["Mã số BHXH", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ",
               "Mã đơn vị", "Tên đơn vị", "Loại đối tượng", "Từ ngày", "Đến ngày"]  # fmt: skip


def test_bhxh(tmp_path):
    rows = [
        ["123456789", "Đỗ Hoàng Nam", "20/04/1992", "Nam", "001092012345", "Hà Nội", "TA0001A",
         "Công ty TNHH  Minh Phát", "Bắt buộc", "01/07/2019", ""],
        ["12345", "Bùi Thị Mai", "03/09/1996", "Nữ", "001396012345", "", "", "", "Tự nguyện",
         "2020-01-01", "31/12/2020"],
    ]  # fmt: skip
    std = _std(tmp_path, "bhxh", BHXH_HEADER, rows)
    fields = ["bhxh_number", "full_name", "birth_date", "sex", "id_number", "address",
              "employer_code", "employer_name", "participant_type", "period_start", "period_end"]  # fmt: skip
    assert list(std.columns) == _expected(
        fields, ["birth_date", "period_start", "period_end"],
        ["bhxh_number", "employer_code", "employer_name", "participant_type"],
    )  # fmt: skip
    assert list(std["record_id"]) == ["123456789|01/07/2019", "12345|2020-01-01"]
    assert std.loc[0, "bhxh_number"] == "0123456789" and pd.isna(std.loc[1, "bhxh_number"])
    assert std.loc[0, "employer_name"] == "Công ty TNHH Minh Phát"
    assert std["phone"].isna().all()  # BHXH carries no phone
    assert "bhxh_number:invalid" in std.loc[1, "flags"].split(";")
    assert "period_start:iso" in std.loc[1, "repairs"].split(";")
    assert std.loc[1, "period_end"] == pd.Timestamp("2020-12-31")


def test_parse_errors_flagged_and_order_kept(tmp_path):
    path = tmp_path / "f0.csv"
    good = (
        '"F0-1","Phạm Minh Tuấn","12/10/1979","Nam","079079012345","","","12/02/2022","PCR","",""'
    )
    path.write_text(
        ",".join(F0_HEADER) + "\n" + good + "\n" + '"F0-2","Vũ Thị Lan"\n' + good + "\n"
    )
    std = standardize(read_source(path, "f0"), "f0")
    assert list(std["src_row"]) == [1, 2, 3]
    assert ["row:parse_error" in f.split(";") for f in std["flags"]] == [False, True, False]


@pytest.mark.parametrize("source", ["dan_cu", "tiem_chung", "f0", "bhxh"])
def test_empty_input_keeps_columns(tmp_path, source):
    headers = {
        "dan_cu": DAN_CU_HEADER,
        "tiem_chung": TC_HEADER,
        "f0": F0_HEADER,
        "bhxh": BHXH_HEADER,
    }
    std = _std(tmp_path, source, headers[source], [])
    assert len(std) == 0 and {"flags", "repairs", "id_kind", "full_name"} <= set(std.columns)


def test_standardize_file_summary(tmp_path):
    rows = [
        ["F0-1", "Phạm Minh Tuấn", "12/10/1979", "Nam", "079079012345", "01689123456", "",
         "12/02/2022", "PCR", "", ""],
        ["F0-2", "Vũ Thị Lan", "1985", "Nữ", "", "", "", "15/02/2022", "PCR", "", ""],
    ]  # fmt: skip
    src = _write(tmp_path, "f0.csv", F0_HEADER, rows)
    out = tmp_path / "out" / "f0.parquet"
    summary = standardize_file("f0", src, out)
    assert (summary["rows"], summary["rows_flagged"], summary["read_errors"]) == (2, 2, 0)
    assert summary["flags"]["id_number:missing"] == 1
    assert summary["flags"]["birth_date:year_only"] == 1
    assert summary["repairs"] == {"phone:renumbered": 1}
    back = pd.read_parquet(out)
    assert list(back["record_id"]) == ["F0-1", "F0-2"] and back.loc[0, "phone"] == "0389123456"


def test_code_counts():
    codes = pd.Series(["a:x;b:y", "", "a:x", "a:x;b:y"])
    assert code_counts(codes) == {"a:x": 3, "b:y": 2}


def test_clean_text_single_spaces_unicode_blanks_too():
    values = pd.Series(
        ["Trạm\u00a0\u00a0Y tế", " Tại\u3000 nhà ", "\u00a0", None], index=[4, 2, 0, 9]
    )
    out = clean_text(values)
    assert out.tolist() == ["Trạm Y tế", "Tại nhà", pd.NA, pd.NA]
    assert list(out.index) == [4, 2, 0, 9]
