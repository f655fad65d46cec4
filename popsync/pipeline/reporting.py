"""A batch's report, built from the warehouse as it is now (``batch_view``): where the rows went
(linked, not linked, review, quarantined), pillar scores that count defects (repairs apart), the
rules by rows with their Vietnamese reasons, a verdict that names what happened, the units with
the most quarantined rows and the review queue, masked. The file beside the batch
(``report.html``) and the workspace's batch page render the same view; ``refresh_report``
writes the file again after a steward's decision, so it is never stale.

A blocked batch loads nothing: ``blocked_view`` builds its report from the batch's findings
files, naming the rule that blocked it."""

from __future__ import annotations

from typing import Any

from popsync.core.contracts import PILLARS
from popsync.core.privacy import mask_id, mask_record_id
from popsync.core.sources import SourceCatalog, SourceSpec
from popsync.pipeline.batch import batch_folder
from popsync.resources import Resources

# The field that names a row's site (the unit below the ward that made it), per kind of source.
SITE_FIELDS = ("site", "treatment_place", "employer_name")
REVIEW_SHOWN = 20


def site_field(spec: SourceSpec) -> str | None:
    """The source's site field (``site`` for doses, ``treatment_place`` for F0 cases...)."""
    return next((name for name in SITE_FIELDS if name in spec.fields), None)


def _rules(spec: SourceSpec) -> dict[str, Any]:
    """The source's rules by name (the suites are read once: ``expectations.stored``)."""
    import expectations

    return expectations.steward_rules(spec)


# Findings that no suite declares: the re-check after a register change (pipeline.recheck).
OTHER_RULES = {
    "link_rechecked": {"reason": "Liên kết được kiểm tra lại sau khi CSDL dân cư thay đổi "
                       "(họ tên, ngày sinh, giới tính hoặc khai tử của người đó).",
                       "pillar": "song", "severity": "warn", "repair": False},
}  # fmt: skip
UNKNOWN_RULE = {"reason": "", "repair": False}


def rule_texts(spec: SourceSpec) -> dict[str, dict[str, Any]]:
    """Per rule of the source: its Vietnamese reason, pillar, severity and whether it is a
    repair (what the report layer, which does not read suites, is given)."""
    return OTHER_RULES | {
        name: {"reason": rule.steward_reason, "pillar": rule.pillar,
               "severity": rule.severity, "repair": rule.repair}
        for name, rule in _rules(spec).items()
    }  # fmt: skip


def batch_view(store, catalog: SourceCatalog, run_id: str) -> dict[str, Any] | None:
    """Everything a batch's report shows, read from the warehouse now (None: no such run)."""
    found = store.batch_runs(run_id=run_id)
    if not found:
        return None
    run = found[0]
    spec = catalog.extract(run["source"])
    texts = rule_texts(spec)
    repairs = {name for name, rule in texts.items() if rule["repair"]}
    defects = store.pillar_defects([run_id], repairs)[run_id]
    rules = store.rule_counts([run_id])[run_id]
    page = store.review_page(run["source"], run_id=run_id, limit=REVIEW_SHOWN)
    site = site_field(spec)
    return {
        "run": run,
        "source": spec.id,
        "source_title": spec.title_vi,
        "site_field": site,
        "counts": counts_of(run),
        "pillars": pillar_rows(defects, run["rows_read"] - run["rows_moved"]),
        "repaired_rows": defects["repaired"],
        "rules": [UNKNOWN_RULE | rule | texts.get(rule["rule"], {}) for rule in rules],
        "units": store.unit_counts(run_id, spec.id, "district")[:15],
        "review_total": page["total"],
        "review": [masked_review_row(item) for item in page["rows"]],
        "blocked": [],
        # What the batch changed in people's status (person_status), counts only.
        "status_changes": store.status_changes(run_id),
    }


