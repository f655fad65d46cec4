"""What people read: short terminal summaries (rich) and the HTML batch report for stewards.

The HTML report is self-contained (inline CSS and SVG charts, no JavaScript, no network), so it
opens from a file share or a mail attachment. Personal values never appear in it unmasked.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from popsync.privacy import mask_id, mask_name

console = Console(stderr=False)

PILLARS = {
    "dung": "Đúng (correct)",
    "du": "Đủ (complete)",
    "sach": "Sạch (clean)",
    "song": "Sống (live)",
}
STAGES = ("register", "standardize", "validate_pre", "link", "validate_post", "load")


class StageProgress:
    """A progress bar over the stages of one run, or the steps of ``popsync generate`` (silent
    when disabled)."""

    def __init__(self, source: str, enabled: bool = True, total: int = len(STAGES)):
        self.source = source
        self.total = total
        self._progress = (
            Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[source]}[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            if enabled
            else None
        )
        self._task = None

    def __enter__(self):
        if self._progress:
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total, source=self.source)
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.__exit__(*exc)

    def start(self, stage: str) -> None:
        if self._progress:
            self._progress.update(self._task, description=stage)

    def done(self) -> None:
        if self._progress:
            self._progress.advance(self._task)

    def step(self, what: str) -> None:
        """``what`` is done."""
        self.start(what)
        self.done()


# --------------------------------------------------------------------------- terminal


def print_standardize_summary(source: str, input_path, summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]{source}[/] {input_path}: {summary['rows']:,} rows read, "
        f"{summary.get('rows_flagged', 0):,} flagged -> {summary.get('out', '')}",
        soft_wrap=True,
        highlight=False,
    )
    reasons = summary.get("flags", {})
    if reasons:
        table = Table("reason", "rows", box=None, pad_edge=False)
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:15]:
            table.add_row(reason, f"{count:,}")
        console.print(table)


def print_match_summary(source: str, summary: dict[str, Any]) -> None:
    decisions = summary["decisions"]
    parts = ", ".join(
        f"{name} {decisions.get(name, 0):,}" for name in ("match", "review", "no_match")
    )
    console.print(
        f"[bold]{source}[/]: {summary['rows']:,} rows linked in {summary['seconds']} s: {parts} "
        f"-> {summary['out']}",
        soft_wrap=True,
        highlight=False,
    )
    blocking = summary.get("stats", {}).get("blocking", {})
    if blocking:
        console.print(
            "candidate pairs by blocking rule: "
            + ", ".join(f"{rule} {counts['pairs']:,}" for rule, counts in blocking.items()),
            soft_wrap=True,
            highlight=False,
        )


def print_scores(source: str, scores: dict[str, Any], out_dir) -> None:
    table = Table(title=f"{source}: pillar scores", box=None)
    table.add_column("pillar")
    table.add_column("rows passing", justify="right")
    for pillar, label in PILLARS.items():
        value = _pillar_value(scores, pillar)
        table.add_row(label, "" if value is None else f"{value:.2%}")
    console.print(table)
    console.print(
        f"verdict: [bold]{scores.get('verdict', '?')}[/]; findings and Data Docs in {out_dir}"
    )


def print_run_summary(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    console.print(
        f"[bold]{summary['source']}[/]: {counts['read']:,} rows read = {counts['loaded']:,} loaded"
        f" + {counts['quarantined']:,} quarantined + {counts['review']:,} for review"
        f"  [green]reconciled[/] in {sum(summary['timings'].values()):.1f} s",
        soft_wrap=True,
    )
    recheck = summary.get("recheck") or {}
    if recheck.get("rechecked"):
        console.print(
            f"  {recheck['rechecked']:,} earlier rows re-checked after register changes:"
            f" {recheck.get('changed', 0):,} links changed",
            soft_wrap=True,
            highlight=False,
        )
    if recheck.get("deferred"):
        console.print(
            f"  {recheck['deferred']:,} rows wait for a re-check: a newer register was loaded"
            " meanwhile",
            soft_wrap=True,
            highlight=False,
        )
    console.print(f"  report: {summary.get('report', '')}", soft_wrap=True, highlight=False)


def print_review_queue(queue) -> None:
    """The review queue (``Warehouse.review_queue``) as a short table: per row, a line with
    its own name, birth date and sex, then one line per candidate in rank order; IDs and
    names masked. The record id is shown as is: it is what ``popsync review decide`` takes."""
    import pandas as pd

    if queue.empty:
        console.print("no rows waiting for review", highlight=False)
        return
    rows = queue[["source", "record_id"]].drop_duplicates()
    title = f"{len(rows):,} row{'' if len(rows) == 1 else 's'} waiting for review"
    table = Table(title=title, box=None, pad_edge=False)
    for name in ("source", "record id", "#", "so_dinh_danh", "name", "born", "sex", "score"):
        table.add_column(name, justify="right" if name in ("#", "score") else "left")
    for (source, record_id), lines in queue.groupby(["source", "record_id"], sort=False):
        own = lines.iloc[0]
        table.add_row(source, record_id, "row", "", *_person(own.full_name, own.birth_date,
                                                           own.sex), "")  # fmt: skip
        for line in lines.itertuples(index=False):
            if pd.isna(line.so_dinh_danh):
                table.add_row("", "", "", "(no candidate)", "", "", "", "")
                continue
            score = "" if pd.isna(line.score) else f"{line.score:.3f}"
            table.add_row("", "", str(line.rank), mask_id(line.so_dinh_danh),
                          *_person(line.candidate_name, line.candidate_birth_date,
                                   line.candidate_sex), score)  # fmt: skip
    console.print(table)


def _person(name, birth_date, sex) -> tuple[str, str, str]:
    """The masked name, the birth date and the sex, a missing value as ``?``."""
    import pandas as pd

    born = "?" if pd.isna(birth_date) else str(birth_date)[:10]
    return mask_name(name) or "?", born, "?" if pd.isna(sex) else str(sex)


def _pillar_value(scores: dict[str, Any], pillar: str) -> float | None:
    value = scores.get("pillars", scores).get(pillar)
    if isinstance(value, dict):
        value = value.get("share", value.get("pass_rate"))
    return None if value is None else float(value)


# --------------------------------------------------------------------------- HTML


def _bar_chart(
    items: list[tuple[str, float]], fmt: str = "{:,.0f}", width: int = 640, label_w: int = 330
) -> str:
    """A horizontal SVG bar chart of (label, value) pairs."""
    if not items:
        return "<p class='muted'>nothing to show</p>"
    top = max(value for _, value in items) or 1
    row = 22
    height = row * len(items) + 4
    bars = []
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        w = max(1.0, (width - label_w - 70) * value / top)
        bars.append(
            f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end'>{html.escape(str(label))}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{w:.1f}' height='15' rx='2'></rect>"
            f"<text x='{label_w + w + 5:.1f}' y='{y + 15}'>{html.escape(fmt.format(value))}</text>"
        )
    return f"<svg class='chart' width='{width}' height='{height}'>{''.join(bars)}</svg>"


def write_batch_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write ``report.html`` for one batch: outcomes, pillar scores, findings by rule, review queue."""
    import pandas as pd

    from popsync.pipeline import concat_findings

    folder = Path(folder)
    findings = concat_findings(folder)
    counts = summary.get("counts", summary)
    outcome_chart = _bar_chart(
        [(name, float(counts.get(name, 0))) for name in ("loaded", "quarantined", "review")],
        width=500,
        label_w=120,
    )
    scores = summary.get("scores", {})
    pillar_chart = _bar_chart(
        [
            (label, 100 * value)
            for pillar, label in PILLARS.items()
            if (value := _pillar_value(scores, pillar)) is not None
        ],
        fmt="{:.2f}%",
        width=500,
        label_w=140,
    )
    rules_rows = ""
    if len(findings):
        by_rule = (
            findings.groupby(["rule", "pillar", "severity"], dropna=False)
            .agg(rows=("record_id", "nunique"), reason=("reason", "first"))
            .reset_index()
            .sort_values("rows", ascending=False)
        )
        rule_chart = _bar_chart([(r.rule, float(r.rows)) for r in by_rule.head(20).itertuples()])
        rules_rows = "".join(
            f"<tr><td>{html.escape(str(r.rule))}</td><td>{PILLARS.get(r.pillar, r.pillar)}</td>"
            f"<td class='sev-{html.escape(str(r.severity))}'>{html.escape(str(r.severity))}</td>"
            f"<td class='num'>{r.rows:,}</td><td>{html.escape(str(r.reason))}</td></tr>"
            for r in by_rule.itertuples()
        )
    else:
        rule_chart = "<p class='muted'>no findings</p>"
    review_rows = ""
    candidates_path = folder / "candidates.parquet"
    if candidates_path.exists():
        candidates = pd.read_parquet(candidates_path).head(50)
        review_rows = "".join(
            f"<tr><td>{html.escape(str(c.record_id))}</td><td>{mask_id(c.so_dinh_danh)}</td>"
            f"<td class='num'>{float(c.score):.3f}</td></tr>"
            for c in candidates.itertuples()
        )
    timings = summary.get("timings", {})
    timing_chart = _bar_chart([(k, float(v)) for k, v in timings.items()], fmt="{:.2f} s")
    page = _PAGE.format(
        source=html.escape(str(summary.get("source", ""))),
        run_id=html.escape(str(summary.get("run_id", ""))),
        input_file=html.escape(str(summary.get("input_file", ""))),
        sha=html.escape(str(summary.get("input_sha256", ""))[:16]),
        run_date=html.escape(str(summary.get("run_date", ""))),
        read=counts.get("read", 0),
        outcome_chart=outcome_chart,
        pillar_chart=pillar_chart,
        verdict=html.escape(str(scores.get("verdict", ""))),
        rule_chart=rule_chart,
        rules_rows=rules_rows,
        review_rows=review_rows
        or "<tr><td colspan='3' class='muted'>no review candidates</td></tr>",
        timing_chart=timing_chart,
        summary_json=html.escape(json.dumps(_public_summary(summary), default=str, indent=1)),
    )
    target = folder / "report.html"
    target.write_text(page, encoding="utf-8")
    return target


