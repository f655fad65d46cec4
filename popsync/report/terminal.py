"""Short terminal summaries (rich): one line that reconciles each run, the review queue."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from popsync.core.contracts import PILLARS
from popsync.core.privacy import mask_id, mask_name, mask_record_id
from popsync.report import explain

console = Console(stderr=False)


def print_standardize_summary(source: str, input_path, summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]{source}[/] {escape(str(input_path))}: {summary['rows']:,} rows read, "
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
        f"-> {escape(str(summary['out']))}",
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
        f"verdict: [bold]{scores.get('verdict', '?')}[/]; findings and Data Docs in {escape(str(out_dir))}"
    )


def print_run_summary(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    console.print(
        f"[bold]{summary['source']}[/]: {counts['read']:,} rows read = {counts['loaded']:,} loaded"
        f" + {counts['quarantined']:,} quarantined + {counts['review']:,} for review"
        + (
            f" ({counts['linked']:,} linked, {counts['not_linked']:,} not)"
            if "linked" in counts
            else ""
        )
        + f"  [green]reconciled[/] in {sum(summary['timings'].values()):.1f} s",
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
    console.print(f"  report: {escape(str(summary.get('report', '')))}", soft_wrap=True,
                  highlight=False)  # fmt: skip


def print_review_page(page: dict[str, Any]) -> None:
    """One page of the review queue (``Warehouse.review_page``): how many rows wait in all and
    which are shown; per row its record id (what ``popsync review decide`` takes; a BHXH number
    in it masked, as ``decide`` takes it back), its own
    declared ID, name, birth date and sex, then its candidates by rank with their score and
    the fields that agree (``~``: partly) and differ. IDs and names masked; an ID as printed
    here can be given back to ``decide --so-dinh-danh``."""
    total, rows = page["total"], page["rows"]
    if not total:
        console.print("no rows waiting for review", highlight=False)
        return
    first, last = page["offset"] + 1, page["offset"] + len(rows)
    shown = f"showing {first}-{last}" if rows else f"none at offset {page['offset']}"
    more = f"; next: --offset {last}" if last < total else ""
    console.print(f"[bold]{total:,} row{'' if total == 1 else 's'} waiting for review[/] "
                  f"({shown}{more})", highlight=False)  # fmt: skip
    for item in rows:
        row = item["row"]
        declared = mask_id(row.get("id_number")) or "none"
        console.print(
            f"\n[bold]{item['source']} {escape(mask_record_id(item['record_id']))}[/] "
            f"(delivery {item['delivery']})  "
            f"declared ID {declared}  "
            + "  ".join(_person(row.get("full_name"), row.get("birth_date"), row.get("sex"))),
            highlight=False,
            soft_wrap=True,
        )
        if not item["candidates"]:
            console.print("   (no candidate)", highlight=False)
        for candidate in item["candidates"]:
            person = candidate["person"] or {}
            agree, differ = explain.agree_differ(candidate["explanation"])
            score = "" if candidate["score"] is None else f"score {candidate['score']:.3f}"
            console.print(
                f"   #{candidate['rank']} {mask_id(candidate['so_dinh_danh'])}  "
                + "  ".join(_person(person.get("ho_ten"), person.get("ngay_sinh"),
                                    person.get("gioi_tinh")))
                + f"  {score}  agree: {', '.join(agree) or '-'}; differ: {', '.join(differ) or '-'}",
                highlight=False,
                soft_wrap=True,
            )  # fmt: skip


def _person(name, birth_date, sex) -> tuple[str, str, str]:
    """The masked name, the birth date and the sex, a missing value as ``?``."""
    import pandas as pd

    born = "?" if birth_date is None or pd.isna(birth_date) else str(birth_date)[:10]
    sex = "?" if sex is None or pd.isna(sex) else str(sex)
    return mask_name(name) or "?", born, sex


def pillar_value(scores: dict[str, Any], pillar: str) -> float | None:
    """A pillar's share of rows passing, from a stage's or a batch's scores."""
    value = scores.get("pillars", scores).get(pillar)
    if isinstance(value, dict):
        value = value.get("share", value.get("pass_rate"))
    return None if value is None else float(value)
