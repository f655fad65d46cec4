"""Administrative address standardization on real Vietnamese addresses.

Expected codes are read from the reference tables, never typed in.
"""

from __future__ import annotations

import pandas as pd
import pytest

from popsync.core import domain
from transforms.addresses import OUTPUT_COLUMNS, standardize_address


def _code(scheme: str, level: str, name: str, parent: str | None = None) -> str:
    """The one code of a unit named ``name`` (under ``parent``) in the reference."""
    found = [
        row["code"]
        for row in domain.admin_units(scheme)
        if row["level"] == level
        and row["name"] == name
        and (parent is None or row["parent_code"] == parent)
    ]
    assert len(found) == 1, (scheme, level, name, parent, found)
    return found[0]


HN = _code("2008", "province", "Thành phố Hà Nội")
BA_DINH = _code("2008", "district", "Quận Ba Đình", HN)
PHUC_XA = _code("2008", "ward", "Phường Phúc Xá", BA_DINH)
DOI_CAN = _code("2008", "ward", "Phường Đội Cấn", BA_DINH)
CAU_GIAY = _code("2008", "district", "Quận Cầu Giấy", HN)
TRUNG_HOA = _code("2008", "ward", "Phường Trung Hoà", CAU_GIAY)
DONG_ANH = _code("2008", "district", "Huyện Đông Anh", HN)
TIEN_DUONG = _code("2008", "ward", "Xã Tiên Dương", DONG_ANH)
HA_DONG = _code("2008", "district", "Quận Hà Đông", HN)
QUANG_TRUNG_HA_DONG = _code("2008", "ward", "Phường Quang Trung", HA_DONG)
HCM = _code("2008", "province", "Thành phố Hồ Chí Minh")
Q10 = _code("2008", "district", "Quận 10", HCM)
P12_Q10 = _code("2008", "ward", "Phường 12", Q10)


def _one(text: str, scheme: str = "2008") -> dict:
    row = standardize_address(pd.Series([text]), scheme=scheme).iloc[0]
    return {name: None if pd.isna(value) else value for name, value in row.items()}


def _codes(row: dict) -> tuple:
    return row["province_code"], row["district_code"], row["ward_code"]


@pytest.mark.parametrize(
    "text",
    [
        "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",
        "P. Phúc Xá, Q. Ba Đình, TP. Hà Nội",
        "P.Phúc Xá, Q.Ba Đình, TP.HN",
        "P Phúc Xá, Q Ba Đình, TP HN",
        "phường phúc xá, quận ba đình, T.P Hà Nội",
        "PHUONG PHUC XA, QUAN BA DINH, HA NOI",
        "phuong phuc xa, quan ba dinh, hanoi",
        "Số 1 phố Hồng Hà, P.Phúc Xá, Q.Ba Đình, HN, Việt Nam",
        "P.Phúc Xá Q.Ba Đình TP.HN",  # no commas: the prefixes separate the units
        "  Phường   Phúc Xá ,Quận Ba Đình,Hà Nội  ",
    ],
)
def test_every_abbreviation_and_spelling_reaches_phuc_xa(text):
    row = _one(text)
    assert _codes(row) == (HN, BA_DINH, PHUC_XA)
    assert row["admin_scheme"] == "2008"
    assert row["flags"] == ""


def test_full_hanoi_address_keeps_the_street_part_out_of_the_units():
    row = _one("Số 12 ngõ 34 phố Đội Cấn, Phường Đội Cấn, Quận Ba Đình, Thành phố Hà Nội")
    assert _codes(row) == (HN, BA_DINH, DOI_CAN)
    assert row["repairs"] == ""


def test_cleaned_text_is_nfc_single_spaced_and_trimmed():
    nfd = "  Xóm 3,  xã Tiên Dương, huyện Đông Anh, Hà Nội ".replace("ó", "o\u0301")
    row = _one(nfd)
    assert row["address"] == "Xóm 3, xã Tiên Dương, huyện Đông Anh, Hà Nội"
    assert _codes(row) == (HN, DONG_ANH, TIEN_DUONG)


def test_abbreviated_text_without_diacritics_is_reported_as_repaired():
    row = _one("so 5 ngo 10, P. Trung Hoa, Q. Cau Giay, HN")
    assert _codes(row) == (HN, CAU_GIAY, TRUNG_HOA)
    assert row["repairs"].split(";") == ["address:abbreviation", "address:no_diacritics"]


