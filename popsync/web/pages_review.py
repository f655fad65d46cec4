"""The review queue: paged and filtered (source, district, reason); each row beside its
candidates field by field (``compare``); a steward decides (a candidate, or no match), decides
several rows at once with a note, undoes a decision, and may reveal one field's unmasked value.
Every decision, undo and reveal is audited; a viewer can do none of them."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from popsync.core.errors import UserError
from popsync.core.privacy import mask_id, mask_record_id
from popsync.report import labels
from popsync.web import compare, security
from popsync.web.pages import flash, path_for, render, warehouse

router = APIRouter()
PAGE = 10
FILTERS = ("source", "district", "reason", "page")


def _back(request: Request, back: str) -> RedirectResponse:
    """Back to the queue with the filters it had (only the known ones: no open redirect)."""
    from urllib.parse import parse_qs

    found = parse_qs(back.lstrip("?"))
    kept = {k: v[0] for k, v in found.items() if k in FILTERS and v and len(v[0]) < 80}
    url = path_for(request, "review") + ("?" + urlencode(kept) if kept else "")
    return RedirectResponse(url, status_code=303)


def _context(spec, row: dict) -> list[tuple[str, str]]:
    """What the row records (not personal): its event date, dose and vaccine, site."""
    out = []
    for name in (spec.event_date, "dose_number", "vaccine", "test_type", "site",
                 "treatment_place", "employer_name"):  # fmt: skip
        if name and name in spec.fields and row.get(name) not in (None, ""):
            value = row[name]
            if name == spec.event_date:
                value = labels.local_date(value)
            out.append((spec.fields[name].labels[0], str(value)))
    return out


@router.get("/review", response_class=HTMLResponse, name="review")
def review(request: Request, source: str = "", district: str = "", reason: str = "",
           page: int = 0):  # fmt: skip
    user = security.require_user(request)
    catalog = request.app.state.res.catalog
    if source and source not in {spec.id for spec in catalog.extracts}:
        raise HTTPException(400, "Nguồn không hợp lệ.")
    page = max(page, 0)
    with warehouse(request) as store:
        found = store.review_page(source or None, district=district or None,
                                  reason=reason or None, offset=page * PAGE, limit=PAGE)  # fmt: skip
        filters = store.review_filters()
        recent = store.recent_decisions(limit=10)
    keys: security.RowKeys = request.app.state.keys
    texts = {}
    for spec in catalog.extracts:
        from popsync.pipeline.reporting import rule_texts

        texts.update(rule_texts(spec))
    rows = []
    for item in found["rows"]:
        spec = catalog.extract(item["source"])
        count = len(item["candidates"])
        why = "no_candidate" if not count else "one_candidate" if count == 1 else (
            "several_candidates")  # fmt: skip
        rows.append({
            "key": keys.dumps(item["source"], item["delivery"], item["record_id"]),
            "source_title": spec.title_vi, "record": mask_record_id(item["record_id"]),
            "delivery": item["delivery"], "why": labels.REVIEW_REASONS[why],
            "findings": [f | {"reason": texts.get(f["rule"], {}).get("reason", "")}
                         for f in item["findings"]],
            "context": _context(spec, item["row"]),
            "compare": compare.comparison(item, user.role),
        })  # fmt: skip
    for line in recent:
        line["record"] = mask_record_id(line["record_id"])
        line["who"] = mask_id(line["so_dinh_danh"])
    query = {k: v for k, v in (("source", source), ("district", district), ("reason", reason),
                               ("page", str(page))) if v}  # fmt: skip
    return render(request, "review.html.j2", rows=rows, total=found["total"], page=page,
                  page_size=PAGE, filters=filters, recent=recent, sources=catalog.extracts,
                  chosen={"source": source, "district": district, "reason": reason},
                  back="?" + urlencode(query), texts=texts)  # fmt: skip


@router.post("/review/decide", name="decide")
def decide(request: Request, csrf: str = Form(""), key: str = Form(""), choice: str = Form(""),
           note: str = Form(""), back: str = Form("")):  # fmt: skip
    user = security.require_steward(request)
    security.check_csrf(request, csrf)
    source, delivery, record_id = request.app.state.keys.loads(key)
    if choice != "none" and not choice.isdigit():
        raise HTTPException(400, "Hãy chọn một ứng viên hoặc “không khớp”.")
    with warehouse(request) as store:
        try:
            done = store.decide_review(
                source, record_id, None, rank=None if choice == "none" else int(choice),
                decided_by=user.name, note=note.strip() or None, delivery=delivery,
                via="web", role=user.role,
            )  # fmt: skip
        except UserError as error:
            flash(request, str(error), "error")
            return _back(request, back)
        _refresh(request, store, done["run_id"])
    what = "không khớp" if done["so_dinh_danh"] is None else (
        f"liên kết với ứng viên #{done['rank']} {mask_id(done['so_dinh_danh'])}")  # fmt: skip
    flash(request, f"Bản ghi {mask_record_id(record_id)}: {what}.")
    return _back(request, back)


@router.post("/review/bulk", name="bulk")
async def bulk(request: Request):
    user = security.require_steward(request)
    form = await request.form()
    security.check_csrf(request, form.get("csrf"))
    action, note = form.get("action", ""), str(form.get("note", "")).strip()
    if action not in ("none", "1"):
        raise HTTPException(400, "Hãy chọn việc cần làm cho các dòng đã chọn.")
    if not note:
        flash(request, "Quyết định hàng loạt cần một ghi chú (lý do).", "error")
        return _back(request, str(form.get("back", "")))
    keys = [request.app.state.keys.loads(k) for k in form.getlist("keys")]
    done, failed = 0, []
    with warehouse(request) as store:
        runs = set()
        for source, delivery, record_id in keys:
            try:
                decided = store.decide_review(
                    source, record_id, None, rank=None if action == "none" else 1,
                    decided_by=user.name, note=note, delivery=delivery, via="web",
                    role=user.role,
                )  # fmt: skip
            except UserError as error:
                failed.append(f"{mask_record_id(record_id)}: {error}")
                continue
            done += 1
            runs.add(decided["run_id"])
        for run_id in runs:
            _refresh(request, store, run_id)
    flash(request, f"Đã quyết định {done} dòng.")
    for line in failed:
        flash(request, line, "error")
    return _back(request, str(form.get("back", "")))


@router.post("/review/undo", name="undo")
def undo(request: Request, csrf: str = Form(""), decision_id: str = Form(""),
         note: str = Form(""), back: str = Form("")):  # fmt: skip
    user = security.require_steward(request)
    security.check_csrf(request, csrf)
    with warehouse(request) as store:
        try:
            done = store.undo_decision(decision_id, undone_by=user.name,
                                       note=note.strip() or None, via="web", role=user.role)  # fmt: skip
        except UserError as error:
            flash(request, str(error), "error")
            return _back(request, back)
        rows = store.fetch("SELECT run_id FROM {table} WHERE source = %s AND delivery = %s "
                           "AND record_id = %s", (done["source"], done["delivery"],
                                                  done["record_id"]),
                           table=store.catalog.extract(done["source"]).table)  # fmt: skip
        if rows:
            _refresh(request, store, rows[0][0])
    flash(request, f"Đã hoàn tác quyết định về bản ghi {mask_record_id(done['record_id'])}: "
                   "dòng trở lại hàng chờ duyệt.")  # fmt: skip
    return _back(request, back)


@router.post("/review/reveal", name="reveal")
def reveal(request: Request, key: str = Form(""), side: str = Form(""), field: str = Form("")):
    """One field's unmasked value (a steward only; audited; answered as JSON, never logged)."""
    user = security.require_steward(request)
    security.check_csrf(request, request.headers.get(security.CSRF_HEADER))
    if field not in compare.REVEALABLE:
        raise HTTPException(400, "Trường này không thể xem.")
    source, delivery, record_id = request.app.state.keys.loads(key)
    with warehouse(request) as store:
        item = store.review_item(source, delivery, record_id)
        if item is None:
            raise HTTPException(404, "Dòng không còn chờ duyệt.")
        value = compare.real_value(item, side, field)
        if value is None:
            raise HTTPException(400, "Không có ô này.")
        whose = "row" if side == "row" else f"candidate {side}"
        store.audit(user.name, "reveal", via="web", role=user.role, source=source,
                    delivery=delivery, record_id=record_id, field=field,
                    detail={"side": whose})  # fmt: skip
    return JSONResponse({"value": value or "–"}, headers={"Cache-Control": "no-store"})


def _refresh(request: Request, store, run_id: str) -> None:
    """The batch's report file written again (never stale)."""
    from popsync.pipeline.reporting import refresh_report

    refresh_report(request.app.state.res, store, run_id)
