"""The fast path of name standardization: names made only of letters and spaces, word by word.

Most full names are a few words from a small vocabulary (a few thousand family, middle and
given names). A name whose words are all plain ASCII or well-formed Vietnamese syllables
cannot be mojibake, is NFC and has no stray punctuation, so :func:`transforms.names.
_standardize_one` reduces to per-word steps (tone placement, title case, folding) joined
with single spaces. Here those steps run once per distinct word and Arrow kernels assemble
the names; any other name (punctuation, digits, NFD, legacy encodings, a word that is not a
syllable) is left to the per-value function, which stays the reference
(``tests/test_names_fast.py`` checks that both agree).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.legacy_encodings import VIETNAMESE_LETTERS, is_vietnamese_syllable
from transforms.text import fold_text
from transforms.tone_placement import canonical_tone_placement

_LETTERS = "A-Za-z" + "".join(VIETNAMESE_LETTERS)
# Letters and ASCII spaces only, at least one letter.
_PLAIN_RE = f"^[ {_LETTERS}]*[{_LETTERS}][ {_LETTERS}]*$"
_SPACING, _TONE, _CASE = "full_name:spacing", "full_name:tone_placement", "full_name:case"
# The repairs of a fast-path name by bits (1 spacing, 2 tone placement, 4 case), in the order
# the per-value function lists them.
_REPAIRS = pa.array(
    [
        ";".join(c for i, c in enumerate((_SPACING, _TONE, _CASE)) if bits >> i & 1)
        for bits in range(8)
    ]
)


def plain_names(values: pa.Array) -> np.ndarray:
    """Which values are letters and spaces only, with a letter (null: no)."""
    matched = pc.fill_null(pc.match_substring_regex(values, _PLAIN_RE), False)
    return matched.to_numpy(zero_copy_only=False)


def _word(token: str) -> tuple[str, bool, bool, str] | None:
    """Title-cased canonical spelling, tone moved, case changed, folded key; None when the
    word is neither ASCII nor a Vietnamese syllable (the name takes the per-value path)."""
    if not (token.isascii() or is_vietnamese_syllable(token)):
        return None
    placed = canonical_tone_placement(token)
    titled = placed.title()
    return titled, placed != token, titled != placed, fold_text(titled)


def _parts(words: pa.Array, offsets: np.ndarray, counts: np.ndarray) -> dict[str, pa.Array]:
    """Whole, first (null for one word), middle (null for two or fewer) and last of each name."""
    space = pa.scalar(" ", words.type)
    whole = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), words), space)
    first = pc.if_else(pa.array(counts > 1), words.take(pa.array(offsets[:-1])), None)
    last = words.take(pa.array(offsets[1:] - 1))
    position = np.arange(len(words)) - np.repeat(offsets[:-1], counts)
    inner = (position > 0) & (position < np.repeat(counts - 1, counts))
    middle_offsets = np.concatenate([[0], np.cumsum(np.maximum(counts - 2, 0))]).astype(np.int32)
    middle = pc.binary_join(
        pa.ListArray.from_arrays(pa.array(middle_offsets), words.filter(pa.array(inner))), space
    )
    middle = pc.if_else(pa.array(counts > 2), middle, None)
    return {"whole": whole, "first": first, "middle": middle, "last": last}


def standardize_plain(values: pa.Array) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Standardize names that :func:`plain_names` accepted: the output columns of
    :data:`transforms.names.COLUMNS` for the names whose words all qualify, and a mask of
    those names (the others must take the per-value path)."""
    tokens = pc.utf8_split_whitespace(pc.utf8_trim(values, " "))
    offsets = tokens.offsets.to_numpy()
    counts = np.diff(offsets)
    encoded = tokens.flatten().dictionary_encode()
    words = [_word(token) for token in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy()
    good_word = np.array([w is not None for w in words], bool)
    good = np.logical_and.reduceat(good_word[codes], offsets[:-1])
    words = [w or ("", False, False, "") for w in words]
    titled = pa.array([w[0] for w in words], pa.string()).take(encoded.indices)
    keys = pa.array([w[3] for w in words], pa.string()).take(encoded.indices)
    tone = np.logical_or.reduceat(np.array([w[1] for w in words], bool)[codes], offsets[:-1])
    case = np.logical_or.reduceat(np.array([w[2] for w in words], bool)[codes], offsets[:-1])
    spacing = pc.not_equal(values, pc.binary_join(tokens, pa.scalar(" ", values.type))).to_numpy(
        zero_copy_only=False
    )
    names, folded = _parts(titled, offsets, counts), _parts(keys, offsets, counts)
    bits = spacing.astype(np.int8) | tone.astype(np.int8) << 1 | case.astype(np.int8) << 2
    columns = {
        "full_name": names["whole"],
        "family_name": names["first"],
        "middle_name": names["middle"],
        "given_name": names["last"],
        "name_key": folded["whole"],
        "family_key": folded["first"],
        "middle_key": folded["middle"],
        "given_key": folded["last"],
        "flags": pa.array([""] * len(values)),
        "repairs": _REPAIRS.take(pa.array(bits)),
    }
    return {name: column.filter(pa.array(good)) for name, column in columns.items()}, good