def test_no_commas_and_no_diacritics():
    row = _one("Xom 3 xa Tien Duong huyen Dong Anh Ha Noi")
    assert _codes(row) == (HN, DONG_ANH, TIEN_DUONG)


@pytest.mark.parametrize(
    "text",
    [
        "12 Lý Thường Kiệt, Phường 12, Quận 10, TP Hồ Chí Minh",
        "12 Ly Thuong Kiet, P.12, Q10, TPHCM",
    ],
)
def test_numbered_units_in_ho_chi_minh_city(text):
    assert _codes(_one(text)) == (HCM, Q10, P12_Q10)


def test_a_bare_number_is_a_house_number_not_a_numbered_ward():
    row = _one("12, Quận 10, TP.HCM")
    assert _codes(row) == (HCM, Q10, None)
    assert row["flags"] == "ward:unknown"


def test_a_ward_name_found_in_many_districts_needs_its_district():
    hn_quang_trung = [
        row
        for row in domain.admin_units("2008")
        if row["name"] == "Phường Quang Trung"
        and next(d for d in domain.admin_units("2008") if d["code"] == row["parent_code"])[
            "parent_code"
        ]
        == HN
    ]
    assert len(hn_quang_trung) > 1  # the premise: several in Hà Nội alone

    ambiguous = _one("Phường Quang Trung, Hà Nội")
    assert _codes(ambiguous) == (HN, None, None)
    assert ambiguous["flags"] == "district:unknown;ward:ambiguous"

    resolved = _one("Phường Quang Trung, Quận Hà Đông, Hà Nội")
    assert _codes(resolved) == (HN, HA_DONG, QUANG_TRUNG_HA_DONG)


def test_an_ambiguous_commune_without_province_is_not_guessed():
    row = _one("Xã An Khánh")
    assert _codes(row) == (None, None, None)
    assert row["admin_scheme"] is None
    assert row["flags"] == "province:unknown;district:unknown;ward:ambiguous"


def test_a_district_unique_in_the_country_gives_the_province():
    hoai_duc = _code("2008", "district", "Huyện Hoài Đức", HN)
    an_khanh = _code("2008", "ward", "Xã An Khánh", hoai_duc)
    row = _one("Xã An Khánh, Huyện Hoài Đức")
    assert _codes(row) == (HN, hoai_duc, an_khanh)
    assert row["repairs"] == "province:inferred"


def test_a_ward_unique_in_the_province_gives_the_district():
    row = _one("Phường Trung Hoà, Hà Nội")
    assert _codes(row) == (HN, CAU_GIAY, TRUNG_HOA)
    assert row["repairs"] == "district:inferred"


def test_the_unit_prefix_tells_apart_same_named_units_of_one_district():
    gia_lam = _code("2008", "district", "Huyện Gia Lâm", HN)
    town = _code("2008", "ward", "Thị trấn Yên Viên", gia_lam)
    commune = _code("2008", "ward", "Xã Yên Viên", gia_lam)
    assert _one("Thị trấn Yên Viên, Gia Lâm, Hà Nội")["ward_code"] == town
    assert _one("TT Yên Viên, H. Gia Lâm, HN")["ward_code"] == town
    assert _one("Thôn 2, xã Yên Viên, Gia Lâm, Hà Nội")["ward_code"] == commune
    unprefixed = _one("Yên Viên, Gia Lâm, Hà Nội")
    assert unprefixed["ward_code"] is None
    assert unprefixed["flags"] == "ward:ambiguous"


@pytest.mark.parametrize("text", ["abc xyz", "Hà Nội", "Số 5 ngõ 10"])
def test_unknown_or_missing_units_are_flagged_not_guessed(text):
    row = _one(text)
    assert row["ward_code"] is None
    assert row["district_code"] is None
    assert "ward:unknown" in row["flags"].split(";")
    if text != "Hà Nội":  # no default province
        assert row["province_code"] is None
        assert "province:unknown" in row["flags"].split(";")


def test_district_not_in_the_given_province():
    row = _one("Quận Ba Đình, TP Hồ Chí Minh")
    assert _codes(row) == (HCM, None, None)
    assert row["flags"] == "district:mismatch;ward:unknown"


