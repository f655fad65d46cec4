"""Quality gates "Đúng, đủ, sạch, sống" with Great Expectations, in two stages per extract and
one for the register.

- ``validate_pre_link(std, source, run_date)``: the standardized rows on their own.
- ``validate_post_link(std, decisions, register_std, source, run_date)``: each row against the
  register person it was linked to, the person's other rows, and the batch's freshness.
- ``validate_register(register_std, run_date)``: the declared register's snapshot on its own,
  stage ``register``: warnings for its stewards, a block when it cannot serve as the reference.

``source`` is the source's declaration (``popsync.core.sources.SourceSpec``) or the id of a
packaged one. Its suites, ``<source>_<stage>.yaml`` (``expectations.stored``), are in the folder
the declaration names (``suites_dir``), else in ``expectations/suites/``; each rule carries its
pillar, severity and reason into the GX expectation's ``meta``, ``notes`` and ``description``,
so findings and Data Docs speak the stewards' words. A rule checks a standardized column or a
derived rule column (``expectations.rules``, by stage), whose inputs come from the declaration.
Great Expectations is imported only when a stage runs, and its private APIs only by
``expectations.gx_adapter``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.engine import (
    BatchBlocked,
    RuleEvaluationError,
    ValidationResult,
    derived_columns,
    pillar_scores,
    validate,
)
from expectations.scope import batch_rules, carried_columns
from expectations.stored import SuiteError, load_rules
from popsync.core.contracts import quarantine_rules
from popsync.core.privacy import formula_safe, mask_patterns, mask_record_id
from popsync.core.sources import SourceSpec, load_catalog, spec_of
from transforms.row_keys import with_unique_record_ids

__all__ = [
    "BatchBlocked",
    "batch_rules",
    "carried_columns",
    "RuleEvaluationError",
    "SuiteError",
    "ValidationResult",
    "carried_rule_columns",
    "load_rules",
    "pillar_scores",
    "quarantined_ids",
    "raise_if_blocked",
    "repair_rules",
    "steward_rules",
    "validate_batch_rules",
    "validate_post_link",
    "validate_pre_link",
    "validate_register",
    "write_outputs",
]

# Register columns a post-link rule compares with, taken from the linked person.
_REGISTER_COLUMNS = (
    "full_name",
    "birth_date",
    "birth_date_precision",
    "sex",
    "cmnd",
    "death_date",
)


def validate_pre_link(
    std: pd.DataFrame,
    source: str | SourceSpec,
    run_date: dt.date,
    docs_dir: Path | None = None,
    scope: str = "all",
) -> ValidationResult:
    """Check standardized rows before linking (suite ``<source>_pre_link``). ``source``: the
    source's declaration, or the id of a packaged one. ``scope``: ``all`` rules, the ``row``
    rules (a chunk) or the ``batch`` rules (``expectations.scope``)."""
    return validate(std, spec_of(source), "pre_link", run_date, docs_dir=docs_dir, scope=scope)


def validate_post_link(
    std: pd.DataFrame,
    decisions: pd.DataFrame,
    register_std: pd.DataFrame,
    source: str | SourceSpec,
    run_date: dt.date,
    docs_dir: Path | None = None,
    scope: str = "all",
    register_age: int | None = None,
) -> ValidationResult:
    """Check linked rows against the register (suite ``<source>_post_link``).

    ``decisions`` has ``record_id``, ``so_dinh_danh``, ``decision``, ``score``, one row per
    extract row: in the same order as ``std``, or else joined on ``record_id``.
    ``register_std`` may hold only the people the rows link to when ``register_age`` (days from
    the whole snapshot's newest update to the run date) is given. ``scope`` as for
    ``validate_pre_link``.
    """
    linked = _linked(std, decisions, register_std)
    if register_age is None:
        register_age = register_age_days(register_std, run_date)
    return validate(
        std,
        spec_of(source),
        "post_link",
        run_date,
        linked=linked,
        register_age_days=register_age,
        docs_dir=docs_dir,
        scope=scope,
    )


def validate_batch_rules(
    verdicts: pd.DataFrame,
    source: str | SourceSpec,
    stage: str,
    run_date: dt.date,
    rows_at,
    docs_dir: Path | None = None,
    register_age: int | None = None,
) -> ValidationResult:
    """A stage's batch rules over a batch's verdict frame (``expectations.batch_pass``: a row
    per batch row, only what the rules check); ``rows_at(positions, columns)`` reads the record
    id and observed fields of the failing rows. The findings are those of ``validate_pre_link``
    / ``validate_post_link`` with ``scope="batch"`` over the rows themselves."""
    return validate(
        verdicts,
        spec_of(source),
        stage,
        run_date,
        register_age_days=register_age,
        docs_dir=docs_dir,
        scope="batch",
        rows_at=rows_at,
    )


def validate_register(
    register_std: pd.DataFrame,
    run_date: dt.date,
    docs_dir: Path | None = None,
    source: str | SourceSpec | None = None,
    scope: str = "all",
    register_age: int | None = None,
) -> ValidationResult:
    """Check the standardized register snapshot (suite ``<register>_register``, stage
    ``register``); ``source``: the register's declaration, by default the declared register.

    Findings carry the person's số định danh as ``record_id``; a row without one, or repeating
    an earlier row's, gets ``<id>~<hash>`` (from the row's content: ``transforms.row_keys``) so
    that each finding points at one row. ``scope`` as for ``validate_pre_link``; ``register_age``: the whole snapshot's
    age (days), when ``register_std`` is a part of it."""
    spec = spec_of(source) if source is not None else load_catalog().register
    if "source_record_id" not in register_std.columns:  # else made unique over the snapshot
        register_std = with_unique_record_ids(register_std)
    if register_age is None:
        register_age = register_age_days(register_std, run_date)
    return validate(
        register_std,
        spec,
        "register",
        run_date,
        register_age_days=register_age,
        docs_dir=docs_dir,
        scope=scope,
    )


def carried_rule_columns(
    std: pd.DataFrame, source: str | SourceSpec, stage: str, run_date: dt.date
) -> pd.DataFrame:
    """The derived columns a stage's batch rules check that a row has on its own
    (``expectations.scope.carried_columns``), computed on a chunk's standardized rows, to be
    carried into the batch pass (positional index). Post-link, the ones that need only the
    row's own columns."""
    spec = spec_of(source)
    return derived_columns(std, spec, run_date, carried_columns(spec, stage))


