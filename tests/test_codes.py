"""Sex, phone, vaccine, dose number, test type and BHXH number standardizers (real examples)."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms import codes
from transforms.phones import standardize_phone


def _pairs(func, values, column="value"):
    out = func(pd.Series(values))
    return [(None if pd.isna(v) else v, f) for v, f in zip(out[column], out["flags"], strict=True)]


def test_sex():
    values = ["Nam", "Nữ", "NỮ", "nu", "Khác", "M", "f", "male", "1", "0", None, "không rõ"]
    assert _pairs(codes.standardize_sex, values) == [
        ("M", ""), ("F", ""), ("F", ""), ("F", ""), ("O", ""), ("M", ""), ("F", ""),
        ("M", ""), ("M", ""), ("F", ""), (None, "sex:missing"), (None, "sex:missing"),
    ]  # fmt: skip


def test_sex_said_unknown_is_missing_not_invalid():
    values = ["Không rõ", "KXĐ", "?", "không xác định", "N/A", "xyz"]
    out = codes.standardize_sex(pd.Series(values))
    assert _pairs(codes.standardize_sex, values) == [
        (None, "sex:missing"), (None, "sex:missing"), (None, "sex:missing"),
        (None, "sex:missing"), (None, "sex:missing"), (None, "sex:invalid"),
    ]  # fmt: skip
    assert list(out["repairs"]) == [""] * 6


def test_sex_written_with_gioi():
    assert _pairs(codes.standardize_sex, ["Nam giới", "NỮ GIỚI", "Nu gioi"]) == [
        ("M", ""), ("F", ""), ("F", ""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "phone", "repairs"),
    [
        ("0912345678", "0912345678", ""),
        ("+84 912 345 678", "0912345678", ""),
        ("84912345678", "0912345678", ""),
        ("0084 912 345 678", "0912345678", ""),
        ("0912.345.678", "0912345678", ""),
        ("'0912345678", "0912345678", ""),  # Excel text apostrophe
        ("+84-912-345-678", "0912345678", ""),
        ("912345678", "0912345678", ""),  # Excel dropped the 0
        ("912345678.0", "0912345678", ""),
        ("01689123456", "0389123456", "phone:renumbered"),
        ("0168 912 3456", "0389123456", "phone:renumbered"),
        ("+84 1689 123 456", "0389123456", "phone:renumbered"),
        ("1689123456", "0389123456", "phone:renumbered"),  # old mobile that lost its 0
        ("01228765432", "0778765432", "phone:renumbered"),
    ],
)
def test_phone_repairs(raw, phone, repairs):
    out = standardize_phone(pd.Series([raw])).iloc[0]
    assert (out["phone"], out["flags"], out["repairs"]) == (phone, "", repairs)


@pytest.mark.parametrize("raw", ["02438123456", "12345", "không có", "0912345678901"])
def test_phone_invalid(raw):
    out = standardize_phone(pd.Series([raw])).iloc[0]
    assert pd.isna(out["phone"]) and out["flags"] == "phone:invalid"


def test_phone_missing_is_not_invalid():
    out = standardize_phone(pd.Series([None, "0912345678"], index=[3, 4]))
    assert list(out.index) == [3, 4] and list(out["flags"]) == ["", ""]


def test_vaccine_aliases():
    values = ["Astra Zeneca", "ASTRAZENECA", "vero cell", "Vero-Cell", "Sinopharm", "Comirnaty",
              "Pfizer", "Spikevax", "Sputnik V", "Hayat Vax", "Johnson & Johnson", "abdala",
              "Covid-X", None]  # fmt: skip
    assert _pairs(codes.standardize_vaccine, values) == [
        ("AstraZeneca", ""), ("AstraZeneca", ""), ("Vero Cell", ""), ("Vero Cell", ""),
        ("Vero Cell", ""), ("Pfizer", ""), ("Pfizer", ""), ("Moderna", ""), ("Sputnik V", ""),
        ("Hayat-Vax", ""), ("Janssen", ""), ("Abdala", ""), (None, "vaccine:unknown"), (None, ""),
    ]  # fmt: skip


def test_vaccine_label_naming_one_product_twice():
    values = ["Comirnaty (Pfizer)", "AstraZeneca (AZD1222)", "Vero Cell (Sinopharm)",
              "Sinopharm/Vero Cell", "Moderna (Spikevax)", "Gam-COVID-Vac (Sputnik V)",
              "AZD1222", "Pfizer-BioNTech", "SPIKEVAX", "sinopharm",
              "Pfizer (AstraZeneca)", "Covid-X (lô 2)"]  # fmt: skip
    assert _pairs(codes.standardize_vaccine, values) == [
        ("Pfizer", ""), ("AstraZeneca", ""), ("Vero Cell", ""), ("Vero Cell", ""),
        ("Moderna", ""), ("Sputnik V", ""), ("AstraZeneca", ""), ("Pfizer", ""), ("Moderna", ""),
        ("Vero Cell", ""),
        # two different products, or none: still unknown
        (None, "vaccine:unknown"), (None, "vaccine:unknown"),
    ]  # fmt: skip


def test_dose_number():
    values = ["1", "02", "3.0", "Mũi 2", " 4 ", "0", "5", "10", "hai", None]
    out = codes.standardize_dose_number(pd.Series(values))
    assert str(out["value"].dtype) == "Int8"
    assert list(out["value"].astype("object").where(out["value"].notna(), None)) == [
        1, 2, 3, 2, 4, None, None, None, None, None,
    ]  # fmt: skip
    assert list(out["flags"]) == [""] * 5 + ["dose_number:invalid"] * 4 + [""]


def test_test_type():
    values = ["RT-PCR", "rt pcr", "Test nhanh kháng nguyên", "TEST NHANH KHANG NGUYEN",
              "Test nhanh", "TNKN", "Test nhanh KN", "Sinh thiết", None]  # fmt: skip
    assert _pairs(codes.standardize_test_type, values) == [
        ("RT-PCR", ""), ("RT-PCR", ""), ("RAT", ""), ("RAT", ""), ("RAT", ""), ("RAT", ""),
        ("RAT", ""),
        (None, "test_type:unknown"), (None, ""),
    ]  # fmt: skip


def test_bhxh_number():
    values = ["0123456789", "123456789", "123456789.0", "0123 456 789", "12345", "001088012345",
              "012345678", "01234567890", None]  # fmt: skip
    assert _pairs(codes.standardize_bhxh_number, values) == [
        ("0123456789", ""), ("0123456789", ""), ("0123456789", ""), ("0123456789", ""),
        (None, "bhxh_number:invalid"),
        # since 1 Aug 2025 the 12-digit personal ID replaces the BHXH number (CV 1804/BHXH-QLT)
        ("001088012345", ""),
        # a 9-digit number that still has its leading zero lost a digit elsewhere
        (None, "bhxh_number:invalid"), (None, "bhxh_number:invalid"), (None, ""),
    ]  # fmt: skip
    repairs = codes.standardize_bhxh_number(pd.Series(["123456789", "0123456789"]))["repairs"]
    assert list(repairs) == ["bhxh_number:leading_zero", ""]


def test_vaccine_with_a_generic_word_first():
    values = ["Vắc xin AstraZeneca", "Vaccine Pfizer", "vacxin moderna", "Vắc-xin COVID-19 Vero Cell",
              "Vắc xin", "Vaccine XYZ"]  # fmt: skip
    assert _pairs(codes.standardize_vaccine, values) == [
        ("AstraZeneca", ""), ("Pfizer", ""), ("Moderna", ""), ("Vero Cell", ""),
        (None, "vaccine:unknown"), (None, "vaccine:unknown"),
    ]  # fmt: skip


def test_dose_number_labels():
    values = ["M1", "Mũi 1", "mui 2", "1 (nhắc lại)", "Mũi 3 (tăng cường)", "Mũi tăng cường",
              "nhắc lại"]  # fmt: skip
    assert _pairs(codes.standardize_dose_number, values) == [
        (1, ""), (1, ""), (2, ""), (1, ""), (3, ""),
        # no number: which dose it was is not said
        (None, "dose_number:invalid"), (None, "dose_number:invalid"),
    ]  # fmt: skip
