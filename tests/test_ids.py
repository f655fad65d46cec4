"""standardize_id: cleaning, leading zeros, kinds, placeholders and the facts a CCCD encodes."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.ids import standardize_id


def _row(value, sex=None, year=None, precision="day"):
    out = standardize_id(
        pd.Series([value]),
        pd.Series([sex]),
        pd.Series([year], dtype="Int32"),
        pd.Series([precision]),
    ).iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in out.items()}


@pytest.mark.parametrize(
    ("raw", "number", "kind", "flags", "repairs"),
    [
        ("001088012345", "001088012345", "cccd", "", ""),
        ("001 088 012 345", "001088012345", "cccd", "", ""),
        ("001.088.012.345", "001088012345", "cccd", "", ""),
        # a leading apostrophe typed in Excel to keep the number as text
        ("'001088012345", "001088012345", "cccd", "", ""),
        ("’013456789", "013456789", "cmnd", "id_number:cmnd", ""),
        # Excel stores 001088012345 as the number 1088012345: both leading zeros are lost
        ("1088012345.0", "001088012345", "cccd", "", "id_number:leading_zero"),
        ("1088012345", "001088012345", "cccd", "", "id_number:leading_zero"),
        ("79203012345", "079203012345", "cccd", "", "id_number:leading_zero"),
        # 10 digits that cannot be a CCCD with lost zeros (prefix 000 does not exist)
        ("0088012345", "0088012345", "invalid", "id_number:invalid", ""),
        # Excel dropped the leading zero: "0" + 11 digits has prefix 001 and century digit 0
        ("01088012345", "001088012345", "cccd", "", "id_number:leading_zero"),
        ("01234567890", "001234567890", "cccd", "", "id_number:leading_zero"),
        # 11 digits whose restored prefix 099 is no province: left alone
        ("99088012345", "99088012345", "invalid", "id_number:invalid", ""),
        ("013456789", "013456789", "cmnd", "id_number:cmnd", ""),
        ("13456789", "013456789", "cmnd", "id_number:cmnd", "id_number:leading_zero"),
        ("000000000000", "000000000000", "invalid", "id_number:placeholder", ""),
        ("111111111111", "111111111111", "invalid", "id_number:placeholder", ""),
        ("123456789012", "123456789012", "invalid", "id_number:placeholder", ""),
        ("123456789", "123456789", "invalid", "id_number:placeholder", ""),
        ("003088012345", "003088012345", "cccd", "id_number:province_invalid", ""),
        ("không có", None, "invalid", "id_number:invalid", ""),
        (None, None, "missing", "id_number:missing", ""),
    ],
)
def test_cleaning_and_kinds(raw, number, kind, flags, repairs):
    row = _row(raw)
    assert (row["id_number"], row["id_kind"], row["flags"], row["repairs"]) == (
        number, kind, flags, repairs,
    )  # fmt: skip


def test_facts_encoded_in_cccd():
    hanoi_man = _row("001088012345")
    assert (hanoi_man["id_province_code"], hanoi_man["id_sex"], hanoi_man["id_birth_year"]) == (
        "001", "M", 1988,
    )  # fmt: skip
    hcm_girl = _row("079303001234")
    assert (hcm_girl["id_province_code"], hcm_girl["id_sex"], hcm_girl["id_birth_year"]) == (
        "079", "F", 2003,
    )  # fmt: skip
    assert _row("013456789")["id_birth_year"] is None  # a CMND encodes nothing we check


def test_sex_and_year_mismatch_only_where_the_row_knows():
    assert _row("001088012345", "M", 1988)["flags"] == ""
    assert _row("001088012345", "F", 1988)["flags"] == "id_number:sex_mismatch"
    assert _row("001088012345", "M", 1989)["flags"] == "id_number:year_mismatch"
    assert _row("001188012345", "M", 1987)["flags"] == (
        "id_number:sex_mismatch;id_number:year_mismatch"
    )
    assert _row("001088012345", None, None)["flags"] == ""
    assert _row("001088012345", "O", 1988)["flags"] == ""
    assert _row("001088012345", "M", 1989, precision="year")["flags"] == "id_number:year_mismatch"
    assert _row("001088012345", "M", 1989, precision=None)["flags"] == ""


def test_works_without_row_context_and_keeps_index():
    out = standardize_id(pd.Series(["001088012345", "01088012345"], index=[5, 9]))
    assert list(out.index) == [5, 9]
    assert list(out["id_number"]) == ["001088012345", "001088012345"]
    assert str(out["id_birth_year"].dtype) == "Int32"


@pytest.mark.parametrize(
    ("raw", "number", "kind", "flags", "repairs"),
    [
        # Excel thousands format: the separators go, then the lost zeros come back
        ("1,088,012,345", "001088012345", "cccd", "", "id_number:leading_zero"),
        ("001,088,012,345", "001088012345", "cccd", "", ""),
        # a leading label typed with the number
        ("CCCD: 001088012345", "001088012345", "cccd", "", ""),
        ("Số CCCD 001088012345", "001088012345", "cccd", "", ""),
        ("CMND 013456789", "013456789", "cmnd", "id_number:cmnd", ""),
        ("CMND/CCCD - 013456789", "013456789", "cmnd", "id_number:cmnd", ""),
        # scientific notation lost digits: invalid, never turned into a (wrong) number
        ("1.08801E+09", None, "invalid", "id_number:invalid", ""),
        ("1,08801E+09", None, "invalid", "id_number:invalid", ""),
        # commas that are not thousands groups are not dropped
        ("1,088,01", None, "invalid", "id_number:invalid", ""),
    ],
)
def test_excel_formatting_and_labels(raw, number, kind, flags, repairs):
    row = _row(raw)
    assert (row["id_number"], row["id_kind"], row["flags"], row["repairs"]) == (
        number, kind, flags, repairs,
    )  # fmt: skip
