"""Legacy Vietnamese encodings: TCVN3 (ABC), VNI Windows and Windows-1258.

Before Unicode, Vietnamese was typed with 8-bit fonts. When such text is saved or
exported as if it were Windows-1252 (or Unicode read from it), every accented letter
turns into Latin-1 look-alikes: "Nguyễn Thị Hoà" typed in TCVN3 reads "NguyÔn ThÞ Hoµ",
typed in VNI "Nguyeãn Thò Hoaø". This module makes that mojibake (for test data) and
repairs it.

Character tables (facts, kept here as clearly sourced data):

- TCVN3 = TCVN 5712:1993, table VN3 (the ".VnTime" ABC fonts): one byte per letter,
  all lower-case Vietnamese letters plus only seven capitals (Ă Â Ê Ô Ơ Ư Đ). Capitals
  with a tone mark live in the separate all-capitals fonts (".VnTimeH") at the *lower-case*
  byte positions, so typed text carries the lower-case code. ``to_tcvn3_mojibake`` does
  the same; ``repair_mojibake`` upper-cases such a letter again when the rest of its word
  is in capitals ("NGUYÔN" -> "NGUYỄN") and otherwise leaves it lower case (names are
  title-cased afterwards by the name standardizer).
- VNI Windows font encoding (VNI-Times etc.): a base letter followed by one byte for the
  diacritic/tone combination ("à" = "a" + 0xF8), with a few letters as single bytes
  (ơ, ư, đ, i with tones, ỵ); capitals use the upper-case bytes.
- Windows-1258 (cp1258): precomposed â ê ô ă ơ ư đ and some toned Latin-1 letters, and
  the five tone marks as combining characters.
"""

from __future__ import annotations

import re
import string
import unicodedata

# The five tone marks as combining characters: sắc, huyền, hỏi, ngã, nặng.
ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TONE_MARKS = ACUTE + GRAVE + HOOK + TILDE + DOT

_VOWELS = "aăâeêioôơuưy"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# Every Vietnamese letter outside ASCII: 67 lower case, then their 67 capitals.
_LOWER_LETTERS = tuple(
    letter
    for letter in (_nfc(v + t) for v in _VOWELS for t in ("",) + tuple(TONE_MARKS))
    if not letter.isascii()
) + ("đ",)
VIETNAMESE_LETTERS: tuple[str, ...] = _LOWER_LETTERS + tuple(c.upper() for c in _LOWER_LETTERS)

