"""Running a stored suite with GX and turning its results into findings, scores and Data Docs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expectations import data_docs, gx_adapter, rules
from expectations.scope import in_scope
from expectations.stored import Rule, build_suite, load_rules, suite_name
from popsync.core.contracts import PILLARS, VALIDATION_FINDING_COLUMNS
from popsync.core.errors import QualityBlocked
from popsync.core.privacy import PERSONAL_FIELDS, mask_patterns, mask_value
from popsync.core.sources import SourceSpec

# (positions, columns) -> those columns of the rows at those positions, in that order.
RowsAt = Callable[[np.ndarray, list[str]], pd.DataFrame]
_ROW = "row"  # the validation frame's index: the row's position in ``std``
# COMPLETE gives every failing row. With the row's position as the frame's named index and the
# failing values left out, GX lists the rows in one pass instead of one lookup per row (20x); the
# position (not the record id, which may repeat) says which row each finding is about.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [_ROW],
    "exclude_unexpected_values": True,
}


class RuleEvaluationError(RuntimeError):
    """GX could not evaluate a rule (``exception_info``): an error, never a data failure."""


class BatchBlocked(QualityBlocked):
    """A block-severity rule failed: the whole batch must not be loaded."""


@dataclass
class ValidationResult:
    """Findings (one row per failing row and rule; ``record_id`` null for batch-level rules),
    pillar scores and verdict, the block-severity failures, and the GX result itself."""

    source: str
    stage: str
    rows: int
    findings: pd.DataFrame
    scores: dict[str, Any]
    blocked: list[tuple[str, int]]
    results: Any = field(repr=False)
    # The suite's repair rules (``repair: true``): not defects, reported apart.
    repairs: frozenset[str] = frozenset()


def validate(
    std: pd.DataFrame,
    spec: SourceSpec,
    stage: str,
    run_date: dt.date,
    linked: pd.DataFrame | None = None,
    register_age_days: int | None = None,
    docs_dir: Path | None = None,
    scope: str = "all",
    rows_at: RowsAt | None = None,
) -> ValidationResult:
    """Run the source's ``stage`` suite on its standardized rows (``linked``: each row's decision
    and linked person, post-link). ``scope``: ``all`` its rules, only the ``row`` rules (a
    chunk of a batch) or only the ``batch`` rules (``expectations.scope``). ``rows_at``: when
    ``std`` holds only what the rules check (``expectations.batch_pass``), reads the record id
    and observed fields of the failing rows (positions) from where the rows are."""
    stored = tuple(rule for rule in load_rules(spec, stage) if in_scope(rule, scope))
    std = std.reset_index(drop=True)
    batch = rules.Batch(
        std=std,
        spec=spec,
        run_date=pd.Timestamp(run_date),
        linked=None if linked is None else linked.reset_index(drop=True),
        register_age_days=register_age_days,
        params={rule.column: rule.params for rule in stored if rule.params},
    )
    frame = _validation_frame(batch, stored)

    context = gx_adapter.ephemeral_context()
    suite = build_suite(spec, stage, stored)
    gx_result = gx_adapter.run_suite(
        context, suite, frame, asset=suite_name(spec, stage), result_format=RESULT_FORMAT
    )

    findings, blocked = _findings(gx_result, batch, stored, spec.id, stage, rows_at)
    repairs = frozenset(rule.rule for rule in stored if rule.repair)
    scores = pillar_scores(findings, len(std), repairs)
    scores.update(source=spec.id, stage=stage)
    if docs_dir is not None:
        data_docs.build_data_docs(Path(docs_dir), suite, gx_result, spec.id, stage)
    return ValidationResult(spec.id, stage, len(std), findings, scores, blocked, gx_result, repairs)


def derived_columns(
    std: pd.DataFrame,
    spec: SourceSpec,
    run_date: dt.date,
    names: list[str],
    linked: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Derived rule columns ``names`` of ``std`` (positional), as the stage would compute them."""
    batch = rules.Batch(
        std=std.reset_index(drop=True),
        spec=spec,
        run_date=pd.Timestamp(run_date),
        linked=None if linked is None else linked.reset_index(drop=True),
    )
    return pd.DataFrame({name: rules.compute(batch, name) for name in names})


def _validation_frame(batch: rules.Batch, stored: tuple[Rule, ...]) -> pd.DataFrame:
    """Only the columns the rules check, indexed by row position (``row``)."""
    columns: dict[str, Any] = {}
    for rule in stored:
        name = rule.column
        if name is None or name in columns:
            continue
        if name in batch.std.columns:  # computed with its chunk (scope) or its partition
            columns[name] = batch.col(name)
        # ``record_key``: the id as the source wrote it (see transforms.row_keys)
        elif name == "record_key":
            key = "source_record_id" if "source_record_id" in batch.std.columns else "record_id"
            columns[name] = batch.col(key).astype("string")
        elif rules.is_rule(batch.spec, name):
            columns[name] = rules.compute(batch, name)
        else:
            columns[name] = batch.col(name)
    index = pd.RangeIndex(len(batch.std), name=_ROW)
    # ``.array`` keeps Arrow-backed strings as they are (to_numpy would make slow object arrays).
    return pd.DataFrame(
        {name: v if isinstance(v, np.ndarray) else v.array for name, v in columns.items()},
        index=index,
    )


