"""Data Docs a steward can read without internet.

GX's pages load Bootstrap, Font Awesome and jQuery from CDNs. Offline, GX's ``index.html`` shows an
empty table (bootstrap-table fills it from JavaScript) and the validation pages lose their pass /
fail icons. Two remedies, both static:

* ``OFFLINE_CSS`` goes into the context's ``data_docs_custom_styles.css``, which GX inlines into
  every page it renders: plain layout and table styles, and text glyphs for the status icons.
* ``write_landing_page`` replaces ``index.html`` with a page without scripts that lists every stored
  validation result (source, stage, verdict, failed expectations per pillar and severity, each
  failed rule with its reason) and links GX's pages; GX's own index is kept as ``gx_index.html``.

``build_data_docs`` stores a validation result (without row ids or values) in a file context and
builds the site with both; the GX calls behind it are ``expectations.gx_adapter``'s. Only names,
counts and the stored rule texts are written: no row ids or values.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from expectations import gx_adapter
from popsync.core.contracts import (
    PILLAR_MEANING_VI,
    PILLARS,
    SEVERITIES,
    SEVERITIES_VI,
    VALIDATION_STAGES,
)

LANDING_PAGE = "index.html"
GX_INDEX_PAGE = "gx_index.html"
SITE = "popsync"
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
STAGES_VI = {"pre_link": "trước liên kết", "post_link": "sau liên kết", "register": "CSDL dân cư"}
# Keys of a GX result that carry row ids or values: left out of what Data Docs store and show.
ROW_LEVEL_KEYS = (
    "unexpected_list",
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "unexpected_index_list",
    "partial_unexpected_index_list",
    "unexpected_index_query",
)

# Additive to Bootstrap 4 when the CDN is reachable (same rules or more specific icon glyphs).
OFFLINE_CSS = """\
/* popsync: Data Docs readable offline, without the CDN stylesheets (Bootstrap, Font Awesome). */
body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif;
       color: #212529; line-height: 1.45; margin: 0; }
