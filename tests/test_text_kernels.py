"""Arrow text kernels that replace per-value Python give what the Python they replace gives."""

import unicodedata

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.addresses import _Column
from transforms.text import PY_WHITESPACE, split_join

# Python's whitespace (Arrow's own set differs), other blanks that are not whitespace, letters
# and combining marks (so that NFC changes the text).
texts = st.lists(
    st.sampled_from([*PY_WHITESPACE, "\u200b", "\ufeff", "a", "Đ", "ệ", "e\u0302", "\u0301", "-"]),
    max_size=12,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(texts, st.none()), max_size=30))
def test_split_join_is_python_split_then_join(values):
    expected = [None if v is None else " ".join(v.split()) or None for v in values]
    assert split_join(pa.array(values, pa.string())).to_pylist() == expected


def test_python_whitespace_ends_at_u3000():
    assert PY_WHITESPACE[-1] == "\u3000"
    assert not any(chr(c).isspace() for c in range(0x3001, 0x110000))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(texts, st.none()), max_size=30))
def test_an_address_column_keeps_the_values_python_calls_not_blank(values):
    column = _Column.of(pd.Series(values, dtype="string"), len(values))
    got = [column.value(i) for i in column.ids]
    assert got == [v if v is not None and v.strip() else None for v in values]
    assert len(set(column.values)) == len(column.values)


def test_addresses_are_cleaned_like_python_nfc_split_join():
    from transforms.addresses import standardize_address

    raw = ["  Số 1\u3000ngõ\x1c2 ", "Thôn e\u0302 ", "\u00a0", None]
    out = standardize_address(address=pd.Series(raw, dtype="string"))
    expected = [None if v is None else " ".join(unicodedata.normalize("NFC", v).split()) or None
                for v in raw]  # fmt: skip
    assert out["address"].tolist() == [pd.NA if e is None else e for e in expected]
