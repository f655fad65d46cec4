import unicodedata

import pytest

from transforms.legacy_encodings import (
    VIETNAMESE_LETTERS,
    from_cp1258_bytes,
    is_vietnamese_syllable,
    repair_mojibake,
    to_cp1258_bytes,
    to_cp1258_mojibake,
    to_tcvn3_mojibake,
    to_vni_mojibake,
)

LOWER = [c for c in VIETNAMESE_LETTERS if c.islower()]
UPPER = [c for c in VIETNAMESE_LETTERS if c.isupper()]


def _syllable(letter: str) -> str:
    """A one-syllable word carrying ``letter`` (a vowel gets a final n, đ a following a)."""
    return letter + ("a" if letter in "đĐ" else "n")


def test_alphabet_has_every_vietnamese_letter():
    assert len(LOWER) == len(UPPER) == 67
    assert {"ễ", "ự", "ỵ", "đ", "ặ", "Ỹ", "Đ", "Ơ"} <= set(VIETNAMESE_LETTERS)


def test_domain_examples():
    assert to_tcvn3_mojibake("Nguyễn Thị Hoà") == "NguyÔn ThÞ Hoµ"
    assert to_vni_mojibake("Xin chào") == "Xin chaøo"
    assert repair_mojibake("NguyÔn ThÞ Hoµ") == ("Nguyễn Thị Hoà", "tcvn3")
    assert repair_mojibake("Xin chaøo") == ("Xin chào", "vni")
    assert repair_mojibake("Ðặng Văn Ðức") == ("Đặng Văn Đức", "cp1258")


def test_tcvn3_capitals():
    # Only Ă Â Ê Ô Ơ Ư Đ have capital codes; other capitals use the lower-case code.
    assert to_tcvn3_mojibake("ĐẶNG VĂN ĐỨC") == "§ÆNG V¡N §øC"
    assert repair_mojibake("§ÆNG V¡N §øC") == ("ĐẶNG VĂN ĐỨC", "tcvn3")
    assert repair_mojibake("§Æng ThÞ ¸nh") == ("Đặng Thị ánh", "tcvn3")


def test_vni_spellings():
    assert to_vni_mojibake("Đặng Thị Hoà") == "Ñaëng Thò Hoaø"
    assert to_vni_mojibake("Phạm Thị Ngọc Hương") == "Phaïm Thò Ngoïc Höông"
    assert to_vni_mojibake("TRẦN VĂN TỴ") == "TRAÀN VAÊN TÎ"


def test_cp1258_bytes_decompose_only_what_the_code_page_lacks():
    assert to_cp1258_bytes("Đặng") == b"\xd0\xe3\xf2ng"  # Đ, ă + dot below
    assert to_cp1258_bytes("Hà") == b"H\xe0"  # à is precomposed in cp1258
    assert to_cp1258_bytes("Nguyễn") == b"Nguy\xea\xden"  # ê + tilde
    assert from_cp1258_bytes(b"Nguy\xea\xden") == "Nguyễn"
    assert to_cp1258_mojibake("Đặng") == "Ðãòng"
    with pytest.raises(UnicodeEncodeError):
        to_cp1258_bytes("王")


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_cp1258_round_trip(letter):
    assert from_cp1258_bytes(to_cp1258_bytes(letter)) == letter
    nfd = unicodedata.normalize("NFD", letter)
    assert to_cp1258_bytes(nfd) == to_cp1258_bytes(letter)


@pytest.mark.parametrize(
    ("encode", "kind"),
    [(to_tcvn3_mojibake, "tcvn3"), (to_vni_mojibake, "vni"), (to_cp1258_mojibake, "cp1258")],
)
def test_every_letter_round_trips_through_mojibake(encode, kind):
    for letter in LOWER:
        text = f"Nguyễn Thị {_syllable(letter)}"
        assert repair_mojibake(encode(text)) == (text, kind), letter
    for letter in UPPER:
        text = f"NGUYỄN THỊ {_syllable(letter).upper()}"
        assert repair_mojibake(encode(text)) == (text, kind), letter


@pytest.mark.parametrize(
    "text",
    [
        "Lê Thị Ánh",
        "Tô Lâm",
        "Lê Hà",
        "Hà Văn Tú",
        "Nguyễn Thị Hoà",
        "NGUYỄN VĂN AN",
        "Nguyen Van An",
        "Guðrún Ólafsdóttir",
        "Müller",
        "José García",
        "François Côté",
        "Zoë Ñúñez",
        "H'Hen Niê",
        "",
    ],
)
def test_no_false_repair(text):
    assert repair_mojibake(text) == (text, None)


def test_nfd_input_comes_back_nfc_without_a_kind():
    nfd = unicodedata.normalize("NFD", "Trần Thị Thuỷ")
    assert repair_mojibake(nfd) == ("Trần Thị Thuỷ", None)


def test_syllable_shape():
    assert all(map(is_vietnamese_syllable, ["Nguyễn", "khuya", "NGƯỜI", "Quỳnh", "gì", "Oanh"]))
    assert not any(map(is_vietnamese_syllable, ["NguyÔn", "Hoµ", "Müller", "hoàà", "Smith"]))