def _raised(exception_info: dict | None) -> str | None:
    """The message of an exception GX caught while evaluating, if any (flat or per metric)."""
    if not exception_info:
        return None
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _findings(gx_result, batch: rules.Batch, stored, source: str, stage: str, rows_at=None):
    by_name = {rule.rule: rule for rule in stored}
    failed, blocked = [], []
    for result in gx_result.results:
        meta = result.expectation_config.meta
        error = _raised(result.exception_info)
        if error is not None:
            raise RuleEvaluationError(
                f"{source} {stage}: rule {meta['rule']} failed to run: {error}"
            )
        if result.success:
            continue
        rule = by_name[meta["rule"]]
        index_list = result.result.get("unexpected_index_list")
        if index_list is None:  # a batch-level (aggregate) rule
            count, positions = len(batch.std), None
        else:
            positions = np.asarray(index_list[0][_ROW] if index_list else [], dtype=np.intp)
            count = int(result.result.get("unexpected_count", len(positions)))
        if rule.severity == "block":
            blocked.append((rule.rule, count))
        failed.append((result, rule, positions))
    held, starts = _failing_rows(batch, failed, rows_at)
    record_ids = held.col("record_id").astype("string")
    parts = []
    for (result, rule, positions), start in zip(failed, starts, strict=True):
        if positions is None:
            observed = f"observed {result.result.get('observed_value')}"
            part = pd.DataFrame(
                {"record_id": pd.array([None], dtype="string"), "observed": [observed]}
            )
        else:
            at = positions if rows_at is None else np.arange(start, start + len(positions))
            part = pd.DataFrame(
                {
                    "record_id": record_ids.iloc[at].to_numpy(),
                    "observed": _observed(held, rule, at),
                }
            )
        part = part.assign(
            source=source,
            stage=stage,
            rule=rule.rule,
            pillar=rule.pillar,
            severity=rule.severity,
            reason=rule.reason,
        )
        parts.append(part)
    if not parts:
        return _empty_findings(), blocked
    findings = pd.concat(parts, ignore_index=True)[list(VALIDATION_FINDING_COLUMNS)]
    return findings.astype("string"), blocked


def _failing_rows(batch: rules.Batch, failed, rows_at) -> tuple[rules.Batch, list[int]]:
    """The rows the findings show, and where each failed rule's rows start among them: the
    batch itself, or (``rows_at``) the failing rows of every rule read back at once."""
    sizes = [0 if positions is None else len(positions) for _, _, positions in failed]
    starts = np.cumsum([0, *sizes])[:-1].tolist()
    if rows_at is None:
        return batch, starts
    wanted = ["record_id"]
    for _, rule, positions in failed:
        if positions is not None:
            wanted += [batch.spec.event_date if n == "event_date" else n for n in rule.observed]
    every = [p for _, _, p in failed if p is not None]
    positions = np.concatenate(every) if every else np.zeros(0, dtype=np.intp)
    shown = rows_at(positions, list(dict.fromkeys(wanted)))
    return rules.Batch(std=shown, spec=batch.spec, run_date=batch.run_date), starts


def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="string") for name in VALIDATION_FINDING_COLUMNS})


def _observed(batch: rules.Batch, rule: Rule, positions: np.ndarray) -> np.ndarray:
    """``field=value; ...`` for the rule's observed fields, personal values masked."""
    out = pd.Series("", index=range(len(positions)), dtype="string")
    for i, name in enumerate(rule.observed):
        column = batch.spec.event_date if name == "event_date" else name
        values = batch.col(column).iloc[positions].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d")
        else:
            text = values.astype("string")
        piece = f"{column}=" + _masked(column.removeprefix("reg_"), text)
        out = piece if i == 0 else out + "; " + piece
    return out.to_numpy()


def _masked(field: str, text: pd.Series) -> pd.Series:
    """``mask_value`` over the distinct values only (by column), and ``mask_patterns`` over
    the others (by value: an ID or a phone a stray quote shifted into another column); nulls
    become empty strings."""
    if field.removeprefix("raw_") in PERSONAL_FIELDS:
        mapping = {value: mask_value(field, value) for value in text.dropna().unique()}
    else:
        mapping = {value: mask_patterns(value) for value in text.dropna().unique()}
    return text.map(mapping).astype("string").fillna("")


def pillar_scores(findings: pd.DataFrame, rows: int, repairs: Iterable[str] = ()) -> dict[str, Any]:
    """Per pillar, the share of rows with no defect of that pillar (0 when a batch-level rule of
    the pillar failed); verdict ``blocked`` / ``quarantine`` / ``pass``.

    ``repairs``: the names of the rules that report a value popsync rewrote in its standard
    form (``repair: true`` in the suites). They are not defects: ``repairs`` counts their rows
    per rule, ``repaired_rows`` the rows with at least one, apart from the pillars."""
    repairs = set(repairs)
    is_repair = findings["rule"].isin(repairs) if len(findings) else pd.Series(dtype=bool)
    repaired = findings[is_repair] if len(findings) else findings
    findings = findings[~is_repair] if len(findings) else findings
    pillars = {}
    batch_level = findings["record_id"].isna()
    for pillar in PILLARS:
        mine = findings["pillar"].eq(pillar)
        if (mine & batch_level).any():
            pillars[pillar] = 0.0
            continue
        failing = findings.loc[mine & ~batch_level, "record_id"].nunique()
        pillars[pillar] = 1.0 - failing / rows if rows else 1.0
    severities = set(findings["severity"].dropna())
    verdict = (
        "blocked"
        if "block" in severities
        else "quarantine"
        if "quarantine" in severities
        else "pass"
    )
    by_rule = repaired.groupby("rule")["record_id"].nunique() if len(repaired) else {}
    return {
        "rows": rows,
        "pillars": pillars,
        "verdict": verdict,
        "repairs": {str(rule): int(count) for rule, count in dict(by_rule).items()},
        "repaired_rows": int(repaired["record_id"].nunique()) if len(repaired) else 0,
    }