def test_ward_not_in_the_given_district():
    row = _one("Phường Phúc Xá, Quận Cầu Giấy, Hà Nội")
    assert _codes(row) == (HN, CAU_GIAY, None)
    assert row["flags"] == "ward:mismatch"


def test_a_typo_is_tolerated_only_inside_the_resolved_parent():
    row = _one("Phường Phúc Xáa, Quận Ba Đình, Hà Nội")
    assert _codes(row) == (HN, BA_DINH, PHUC_XA)
    assert row["repairs"] == "ward:typo"
    # the same typo without a district is not corrected among all wards of the city
    assert _one("Phường Phúc Xáa, Hà Nội")["ward_code"] is None


def test_a_province_name_ending_another_name_is_not_taken_for_the_province():
    # "Đức Huệ" ends in "Huệ", which folds like the province Huế
    long_an = _code("2008", "province", "Tỉnh Long An")
    duc_hue = _code("2008", "district", "Huyện Đức Huệ", long_an)
    row = _one("Xã Bình Thành, Huyện Đức Huệ")
    assert row["province_code"] == long_an
    assert row["district_code"] == duc_hue
    assert row["ward_code"] == _code("2008", "ward", "Xã Bình Thành", duc_hue)


def test_a_merged_ward_is_found_under_its_old_name():
    dong_da = _code("2008", "district", "Quận Đống Đa", HN)
    merged = _code("2008", "ward", "Phường Phương Liên - Trung Tự", dong_da)
    row = _one("Phường Trung Tự, Quận Đống Đa, Hà Nội")
    assert _codes(row) == (HN, dong_da, merged)
    assert row["repairs"] == "ward:old_name"
    assert _one("P. Phương Liên - Trung Tự, Q. Đống Đa, HN")["ward_code"] == merged


def test_a_provincial_city_named_like_its_province():
    bac_ninh = _code("2008", "province", "Tỉnh Bắc Ninh")
    row = _one("TP Bắc Ninh")
    assert row["province_code"] == bac_ninh
    assert row["district_code"] == _code("2008", "district", "Thành phố Bắc Ninh", bac_ninh)


def test_unit_names_in_separate_columns():
    result = standardize_address(
        province=pd.Series(["Hà Nội", "TP. Hà Nội", "ha noi", None, "Hà Nội", "Hà Nội"]),
        district=pd.Series(
            ["Quận Ba Đình", "Q. Ba Đình", "ba dinh", "Cầu Giấy", "Quận 1", "Ba Đình"]
        ),
        ward=pd.Series(
            ["Phường Phúc Xá", "P. Phúc Xá", "phuc xa", "Trung Hòa", "Phúc Xá", "Phucc Xa"]
        ),
    )
    assert list(result.columns) == list(OUTPUT_COLUMNS)
    assert result["address"].isna().all()
    rows = list(
        zip(result["province_code"], result["district_code"], result["ward_code"], strict=True)
    )
    assert rows[:3] == [(HN, BA_DINH, PHUC_XA)] * 3
    assert rows[3] == (HN, CAU_GIAY, TRUNG_HOA)  # province from the district
    assert rows[4][1:] == (pd.NA, pd.NA)  # Quận 1 is in Hồ Chí Minh City
    assert rows[5] == (HN, BA_DINH, PHUC_XA)
    assert result["flags"].tolist() == ["", "", "", "", "district:mismatch;ward:unknown", ""]
    assert result["repairs"].tolist() == [
        "",
        "address:abbreviation",
        "address:no_diacritics",
        "province:inferred",
        "",
        "ward:typo",
    ]


def test_register_codes_are_padded_and_checked():
    result = standardize_address(
        province_code=pd.Series(["1", "01", "01", "99", "01", None, "01"]),
        district_code=pd.Series(["1", "001", "002", "001", "abc", "001", None]),
        ward_code=pd.Series(["1", "00004", "00001", "00001", None, None, None]),
    )
    assert result["province_code"].tolist() == ["01", "01", "01", "01", "01", "01", "01"]
    assert result["district_code"].tolist()[:4] == ["001", "001", "002", "001"]
    assert result["ward_code"].tolist()[:3] == ["00001", "00004", pd.NA]
    assert result["flags"].tolist() == [
        "",
        "",
        "ward:mismatch",  # Phúc Xá is in Ba Đình, not Hoàn Kiếm
        "province:unknown",  # 99 is no province; Ba Đình tells it is Hà Nội
        "district:unknown;ward:unknown",
        "ward:unknown",
        "district:unknown;ward:unknown",
    ]
    assert result["repairs"][0] == (
        "province_code:leading_zero;district_code:leading_zero;ward_code:leading_zero"
    )
    assert result["repairs"][3] == "province:inferred"
    assert (result["admin_scheme"] == "2008").all()


