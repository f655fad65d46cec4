"""The HTML batch report for stewards, rendered with Jinja2 (``templates/``, autoescaped).

Self-contained (inline CSS and SVG charts, no JavaScript, no network), so it opens from a file
share or a mail attachment. Personal values never appear in it unmasked.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2

from popsync.core.contracts import PILLARS
from popsync.core.privacy import mask_id
from popsync.report.terminal import pillar_value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("popsync.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mask_id"] = mask_id
    return env


def bar_chart(
    items: list[tuple[str, float]], fmt: str = "{:,.0f}", width: int = 640, label_w: int = 330
) -> dict[str, Any]:
    """A horizontal bar chart of (label, value) pairs, laid out for ``macros.bar_chart``."""
    top = max((value for _, value in items), default=0) or 1
    row = 22
    bars = [
        {
            "label": str(label),
            "text": fmt.format(value),
            "y": i * row + 2,
            "w": max(1.0, (width - label_w - 70) * value / top),
        }
        for i, (label, value) in enumerate(items)
    ]
    return {"bars": bars, "width": width, "height": row * len(items) + 4, "label_w": label_w}


def render_batch_report(batch: dict[str, Any], findings, candidates=None) -> str:
    """The report of one batch: outcomes, pillar scores, findings by rule, review queue."""
    counts = batch.get("counts", batch)
    scores = batch.get("scores", {})
    rules = []
    if len(findings):
        by_rule = (
            findings.groupby(["rule", "pillar", "severity"], dropna=False)
            .agg(rows=("record_id", "nunique"), reason=("reason", "first"))
            .reset_index()
            .sort_values("rows", ascending=False)
        )
        rules = [
            {"rule": str(r.rule), "pillar": PILLARS.get(r.pillar, r.pillar),
             "severity": str(r.severity), "rows": int(r.rows), "reason": str(r.reason)}
            for r in by_rule.itertuples()
        ]  # fmt: skip
    review = [] if candidates is None else candidates.head(50).to_dict("records")
    return (
        environment()
        .get_template("batch_report.html.j2")
        .render(
            batch=batch,
            read=counts.get("read", 0),
            outcome_chart=bar_chart(
                [
                    (name, float(counts.get(name, 0)))
                    for name in ("loaded", "quarantined", "review")
                ],
                width=500,
                label_w=120,
            ),
            pillar_chart=bar_chart(
                [
                    (label, 100 * value)
                    for pillar, label in PILLARS.items()
                    if (value := pillar_value(scores, pillar)) is not None
                ],
                fmt="{:.2f}%",
                width=500,
                label_w=140,
            ),
            verdict=scores.get("verdict", ""),
            rule_chart=bar_chart([(r["rule"], float(r["rows"])) for r in rules[:20]]),
            rules=rules,
            review=review,
            timing_chart=bar_chart(
                [(k, float(v)) for k, v in batch.get("timings", {}).items()], fmt="{:.2f} s"
            ),
            summary_json=json.dumps(
                {k: v for k, v in batch.items() if k != "report"}, default=str, indent=1
            ),
        )
    )
