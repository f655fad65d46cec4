"""Phone standardizer: any common Vietnamese writing of a mobile number -> ``0xxxxxxxxx``.

``+84 912 345 678``, ``84912345678``, ``0084...`` -> national form; a number Excel stored as a
number (9 digits, or 10 digits starting with ``1`` for an old 11-digit mobile) gets its ``0`` back;
an 11-digit pre-2018 mobile (``01689123456``) is renumbered to 10 digits (``0389123456``) with
the prefix table of ``popsync.core.domain.facts()["mobile_prefix_renumbering_2018"]``. Anything that
does not end as 10 digits is null and flagged ``phone:invalid`` (so are 11-digit landlines).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from popsync.core import domain
from transforms import regex_columns
from transforms.codes import number_text
from transforms.columns import STRING, by_unique, codes_from_masks

_VALID = r"0[1-9]\d{8}"


@cache
def _renumbering() -> dict[str, str]:
    return dict(domain.facts()["mobile_prefix_renumbering_2018"])


def standardize_phone(values: pd.Series) -> pd.DataFrame:
    """Returns ``phone``, ``flags`` (``phone:invalid``), ``repairs`` (``phone:renumbered``)."""
    return by_unique(values.astype(STRING), _standardize_unique)


def _standardize_unique(unique: pd.Series) -> pd.DataFrame:
    text = pd.Series(pd.array(number_text(unique), dtype=STRING), index=unique.index)
    digits = regex_columns.replace(text, r"\D", "")
    length = digits.str.len()
    international = (digits.str.startswith("84") & length.isin([11, 12])) | (
        digits.str.startswith("0084") & length.isin([13, 14])
    )
    national = digits.mask(
        international.fillna(False), "0" + regex_columns.replace(digits, r"^0*84", "")
    )
    lost_zero = (national.str.len().eq(9) & ~national.str.startswith("0")) | (
        national.str.len().eq(10) & national.str.startswith("1")
    )
    national = national.mask(lost_zero.fillna(False), "0" + national)
    codes, heads = pd.factorize(national.str.slice(0, 4).where(national.str.len().eq(11)))
    renumbering = _renumbering()
    prefix = pd.Series(
        pd.array([renumbering.get(h) for h in heads] + [None], dtype=STRING).take(codes),
        index=unique.index,
    )
    renumbered = (national.str.len().eq(11) & prefix.notna()).fillna(False)
    national = national.mask(renumbered, prefix + national.str.slice(4))
    valid = regex_columns.fullmatch(national, _VALID).fillna(False)
    # Text with letters ("không có") is no phone even if a few digits hide in it.
    letters = regex_columns.contains(text, r"[^\d\s.+()\-/]").fillna(False)
    valid &= ~letters
    present = text.ne("").fillna(False)
    return pd.DataFrame(
        {
            "phone": national.where(valid),
            "flags": codes_from_masks({"phone:invalid": present & ~valid}, unique.index),
            "repairs": codes_from_masks({"phone:renumbered": renumbered & valid}, unique.index),
        }
    )
