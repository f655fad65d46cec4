"""Masking of personal data for logs, reports, findings, errors and terminal output: the one
implementation every output uses. By column (``mask_value``: the field says what the value is)
and by value (``mask_patterns``: an ID, a BHXH number or a phone wherever it landed, e.g. in the
sex column of a row a stray quote shifted, or in a database error)."""

from __future__ import annotations

import re

import pandas as pd

_DIGITS = re.compile(r"\d")


def mask_id(value: object) -> str:
    """``001234567345`` -> ``001******345``: keep 3 leading and 3 trailing characters."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    if len(text) <= 6:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 6) + text[-3:]


def mask_phone(value: object) -> str:
    """``0912345678`` -> ``091****678``."""
    return mask_id(value)


def mask_name(value: object) -> str:
    """``Nguyễn Văn An`` -> ``N***** V** A*``: first letter of each word."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in str(value).split())


def mask_text(value: object) -> str:
    """Free text that may hold anything personal: keep its length and shape only."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return _DIGITS.sub("#", mask_name(value))


PERSONAL_FIELDS = {
    "id_number": mask_id,
    "person_id": mask_id,
    "so_dinh_danh": mask_id,
    "cmnd": mask_id,
    "bhxh_number": mask_id,
    "phone": mask_phone,
    "full_name": mask_name,
    "family_name": mask_name,
    "middle_name": mask_name,
    "given_name": mask_name,
    "name_key": mask_name,
    "address": mask_text,
}


def mask_value(field: str, value: object) -> str:
    """Mask ``value`` if ``field`` (canonical or ``raw_`` prefixed) holds personal data."""
    masker = PERSONAL_FIELDS.get(field.removeprefix("raw_"))
    if masker is None:
        return "" if value is None or value is pd.NA else str(value)
    return masker(value)


_LONG_NUMBER = re.compile(r"\d{9,}")


def mask_record_id(value: object) -> str:
    """A record id as people see it: a run of 9 or more digits in it (an ID or a BHXH number,
    as in ``bhxh_number|period_start``) masked like an ID; other ids as they are."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return _LONG_NUMBER.sub(lambda found: mask_id(found.group()), str(value))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> object:
    """A cell value a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading apostrophe (OWASP's CSV injection advice);
    numbers and other values are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# A number that may be an ID (12 digits, or 9 for the old CMND), a BHXH number (10) or a phone
# (10, 11 with the pre-2018 prefixes, +84 / 84 in front, digits grouped by spaces, dots or
# dashes): 9 to 13 digits, never inside a longer word or number (a run id, a hash).
_NUMBER_LIKE = re.compile(r"(?<![\w.])\+?\d[\d .\-]{7,20}\d(?![\w])")
_GROUP_SEPARATORS = re.compile(r"[ .\-]+")


def _masked_number(found: re.Match) -> str:
    text = found.group()
    groups = [g for g in _GROUP_SEPARATORS.split(text.lstrip("+")) if g]
    digits = "".join(groups)
    # Dates and times (2022-12-12 05:18) group digits by 2 and 4: a phone groups them by 3+.
    if not 9 <= len(digits) <= 13 or any(len(g) < 3 for g in groups[1:]):
        return text
    return mask_id(digits)


def mask_patterns(value: object) -> str:
    """Text with every number that looks like an ID, a BHXH number or a phone masked
    (``001******345``), whatever column or message it is in."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return _NUMBER_LIKE.sub(_masked_number, str(value))


# PostgreSQL's error lines that quote data: the failing row, the key, the COPY line.
_ROW_DATA_LINES = ("DETAIL:", "CONTEXT:", "HINT:", "LINE ", "QUERY:", "WHERE:")


def error_text(error: BaseException) -> str:
    """An error as a user may read it: its first message line without the lines a database
    adds with row data (psycopg2's DETAIL / CONTEXT / HINT: a whole row, a COPY line), numbers
    that look personal masked. One line."""
    text = str(error) or type(error).__name__
    primary = getattr(getattr(error, "diag", None), "message_primary", None)
    if primary:
        text = primary
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith(_ROW_DATA_LINES)]
    shown = "; ".join(kept) or type(error).__name__
    shown = shown.replace("\x00", "\\x00")
    return mask_patterns(shown.removeprefix("ERROR:").strip())
