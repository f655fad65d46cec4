"""transforms.regex_columns gives pandas' (Python ``re``'s) answers, value for value, NA kept."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from transforms import regex_columns
from transforms.columns import STRING

# ASCII and not: fullwidth and Arabic-Indic digits, Unicode and ASCII-only Python spaces
# (\x0b, \x1c are \s for Python, not for RE2), a final newline, empty, null.
VALUES = pd.Series(
    ["0912345678", "84912345678", "+84 912 345 678", "１２３", "٣٤٥", "12\x0b34", "12\x1c34",
     "12\u00a034", "123\n", "", None, "không có", "0084-912.345.678", "abc", "0 9 1"],
    dtype=STRING,
    index=range(100, 115),
)  # fmt: skip

PATTERNS = [r"\d+", r"\D", r"^0*84", r"0[1-9]\d{8}", r"[^\d\s.+()\-/]", r"\s+", r"\S"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_fullmatch_and_contains_are_pandas(pattern):
    assert_series_equal(regex_columns.fullmatch(VALUES, pattern), VALUES.str.fullmatch(pattern))
    assert_series_equal(regex_columns.contains(VALUES, pattern), VALUES.str.contains(pattern))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_replace_is_pandas(pattern):
    assert_series_equal(
        regex_columns.replace(VALUES, pattern, ""), VALUES.str.replace(pattern, "", regex=True)
    )


def test_all_null_and_empty_columns():
    for values in (pd.Series([None, None], dtype=STRING), pd.Series([], dtype=STRING)):
        assert_series_equal(regex_columns.fullmatch(values, r"\d+"), values.str.fullmatch(r"\d+"))
        assert_series_equal(
            regex_columns.replace(values, r"\D", ""), values.str.replace(r"\D", "", regex=True)
        )


@pytest.mark.parametrize("pattern", [r"\w+", r"[^\D]", r"a$", r"(?=a)", r"(a)\1", r"\bx"])
def test_patterns_it_cannot_carry_over_are_refused(pattern):
    with pytest.raises(ValueError):
        regex_columns.ascii_pattern(pattern)


def test_replacement_with_groups_is_refused():
    with pytest.raises(ValueError):
        regex_columns.replace(VALUES, r"(\d)", r"\1")
