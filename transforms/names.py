"""Vietnamese full names: repair, one canonical spelling, split into parts, folded keys.

Tone marks of open oa/oe/uy go on the first vowel (``transforms.tone_placement``). Names made
only of letters and spaces take the word-by-word path of ``transforms.name_words``; every other
name takes :func:`_standardize_one`, the reference both are held to.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.columns import arrow, by_unique
from transforms.legacy_encodings import repair_mojibake
from transforms.name_words import plain_names, standardize_plain
from transforms.text import fold_text
from transforms.tone_placement import canonical_tone_placement

COLUMNS = (
    "full_name",
    "family_name",
    "middle_name",
    "given_name",
    "name_key",
    "family_key",
    "middle_key",
    "given_key",
    "flags",
    "repairs",
)


# Anything but letters, digits and spaces; apostrophes and hyphens only between letters
# (Ê Đê names such as "H'Hen Niê").
_STRAY_RE = re.compile(r"[^\w\s'\-]|_|(?<![^\W\d_])['\-]|['\-](?![^\W\d_])")
_DIGIT_RE = re.compile(r"\d")
_LETTER_RE = re.compile(r"[^\W\d_]")
_EMPTY_PARTS: tuple[None, ...] = (None,) * 8
_MISSING = _EMPTY_PARTS + ("full_name:missing", "")


def _standardize_one(raw: str) -> tuple[str | None, ...]:
    flags: list[str] = []
    repairs: list[str] = []
    text = raw
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        repairs.append("full_name:nfd")
    text, kind = repair_mojibake(text)
    if kind is not None:
        repairs.append(f"full_name:{kind}")
    cleaned = " ".join(_STRAY_RE.sub(" ", text).split())
    if not cleaned:
        missing = not raw.strip()
        return _EMPTY_PARTS + ("full_name:missing" if missing else "full_name:invalid", "")
    if cleaned != text:
        repairs.append("full_name:spacing")
    placed = canonical_tone_placement(cleaned)
    if placed != cleaned:
        repairs.append("full_name:tone_placement")
    full = placed.title()
    if full != placed:
        repairs.append("full_name:case")
    if _DIGIT_RE.search(full) or not _LETTER_RE.search(full):
        flags.append("full_name:invalid")

    words = full.split(" ")
    keys = fold_text(full).split(" ")
    if len(words) == 1:
        family = family_key = None
    else:
        family, family_key = words[0], keys[0]
    middle = " ".join(words[1:-1]) or None
    middle_key = " ".join(keys[1:-1]) or None
    return (
        full,
        family,
        middle,
        words[-1],
        " ".join(keys),
        family_key,
        middle_key,
        keys[-1],
        ";".join(flags),
        ";".join(repairs),
    )


def standardize_names(values: pd.Series) -> pd.DataFrame:
    """Standardize a column of full names; one output row per input row, same index.

    Columns (all strings): ``full_name`` (NFC, mojibake repaired, tone marks on the first
    vowel of open oa/oe/uy, title case, single spaces, stray punctuation removed),
    ``family_name`` (first word), ``middle_name`` (words between, null if none),
    ``given_name`` (last word), their folded ``*_key`` forms and ``name_key``, ``flags``
    (``full_name:missing``, ``full_name:invalid``) and ``repairs`` (``full_name:nfd``,
    ``full_name:tcvn3|vni|cp1258``, ``full_name:spacing`` (also punctuation),
    ``full_name:tone_placement``, ``full_name:case``), ``;``-joined. A one-word name is
    a given name with no family name. Names without diacritics stay without them; their
    keys equal those of the accented spelling.

    Each distinct value is standardized once and the results are taken back to the rows.
    """
    return by_unique(values.astype("string"), _standardize_unique)


def _standardize_unique(unique: pd.Series) -> pd.DataFrame:
    """Distinct names: the plain ones word by word, the rest one by one."""
    text = arrow(unique)
    plain = plain_names(text)
    words, done = standardize_plain(text.filter(pa.array(plain)))
    fast = np.zeros(len(unique), bool)
    fast[np.flatnonzero(plain)[done]] = True
    fast_rows, slow_rows = np.flatnonzero(fast), np.flatnonzero(~fast)
    slow = [_MISSING if v is pd.NA else _standardize_one(v) for v in unique.take(slow_rows)]
    frames = [
        pd.DataFrame(slow, columns=list(COLUMNS), index=slow_rows, dtype="string"),
        pd.DataFrame({c: pd.array(words[c], dtype="string") for c in COLUMNS}, index=fast_rows),
    ]
    return pd.concat(frames).sort_index().reset_index(drop=True)