def counts_of(run: dict[str, Any]) -> dict[str, int]:
    return {
        "read": run["read"],
        "loaded": run["linked"] + run["not_linked"],
        "linked": run["linked"],
        "not_linked": run["not_linked"],
        "review": run["review"],
        "quarantined": run["quarantined"],
        "moved": run.get("rows_moved") or 0,
    }


def pillar_rows(defects: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """Per pillar: rows with a defect (None: a batch-level rule failed) and the share passing."""
    out = []
    for pillar in PILLARS:
        failing = defects.get(pillar, 0)
        share = 0.0 if failing is None else (1 - failing / rows if rows else 1.0)
        out.append({"pillar": pillar, "defects": failing, "share": share})
    return out


def masked_review_row(item: dict[str, Any]) -> dict[str, Any]:
    """A review row as a report shows it: masked ids and names, the best candidates' scores
    and which fields agree (from the explanation)."""
    from popsync.core.privacy import mask_name
    from popsync.report import explain

    row = item["row"]
    return {
        "record": mask_record_id(item["record_id"]),
        "declared": mask_id(row.get("id_number")),
        "name": mask_name(row.get("full_name")),
        "candidates": [
            {"rank": c["rank"], "id": mask_id(c["so_dinh_danh"]), "score": c["score"],
             "fields": explain.fields(c["explanation"])}
            for c in item["candidates"]
        ],
    }  # fmt: skip


def blocked_view(batch: dict[str, Any], findings, catalog: SourceCatalog) -> dict[str, Any]:
    """The report of a batch that a block-severity rule stopped (nothing was loaded): the rows
    read, the blocking rules with their reasons and every finding written so far, by rule."""
    spec = catalog.extract(batch["source"])
    texts = rule_texts(spec)
    rules = []
    if len(findings):
        grouped = findings.groupby("rule", dropna=False).agg(
            rows=("record_id", "nunique"), pillar=("pillar", "first"),
            severity=("severity", "first"), stage=("stage", "first"),
        )  # fmt: skip
        for name, found in grouped.sort_values("rows", ascending=False).iterrows():
            rules.append({"rule": name, "rows": int(found["rows"]), "pillar": found["pillar"],
                          "severity": found["severity"], "stage": found["stage"],
                          "batch_level": int(found["rows"]) == 0}
                         | UNKNOWN_RULE | texts.get(name, {}))  # fmt: skip
    read = int(batch.get("rows_read") or 0)
    run = {"run_id": batch.get("run_id"), "status": "blocked", "source": spec.id,
           "delivery": batch.get("delivery"), "input_file": batch.get("input_path"),
           "run_date": batch.get("run_date"), "started_at": None, "finished_at": None,
           "error": batch.get("error"), "rows_read": read, "version": None}  # fmt: skip
    zero = {"linked": 0, "not_linked": 0, "review": 0, "quarantined": 0, "read": read}
    return {
        "run": run, "source": spec.id, "source_title": spec.title_vi, "site_field": None,
        "counts": counts_of(run | zero), "pillars": [], "repaired_rows": 0, "rules": rules,
        "units": [], "review_total": 0, "review": [], "status_changes": None,
        "blocked": [rule for rule in rules if rule["severity"] == "block"],
    }  # fmt: skip


def render(view: dict[str, Any], standalone: bool = True) -> str:
    from popsync.report import html

    return html.render_batch_report(view, standalone=standalone)


def refresh_report(res: Resources, store, run_id: str) -> str | None:
    """Write the run's ``report.html`` again in its batch folder (after a decision or an
    undo); returns the report's path, or None when the batch folder is not in this work area."""
    view = batch_view(store, res.catalog, run_id)
    if view is None or not view["run"]["input_sha256"]:
        return None
    key = f"{batch_folder(view['source'], view['run']['input_sha256'])}/report.html"
    if not res.workarea.exists(key):
        return None
    res.workarea.write_text(key, render(view))
    return res.workarea.path(key)
