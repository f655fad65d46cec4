"""Text primitives shared by every standardizer: diacritic folding."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# What Python's ``str.split()``/``str.strip()`` take for whitespace (none is above U+3000), as a
# character list for Arrow's trim and an RE2 class: Arrow's own whitespace differs (U+001C-1F).
PY_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
PY_WHITESPACE_RUN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]+"

# Đ/đ do not decompose under NFD, so folding maps them explicitly.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Precomposed Latin letters (Vietnamese included) straight to their ASCII base letter, so the
# usual NFC text skips NFD; anything else still takes the general path.
_FOLD_FAST = str.maketrans(
    {
        chr(code): base
        for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
        if len(base := _strip_marks(chr(code))) == 1 and base.isascii()
    }
)


def fold_text(text: str) -> str:
    """Lower-case ASCII form of ``text``: no diacritics, ``đ`` -> ``d``, single spaces."""
    quick = text.translate(_FOLD_FAST)
    if quick.isascii():
        return " ".join(quick.lower().split())
    return " ".join(_strip_marks(text).lower().split())


def split_join(values: pa.Array) -> pa.Array:
    """``" ".join(value.split())`` of each value with Arrow kernels, null when that is empty."""
    text = pc.utf8_trim(pc.replace_substring_regex(values, PY_WHITESPACE_RUN, " "), " ")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)


def fold(values: pd.Series) -> pd.Series:
    """Vectorized :func:`fold_text` over a string column (nulls stay null).

    Works on the unique values only, which are few compared with the rows of an extract.
    """
    strings = values.astype("string")
    uniques = strings.dropna().unique()
    mapping = {value: fold_text(value) for value in uniques}
    return strings.map(mapping).astype("string")
