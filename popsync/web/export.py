"""The quarantined rows of a unit, as a page shows them (masked) and as a file for sending back
to the unit that made them (XLSX or CSV, formula-safe): the row's number in the file, its
record id, the rules it broke with the reasons in Vietnamese, then every field as the source
wrote it. A steward's export has the values as written (the unit needs them to find its rows;
each export is audited); a viewer's is masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from popsync.core.privacy import formula_safe, mask_id, mask_name, mask_record_id, mask_value
from popsync.report import labels

FIXED = ("Dòng trong tệp", "Mã bản ghi", "Quy tắc vi phạm", "Lý do")


def _reasons(rules: list[str], texts: dict) -> list[dict[str, str]]:
    return [{"rule": rule, "reason": texts.get(rule, {}).get("reason", "")} for rule in rules]


def shown_row(row: dict, texts: dict, site_field: str | None, steward: bool) -> dict[str, Any]:
    """A quarantined row as the batch page lists it (masked)."""
    data = row["row_data"]
    born = str(data.get("birth_date") or "")[:10]
    return {
        "src_row": row["src_row"],
        "record": mask_record_id(row["record_id"]),
        "rules": _reasons(row["rules"], texts),
        "name": mask_name(data.get("full_name")),
        "born": labels.local_date(born) if steward else (born[:4] or ""),
        "declared": mask_id(data.get("id_number")),
        "site": data.get(site_field) if site_field else "",
        "ward": labels.unit_name(data.get("ward_code")) if data.get("ward_code") else "",
    }


def _raw_fields(rows: list[dict]) -> list[str]:
    """The fields as the source wrote them (``raw_*``), in the rows' order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row["row_data"]:
            if key.startswith("raw_"):
                seen.setdefault(key, None)
    return list(seen)


def table(rows: list[dict], texts: dict, unmasked: bool) -> tuple[list[str], list[list]]:
    """The header and the cells of an export, formula-safe."""
    raw = _raw_fields(rows)
    header = [*FIXED, *(name.removeprefix("raw_") for name in raw)]
    cells = []
    for row in rows:
        data, reasons = row["row_data"], _reasons(row["rules"], texts)
        values = [
            row["src_row"],
            row["record_id"] if unmasked else mask_record_id(row["record_id"]),
            "; ".join(r["rule"] for r in reasons),
            " | ".join(r["reason"] for r in reasons if r["reason"]),
        ]
        for name in raw:
            value = data.get(name)
            value = "" if value is None else str(value)
            values.append(value if unmasked else mask_value(name, value))
        cells.append([formula_safe(v) for v in values])
    return [formula_safe(h) for h in header], cells


def export(rows: list[dict], texts: dict, fmt: str, unmasked: bool) -> tuple[bytes, str, str]:
    """The file's bytes, its media type and its suffix."""
    header, cells = table(rows, texts, unmasked)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(cells)
        return buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", "csv"
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Dong bi cach ly")
    sheet.append(header)
    for line in cells:
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return buffer.getvalue(), media, "xlsx"


def file_name(source: str, run_date, within: dict, suffix: str) -> str:
    """``tiem_chung_2023-01-15_cach-ly_271.xlsx``: ASCII, no personal data."""
    unit = "_".join(re.sub(r"[^A-Za-z0-9]+", "-", str(v))[:20] for v in within.values()) or "tat-ca"
    day = str(run_date or dt.date.today())[:10]
    return f"{source}_{day}_cach-ly_{unit}.{suffix}"
