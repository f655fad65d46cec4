"""Vietnamese full names: repair, one canonical spelling, split into parts, folded keys.

Tone-mark placement: in the open syllables oa, oe, uy the tone mark is put on the first
vowel (hòa, khỏe, thủy), not the second (hoà, khoẻ, thuỷ). That is Unikey's default and
the spelling the GSO administrative-unit list uses most (Hòa 408 times vs Hoà 173, Thủy 85
vs Thuỷ 14 in ``popsync/reference/admin_units_2008.csv``), so most records need no change.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from transforms.columns import by_unique
from transforms.legacy_encodings import TONE_MARKS, repair_mojibake
from transforms.text import fold_text

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


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _tone_moves() -> dict[str, str]:
    """Moves of the mark to the first vowel ("oà" -> "òa", "uỷ" -> "ủy"), in every case."""
    moves = {}
    for first, second in ("oa", "oe", "uy"):
        for tone in TONE_MARKS:
            for f in (first, first.upper()):
                for s in (second, second.upper()):
                    moves[f + _nfc(s + tone)] = _nfc(f + tone) + s
    return moves


_TONE_MOVES = _tone_moves()
# Not after q (in "quý" the u belongs to the consonant) and only at the end of the word
# (a final consonant keeps the mark on the second vowel: hoàng, thuyền).
_TONE_RE = re.compile(f"(?<![qQ])(?:{'|'.join(_TONE_MOVES)})(?![^\\W\\d_])")
# Anything but letters, digits and spaces; apostrophes and hyphens only between letters
# (Ê Đê names such as "H'Hen Niê").
_STRAY_RE = re.compile(r"[^\w\s'\-]|_|(?<![^\W\d_])['\-]|['\-](?![^\W\d_])")
_DIGIT_RE = re.compile(r"\d")
_LETTER_RE = re.compile(r"[^\W\d_]")
_EMPTY_PARTS: tuple[None, ...] = (None,) * 8
_MISSING = _EMPTY_PARTS + ("full_name:missing", "")


def canonical_tone_placement(text: str) -> str:
    """Put the tone mark of open oa/oe/uy on the first vowel: "Thuỷ" -> "Thủy" (NFC in and out)."""
    return _TONE_RE.sub(lambda m: _TONE_MOVES[m.group(0)], text)


def _standardize_one(raw: str) -> tuple[str | None, ...]:
    flags: list[str] = []
    repairs: list[str] = []
    text = raw
    if not unicodedata.is_normalized("NFC", text):
        text = _nfc(text)
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

    def per_unique(unique: pd.Series) -> pd.DataFrame:
        rows = [_MISSING if value is pd.NA else _standardize_one(value) for value in unique]
        return pd.DataFrame(rows, columns=list(COLUMNS), dtype="string")

    return by_unique(values.astype("string"), per_unique)
