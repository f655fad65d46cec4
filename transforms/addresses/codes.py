"""Register codes: GSO codes given in columns, padded to their width and checked against the
gazetteer and against each other (a ward must sit in the district given above it)."""

from __future__ import annotations

from transforms.addresses.gazetteer import CODE_WIDTH, Index, scheme_index
from transforms.addresses.parse import Result, finish

# --- register codes --------------------------------------------------------------------------


def _pad_code(level: str, value: str | None) -> tuple[str | None, bool]:
    """(code padded to the GSO width, whether padding was needed); a non-code is returned as is."""
    if value is None:
        return None, False
    digits = value.strip()
    if digits.endswith(".0"):  # a number that went through a float column
        digits = digits[:-2]
    width = CODE_WIDTH[level]
    if not digits.isdigit() or len(digits.lstrip("0")) > width:
        return value, False  # kept as given so that it is flagged unknown
    padded = digits.lstrip("0").zfill(width)
    return padded, padded != digits


def check_codes(
    scheme: str, province: str | None, district: str | None, ward: str | None
) -> Result:
    ix = scheme_index(scheme)
    given = {"province": province, "district": district, "ward": ward}
    codes: dict[str, str | None] = dict.fromkeys(ix.levels)
    status: dict[str, str] = {}
    repairs: list[str] = []
    extra_flags: list[str] = []
    for level, value in given.items():
        code, padded = _pad_code(level, value)
        if code is None:
            continue
        if level not in ix.levels:
            extra_flags.append(f"{level}:not_in_scheme")
        elif ix.level_of.get(code) == level:
            codes[level] = code
            if padded:
                repairs.append(f"{level}_code:leading_zero")
        else:  # flagged even where a valid child code fills it in later
            extra_flags.append(f"{level}:unknown")
    # Each code must sit inside the nearest code given above it; a child that does not is
    # dropped with its own children (which of the two is wrong cannot be told).
    levels = ix.levels
    for depth, child in enumerate(levels[1:], start=1):
        above = next((lv for lv in levels[depth - 1 :: -1] if codes[lv]), None)
        if codes[child] and above and _ancestor(ix, codes[child], above) != codes[above]:
            status[child] = "mismatch"
            for level in levels[depth:]:
                codes[level] = None
    result = finish(ix, codes, status, repairs)
    flags = dict.fromkeys(f for f in (*extra_flags, *result[3].split(";")) if f)
    return (*result[:3], ";".join(flags), result[4])


def _ancestor(ix: Index, code: str, level: str) -> str | None:
    while code and ix.level_of[code] != level:
        code = ix.parent.get(code)
    return code
