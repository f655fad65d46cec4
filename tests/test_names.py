import unicodedata

import pandas as pd
import pytest

from transforms.legacy_encodings import to_tcvn3_mojibake, to_vni_mojibake
from transforms.names import COLUMNS, canonical_tone_placement, standardize_names


def _one(value):
    return standardize_names(pd.Series([value])).iloc[0]


@pytest.mark.parametrize(
    ("raw", "full", "repairs"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An", ""),
        ("NGUYỄN VĂN AN", "Nguyễn Văn An", "full_name:case"),
        ("trần thị bích ngọc", "Trần Thị Bích Ngọc", "full_name:case"),
        (unicodedata.normalize("NFD", "Phạm Thị Hương"), "Phạm Thị Hương", "full_name:nfd"),
        ("Lê Thị Hoà", "Lê Thị Hòa", "full_name:tone_placement"),
        ("Lê Thị Hòa", "Lê Thị Hòa", ""),
        ("Trần Thanh Thuỷ", "Trần Thanh Thủy", "full_name:tone_placement"),
        ("Đỗ Văn Khoẻ", "Đỗ Văn Khỏe", "full_name:tone_placement"),
        ("NguyÔn ThÞ Hoµ", "Nguyễn Thị Hòa", "full_name:tcvn3;full_name:tone_placement"),
        ("Phaïm Thò Ngoïc Höông", "Phạm Thị Ngọc Hương", "full_name:vni"),
        ("Ðặng Văn Ðức", "Đặng Văn Đức", "full_name:cp1258"),
        # UTF-8 bytes read as Windows-1252 (the commonest mojibake of exported CSVs)
        ("Há»“ Báº£o Nga", "Hồ Bảo Nga", "full_name:utf8"),
        ("Nguyá»…n Thá»‹ HÆ°Æ¡ng", "Nguyễn Thị Hương", "full_name:utf8"),
        # Đ is C4 90; 0x90 is undefined in Windows-1252 and comes back as U+0090
        ("\u00c4\u0090áº·ng VÄƒn \u00c4\u0090á»©c", "Đặng Văn Đức", "full_name:utf8"),
        ("Ðãòng Thiò Ánh", "Đặng Thị Ánh", "full_name:cp1258"),
        ("  Nguyễn   Văn  An. ", "Nguyễn Văn An", "full_name:spacing"),
        ("Bùi, Thị - Lan*", "Bùi Thị Lan", "full_name:spacing"),
        ("H'Hen Niê", "H'Hen Niê", ""),
        ("Nguyen Van An", "Nguyen Van An", ""),
    ],
)
def test_repaired_full_name(raw, full, repairs):
    row = _one(raw)
    assert row["full_name"] == full
    assert row["repairs"] == repairs
    assert row["flags"] == ""


def test_all_capitals_typed_in_legacy_fonts():
    assert _one(to_tcvn3_mojibake("ĐẶNG THỊ THUỶ"))["full_name"] == "Đặng Thị Thủy"
    row = _one(to_vni_mojibake("NGUYỄN VĂN ĐỨC"))
    assert (row["full_name"], row["repairs"]) == ("Nguyễn Văn Đức", "full_name:vni;full_name:case")


def test_stripped_diacritics_keep_spelling_but_share_the_key():
    out = standardize_names(pd.Series(["Dang Thi Thuy", "Đặng Thị Thủy", "ĐẶNG THỊ THUỶ"]))
    assert out["full_name"].tolist() == ["Dang Thi Thuy", "Đặng Thị Thủy", "Đặng Thị Thủy"]
    assert out["name_key"].tolist() == ["dang thi thuy"] * 3
    assert out["family_key"].tolist() == ["dang"] * 3


@pytest.mark.parametrize(
    ("raw", "family", "middle", "given", "keys"),
    [
        ("Lê Hà", "Lê", None, "Hà", ("le", None, "ha")),
        ("Âu Dương Phong", "Âu", "Dương", "Phong", ("au", "duong", "phong")),
        ("Tôn Nữ Thị Hoa", "Tôn", "Nữ Thị", "Hoa", ("ton", "nu thi", "hoa")),
        (
            "Nguyễn Phúc Bửu Hội Long",
            "Nguyễn",
            "Phúc Bửu Hội",
            "Long",
            ("nguyen", "phuc buu hoi", "long"),
        ),
        ("Hoa", None, None, "Hoa", (None, None, "hoa")),
    ],
)
def test_split_into_parts(raw, family, middle, given, keys):
    row = _one(raw).replace({pd.NA: None})
    assert (row["family_name"], row["middle_name"], row["given_name"]) == (family, middle, given)
    assert (row["family_key"], row["middle_key"], row["given_key"]) == keys


@pytest.mark.parametrize(
    ("raw", "flag"),
    [(None, "full_name:missing"), ("   ", "full_name:missing"), ("???", "full_name:invalid")],
)
def test_missing_and_empty(raw, flag):
    row = _one(raw)
    assert row["flags"] == flag
    assert row[["full_name", "family_name", "given_name", "name_key"]].isna().all()


def test_digits_are_invalid_but_kept():
    row = _one("Nguyễn Văn 2")
    assert (row["full_name"], row["flags"]) == ("Nguyễn Văn 2", "full_name:invalid")


def test_frame_shape_index_and_repeats():
    values = pd.Series(["Hồ Thị Hoà", None, "Hồ Thị Hoà", "ngô quang hải"], index=[7, 3, 9, 1])
    out = standardize_names(values)
    assert list(out.columns) == list(COLUMNS)
    assert out.index.tolist() == [7, 3, 9, 1]
    assert all(str(dtype) == "string" for dtype in out.dtypes)
    assert out["full_name"].tolist() == ["Hồ Thị Hòa", pd.NA, "Hồ Thị Hòa", "Ngô Quang Hải"]
    assert out["flags"].tolist() == ["", "full_name:missing", "", ""]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoà", "hòa"),
        ("HOÀ", "HÒA"),
        ("Thuỷ", "Thủy"),
        ("Uỷ", "Ủy"),
        ("khoẻ", "khỏe"),
        ("Toả", "Tỏa"),
        ("Hoàng", "Hoàng"),
        ("Thuyền", "Thuyền"),
        ("Huỳnh", "Huỳnh"),
        ("Quý", "Quý"),
        ("khoái", "khoái"),
        ("Hòa", "Hòa"),
    ],
)
def test_canonical_tone_placement(text, expected):
    assert canonical_tone_placement(text) == expected
