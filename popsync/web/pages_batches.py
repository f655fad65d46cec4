"""The Batches page (every batch of every source, with charts over time) and a Batch's page (its
report from the warehouse, drill-down by district, ward and site, the quarantined rows with the
rules they broke, and their export per unit for sending back)."""

from __future__ import annotations

import datetime as dt
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from popsync.pipeline import reporting
from popsync.pipeline.batch import batch_folder
from popsync.report import charts, html, labels
from popsync.web import export, security
from popsync.web.pages import audit, render, warehouse

router = APIRouter()
QUARANTINE_PAGE = 50
LEVELS = ("district", "ward", "site")


def _texts(catalog) -> tuple[dict, set]:
    """Every extract's rules (Vietnamese reason, pillar, severity, repair) and the repairs."""
    texts = {}
    for spec in catalog.extracts:
        texts.update(reporting.rule_texts(spec))
    return texts, {name for name, rule in texts.items() if rule["repair"]}


def _date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as error:
        raise HTTPException(400, f"Ngày không hợp lệ: {value[:20]!r}") from error


@router.get("/batches", response_class=HTMLResponse, name="batches")
def batches(request: Request, source: str = "", since: str = "", until: str = "",
            district: str = ""):  # fmt: skip
    security.require_user(request)
    catalog = request.app.state.res.catalog
    if source and source not in {spec.id for spec in catalog.extracts}:
        raise HTTPException(400, "Nguồn không hợp lệ.")
    texts, repairs = _texts(catalog)
    with warehouse(request) as store:
        runs = store.batch_runs(source=source or None, since=_date(since), until=_date(until),
                                district=district or None)  # fmt: skip
        ids = [run["run_id"] for run in runs]
        defects = store.pillar_defects(ids, repairs)
        rules = store.rule_counts(ids)
        districts = _districts(store)
    for run in runs:
        denominator = run["read"] if district else run["rows_read"] - run["rows_moved"]
        run["pillars"] = {p["pillar"]: p["share"] for p in
                          reporting.pillar_rows(defects[run["run_id"]], denominator)}  # fmt: skip
        if run["status"] not in ("loaded",):
            run["pillars"] = {}
    live = [run for run in runs if run["status"] == "loaded"]
    totals: dict[str, int] = {}
    for run in live:
        for rule in rules[run["run_id"]]:
            if rule["rule"] not in repairs:
                totals[rule["rule"]] = totals.get(rule["rule"], 0) + rule["rows"]
    top = sorted(totals.items(), key=lambda item: -item[1])[:12]
    x = [f"{labels.local_date(r['run_date'])} {r['source']}" if not source
         else labels.local_date(r["run_date"]) for r in live]  # fmt: skip
    trend = {
        "rows": charts.line_chart(
            x,
            {
                labels.OUTCOMES.get(k, "Đọc"): [float(r[k]) for r in live]
                for k in ("read", *labels.OUTCOMES)
            },
            labels.number,
        ),  # fmt: skip
        "pillars": charts.line_chart(
            x,
            {labels.PILLARS[p]: [r["pillars"].get(p) for r in live] for p in labels.PILLARS},
            labels.percent,
            y_max=1.0,
        ),  # fmt: skip
        "rules": charts.bar_chart(
            [(name, float(n)) for name, n in top], labels.number, width=760, label_w=360
        ),  # fmt: skip
    }
    return render(request, "batches.html.j2", runs=list(reversed(runs)), trend=trend,
                  top=[(name, n, texts.get(name, {})) for name, n in top],
                  sources=catalog.extracts, districts=districts,
                  filters={"source": source, "since": since, "until": until,
                           "district": district})  # fmt: skip


def _districts(store) -> list[tuple[str, int]]:
    """District codes of every stored row, most rows first (for the filter)."""
    counts: dict[str, int] = {}
    for spec in store.catalog.extracts:
        for code, count in store.fetch("SELECT district_code, count(*) FROM {table} "
                                       "GROUP BY district_code", table=spec.table):  # fmt: skip
            if code:
                counts[code] = counts.get(code, 0) + count
    return sorted(counts.items(), key=lambda item: labels.unit_name(item[0]))