def _public_summary(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in {"report"}}


_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>popsync · {source} · quality report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733;max-width:1100px}}
h1{{font-size:1.5rem}} h2{{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #dde}}
.chart rect{{fill:#2f6fb3}} .chart text{{font-size:12px;fill:#1d2733}}
table{{border-collapse:collapse;font-size:.9rem}} td,th{{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}}
.num{{text-align:right}} .muted{{color:#889}} .sev-block{{color:#b00020;font-weight:600}}
.sev-quarantine{{color:#b35c00;font-weight:600}} .sev-warn{{color:#6b6b00}}
.grid{{display:grid;grid-template-columns:1fr 1fr;gap:1rem}} pre{{background:#f6f7f9;padding:1rem;font-size:.8rem}}
</style></head><body>
<h1>popsync quality report: {source}</h1>
<p>Run <code>{run_id}</code> · input <code>{input_file}</code> (sha256 {sha}…) · run date {run_date}
 · verdict <b>{verdict}</b>
 · <a href="data_docs/index.html">Data Docs</a> (every rule of both stages, with its pillar and reason)</p>
<div class="grid">
<section><h2>Outcome of the {read:,} rows read</h2>{outcome_chart}
<p class="muted">Every row ends in exactly one place: rows read = loaded + quarantined + review.</p></section>
<section><h2>Pillar scores (share of rows passing)</h2>{pillar_chart}</section>
</div>
<h2>Findings by rule</h2>{rule_chart}
<table><tr><th>rule</th><th>pillar</th><th>severity</th><th>rows</th><th>why it matters</th></tr>{rules_rows}</table>
<h2>Review queue (first 50 candidates, IDs masked)</h2>
<table><tr><th>record</th><th>candidate</th><th>score</th></tr>{review_rows}</table>
<h2>Time per stage</h2>{timing_chart}
<h2>Run record</h2><pre>{summary_json}</pre>
</body></html>
"""
