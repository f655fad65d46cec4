"""parse_dates: every written form of the extracts and every noise kind, with exact values."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.dates import parse_dates


def _one(text, **kwargs):
    row = parse_dates(pd.Series([text], index=[7]), "birth_date", **kwargs).loc[7]
    value = None if pd.isna(row["value"]) else row["value"].strftime("%Y-%m-%d %H:%M")
    return (
        value,
        None if pd.isna(row["precision"]) else row["precision"],
        row["flags"],
        row["repairs"],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/03/1988", ("1988-03-05 00:00", "day", "", "")),
        ("5/3/1988", ("1988-03-05 00:00", "day", "", "")),
        ("05-03-1988", ("1988-03-05 00:00", "day", "", "")),
        ("05.03.1988", ("1988-03-05 00:00", "day", "", "")),
        # day and month swapped but still a valid date: kept as written (only the register can tell)
        ("03/05/1988", ("1988-05-03 00:00", "day", "", "")),
        ("1988-03-05", ("1988-03-05 00:00", "day", "", "birth_date:iso")),
        ("32207", ("1988-03-05 00:00", "day", "", "birth_date:excel_serial")),
        ("32207.0", ("1988-03-05 00:00", "day", "", "birth_date:excel_serial")),
        ("1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        # only the year is known, written as a date with day (and month) 00, or month/year
        ("00/00/1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        ("0/0/1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        ("00/03/1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        ("03/1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        ("00-00-1988", ("1988-01-01 00:00", "year", "birth_date:year_only", "")),
        ("00/13/1988", (None, None, "birth_date:impossible", "")),
        ("13/1988", (None, None, "birth_date:unparseable", "")),
        ("00/00/0000", (None, None, "birth_date:impossible", "")),
        ("31/02/2000", (None, None, "birth_date:impossible", "")),
        ("15/13/1990", (None, None, "birth_date:impossible", "")),
        ("01/01/0000", (None, None, "birth_date:impossible", "")),
        ("mùng 5 tháng 3", (None, None, "birth_date:unparseable", "")),
        ("99999", (None, None, "birth_date:unparseable", "")),
    ],
)
def test_forms_and_noise(text, expected):
    assert _one(text) == expected


def test_placeholder_only_for_birth_dates_and_kept():
    assert _one("01/01/1985", placeholder=True) == (
        "1985-01-01 00:00", "day", "birth_date:placeholder", "",
    )  # fmt: skip
    assert _one("01/01/1985")[2] == ""
    # a year-only value is 1 January too, but it is a year, not a placeholder day
    assert _one("1985", placeholder=True)[2] == "birth_date:year_only"


def test_missing_only_when_required_and_future_against_reference():
    assert _one(None, required=True) == (None, None, "birth_date:missing", "")
    assert _one(None) == (None, None, "", "")
    assert _one("12/02/2031", reference_date="2025-06-30")[2] == "birth_date:future"
    assert _one("12/02/2022", reference_date="2025-06-30")[2] == ""


def test_timestamps_keep_time_only_when_asked():
    values = pd.Series(["2024-11-03T14:25:07+07:00", "2024-11-03 08:00", "03/11/2024"])
    kept = parse_dates(values, "updated_at", keep_time=True)["value"]
    assert [v.strftime("%Y-%m-%d %H:%M:%S") for v in kept] == [
        "2024-11-03 14:25:07", "2024-11-03 08:00:00", "2024-11-03 00:00:00",
    ]  # fmt: skip
    dropped = parse_dates(values, "updated_at")["value"]
    assert {v.strftime("%H:%M") for v in dropped} == {"00:00"}


def test_same_index_and_dtypes():
    values = pd.Series(["05/03/1988", None, "1990"], index=[10, 20, 30])
    out = parse_dates(values, "birth_date")
    assert list(out.index) == [10, 20, 30]
    assert str(out["value"].dtype) == "datetime64[ns]"
    assert list(out["precision"].fillna("-")) == ["day", "-", "year"]


def test_vectorized_parser_edge_cases():
    values = pd.Series(
        ["29/02/2000", "29/02/1900", "31/04/2021", "1/1/1799", "2024-01-15T08:00:00Z",
         "36526.75", "80001", "1.5", " 05/03/1988 ", "0"]
    )  # fmt: skip
    out = parse_dates(values, "d", keep_time=True)
    text = [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M") for v in out["value"]]
    assert text == [
        "2000-02-29 00:00", None, None, None, "2024-01-15 08:00",
        "2000-01-01 18:00", None, "1899-12-31 12:00", "1988-03-05 00:00", None,
    ]  # fmt: skip
    assert list(out["flags"]) == [
        "", "d:impossible", "d:impossible", "d:impossible", "", "", "d:unparseable", "", "",
        "d:unparseable",
    ]  # fmt: skip
    assert list(out["repairs"]) == ["", "", "", "", "d:iso", "d:excel_serial", "", "d:excel_serial",
                                    "", ""]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two-digit year: yy not after this year's two digits -> 20yy, else 19yy (repair recorded)
        ("8/3/21", ("2021-03-08 00:00", "day", "", "birth_date:two_digit_year")),
        ("05/03/88", ("1988-03-05 00:00", "day", "", "birth_date:two_digit_year")),
        ("31/02/21", (None, None, "birth_date:impossible", "")),
        # compact yyyymmdd
        ("20210308", ("2021-03-08 00:00", "day", "", "")),
        ("20211308", (None, None, "birth_date:impossible", "")),
        ("99999999", (None, None, "birth_date:unparseable", "")),
        # Vietnamese Excel 12-hour suffix (SA = a.m., CH = p.m.) and ISO timestamps: the date kept
        ("08/03/2021 08:30:00 SA", ("2021-03-08 00:00", "day", "", "")),
        ("08/03/2021 08:30:00 CH", ("2021-03-08 00:00", "day", "", "")),
        ("2021-03-08 08:30:00", ("2021-03-08 00:00", "day", "", "birth_date:iso")),
        # English month names
        ("Mar 8, 2021", ("2021-03-08 00:00", "day", "", "")),
        ("8 Mar 2021", ("2021-03-08 00:00", "day", "", "")),
        ("8 March 2021", ("2021-03-08 00:00", "day", "", "")),
        ("Feb 30, 2021", (None, None, "birth_date:impossible", "")),
        ("Foo 8, 2021", (None, None, "birth_date:unparseable", "")),
    ],
)
def test_outside_forms(text, expected):
    assert _one(text) == expected


def test_two_digit_year_pivot_is_this_year():
    import datetime as dt

    pivot = dt.date.today().year % 100
    assert _one(f"01/01/{pivot:02d}")[0].startswith(f"20{pivot:02d}")
    assert _one(f"01/01/{pivot + 1:02d}")[0].startswith(f"19{pivot + 1:02d}")


def test_twelve_hour_suffix_when_time_is_kept():
    assert _one("08/03/2021 08:30:00 CH", keep_time=True)[0] == "2021-03-08 20:30"
    assert _one("08/03/2021 12:10 SA", keep_time=True)[0] == "2021-03-08 00:10"
    assert _one("08/03/2021 12:10 CH", keep_time=True)[0] == "2021-03-08 12:10"


def test_month_and_year_among_full_dates_parse_together():
    # A BHXH period written mm/yyyy in a column of full dates crashed the parse (the regex
    # groups of the other rows are "" in Arrow, not null).
    out = parse_dates(pd.Series(["05/2016", "31/01/2011", None, "2016-01-02"]), "period_start")
    assert out["value"].iloc[0] == pd.Timestamp("2016-01-01")
    assert out["precision"].tolist()[:2] == ["year", "day"] and out["value"].iloc[1].day == 31