# --- TCVN3 (TCVN 5712:1993, VN3) -------------------------------------------------------
# Byte of each lower-case letter; columns: no tone, huyền, hỏi, ngã, sắc, nặng.
_TCVN3_TONES = ("", GRAVE, HOOK, TILDE, ACUTE, DOT)
_TCVN3_TABLE = {
    "a": (None, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xA8, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xA9, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (None, 0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xAA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (None, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (None, 0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xAB, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xAC, 0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (None, 0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xAD, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (None, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TCVN3_SINGLE = {
    "đ": 0xAE,
    "Ă": 0xA1,
    "Â": 0xA2,
    "Ê": 0xA3,
    "Ô": 0xA4,
    "Ơ": 0xA5,
    "Ư": 0xA6,
    "Đ": 0xA7,
}


def _cp1252_char(byte: int) -> str:
    return bytes([byte]).decode("cp1252")


def _tcvn3_encode_table() -> dict[str, str]:
    table = {
        _nfc(base + tone): _cp1252_char(byte)
        for base, row in _TCVN3_TABLE.items()
        for tone, byte in zip(_TCVN3_TONES, row, strict=True)
        if byte is not None
    }
    table.update({letter: _cp1252_char(byte) for letter, byte in _TCVN3_SINGLE.items()})
    # Capitals without a code of their own take the lower-case code (.VnTimeH convention).
    for letter in list(table):
        table.setdefault(letter.upper(), table[letter])
    return table


_TCVN3_ENCODE = _tcvn3_encode_table()
_TO_TCVN3 = str.maketrans(_TCVN3_ENCODE)
_FROM_TCVN3 = str.maketrans(
    {
        moji: letter
        for letter, moji in _TCVN3_ENCODE.items()
        if letter.islower() or letter in _TCVN3_SINGLE
    }
)

# --- VNI Windows (VNI Software's font encoding; same table as open-source keyboards,
# e.g. xvnkb's vni.h) ---------------------------------------------------------------------
# Lower-case spelling of each letter; columns: no tone, sắc, huyền, hỏi, ngã, nặng.
# Capitals are the same spellings upper-cased ("Ấ" = "AÁ").
_VNI_TONES = ("", ACUTE, GRAVE, HOOK, TILDE, DOT)
_PLAIN = ("", "ù", "ø", "û", "õ", "ï")
_CIRCUMFLEX = ("â", "á", "à", "å", "ã", "ä")
_VNI_TABLE = {
    "a": ["a" + m for m in _PLAIN],
    "â": ["a" + m for m in _CIRCUMFLEX],
    "ă": ["a" + m for m in ("ê", "é", "è", "ú", "ü", "ë")],
    "e": ["e" + m for m in _PLAIN],
    "ê": ["e" + m for m in _CIRCUMFLEX],
    "i": ["i", "í", "ì", "æ", "ó", "ò"],
    "o": ["o" + m for m in _PLAIN],
    "ô": ["o" + m for m in _CIRCUMFLEX],
    "ơ": ["ô" + m for m in _PLAIN],
    "u": ["u" + m for m in _PLAIN],
    "ư": ["ö" + m for m in _PLAIN],
    "y": ["y" + m for m in _PLAIN[:5]] + ["î"],
}


def _vni_encode_table() -> dict[str, str]:
    table = {
        _nfc(base + tone): spelling
        for base, row in _VNI_TABLE.items()
        for tone, spelling in zip(_VNI_TONES, row, strict=True)
    }
    table["đ"] = "ñ"
    table.update({letter.upper(): spelling.upper() for letter, spelling in list(table.items())})
    return {letter: spelling for letter, spelling in table.items() if letter != spelling}


_VNI_ENCODE = _vni_encode_table()
_TO_VNI = str.maketrans(_VNI_ENCODE)
_FROM_VNI_MAP = {spelling: letter for letter, spelling in _VNI_ENCODE.items()}
_FROM_VNI_RE = re.compile(
    "|".join(re.escape(s) for s in sorted(_FROM_VNI_MAP, key=len, reverse=True))
)

# --- Windows-1258 --------------------------------------------------------------------------


def _cp1258_spelling(letter: str) -> str:
    """The letter as cp1258 holds it: precomposed if the code page has it, else base + tone."""
    try:
        letter.encode("cp1258")
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFD", letter)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        return _nfc("".join(c for c in decomposed if c not in TONE_MARKS)) + tones
    return letter


_TO_CP1258_FORM = str.maketrans(
    {c: s for c in VIETNAMESE_LETTERS if (s := _cp1258_spelling(c)) != c}
)


def to_cp1258_bytes(text: str, errors: str = "strict") -> bytes:
    """``text`` in Windows-1258 the way Windows writes it: precomposed where the code page
    has the letter, base letter + combining tone mark otherwise ("ễ" -> "ê" + U+0303)."""
    return _nfc(text).translate(_TO_CP1258_FORM).encode("cp1258", errors)


def from_cp1258_bytes(data: bytes, errors: str = "strict") -> str:
    """Windows-1258 bytes as NFC text (the tone marks recomposed)."""
    return _nfc(data.decode("cp1258", errors))


# --- Making mojibake -------------------------------------------------------------------------


def to_tcvn3_mojibake(text: str) -> str:
    """``text`` typed in TCVN3 and read as Windows-1252: "Nguyễn Thị Hoà" -> "NguyÔn ThÞ Hoµ".

    Capitals with a tone mark are written with the lower-case code ("NGUYỄN" -> "NGUYÔN");
    characters outside Vietnamese are left as they are.
    """
    return _nfc(text).translate(_TO_TCVN3)


def to_vni_mojibake(text: str) -> str:
    """``text`` typed in VNI Windows and read as Windows-1252: "Xin chào" -> "Xin chaøo"."""
    return _nfc(text).translate(_TO_VNI)


def to_cp1258_mojibake(text: str) -> str:
    """``text`` saved as Windows-1258 and read as Windows-1252: "Đặng" -> "Ðãòng"."""
    return to_cp1258_bytes(text).decode("cp1252")


# --- Recognising Vietnamese ----------------------------------------------------------------

_TONELESS = str.maketrans(
    {
        c: unicodedata.normalize(
            "NFC", "".join(m for m in unicodedata.normalize("NFD", c) if m not in TONE_MARKS)
        ).lower()
        for c in VIETNAMESE_LETTERS
    }
)
_TONED = frozenset(
    c for c in VIETNAMESE_LETTERS if set(unicodedata.normalize("NFD", c)) & set(TONE_MARKS)
)
_NUCLEI = [
    "a",
    "ă",
    "â",
    "e",
    "ê",
    "i",
    "o",
    "ô",
    "ơ",
    "u",
    "ư",
    "y",
    "ai",
    "ao",
    "au",
    "ay",
    "âu",
    "ây",
    "eo",
    "êu",
    "ia",
    "iê",
    "iu",
    "oa",
    "oă",
    "oe",
    "oi",
    "oo",
    "ôi",
    "ơi",
    "ua",
    "uâ",
    "ue",
    "uê",
    "ui",
    "uô",
    "uơ",
    "uy",
    "ưa",
    "ưi",
    "ươ",
    "ưu",
    "yê",
    "iêu",
    "yêu",
    "oai",
    "oao",
    "oay",
    "oeo",
    "uây",
    "uôi",
    "uya",
    "uyê",
    "uyu",
    "ươi",
    "ươu",
]
_SYLLABLE_RE = re.compile(
    "(?:ngh|ng|nh|gh|gi|kh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    f"(?:{'|'.join(sorted(_NUCLEI, key=len, reverse=True))})"
    "(?:ch|ng|nh|[cmnpt])?"
)


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` (NFC) is spelt like one Vietnamese syllable: initial consonant,
    vowel cluster, final consonant, at most one tone mark, lower/Title/UPPER case."""
    if not (word.islower() or word.isupper() or word.istitle()):
        return False
    lower = word.lower()
    if sum(c in _TONED for c in lower) > 1:
        return False
    return _SYLLABLE_RE.fullmatch(lower.translate(_TONELESS)) is not None


# --- Repair ----------------------------------------------------------------------------------

_NOT_CP1252_RE = re.compile(f"[^{re.escape(bytes(range(256)).decode('cp1252', 'ignore'))}]")
# A character ``_latin_byte`` has no byte for: such text cannot be UTF-8 read as Windows-1252.
_NO_LATIN_BYTE_RE = re.compile(
    f"[^\\x00-\\xff{re.escape(bytes(range(256)).decode('cp1252', 'ignore'))}]"
)
_PUNCT = string.punctuation


def _words(text: str) -> list[str]:
    return [w for w in (t.strip(_PUNCT) for t in text.split()) if w]


def _has_bad_word(text: str) -> bool:
    """A word with non-ASCII characters that is not Vietnamese (ASCII words may be foreign)."""
    return any(not w.isascii() and not is_vietnamese_syllable(w) for w in _words(text))


def _restore_caps(moji: str, repaired: str) -> str:
    """Upper-case TCVN3 letters decoded from lower-case codes inside capitalised words."""
    words = []
    for before, after in zip(moji.split(" "), repaired.split(" "), strict=True):
        kept = [a for b, a in zip(before[1:], after[1:], strict=True) if a == b and a.isalpha()]
        words.append(after.upper() if kept and all(c.isupper() for c in kept) else after)
    return " ".join(words)


def _from_tcvn3(text: str) -> str:
    return _restore_caps(text, text.translate(_FROM_TCVN3))


def _from_vni(text: str) -> str:
    return _FROM_VNI_RE.sub(lambda m: _FROM_VNI_MAP[m.group(0)], text)


def _from_cp1258(text: str) -> str | None:
    try:
        return from_cp1258_bytes(text.encode("cp1252"))
    except UnicodeError:
        return None


_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})


def _latin_byte(char: str) -> int | None:
    try:
        return char.encode("cp1252")[0]
    except UnicodeEncodeError:
        # the five bytes Windows-1252 leaves undefined come back as C1 controls (Latin-1)
        return ord(char) if ord(char) < 0x100 else None


def _from_utf8(text: str) -> str | None:
    """UTF-8 bytes that were read as Windows-1252 ("Há»“" -> "Hồ"), or None."""
    if _NO_LATIN_BYTE_RE.search(text):  # one regex instead of a lookup per character
        return None
    data = []
    for char in text:
        byte = _latin_byte(char)
        if byte is None:
            return None
        data.append(byte)
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Repair TCVN3, VNI, Windows-1258 or UTF-8 text read as Windows-1252.

    Returns the NFC text and the kind repaired (``"tcvn3"``, ``"vni"``, ``"cp1258"``,
    ``"utf8"``) or ``None``. A decoding is accepted only when the text has a word that is not Vietnamese
    and the decoding makes every non-ASCII word a Vietnamese syllable, so correct
    Vietnamese ("Lê Thị Ánh"), ASCII and foreign names ("Guðrún", "Müller") are left
    alone. ``Ð``/``ð`` (Icelandic eth, how cp1258's Đ/đ show in Windows-1252) inside
    otherwise Unicode text is repaired under the same rule.
    """
    text = _nfc(text)
    # Fast exits for most correct names: ASCII, or a letter Windows-1252 lacks (ă, ư, ạ, ...)
    # and no eth; neither can be mojibake.
    if text.isascii():
        return text, None
    # UTF-8 read as Windows-1252: only a strict UTF-8 decoding that leaves no foreign word.
    utf8 = _from_utf8(text)
    if utf8 is not None and utf8 != text and _has_bad_word(text) and not _has_bad_word(utf8):
        return _nfc(utf8), "utf8"
    whole = _NOT_CP1252_RE.search(text) is None
    if not (whole or "Ð" in text or "ð" in text) or not _has_bad_word(text):
        return text, None
    if whole:
        for kind, decode in (("tcvn3", _from_tcvn3), ("vni", _from_vni), ("cp1258", _from_cp1258)):
            candidate = decode(text)
            if candidate is not None and candidate != text and not _has_bad_word(candidate):
                return _nfc(candidate), kind
    candidate = text.translate(_ETH)
    if candidate != text and not _has_bad_word(candidate):
        return candidate, "cp1258"
    return text, None