def steward_rules(source: str | SourceSpec) -> dict[str, Any]:
    """Every rule of a source's suites (all its stages), by name: what a report shows of a
    finding (the Vietnamese reason, whether it is a repair) beside what the warehouse stores."""
    spec = spec_of(source)
    stages = ("register",) if spec.role == "register" else ("pre_link", "post_link")
    return {rule.rule: rule for stage in stages for rule in load_rules(spec, stage)}


def repair_rules(source: str | SourceSpec) -> frozenset[str]:
    """The names of a source's repair rules (``repair: true``), all stages."""
    return frozenset(name for name, rule in steward_rules(source).items() if rule.repair)


def register_age_days(register_std: pd.DataFrame, run_date: dt.date) -> int | None:
    """Days from the snapshot's newest ``updated_at`` (ngày cập nhật) to the run date."""
    updated = register_std["updated_at"] if "updated_at" in register_std else pd.Series([])
    latest = pd.to_datetime(updated).max()
    return None if pd.isna(latest) else (pd.Timestamp(run_date) - latest.normalize()).days


def _linked(std: pd.DataFrame, decisions: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Per ``std`` row (positional): its decision and the linked person's ``reg_*`` columns."""
    wanted = ["so_dinh_danh", "decision", "score"]
    ids = std["record_id"].astype("string").reset_index(drop=True)
    theirs = decisions["record_id"].astype("string").reset_index(drop=True)
    if len(theirs) == len(ids) and theirs.equals(ids):
        linked = decisions[wanted].reset_index(drop=True)
    else:
        by_id = decisions.drop_duplicates("record_id")
        by_id = by_id.set_index(by_id["record_id"].astype("string"))
        linked = by_id.reindex(ids)[wanted].reset_index(drop=True)
    linked["so_dinh_danh"] = linked["so_dinh_danh"].astype("string").replace("", pd.NA)
    people = register.drop_duplicates("person_id")
    people = people.set_index(people["person_id"].astype("string"))
    present = [c for c in _REGISTER_COLUMNS if c in people.columns]
    person = people[present].reindex(linked["so_dinh_danh"]).reset_index(drop=True)
    person.columns = [f"reg_{c}" for c in present]
    return pd.concat([linked, person], axis=1)


def _as_list(results: ValidationResult | Iterable[ValidationResult]) -> list[ValidationResult]:
    return [results] if isinstance(results, ValidationResult) else list(results)


def raise_if_blocked(result: ValidationResult) -> None:
    """Stop the batch when a block-severity rule failed, naming the rule and the count."""
    if result.blocked:
        what = "; ".join(f"{rule} ({count:,} rows)" for rule, count in result.blocked)
        raise BatchBlocked(f"{result.source} {result.stage}: batch blocked by {what}")


def steward_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings as a steward's file shows them: record ids with an ID or a BHXH number in them
    masked (``mask_record_id``), observed values masked by pattern once more."""
    shown = findings.copy()
    for column, masker in (("record_id", mask_record_id), ("observed", mask_patterns)):
        if column in shown.columns:
            shown[column] = shown[column].map(masker, na_action="ignore").astype("string")
    return shown


def quarantined_ids(results: ValidationResult | Iterable[ValidationResult]) -> set[str]:
    """Record ids with at least one quarantine finding: the pipeline sets these rows aside
    (``popsync.core.contracts.quarantine_rules``)."""
    findings = [result.findings for result in _as_list(results)]
    if not findings:
        return set()
    return set(quarantine_rules(pd.concat(findings, ignore_index=True)).index)


def write_outputs(
    results: ValidationResult | Iterable[ValidationResult], out_dir: str | Path
) -> dict[str, Any]:
    """Write ``findings.parquet``, ``findings.csv`` and ``scores.json`` for one batch's stages.

    The combined scores count a row against a pillar when any stage has a finding for it.
    """
    results = _as_list(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    findings = pd.concat([r.findings for r in results], ignore_index=True)
    rows = max(r.rows for r in results)
    scores = pillar_scores(findings, rows, frozenset().union(*(r.repairs for r in results)))
    scores.update(
        source=results[0].source,
        stages={r.stage: r.scores for r in results},
        blocked=[
            {"stage": r.stage, "rule": rule, "count": n} for r in results for rule, n in r.blocked
        ],
        quarantined_rows=len(quarantined_ids(results)),
    )
    paths = {
        "findings": out_dir / "findings.parquet",
        "findings_csv": out_dir / "findings.csv",
        "scores_path": out_dir / "scores.json",
    }
    shown = steward_findings(findings)
    shown.to_parquet(paths["findings"], index=False)
    shown.map(formula_safe).to_csv(paths["findings_csv"], index=False)
    paths["scores_path"].write_text(
        json.dumps(scores, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return {**{k: str(v) for k, v in paths.items()}, "scores": scores}
