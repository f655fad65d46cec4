"""The word-by-word path of name standardization (``transforms.name_words``) gives exactly what
the per-value reference (``transforms.names._standardize_one``) gives, on tricky names."""

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.legacy_encodings import (
    VIETNAMESE_LETTERS,
    to_cp1258_mojibake,
    to_tcvn3_mojibake,
    to_vni_mojibake,
)
from transforms.name_words import plain_names, standardize_plain
from transforms.names import _MISSING, COLUMNS, _standardize_one, standardize_names
from transforms.text import fold_text

SYLLABLES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Âu",
    "Tôn",
    "Nữ",
    "Thị",
    "Văn",
    "Hữu",
    "Đức",
    "Hòa",
    "Hoà",
    "Thủy",
    "Thuỷ",
    "Khỏe",
    "Khoẻ",
    "Uỷ",
    "Ủy",
    "Quý",
    "Quỳnh",
    "Thuyền",
    "Khoái",
    "Hương",
    "Ngọc",
    "Bích",
    "Ánh",
    "Yến",
    "Nghĩa",
    "Giang",
    "Quang",
    "Hải",
    "Trinh",
    "Uyên",
    "Xuân",
    "Hằng",
    "Mỹ",
    "Tuấn",
    "Khánh",
    "Đạt",
    "An",
    "Hoa",
    "Long",
    "Phúc",
    "Bửu",
    "Hội",
    "Lan",
]
FOREIGN = ["H'Hen", "Niê", "Ksor", "Guðrún", "Müller", "O'Neil", "Jean-Luc", "Σίσυφος", "Ñuñez"]


def _utf8_as_cp1252(text: str) -> str:
    return "".join(
        bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in text.encode("utf-8")
    )


WORD_FORMS = {
    "as is": lambda w: w,
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "folded": fold_text,
    "nfd": lambda w: unicodedata.normalize("NFD", w),
    "digit": lambda w: w + "5",
    "punctuation": lambda w: w + ".",
    "hyphen": lambda w: "-" + w,
}
NAME_FORMS = {
    "as is": lambda n: n,
    "tcvn3": to_tcvn3_mojibake,
    "vni": to_vni_mojibake,
    "cp1258": lambda n: to_cp1258_mojibake(n),
    "utf8 read as cp1252": _utf8_as_cp1252,
    "nfd": lambda n: unicodedata.normalize("NFD", n),
    "upper": str.upper,
}
SPACES = [" ", " ", " ", "  ", "\u00a0", "\t", " \u200b"]

words = st.one_of(
    st.tuples(st.sampled_from(SYLLABLES), st.sampled_from(sorted(WORD_FORMS))).map(
        lambda pair: WORD_FORMS[pair[1]](pair[0])
    ),
    st.sampled_from(FOREIGN),
    st.text(st.sampled_from(VIETNAMESE_LETTERS + tuple("aeiouyqdgAQ")), min_size=1, max_size=5),
    st.text(min_size=1, max_size=4),
)


@st.composite
def names(draw):
    parts = draw(st.lists(words, min_size=0, max_size=5))
    gaps = draw(st.lists(st.sampled_from(SPACES), min_size=len(parts), max_size=len(parts)))
    name = "".join(gap + part for gap, part in zip(gaps, parts, strict=True))
    name = name if draw(st.booleans()) else name.strip()
    try:
        return NAME_FORMS[draw(st.sampled_from(sorted(NAME_FORMS)))](name)
    except UnicodeError:  # a character the legacy code page has no byte for
        return name


def _reference(values: list) -> pd.DataFrame:
    rows = [_MISSING if value is None else _standardize_one(value) for value in values]
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype="string")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(names(), st.none()), min_size=1, max_size=40))
def test_fast_path_agrees_with_the_per_value_reference(values):
    out = standardize_names(pd.Series(values, dtype="string"))
    pd.testing.assert_frame_equal(out.reset_index(drop=True), _reference(values))


def test_plain_names_go_the_fast_way_and_agree():
    plain = ["Lê Thị Hoà", "  NGUYỄN   văn an ", "Hoa", "Tôn Nữ Thị Hoa", "Nguyen Van An"]
    plain += ["Âu Dương Phong", "quý khoẻ", "McDonald Lê"]
    others = ["NguyÔn ThÞ Hoµ", "Bùi, Thị", "Lê\u00a0Hà", "NGuyễn An", None, "   "]
    text = pa.array(plain + others)
    accepted = plain_names(text)
    _, done = standardize_plain(text.filter(pa.array(accepted)))
    assert np.flatnonzero(accepted)[done].tolist() == list(range(len(plain)))
    out = standardize_names(pd.Series(plain + others, dtype="string"))
    pd.testing.assert_frame_equal(out, _reference(plain + others))