def _within(district: str, ward: str, site: str) -> dict[str, str]:
    return {k: v for k, v in (("district", district), ("ward", ward), ("site", site)) if v}


@router.get("/batches/{run_id}", response_class=HTMLResponse, name="batch")
def batch(request: Request, run_id: str, district: str = "", ward: str = "", site: str = "",
          page: int = 0):  # fmt: skip
    user = security.require_user(request)
    catalog = request.app.state.res.catalog
    within = _within(district, ward, site)
    with warehouse(request) as store:
        view = reporting.batch_view(store, catalog, run_id)
        if view is None:
            raise HTTPException(404, "Không có lô này.")
        field = view["site_field"]
        level = next((lv for lv in LEVELS if lv not in within), None)
        if level == "site" and field is None:
            level = None
        units = store.unit_counts(run_id, view["source"], level, field, within) if level else []
        rows = store.quarantined_rows(run_id, field, within, limit=QUARANTINE_PAGE,
                                      offset=max(page, 0) * QUARANTINE_PAGE)  # fmt: skip
        in_unit = sum(u["quarantined"] for u in
                      store.unit_counts(run_id, view["source"], "district", field, within))  # fmt: skip
    texts = reporting.rule_texts(catalog.extract(view["source"]))
    shown = [export.shown_row(row, texts, field, user.steward) for row in rows]
    return render(request, "batch.html.j2", view=view, verdict=html.verdict(view),
                  charts=html.report_charts(view), standalone=False, units=units, level=level,
                  within=within, rows=shown, quarantined=in_unit, page=max(page, 0),
                  page_size=QUARANTINE_PAGE, site_field=field)  # fmt: skip


@router.post("/batches/{run_id}/export", name="export")
def export_unit(request: Request, run_id: str, csrf: str = Form(""), format: str = Form("xlsx"),
                district: str = Form(""), ward: str = Form(""), site: str = Form("")):  # fmt: skip
    user = security.require_user(request)
    security.check_csrf(request, csrf)
    if format not in ("xlsx", "csv"):
        raise HTTPException(400, "Định dạng không hợp lệ.")
    catalog = request.app.state.res.catalog
    within = _within(district, ward, site)
    with warehouse(request) as store:
        found = store.batch_runs(run_id=run_id)
        if not found:
            raise HTTPException(404, "Không có lô này.")
        spec = catalog.extract(found[0]["source"])
        rows = store.quarantined_rows(run_id, reporting.site_field(spec), within)
    body, media, suffix = export.export(rows, reporting.rule_texts(spec), format,
                                        unmasked=user.steward)  # fmt: skip
    audit(request, "export", source=spec.id, delivery=found[0]["delivery"],
          detail={"run_id": run_id, "format": format, "rows": len(rows), "unit": within,
                  "masked": not user.steward})  # fmt: skip
    name = export.file_name(spec.id, found[0]["run_date"], within, suffix)
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/batches/{run_id}/docs/{path:path}", name="data_docs")
def data_docs(request: Request, run_id: str, path: str):
    """The batch's Data Docs, served from its folder (readable offline)."""
    security.require_user(request)
    res = request.app.state.res
    with warehouse(request) as store:
        found = store.batch_runs(run_id=run_id)
    if not found or not found[0]["input_sha256"]:
        raise HTTPException(404, "Không có lô này.")
    key = f"{batch_folder(found[0]['source'], found[0]['input_sha256'])}/data_docs"
    root = res.workarea.local_path(key).resolve()
    target = (root / (path or "index.html")).resolve()
    if root not in target.parents and target != root or not target.is_file():
        raise HTTPException(404, "Không có trang này.")
    media = mimetypes.guess_type(str(target))[0] or "application/octet-stream"
    # GX's pages carry their styles inline; their scripts and CDN assets stay blocked.
    policy = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              "script-src 'none'; frame-ancestors 'self'")  # fmt: skip
    return FileResponse(Path(target), media_type=media,
                        headers={"Content-Security-Policy": policy})  # fmt: skip
