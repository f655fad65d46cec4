"""The comparison a steward reads (like Splink's comparison viewer): the extract row and each
candidate side by side, field by field, each cell coloured by its level of agreement with the
candidate's weight, values masked; and the waterfall of the weights.

Which value a cell holds is named by (side, field), side ``row`` or a candidate's rank, so that
one cell can be revealed (``reveal``) without the others."""

from __future__ import annotations

from typing import Any

from popsync.core.privacy import mask_id, mask_name, mask_phone, mask_text
from popsync.report import charts, explain, labels

# (field, label, comparison in the explanation): the rows of the comparison.
FIELDS = (
    ("id", "Số giấy tờ", "id"),
    ("family_name", "Họ", "family_name"),
    ("middle_name", "Tên đệm", "middle_name"),
    ("given_name", "Tên", "given_name"),
    ("birth_date", "Ngày sinh", "birth_date"),
    ("sex", "Giới tính", "sex"),
    ("address", "Địa chỉ", "address"),
    ("phone", "Số điện thoại", "phone"),
    ("death_date", "Ngày mất", None),
)
REVEALABLE = ("id", "family_name", "middle_name", "given_name", "birth_date", "address", "phone")


def _parts(name) -> tuple[str, str, str]:
    """Family, middle and given name as the standardizer splits a full name."""
    words = str(name or "").split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return "", "", words[0]
    return words[0], " ".join(words[1:-1]), words[-1]


def _date(value) -> str:
    return "" if value in (None, "") else str(value)[:10]


def row_values(row: dict) -> dict[str, str]:
    """The extract row's real values, by comparison field."""
    family, middle, given = _parts(row.get("full_name"))
    return {
        "id": row.get("id_number") or "", "family_name": family, "middle_name": middle,
        "given_name": given, "birth_date": _date(row.get("birth_date")),
        "sex": row.get("sex") or "", "address": row.get("address") or "",
        "phone": row.get("phone") or "", "death_date": "",
        "ward": row.get("ward_code") or "", "district": row.get("district_code") or "",
        "precision": row.get("birth_date_precision") or "",
    }  # fmt: skip


def person_values(person: dict | None) -> dict[str, str]:
    """A register person's real values, by comparison field."""
    person = person or {}
    family, middle, given = _parts(person.get("ho_ten"))
    return {
        "id": person.get("so_dinh_danh") or "", "cmnd": person.get("so_cmnd") or "",
        "family_name": family, "middle_name": middle, "given_name": given,
        "birth_date": _date(person.get("ngay_sinh")), "sex": person.get("gioi_tinh") or "",
        "address": person.get("dia_chi") or "", "phone": person.get("so_dien_thoai") or "",
        "death_date": _date(person.get("ngay_mat")), "ward": person.get("ma_xa") or "",
        "district": person.get("ma_huyen") or "",
        "precision": person.get("ngay_sinh_precision") or "",
    }  # fmt: skip


def id_difference(declared: str, other: str) -> str:
    """How two IDs differ, without saying their digits: ``001***◆**745`` marks the positions
    that differ (same length), else a word."""
    if not declared or not other:
        return ""
    if declared == other:
        return "trùng"
    if len(declared) != len(other):
        return f"khác độ dài ({len(declared)} và {len(other)} chữ số)"
    differ = [i for i, (a, b) in enumerate(zip(declared, other, strict=True)) if a != b]
    if (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and (declared[differ[0]] == other[differ[1]] and declared[differ[1]] == other[differ[0]])
    ):
        return f"2 chữ số liền nhau đổi chỗ (vị trí {differ[0] + 1}-{differ[1] + 1})"
    if len(differ) <= 2:
        where = ", ".join(str(i + 1) for i in differ)
        return f"khác {len(differ)} chữ số (vị trí {where})"
    return f"khác {len(differ)} chữ số"


def masked(field: str, value: str, role: str, precision: str = "") -> str:
    """A value as a viewer or a steward sees it before revealing it."""
    if not value:
        return "–"
    if field == "id":
        return mask_id(value)
    if field in ("family_name", "middle_name", "given_name"):
        return mask_name(value)
    if field == "phone":
        return mask_phone(value)
    if field == "address":
        return mask_text(value)
    if field == "sex":
        return labels.SEX.get(value, value)
    if field in ("birth_date", "death_date"):
        shown = labels.local_date(value)
        if precision == "year":
            return value[:4]
        return shown if role == "steward" else "**/**/" + value[:4]
    return value


def real_value(item: dict, side: str, field: str) -> str | None:
    """The unmasked value of one cell (``side``: ``row`` or a candidate's rank)."""
    if field not in REVEALABLE:
        return None
    if side == "row":
        return row_values(item["row"]).get(field) or ""
    for candidate in item["candidates"]:
        if str(candidate["rank"]) == side:
            return person_values(candidate["person"]).get(field) or ""
    return None


def comparison(item: dict, role: str) -> dict[str, Any]:
    """The comparison of one review row (``Warehouse.review_page``) for ``role``: ``fields``
    (label, the row's cell, one cell per candidate with its agreement class, level and
    weight), ``candidates`` (rank, masked id, score, waterfall) and the row's unit names."""
    mine = row_values(item["row"])
    columns = []
    for candidate in item["candidates"]:
        theirs = person_values(candidate["person"])
        levels = {f["name"]: f for f in explain.fields(candidate["explanation"])}
        bars = [(f["label"], f["weight"], f["agreement"]) for f in levels.values()]
        columns.append({"rank": candidate["rank"], "id": mask_id(candidate["so_dinh_danh"]),
                        "score": candidate["score"], "values": theirs, "levels": levels,
                        "pass": candidate["explanation"].get("pass", ""),
                        "waterfall": charts.waterfall(bars)})  # fmt: skip
    rows = []
    for field, label, compared in FIELDS:
        cells = []
        for column in columns:
            theirs = column["values"]
            level = column["levels"].get(compared) if compared else None
            note = ""
            if field == "id":
                note = id_difference(mine["id"], theirs["id"])
                if theirs.get("cmnd") and mine["id"] == theirs["cmnd"]:
                    note = "là CMND của người này"
            if field == "address":
                note = labels.unit_name(theirs["ward"]) if theirs["ward"] else ""
            cells.append({
                "side": str(column["rank"]),
                "text": masked(field, theirs[field], role, theirs["precision"]),
                "agreement": level["agreement"] if level else "context",
                "level": level["level_label"] if level else "",
                "weight": level["weight"] if level else None,
                "note": note,
            })  # fmt: skip
        if field == "death_date" and not any(c["text"] != "–" for c in cells):
            continue
        note = labels.unit_name(mine["ward"]) if field == "address" and mine["ward"] else ""
        rows.append({"field": field, "label": label, "revealable": field in REVEALABLE,
                     "row": {"side": "row", "note": note,
                             "text": masked(field, mine[field], role, mine["precision"])},
                     "cells": cells})  # fmt: skip
    return {"fields": rows, "candidates": columns}
