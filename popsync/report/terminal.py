"""Short terminal summaries (rich): one line that reconciles each run, the review queue."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from popsync.core.contracts import PILLARS
from popsync.core.privacy import mask_id, mask_name

console = Console(stderr=False)


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
        value = pillar_value(scores, pillar)
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
    status = summary.get("status") or {}
    if status:
        console.print(
            f"  status: {status['people']:,} people recomputed, {status['changed']:,} changed"
            f" ({status['became_fully_vaccinated']:,} became fully vaccinated,"
            f" {status['new_f0_episode']:,} new F0 episodes,"
            f" {status['became_insured']:,} became insured)",
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


def pillar_value(scores: dict[str, Any], pillar: str) -> float | None:
    """A pillar's share of rows passing, from a stage's or a batch's scores."""
    value = scores.get("pillars", scores).get(pillar)
    if isinstance(value, dict):
        value = value.get("share", value.get("pass_rate"))
    return None if value is None else float(value)
