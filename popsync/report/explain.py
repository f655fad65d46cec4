"""What a linkage explanation says, in words a steward reads: per compared field, its level of
agreement (exact, partial, disagreeing, missing), its weight, and labels in Vietnamese.

An explanation is the linker's JSON (docs/DESIGN.md "Linkage output"): ``fields`` maps each
comparison to ``[level, weight]`` (or ``{"level": ..., "weight": ...}``); unknown levels are
classed by the sign of their weight, so a new level of the linker shows without a change here.
"""

from __future__ import annotations

import json
from typing import Any

# The comparisons, in the order a steward reads them, with their Vietnamese and English labels.
COMPARISONS = {
    "id": ("Số giấy tờ", "id"),
    "family_name": ("Họ", "family name"),
    "middle_name": ("Tên đệm", "middle name"),
    "given_name": ("Tên", "given name"),
    "birth_date": ("Ngày sinh", "birth date"),
    "sex": ("Giới tính", "sex"),
    "address": ("Địa chỉ", "address"),
    "phone": ("Số điện thoại", "phone"),
}
# Levels that are full agreement; ``else`` disagrees; ``null``: a value is missing.
FULL = {"exact", "ward"}
LEVELS_VI = {
    "exact": "trùng khớp",
    "folded": "giống khi bỏ dấu",
    "reordered": "đảo thứ tự",
    "one_typo": "sai 1 ký tự",
    "similar": "gần giống",
    "cmnd": "là CMND của người này",
    "near": "gần đúng (1-2 chữ số)",
    "day_month_swapped": "đảo ngày và tháng",
    "same_year_imprecise": "cùng năm (ngày không rõ)",
    "within_year": "lệch dưới 1 năm",
    "ward": "cùng xã/phường",
    "district": "cùng quận/huyện",
    "province": "cùng tỉnh",
    "else": "khác",
    "null": "thiếu dữ liệu",
}
AGREEMENT_VI = {"full": "khớp", "partial": "khớp một phần", "none": "không khớp",
                "missing": "thiếu"}  # fmt: skip


def parse(explanation: Any) -> dict:
    """The explanation as a dict (JSON text or a dict; anything else gives ``{}``)."""
    if isinstance(explanation, dict):
        return explanation
    if not isinstance(explanation, str) or not explanation:
        return {}
    try:
        value = json.loads(explanation)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def agreement(level: str, weight: float) -> str:
    """``full``, ``partial``, ``none`` or ``missing``."""
    if level == "null":
        return "missing"
    if level in FULL:
        return "full"
    if level == "else":
        return "none"
    return "partial" if weight > 0 else "none"


def fields(explanation: Any) -> list[dict]:
    """Per compared field, in reading order: ``name``, ``label`` (Vietnamese), ``label_en``,
    ``level``, ``level_label``, ``weight``, ``agreement``."""
    found = parse(explanation).get("fields") or {}
    order = list(COMPARISONS) + [name for name in found if name not in COMPARISONS]
    out = []
    for name in order:
        if name not in found:
            continue
        value = found[name]
        if isinstance(value, dict):
            level, weight = value.get("level"), value.get("weight")
        else:
            level, weight = (list(value) + [None, None])[:2]
        level, weight = str(level), float(weight or 0)
        label, label_en = COMPARISONS.get(name, (name, name.replace("_", " ")))
        out.append({"name": name, "label": label, "label_en": label_en, "level": level,
                    "level_label": LEVELS_VI.get(level, level.replace("_", " ")),
                    "weight": weight, "agreement": agreement(level, weight)})  # fmt: skip
    return out


def agree_differ(explanation: Any) -> tuple[list[str], list[str]]:
    """The English names of the fields that agree (fully or partly: ``name~`` for partly) and
    of those that disagree, for a terminal line."""
    agree, differ = [], []
    for field in fields(explanation):
        if field["agreement"] == "full":
            agree.append(field["label_en"])
        elif field["agreement"] == "partial":
            agree.append(f"{field['label_en']}~")
        elif field["agreement"] == "none":
            differ.append(field["label_en"])
    return agree, differ