a { color: #0056b3; }
.fas.fa-check-circle::before { content: "\\2714"; font-family: inherit; font-weight: 700; }
.fas.fa-times::before { content: "\\2718"; font-family: inherit; font-weight: 700; }
.fas.fa-check-circle, .fas.fa-times { font-style: normal; font-size: 1.2em; }
.text-success { color: #1e7e34; }
.text-danger { color: #c82333; }
.row { display: flex; flex-wrap: wrap; }
.col-12 { flex: 0 0 100%; max-width: 100%; }
.col-6 { flex: 0 0 50%; max-width: 50%; }
@media (min-width: 768px) {
  .col-md-2 { flex: 0 0 16.666667%; max-width: 16.666667%; }
  .col-md-10 { flex: 0 0 83.333333%; max-width: 83.333333%; }
}
.container-fluid { box-sizing: border-box; width: 100%; padding: 0 1rem; }
table.table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
.table th, .table td { border-top: 1px solid #dee2e6; padding: .4rem .6rem;
                       vertical-align: top; text-align: left; }
.nav { list-style: none; padding-left: 0; margin: 0; }
.nav-link { display: block; padding: .1rem .4rem; text-decoration: none; overflow-wrap: anywhere; }
.card { border: 1px solid rgba(0, 0, 0, .125); border-radius: .25rem; margin-bottom: 1rem; }
.card-header { background: rgba(0, 0, 0, .03); border-bottom: 1px solid rgba(0, 0, 0, .125); }
.alert { border-radius: .25rem; padding: .5rem .75rem; margin: .25rem 0; }
.alert-secondary { background: #e2e3e5; border: 1px solid #d6d8db; color: #383d41; }
.ge-section { border-bottom: 1px solid #eee; margin-bottom: .5rem; }
.sticky-top { position: sticky; top: 0; z-index: 10; background: #fff; }
/* "Failed Only" without jQuery: what GX's script hides, hidden while that radio is checked. */
/* (Separate rules: one selector a browser rejects would drop the whole list.) */
body:has(#option2:checked) tr:has(> .hide-succeeded-validation-target-child) { display: none; }
body:has(#option2:checked) .hide-succeeded-validation-target { display: none; }
body:has(#option2:checked)
  .ge-section:has(> .row > .hide-succeeded-validations-column-section-target-child)
  { display: none; }
"""


def install_offline_styles(gx_root: Path) -> None:
    """Write ``OFFLINE_CSS`` where GX looks for the custom styles of a file context."""
    styles = Path(gx_root) / "plugins" / "custom_data_docs" / "styles"
    styles.mkdir(parents=True, exist_ok=True)
    (styles / "data_docs_custom_styles.css").write_text(OFFLINE_CSS, encoding="utf-8")


def build_data_docs(docs_dir: Path, suite, gx_result, source: str, stage: str) -> Path:
    """Store a copy of the result without row ids or values (they may be personal) in a file
    context rooted at ``docs_dir`` and build the site there; returns ``docs_dir/index.html``.

    Results of earlier stages and batches stay in the context, so the index lists them all.
    ``index.html`` is popsync's static landing page, readable offline; GX's own index, which
    needs its CDN scripts to show its table, is kept as ``gx_index.html``."""
    docs_dir = Path(docs_dir).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx_adapter.docs_context(docs_dir, SITE)
    install_offline_styles(docs_dir / "gx")
    gx_adapter.store_result(
        context,
        suite,
        gx_result,
        asset=f"{source}_{stage}",
        meta={"source": source, "stage": stage},
        drop_keys=ROW_LEVEL_KEYS,
    )
    gx_adapter.build_site(context, SITE)
    strip_cdn_assets(docs_dir)
    return write_landing_page(docs_dir, context)


# GX's pages link Bootstrap, Font Awesome, jQuery and Vega from CDNs. Offline they only fail (and
# online they tell a CDN who reads the page): the pages keep the styles they carry inline.
_CDN_TAG = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>|<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>",
    re.IGNORECASE,
)


def strip_cdn_assets(docs_dir: Path) -> None:
    """Drop the CDN stylesheets and scripts from GX's pages (``OFFLINE_CSS`` styles them)."""
    for page in Path(docs_dir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        stripped = _CDN_TAG.sub("", text)
        if stripped != text:
            page.write_text(stripped, encoding="utf-8")


def _summary(stored: gx_adapter.StoredResult) -> dict[str, Any]:
    result, suite = stored.result, stored.suite
    meta = result.meta or {}
    stage = meta.get("stage") or next((s for s in VALIDATION_STAGES if suite.endswith(s)), "")
    source = meta.get("source") or suite.removesuffix(f"_{stage}")
    failed = []
    for r in result.results:
        if r.success:
            continue
        m = r.expectation_config.meta or {}
        res = r.result or {}
        failed.append(
            {
                "rule": m.get("rule", r.expectation_config.type),
                "pillar": m.get("pillar", ""),
                "severity": m.get("severity", ""),
                "reason": m.get("reason_vi") or m.get("reason", ""),
                "repair": bool(m.get("repair")),
                "count": res.get("unexpected_count"),
                "percent": res.get("unexpected_percent"),
                "error": bool((r.exception_info or {}).get("raised_exception")),
            }
        )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    failed.sort(key=lambda f: (order.get(f["severity"], 9), f["pillar"], f["rule"]))
    severities = {f["severity"] for f in failed}
    verdict = next((s for s in ("block", "quarantine") if s in severities), None)
    return {
        "suite": suite,
        "source": source,
        "stage": stage,
        "run_time": stored.run_time,
        "success": bool(result.success),
        "verdict": {"block": "blocked", "quarantine": "quarantine"}.get(verdict, "pass"),
        "evaluated": (result.statistics or {}).get("evaluated_expectations", len(result.results)),
        "failed": failed,
        "grid": Counter((f["pillar"], f["severity"]) for f in failed),
        "page": stored.page,
        "suite_page": stored.suite_page,
    }


def _grid(counts: Counter) -> str:
    head = "".join(f"<th>{html.escape(s)}</th>" for s in SEVERITIES)
    rows = []
    for pillar, label in PILLARS.items():
        cells = "".join(
            f'<td class="n{" hit" if counts[pillar, s] else ""}">{counts[pillar, s] or "·"}</td>'
            for s in SEVERITIES
        )
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f'<table class="grid"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def _count(f: dict) -> str:
    if f["error"]:
        return "không chạy được"
    if f["count"] is None:
        return "cả lô"
    percent = ""
    if isinstance(f["percent"], int | float):
        percent = f" ({f['percent']:.2f}%)".replace(".", ",")
    return f"{f['count']:,}".replace(",", ".") + f" dòng{percent}"


def _when(run_time: dt.datetime) -> str:
    """A GX run time (UTC) as stewards read it: Asia/Ho_Chi_Minh."""
    if run_time.tzinfo is None:
        run_time = run_time.replace(tzinfo=dt.UTC)
    return run_time.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M:%S (giờ Việt Nam)")


_STYLE = """
body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; color: #212529;
       margin: 1.5rem 2rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
th, td { border: 1px solid #dee2e6; padding: .3rem .6rem; text-align: left; vertical-align: top; }
thead th, .grid tr:first-child th { background: #f1f3f5; }
td.n { text-align: center; min-width: 5.5rem; color: #999; } td.n.hit { color: #212529;
       font-weight: 700; background: #fff3cd; }
.pass { color: #1e7e34; font-weight: 700; } .blocked { color: #c82333; font-weight: 700; }
.quarantine { color: #b35900; font-weight: 700; }
.sev-block { color: #c82333; font-weight: 700; } .sev-quarantine { color: #b35900; }
.muted { color: #6c757d; font-size: .9rem; }
"""


def render_landing_page(summaries: list[dict[str, Any]]) -> str:
    e = html.escape
    overview, details = [], []
    for i, s in enumerate(summaries):
        when = _when(s["run_time"])
        failed = len(s["failed"])
        stage = STAGES_VI.get(s["stage"], s["stage"])
        verdict = {"blocked": "bị chặn", "quarantine": "có dòng cách ly"}.get(s["verdict"], "đạt")
        overview.append(
            "<tr>"
            f"<td>{e(s['source'])}</td><td>{e(stage)}</td><td>{e(when)}</td>"
            f'<td class="{s["verdict"]}">{"đạt" if s["success"] else "không đạt"} · {verdict}</td>'
            f"<td>{failed} / {s['evaluated']}</td>"
            f"<td>{_grid(s['grid'])}</td>"
            f'<td><a href="#r{i}">quy tắc không đạt</a><br><a href="{e(s["page"])}">trang kết '
            f'quả GX</a><br><a href="{e(s["suite_page"])}">bộ quy tắc</a></td>'
            "</tr>"
        )
        rows = "".join(
            "<tr>"
            f"<td><code>{e(f['rule'])}</code>{' <i>(sửa chữa)</i>' if f.get('repair') else ''}</td>"
            f"<td>{e(PILLARS.get(f['pillar'], f['pillar']))}</td>"
            f'<td class="sev-{e(f["severity"])}">{e(SEVERITIES_VI.get(f["severity"], f["severity"]))}</td>'
            f"<td>{e(_count(f))}</td><td>{e(f['reason'])}</td>"
            "</tr>"
            for f in s["failed"]
        )
        table = (
            "<table><thead><tr><th>Quy tắc</th><th>Trụ cột</th><th>Mức</th><th>Số dòng</th>"
            f"<th>Lý do</th></tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else "<p>Mọi quy tắc đều đạt.</p>"
        )
        details.append(
            f'<h2 id="r{i}">{e(s["source"])} · {e(stage)} · {e(when)}</h2>'
            f'<p><a href="{e(s["page"])}">Mở trang kết quả của GX</a> '
            "(mọi quy tắc, đạt hay không, với trụ cột, mức và lý do).</p>" + table
        )
    legend = "".join(
        f"<li><b>{e(label)}</b>: {e(PILLAR_MEANING_VI[p])}</li>" for p, label in PILLARS.items()
    )
    body = (
        "<table><thead><tr><th>Nguồn</th><th>Bước</th><th>Lúc chạy</th><th>Kết quả</th>"
        "<th>Quy tắc không đạt</th><th>Theo trụ cột và mức</th><th>Trang</th>"
        f"</tr></thead><tbody>{''.join(overview)}</tbody></table>"
        if overview
        else "<p>Chưa có kết quả kiểm tra nào.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        "<title>popsync: Data Docs</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Kiểm tra chất lượng popsync: Đúng, đủ, sạch, sống</h1>"
        '<p class="muted">Kết quả kiểm tra do Great Expectations tạo, mới nhất trước. Trang này '
        "không cần internet. Mức: <b>chặn lô</b> dừng cả lô, <b>cách ly dòng</b> để riêng dòng "
        "đó, <b>cảnh báo</b> chỉ báo cáo; <i>sửa chữa</i>: popsync đã đưa giá trị về dạng chuẩn "
        "(không tính là lỗi). Không lưu mã dòng hay giá trị ở đây: xem findings_*.parquet. "
        f'<a href="{GX_INDEX_PAGE}">Trang mục lục của GX</a> (cần internet).</p>'
        f'<ul class="muted">{legend}</ul>{body}{"".join(details)}</body></html>\n'
    )


def write_landing_page(docs_dir: Path, context) -> Path:
    """Keep GX's index as ``gx_index.html`` and write the static landing page as ``index.html``."""
    docs_dir = Path(docs_dir)
    index = docs_dir / LANDING_PAGE
    if index.exists():
        shutil.move(index, docs_dir / GX_INDEX_PAGE)
    summaries = [_summary(stored) for stored in gx_adapter.stored_results(context)]
    summaries.sort(key=lambda s: (s["run_time"], s["stage"] == "post_link"), reverse=True)
    index.write_text(render_landing_page(summaries), encoding="utf-8")
    return index
