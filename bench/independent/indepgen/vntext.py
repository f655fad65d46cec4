"""Vietnamese text tools: decomposition into base letter / vowel mark / tone, diacritic
stripping, Telex and VNI typing left unconverted, legacy-font mojibake (TCVN3, VNI,
Windows-1258 read as Windows-1252), tone-mark placement styles, typing errors, and the
cp1258 encoder (which needs tone marks decomposed)."""

from __future__ import annotations

import unicodedata

TONES = {"\u0301": 1, "\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}  # sắc huyền hỏi ngã nặng
TONE_MARK = {v: k for k, v in TONES.items()}
QUAL = {"\u0302": "^", "\u0306": "(", "\u031b": "+"}  # circumflex, breve, horn

# char -> (plain ascii base, quality mark or "", tone 0..5); "đ" has quality "-"
DECOMP: dict[str, tuple[str, str, int]] = {}


def _build() -> None:
    bases = "aeiouyAEIOUY"
    for b in bases:
        for q in ["", "^", "(", "+"]:
            if q == "^" and b.lower() not in "aeo":
                continue
            if q == "(" and b.lower() != "a":
                continue
            if q == "+" and b.lower() not in "ou":
                continue
            qm = {v: k for k, v in QUAL.items()}.get(q, "")
            for t in range(6):
                s = unicodedata.normalize("NFC", b + qm + (TONE_MARK[t] if t else ""))
                if len(s) == 1:
                    DECOMP[s] = (b, q, t)
    DECOMP["đ"] = ("d", "-", 0)
    DECOMP["Đ"] = ("D", "-", 0)


_build()
COMPOSE = {v: k for k, v in DECOMP.items()}
STRIP_TABLE = str.maketrans({k: v[0] for k, v in DECOMP.items() if k != v[0]})
TONELESS_TABLE = str.maketrans(
    {k: COMPOSE[(v[0], v[1], 0)] for k, v in DECOMP.items() if v[2] and (v[0], v[1], 0) in COMPOSE}
)


def strip_diacritics(s: str) -> str:
    return s.translate(STRIP_TABLE)


def strip_tones(s: str) -> str:
    return s.translate(TONELESS_TABLE)


# ---------------------------------------------------------------- typing left unconverted
_TELEX_T = ["", "s", "f", "r", "x", "j"]
_VNI_Q = {"^": "6", "(": "8", "+": "7", "-": "9"}
_VNI_T = ["", "1", "2", "3", "4", "5"]


def _typed_word(w: str, style: str) -> str:
    out = []
    tone = 0
    for ch in w:
        d = DECOMP.get(ch)
        if d is None:
            out.append(ch)
            continue
        b, q, t = d
        tone = t or tone
        out.append(b)
        if q:
            if style == "telex":
                out.append(b.lower() if q in "^-" else "w")
            else:
                out.append(_VNI_Q[q])
    if tone:
        out.append(_TELEX_T[tone] if style == "telex" else _VNI_T[tone])
    return "".join(out)


def telex(s: str) -> str:
    """'Nguyễn Thị Hương' -> 'Nguyeenx Thij Huwowng'."""
    return " ".join(_typed_word(w, "telex") for w in s.split(" "))


def vni_typing(s: str) -> str:
    """'Nguyễn Thị Hương' -> 'Nguye6n4 Thi5 Hu7o7ng'."""
    return " ".join(_typed_word(w, "vni") for w in s.split(" "))


# ---------------------------------------------------------------- legacy-font mojibake
# TCVN3 (ABC, .VnTime) code points for lower-case letters; capitals with a tone mark do not
# exist in TCVN3 (they live in the .VnTimeH font at the lower-case positions).
_TCVN3 = {
    "Ă": 0xA1,
    "Â": 0xA2,
    "Ê": 0xA3,
    "Ô": 0xA4,
    "Ơ": 0xA5,
    "Ư": 0xA6,
    "Đ": 0xA7,
    "ă": 0xA8,
    "â": 0xA9,
    "ê": 0xAA,
    "ô": 0xAB,
    "ơ": 0xAC,
    "ư": 0xAD,
    "đ": 0xAE,
    "à": 0xB5,
    "ả": 0xB6,
    "ã": 0xB7,
    "á": 0xB8,
    "ạ": 0xB9,
    "ằ": 0xBB,
    "ẳ": 0xBC,
    "ẵ": 0xBD,
    "ắ": 0xBE,
    "ặ": 0xC6,
    "ầ": 0xC7,
    "ẩ": 0xC8,
    "ẫ": 0xC9,
    "ấ": 0xCA,
    "ậ": 0xCB,
    "è": 0xCC,
    "ẻ": 0xCE,
    "ẽ": 0xCF,
    "é": 0xD0,
    "ẹ": 0xD1,
    "ề": 0xD2,
    "ể": 0xD3,
    "ễ": 0xD4,
    "ế": 0xD5,
    "ệ": 0xD6,
    "ì": 0xD7,
    "ỉ": 0xD8,
    "ĩ": 0xDC,
    "í": 0xDD,
    "ị": 0xDE,
    "ò": 0xDF,
    "ỏ": 0xE1,
    "õ": 0xE2,
    "ó": 0xE3,
    "ọ": 0xE4,
    "ồ": 0xE5,
    "ổ": 0xE6,
    "ỗ": 0xE7,
    "ố": 0xE8,
    "ộ": 0xE9,
    "ờ": 0xEA,
    "ở": 0xEB,
    "ỡ": 0xEC,
    "ớ": 0xED,
    "ợ": 0xEE,
    "ù": 0xEF,
    "ủ": 0xF1,
    "ũ": 0xF2,
    "ú": 0xF3,
    "ụ": 0xF4,
    "ừ": 0xF5,
    "ử": 0xF6,
    "ữ": 0xF7,
    "ứ": 0xF8,
    "ự": 0xF9,
    "ỳ": 0xFA,
    "ỷ": 0xFB,
    "ỹ": 0xFC,
    "ý": 0xFD,
    "ỵ": 0xFE,
}


def _cp1252(b: int) -> str:
    return bytes([b]).decode("cp1252", errors="replace")


TCVN3_TABLE: dict[int, str] = {}
for _ch, (_b, _q, _t) in DECOMP.items():
    if _ch in _TCVN3:
        TCVN3_TABLE[ord(_ch)] = _cp1252(_TCVN3[_ch])
    elif _ch.lower() in _TCVN3 and _ch != _ch.lower():
        TCVN3_TABLE[ord(_ch)] = _cp1252(_TCVN3[_ch.lower()])


def tcvn3_mojibake(s: str) -> str:
    """Text typed in a TCVN3 font, then read as Windows-1252: 'Nguyễn Thị Hoà' -> 'NguyÔn ThÞ Hoµ'."""
    return s.translate(TCVN3_TABLE)


# VNI-Windows: a base letter followed by one byte carrying the marks.
_VNI_TONE_L = ["", "ù", "ø", "û", "õ", "ï"]
_VNI_TONE_U = ["", "Ù", "Ø", "Û", "Õ", "Ï"]
_VNI_CIRC_L = ["â", "á", "à", "å", "ã", "ä"]  # circumflex + tone
_VNI_CIRC_U = ["Â", "Á", "À", "Å", "Ã", "Ä"]
_VNI_BREVE_L = ["ê", "é", "è", "ú", "ü", "ë"]
_VNI_BREVE_U = ["Ê", "É", "È", "Ú", "Ü", "Ë"]
_VNI_I_L = ["i", "í", "ì", "æ", "ó", "ò"]
_VNI_I_U = ["I", "Í", "Ì", "Æ", "Ó", "Ò"]


def _vni_char(ch: str) -> str:
    d = DECOMP.get(ch)
    if d is None:
        return ch
    b, q, t = d
    up = b.isupper()
    if q == "-":
        return "Ñ" if up else "ñ"
    if b in "iI":
        return (_VNI_I_U if up else _VNI_I_L)[t]
    if q == "^":
        return b + (_VNI_CIRC_U if up else _VNI_CIRC_L)[t]
    if q == "(":
        return b + (_VNI_BREVE_U if up else _VNI_BREVE_L)[t]
    if q == "+":
        base = {"o": "ô", "u": "ö", "O": "Ô", "U": "Ö"}[b]
        return base + (_VNI_TONE_U if up else _VNI_TONE_L)[t]
    return b + (_VNI_TONE_U if up else _VNI_TONE_L)[t]


VNI_TABLE = {ord(c): _vni_char(c) for c in DECOMP}


def vni_mojibake(s: str) -> str:
    """Text typed in a VNI font, read as Windows-1252: 'Xin chào' -> 'Xin chaøo'."""
    return s.translate(VNI_TABLE)


# ---------------------------------------------------------------- Windows-1258
_CP1258_TABLE = {
    ord(ch): COMPOSE[(b, q, 0)] + TONE_MARK[t] for ch, (b, q, t) in DECOMP.items() if t
}


def cp1258_form(s: str) -> str:
    """Decompose tone marks only (what Windows-1258 can encode): 'ễ' -> 'ê' + U+0303."""
    return unicodedata.normalize("NFC", s).translate(_CP1258_TABLE)


def encode_cp1258(s: str) -> bytes:
    return cp1258_form(s).encode("cp1258", errors="replace")


def cp1258_mojibake(s: str) -> str:
    """Windows-1258 bytes shown as Windows-1252: 'Đặng' -> 'Ðãòng'."""
    return encode_cp1258(s).decode("cp1252", errors="replace")


# ---------------------------------------------------------------- tone placement
# old style puts the tone on the second vowel of oa/oe/uy without a final consonant
# (hoà, khoẻ, thuỷ); new style on the first (hòa, khỏe, thủy).
def _swap_tone_word(w: str, to_old: bool | None) -> str:
    low = strip_diacritics(w.lower())
    for pair in ("oa", "oe", "uy"):
        if low.endswith(pair) and not (low.endswith("qua") or low.endswith("quy")):
            i = len(w) - 2
            a, b = w[i], w[i + 1]
            da, db = DECOMP.get(a), DECOMP.get(b)
            if da is None or db is None:
                return w
            if da[2] and not db[2] and to_old is not False:
                return w[:i] + COMPOSE[(da[0], da[1], 0)] + COMPOSE[(db[0], db[1], da[2])]
            if db[2] and not da[2] and to_old is not True:
                return w[:i] + COMPOSE[(da[0], da[1], db[2])] + COMPOSE[(db[0], db[1], 0)]
    return w


def swap_tone_style(s: str, to_old: bool | None = None) -> str:
    return " ".join(_swap_tone_word(w, to_old) for w in s.split(" "))


def has_tone_style_choice(s: str) -> bool:
    return swap_tone_style(s) != s


# ---------------------------------------------------------------- typing errors
KEY_NEIGHBOURS = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "mb",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "x": "zc",
    "y": "tu",
}
# northern pronunciation confusions: initial l/n, tr/ch, s/x, r/d/gi; finals n/ng, c/t
PHONETIC_INITIAL = [
    ("Tr", "Ch"),
    ("Ch", "Tr"),
    ("S", "X"),
    ("X", "S"),
    ("L", "N"),
    ("N", "L"),
    ("R", "D"),
    ("D", "Gi"),
    ("Gi", "D"),
    ("R", "Gi"),
]
PHONETIC_FINAL = [("ng", "n"), ("n", "ng"), ("c", "t"), ("t", "c"), ("nh", "n")]


