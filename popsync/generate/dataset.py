"""``generate_dataset``: the register, the three extracts, their truth files and the manifest."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from popsync.core.errors import UserError
from popsync.generate import events
from popsync.generate.catalogue import effective_rates
from popsync.generate.common import EXTRACT_DATE, SNAPSHOT_DATE
from popsync.generate.extracts import clean_rows, finalize, register
from popsync.generate.noise import inject
from popsync.generate.population import build_people
from transforms.legacy_encodings import to_cp1258_bytes

VISITOR_SHARE = 0.04  # people outside the register, as a share of the register size
XLSX_MAX_PEOPLE = 200_000
EXCEL_SERIAL_SHARE = 0.2  # birth dates stored as Excel serial numbers in an XLSX extract
FORMATS = ("mixed", "csv", "xlsx", "parquet")
# (format, encoding, separator) per source in "mixed" mode.
MIXED = {
    "dan_cu": ("csv", "utf-8", ","),
    "tiem_chung": ("xlsx", None, None),
    "f0": ("csv", "cp1258", ";"),
    "bhxh": ("csv", "utf-8-sig", ","),
}
SINGLE = {
    "csv": ("csv", "utf-8", ","),
    "xlsx": ("xlsx", None, None),
    "parquet": ("parquet", None, None),
}
XLSX_NUMERIC = (
    "Số CMND/CCCD",
    "Số CCCD",
    "so_dinh_danh",
    "so_cmnd",
    "Số điện thoại",
    "so_dien_thoai",
    "Ngày sinh",
    "Mũi tiêm",
)


def _layout(formats: str, people: int) -> tuple[dict, str | None]:
    if formats not in FORMATS:
        raise UserError(f"unknown --formats {formats!r}; expected one of {', '.join(FORMATS)}")
    if formats != "mixed":
        return {source: SINGLE[formats] for source in MIXED}, None
    layout = dict(MIXED)
    if people > XLSX_MAX_PEOPLE:
        layout["tiem_chung"] = ("parquet", None, None)
        return (
            layout,
            f"more than {XLSX_MAX_PEOPLE} people: tiem_chung written as Parquet, not XLSX",
        )
    return layout, None


def _write_csv(table: pd.DataFrame, path: Path, encoding: str, sep: str) -> None:
    text = table.to_csv(
        index=False, sep=sep, lineterminator="\r\n" if encoding == "cp1258" else "\n"
    )
    if encoding == "cp1258":
        path.write_bytes(to_cp1258_bytes(text))
    else:
        path.write_bytes(text.encode(encoding))


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    """Excel as a clerk's export: digit-only IDs, phones, dose numbers and serial dates are
    numbers. Zip entries and document properties get a fixed timestamp so that the same data gives the same bytes."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    book.properties.creator = "popsync generate"
    book.properties.created = pd.Timestamp("2023-01-15 08:00:00").to_pydatetime()
    sheet = book.create_sheet("Sheet1")
    sheet.append(list(table.columns))
    columns = []
    for name in table.columns:
        values = table[name].to_numpy(dtype=object)
        if name in XLSX_NUMERIC:
            digits = table[name].str.fullmatch(r"[1-9]\d*").fillna(False).to_numpy()
            values = values.copy()
            values[digits] = [int(v) for v in values[digits]]
        columns.append(values)
    for row in zip(*columns, strict=True):
        sheet.append([None if v == "" else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2023, 1, 15, 8, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2023-01-15T08:00:00Z", data
                )
            dst.writestr(entry, data)


def _write(
    table: pd.DataFrame, path: Path, fmt: str, encoding: str | None, sep: str | None
) -> None:
    if fmt == "csv":
        _write_csv(table, path, encoding, sep)
    elif fmt == "xlsx":
        _write_xlsx(table, path)
    else:
        table.to_parquet(path, index=False)


def generate_dataset(
    out_dir,
    people: int,
    seed: int,
    noise_scale: float = 1.0,
    noise_config=None,
    formats: str = "mixed",
    progress: bool = False,
) -> dict:
    """Write ``dan_cu``, ``tiem_chung``, ``f0``, ``bhxh``, ``truth/`` and ``manifest.json`` into
    ``out_dir``; the same arguments give the same files. Returns the manifest."""
    if people < 1:
        raise UserError("--people must be at least 1")
    rates = effective_rates(noise_scale, noise_config)
    layout, fallback = _layout(formats, people)
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    manifest: dict = {
        "seed": seed,
        "people": people,
        "noise_scale": noise_scale,
        "noise_config": str(noise_config) if noise_config else None,
        "rates": rates,
        "formats": formats,
        "extract_date": EXTRACT_DATE.isoformat(),
        "register_snapshot_date": SNAPSHOT_DATE.isoformat(),
        "sources": {},
        "truth": {},
        "injected": {},
        "notes": [fallback] if fallback else [],
    }
    from popsync.report.progress import StageProgress

    with StageProgress("generate", 10, enabled=progress) as bar:
        residents = build_people(rng, people, resident=True)
        n_visitors = max(1, int(round(people * VISITOR_SHARE)))
        visitors = build_people(rng, n_visitors, resident=False, first_pid=people)
        population = pd.concat([residents, visitors], ignore_index=True)
        manifest["visitors"] = n_visitors
        bar.step("people")
        tables = {"dan_cu": register(rng, population)}
        bar.step("register")
        makers = {
            "tiem_chung": events.vaccinations,
            "f0": events.f0_cases,
            "bhxh": events.bhxh_periods,
        }
        all_links, all_violations = {}, []
        for source, make in makers.items():
            fmt, encoding, _ = layout[source]
            rows = clean_rows(rng, source, make(rng, population), population)
            rows, inj = inject(
                rng, source, rows, population, rates, encoding or "utf-8", numeric_ids=fmt == "xlsx"
            )
            table, links, violations = finalize(
                rng, source, rows, inj, population, EXCEL_SERIAL_SHARE if fmt == "xlsx" else 0.0
            )
            tables[source] = table
            all_links[source] = links
            all_violations.append(violations)
            manifest["injected"][source] = (
                dict(sorted(violations["kind"].value_counts().items())) if len(violations) else {}
            )
            bar.step(source)
        for source, table in tables.items():
            fmt, encoding, sep = layout[source]
            name = f"{source}.{fmt}"  # the format is the file extension
            _write(table, out / name, fmt, encoding, sep)
            entry = {"file": name, "format": fmt, "rows": len(table)}
            if fmt == "csv":
                entry.update(encoding=encoding, separator=sep)
            if fmt == "xlsx":
                entry["notes"] = (
                    "digit-only IDs, phones and dose numbers stored as numbers; some birth dates as Excel serials"
                )
            manifest["sources"][source] = entry
            bar.step(f"write {source}")
        for source, links in all_links.items():
            path = f"truth/{source}_links.csv"
            links.to_csv(out / path, index=False, lineterminator="\n")
            manifest["truth"][f"{source}_links"] = path
        violations = pd.concat(all_violations, ignore_index=True)
        violations.to_csv(out / "truth/violations.csv", index=False, lineterminator="\n")
        manifest["truth"]["violations"] = "truth/violations.csv"
        (out / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        bar.step("truth")
    return manifest
