"""Masking of personal data for logs, reports, findings and terminal output."""

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
