"""The stewards' batch report in HTML, rendered with Jinja2 (``templates/``, autoescaped), in
Vietnamese, times in Asia/Ho_Chi_Minh.

``render_batch_report(view)`` renders a view built from the warehouse
(``popsync.pipeline.reporting``): a self-contained page (inline CSS and SVG charts, no
JavaScript, no network) that opens from a file share or a mail attachment, or, with
``standalone=False``, the body the workspace's batch page embeds. Personal values never appear
in it unmasked."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from popsync.core.privacy import mask_id, mask_name, mask_record_id
from popsync.report import charts, labels

COLORS = {labels.OUTCOMES[k]: c for k, c in
          zip(labels.OUTCOMES, ("#1b7a5a", "#7a7a7a", "#b8860b", "#c0392b"), strict=True)}  # fmt: skip


def template_loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("popsync.report", "templates")


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    """The filters and words every stewards' template uses (the workspace's too)."""
    env.filters.update(
        mask_id=mask_id, mask_name=mask_name, mask_record_id=mask_record_id,
        number=labels.number, percent=labels.percent, local_time=labels.local_time,
        local_date=labels.local_date, unit_name=labels.unit_name,
    )  # fmt: skip
    env.globals.update(L=labels)
    return env


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return add_filters(env)


def verdict(view: dict[str, Any]) -> dict[str, Any]:
    """What happened to the batch, in one headline and a few sentences: ``level`` is
    ``blocked``, ``failed``, ``replaced``, ``action`` (rows quarantined or waiting) or ``pass``."""
    run, counts, n = view["run"], view["counts"], labels.number
    status = run.get("status")
    if status == "blocked" or view.get("blocked"):
        details = [
            f"Quy tắc {r['rule']}"
            + ("" if r.get("batch_level") else f" ({n(r['rows'])} dòng)")
            + f": {r.get('reason', '')}"
            for r in view.get("blocked", [])
        ] or [run.get("error") or ""]
        return {"level": "blocked", "details": details,
                "headline": f"Lô bị chặn: không dòng nào trong {n(counts['read'])} dòng được nạp"}  # fmt: skip
    if status == "failed":
        return {"level": "failed", "headline": "Lô bị lỗi khi chạy: không dòng nào được nạp",
                "details": [run.get("error") or ""]}  # fmt: skip
    if status in ("replaced", "superseded"):
        return {"level": "replaced", "details": [],
                "headline": f"{labels.STATUSES[status]}: các dòng của lô này đã chuyển sang "
                "phiên bản sau của cùng tệp"}  # fmt: skip
    headline = (f"Đã nạp {n(counts['loaded'])} / {n(counts['read'])} dòng: "
                f"{n(counts['linked'])} đã liên kết với CSDL dân cư, "
                f"{n(counts['not_linked'])} không liên kết được")  # fmt: skip
    details = []
    if counts["quarantined"]:
        top = [r for r in view["rules"] if r.get("severity") == "quarantine"][:3]
        why = "; ".join(f"{r['rule']} ({n(r['rows'])})" for r in top)
        details.append(f"{n(counts['quarantined'])} dòng bị cách ly, cần đơn vị gửi sửa lại"
                       + (f" — nhiều nhất: {why}" if why else ""))  # fmt: skip
    if counts["review"]:
        details.append(f"{n(counts['review'])} dòng chờ cán bộ duyệt liên kết")
    if counts["not_linked"]:
        details.append(f"{n(counts['not_linked'])} dòng không tìm thấy người trong CSDL dân cư "
                       "(đã nạp, chưa liên kết)")  # fmt: skip
    level = "action" if counts["quarantined"] or counts["review"] else "pass"
    return {"level": level, "headline": headline, "details": details}


def report_charts(view: dict[str, Any]) -> dict[str, Any]:
    counts = view["counts"]
    outcome = [(labels.OUTCOMES[k], float(counts[k])) for k in labels.OUTCOMES]
    defects = [r for r in view["rules"] if not r.get("repair")]
    return {
        "outcome": charts.bar_chart(
            outcome, labels.number, width=520, label_w=150, colors=COLORS
        ),  # fmt: skip
        "pillars": charts.bar_chart(
            [(labels.PILLARS[p["pillar"]], p["share"]) for p in view["pillars"]],
            labels.percent,
            width=520,
            label_w=150,
        ),  # fmt: skip
        "rules": charts.bar_chart(
            [(r["rule"], float(r["rows"])) for r in defects[:12]],
            labels.number,
            width=720,
            label_w=360,
        ),  # fmt: skip
    }


def render_batch_report(view: dict[str, Any], standalone: bool = True) -> str:
    """The report of one batch (a view of ``popsync.pipeline.reporting``)."""
    name = "batch_report.html.j2" if standalone else "batch_body.html.j2"
    return (
        environment()
        .get_template(name)
        .render(view=view, verdict=verdict(view), charts=report_charts(view), standalone=standalone)
    )