def test_register_district_outside_its_province_is_dropped():
    row = standardize_address(
        province_code=pd.Series([HCM]),
        district_code=pd.Series([BA_DINH]),
        ward_code=pd.Series([PHUC_XA]),
    ).iloc[0]
    assert (row["province_code"], row["district_code"], row["ward_code"]) == (HCM, pd.NA, pd.NA)
    assert row["flags"] == "district:mismatch;ward:unknown"


def test_codes_win_over_names_and_text_and_empty_rows_are_missing():
    result = standardize_address(
        address=pd.Series(["Phường Trung Hoà, Quận Cầu Giấy, Hà Nội", None, "  ", None]),
        province=pd.Series([None, "Hà Nội", None, None]),
        province_code=pd.Series(["01", None, None, ""]),
        district_code=pd.Series(["001", None, None, None]),
        ward_code=pd.Series(["00001", None, None, None]),
    )
    assert result["ward_code"].tolist()[0] == PHUC_XA
    assert result["address"].tolist()[0] == "Phường Trung Hoà, Quận Cầu Giấy, Hà Nội"
    assert result["province_code"].tolist()[1] == HN
    assert result["flags"].tolist()[2:] == ["address:missing", "address:missing"]
    assert result["address"].isna().tolist() == [False, True, True, True]


def test_index_and_row_order_are_kept():
    texts = pd.Series(
        ["P. Phúc Xá, Q. Ba Đình, HN", None, "P. Phúc Xá, Q. Ba Đình, HN", "Q. Cầu Giấy, HN"],
        index=[10, 7, 3, 99],
    )
    result = standardize_address(texts)
    assert result.index.tolist() == [10, 7, 3, 99]
    assert result["district_code"].tolist() == [BA_DINH, pd.NA, BA_DINH, CAU_GIAY]


def test_2025_scheme_has_its_own_codes():
    hn_2025 = _code("2025", "province", "Thành phố Hà Nội")
    hoan_kiem_2025 = _code("2025", "ward", "Phường Hoàn Kiếm", hn_2025)
    assert hoan_kiem_2025 == "00070"
    # in 2008 the same number is another ward, and Hoàn Kiếm was a district
    assert _code("2008", "ward", "Phường Hàng Trống") == "00070"

    for text in ["Phường Hoàn Kiếm, Hà Nội", "P. Hoàn Kiếm, Q. Hoàn Kiếm, TP HN"]:
        row = _one(text, scheme="2025")
        assert _codes(row) == (hn_2025, None, hoan_kiem_2025)
        assert row["admin_scheme"] == "2025"
        assert row["flags"] == ""
    old = _one("Phường Hoàn Kiếm, Hà Nội", scheme="2008")
    assert old["ward_code"] is None

    by_names = standardize_address(
        province=pd.Series(["Hà Nội"]), ward=pd.Series(["Phường Hoàn Kiếm"]), scheme="2025"
    )
    assert by_names["ward_code"].tolist() == [hoan_kiem_2025]
    by_code = standardize_address(
        province_code=pd.Series(["1"]), ward_code=pd.Series(["70"]), scheme="2025"
    )
    assert by_code["ward_code"].tolist() == [hoan_kiem_2025]
    assert by_code["admin_scheme"].tolist() == ["2025"]


def test_unknown_scheme_and_no_input_are_errors():
    with pytest.raises(ValueError, match="scheme"):
        standardize_address(pd.Series(["Hà Nội"]), scheme="2020")
    with pytest.raises(ValueError):
        standardize_address()


def test_the_index_build_leaves_the_collector_as_it_found_it():
    import gc

    from transforms.addresses import gazetteer

    for enabled in (True, False):
        gazetteer.scheme_index.cache_clear()
        (gc.enable if enabled else gc.disable)()
        try:
            ix = gazetteer.scheme_index("2008")
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
        # a key shared by many units in the country scope lists each code once
        for entries in ix.exact["ward"].values():
            assert len({e.code for e in entries}) == len(entries)
