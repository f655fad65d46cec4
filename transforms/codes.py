"""Small coded fields: sex, vaccine product, dose number, F0 test type, BHXH number.

Each function takes the raw string column and returns a frame with the same index: the
standardized ``value`` (null when absent or invalid), ``flags`` and ``repairs`` (``;``-joined
codes, ``""`` when none). Labels come from :mod:`popsync.core.domain`; they are matched after
folding (no case, diacritics, spaces or punctuation), once per distinct value.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from popsync.core import domain
from transforms.columns import STRING, by_unique, codes_from_masks
from transforms.text import fold

_EXCEL_FLOAT = r"^(\d+)\.0$"  # a number Excel stored as float: "1234567890.0"
_SEPARATORS = r"[\s.\-]"
# Excel users type a leading apostrophe to keep a number as text ('001088012345); the
# apostrophe is not part of the value.
TEXT_PREFIX = r"^['‘’`]+"


def key(values: pd.Series) -> pd.Series:
    """Folded label with only letters and digits: ``"Astra-Zeneca "`` -> ``"astrazeneca"``."""
    return fold(values).str.replace(r"[^a-z0-9]", "", regex=True)


def number_text(values: pd.Series) -> pa.Array:
    """Trimmed text of a number column without Excel's text apostrophe or float ``.0`` (Arrow
    kernels: no Python per value)."""
    text = pa.array(values.astype(STRING).array)
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), TEXT_PREFIX, "")
    return pc.replace_substring_regex(text, _EXCEL_FLOAT, r"\1")


def clean_digits(values: pd.Series) -> pd.Series:
    """Strip an Excel ``.0`` or text apostrophe, spaces, dots and hyphens; null when nothing is left.

    Anything else that is not a digit stays, so callers can tell a malformed number.
    """
    text = pc.replace_substring_regex(number_text(values), _SEPARATORS, "")
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return pd.Series(pd.array(text, dtype=STRING), index=values.index)


def _lookup(values: pd.Series, table: dict[str, str]) -> pd.DataFrame:
    """Canonical value per row from ``{folded key: value}``, and whether a present value was unknown."""

    def per_unique(unique: pd.Series) -> pd.DataFrame:
        keys = key(unique)
        value = keys.map(table).astype(STRING)
        return pd.DataFrame({"value": value, "unknown": keys.ne("").fillna(False) & value.isna()})

    return by_unique(values.astype(STRING), per_unique)


def _result(value: pd.Series, flags: dict, repairs: dict | None = None) -> pd.DataFrame:
    index = value.index
    return pd.DataFrame(
        {
            "value": value,
            "flags": codes_from_masks(flags, index),
            "repairs": codes_from_masks(repairs or {}, index),
        },
        index=index,
    )


_SEX_UNKNOWN = "?"


@cache
def _sex_table() -> dict[str, str]:
    """Folded label -> ``M``/``F``/``O``, or ``_SEX_UNKNOWN`` for a label saying it is not known."""
    facts = domain.facts()
    table = {label: code for code, labels in facts["sex_labels"].items() for label in labels}
    return {**table, **dict.fromkeys(facts["sex_missing_labels"], _SEX_UNKNOWN)}


def standardize_sex(values: pd.Series) -> pd.DataFrame:
    """``Nam``/``Nữ``/``Khác`` and variants -> ``M``/``F``/``O``; ``sex:missing``, ``sex:invalid``.

    A label saying the sex is not known (``Không rõ``, ``KXĐ``, ``?``; ``sex_missing_labels``)
    is null with ``sex:missing``, like an empty cell; any other unknown label is ``sex:invalid``.
    """
    found = _lookup(values, _sex_table())
    said_unknown = found["value"].eq(_SEX_UNKNOWN).fillna(False)
    value = found["value"].mask(said_unknown)
    missing = value.isna() & ~found["unknown"]
    return _result(value, {"sex:missing": missing, "sex:invalid": found["unknown"]})


@cache
def _vaccine_table() -> dict[str, str]:
    pairs = [
        (alias, row["vaccine"])
        for row in domain.vaccines()
        for alias in [row["vaccine"], *row["aliases"].split("|")]
    ]
    keys = key(pd.Series([alias for alias, _ in pairs], dtype=STRING))
    return dict(zip(keys, (name for _, name in pairs), strict=True))


@cache
def _generic_prefix() -> str:
    """Regex of the generic words (``vacxin``, ``vaccine``, ...) at the start of a folded label."""
    words = sorted(domain.facts()["vaccine_generic_words"], key=len, reverse=True)
    return "^(?:" + "|".join(map(re.escape, words)) + ")+"


# Separators between the names a site writes together: "Comirnaty (Pfizer)", "Vero Cell/Sinopharm".
_NAME_PARTS = r"[()\[\]/,;+]"


def standardize_vaccine(values: pd.Series) -> pd.DataFrame:
    """Product name or alias (``Astra Zeneca``, ``vero cell``, ``Comirnaty``) -> canonical name.

    Generic words before the name (``Vắc xin AstraZeneca``, ``Vaccine Pfizer``, ``vacxin
    moderna``; ``vaccine_generic_words``) are dropped. A label that is no alias as a whole but
    names one product in several ways
    (``Comirnaty (Pfizer)``, ``AstraZeneca (AZD1222)``, ``Vero Cell/Sinopharm``) is that
    product when every part that is an alias names the same product.
    """
    table = _vaccine_table()
    generic = _generic_prefix()

    def per_unique(unique: pd.Series) -> pd.DataFrame:
        keys = key(unique)
        value = keys.map(table).astype(STRING)
        stripped = keys.str.replace(generic, "", regex=True)
        value = value.fillna(stripped.map(table).astype(STRING))
        for i in value.index[value.isna() & keys.ne("").fillna(False)]:
            parts = key(pd.Series(re.split(_NAME_PARTS, unique[i]), dtype=STRING))
            parts = parts.str.replace(generic, "", regex=True)
            named = {table[k] for k in parts.dropna() if k in table}
            if len(named) == 1:
                value[i] = named.pop()
        return pd.DataFrame({"value": value, "unknown": keys.ne("").fillna(False) & value.isna()})

    found = by_unique(values.astype(STRING), per_unique)
    return _result(found["value"], {"vaccine:unknown": found["unknown"]})


# A minus sign (ASCII hyphen, U+2212, en dash) right before a number: a negative dose.
_MINUS_BEFORE_DIGIT = r"[-\u2212\u2013]\s*\d"


def standardize_dose_number(values: pd.Series) -> pd.DataFrame:
    """``1``..max dose -> Int8; else ``dose_number:invalid``.

    Also ``01``, ``1.0``, ``Mũi 2``, ``mui 2``, ``M1``, ``Mũi số 3`` and a number with a note in
    brackets (``1 (nhắc lại)``). A label without a number (``Mũi tăng cường``, ``nhắc lại``)
    does not say which dose it is: null with ``dose_number:invalid``. A negative number (``-1``,
    ``Mũi -2``) is invalid, never read as its digits.
    """

    def per_unique(unique: pd.Series) -> pd.DataFrame:
        text = unique.str.strip().str.replace(r"\s*[(\[][^)\]]*[)\]]\s*$", "", regex=True)
        text = text.str.replace(r"\.0+$", "", regex=True)
        negative = text.str.contains(_MINUS_BEFORE_DIGIT).fillna(False)
        digits = key(text).str.replace(r"^(?:muiso|mui|m|so)?0*(\d+)$", r"\1", regex=True)
        number = pd.to_numeric(digits.where(digits.str.fullmatch(r"\d{1,3}") & ~negative))
        valid = number.between(1, domain.facts()["max_dose_number"]).fillna(False)
        return pd.DataFrame({"value": number.where(valid).astype("Int8"), "valid": valid})

    found = by_unique(values.astype(STRING), per_unique)  # a handful of distinct values
    invalid = values.notna() & ~found["valid"]
    return _result(found["value"], {"dose_number:invalid": invalid})


@cache
def _test_type_table() -> dict[str, str]:
    labels = domain.facts()["test_type_labels"]
    return {label: code for code, names in labels.items() for label in names}


def standardize_test_type(values: pd.Series) -> pd.DataFrame:
    """``RT-PCR`` / ``Test nhanh kháng nguyên`` and variants -> ``RT-PCR`` / ``RAT``."""
    found = _lookup(values, _test_type_table())
    return _result(found["value"], {"test_type:unknown": found["unknown"]})


def standardize_bhxh_number(values: pd.Series) -> pd.DataFrame:
    """10 digits, or since 1 Aug 2025 the 12-digit personal ID that replaces it (domain.md).

    Nine digits that do not start with ``0`` get back the leading zero Excel dropped (BHXH
    numbers start with a province code such as ``01``); nine digits that already start with
    ``0`` lost a digit somewhere else and are invalid.
    """
    digits = clean_digits(values)
    lost_zero = digits.str.fullmatch(r"[1-9]\d{8}").fillna(False)
    restored = digits.mask(lost_zero, "0" + digits)
    patterns = f"{domain.facts()['bhxh_number_pattern']}|{domain.facts()['cccd_pattern']}"
    valid = restored.str.contains(patterns).fillna(False)
    return _result(
        restored.where(valid),
        {"bhxh_number:invalid": digits.notna() & ~valid},
        {"bhxh_number:leading_zero": lost_zero},
    )