def one_letter_typo(s: str, r: int) -> str:
    """Substitute (keyboard neighbour), delete, double or transpose one letter."""
    pos = [i for i, ch in enumerate(s) if ch.isalpha()]
    if len(pos) < 3:
        return s
    i = pos[1 + (r % (len(pos) - 1))]
    op = (r >> 16) % 4
    ch = s[i]
    if op == 0:
        base = strip_diacritics(ch).lower()
        nb = KEY_NEIGHBOURS.get(base)
        if not nb:
            op = 1
        else:
            rep = nb[(r >> 24) % len(nb)]
            return s[:i] + (rep.upper() if ch.isupper() else rep) + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i + 1 :]
    if op == 2:
        return s[:i] + ch + s[i:]
    if i + 1 < len(s) and s[i + 1].isalpha() and s[i + 1] != ch:
        return s[:i] + s[i + 1] + ch + s[i + 2 :]
    return s[:i] + s[i + 1 :]


def phonetic_error(s: str, r: int) -> str:
    words = s.split(" ")
    n = len(words)
    for k in range(n):
        wi = (r + k) % n
        w = words[wi]
        if (r >> 20) % 2 == 0:
            for a, b in PHONETIC_INITIAL:
                if w.startswith(a) and len(w) > len(a):
                    words[wi] = b + w[len(a) :]
                    return " ".join(words)
        else:
            for a, b in PHONETIC_FINAL:
                if w.endswith(a) and len(w) > len(a) + 1:
                    words[wi] = w[: -len(a)] + b
                    return " ".join(words)
    return s
