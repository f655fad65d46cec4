"""Text primitives shared by every standardizer: Unicode NFC and diacritic folding."""

from __future__ import annotations

import unicodedata

import pandas as pd

# Đ/đ do not decompose under NFD, so folding maps them explicitly.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold_text(text: str) -> str:
    """Lower-case ASCII form of ``text``: no diacritics, ``đ`` -> ``d``, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def fold(values: pd.Series) -> pd.Series:
    """Vectorized :func:`fold_text` over a string column (nulls stay null).

    Works on the unique values only, which are few compared with the rows of an extract.
    """
    strings = values.astype("string")
    uniques = strings.dropna().unique()
    mapping = {value: fold_text(value) for value in uniques}
    return strings.map(mapping).astype("string")


def nfc(values: pd.Series) -> pd.Series:
    """Unicode NFC of a string column (nulls stay null)."""
    strings = values.astype("string")
    uniques = strings.dropna().unique()
    mapping = {value: unicodedata.normalize("NFC", value) for value in uniques}
    return strings.map(mapping).astype("string")
