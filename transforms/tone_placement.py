"""Tone-mark placement in the open syllables oa, oe, uy: the mark goes on the first vowel
(hòa, khỏe, thủy), not the second (hoà, khoẻ, thuỷ).

That is Unikey's default and the spelling the GSO administrative-unit list uses most (Hòa 408
times vs Hoà 173, Thủy 85 vs Thuỷ 14 in ``popsync/reference/admin_units_2008.csv``), so most
records need no change.
"""

from __future__ import annotations

import re
import unicodedata

from transforms.legacy_encodings import TONE_MARKS


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


def canonical_tone_placement(text: str) -> str:
    """Put the tone mark of open oa/oe/uy on the first vowel: "Thuỷ" -> "Thủy" (NFC in and out)."""
    return _TONE_RE.sub(lambda m: _TONE_MOVES[m.group(0)], text)
