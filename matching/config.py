"""Linkage settings as data: blocking rules, comparisons made of levels, training, thresholds.

The YAML (or JSON) file is the whole model description, in the spirit of Splink's settings
dictionary: a register or extract with other columns is linked by editing it, not the code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from popsync.core.errors import UserError

LEVEL_KINDS = ("exact", "jaro_winkler", "edit_distance_le", "id_near", "abs_diff_le")
RULE_KINDS = ("equi", "near_id")
THRESHOLD_KINDS = ("jaro_winkler", "edit_distance_le", "abs_diff_le")


@dataclass(frozen=True)
class Level:
    """One agreement level of a comparison; the first level whose test holds wins.

    ``exact``: left == right (``column``, or ``left``/``right`` for cross-column tests such as
    a swapped birth date); ``jaro_winkler``: similarity >= ``threshold`` on a string column;
    ``edit_distance_le``: optimal-string-alignment distance <= ``threshold`` (one typo);
    ``id_near``: IDs one substituted digit or one adjacent swap apart; ``abs_diff_le``:
    numeric difference <= ``threshold``. ``if_either`` restricts the level to pairs where that
    boolean column holds on one side. ``tf_column`` switches on term-frequency adjustment.
    """

    name: str
    kind: str
    column: str | None = None
    left: str | None = None
    right: str | None = None
    threshold: float | None = None
    if_either: str | None = None
    tf_column: str | None = None
    m_init: float = 0.1

    @property
    def left_column(self) -> str:
        return self.left or self.column  # type: ignore[return-value]

    @property
    def right_column(self) -> str:
        return self.right or self.column  # type: ignore[return-value]


@dataclass(frozen=True)
class Comparison:
    """A field compared in levels; the implicit last level is ``else`` (disagreement).

    The pair is ``null`` (weight 0) when a ``null_if_missing`` column is missing on either
    side, or when a ``null_unless_equal`` column differs (e.g. address codes of two schemes).
    """

    name: str
    levels: tuple[Level, ...]
    null_if_missing: tuple[str, ...] = ()
    null_unless_equal: tuple[str, ...] = ()
    m_else_init: float = 0.05

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*(level.name for level in self.levels), "else")


@dataclass(frozen=True)
class BlockingRule:
    """Candidate pairs: rows equal on every key of ``keys`` (``[extract_col, register_col]`` or one
    name for both), or, for ``near_id``, IDs one digit / one adjacent swap apart. Keys held by
    more than ``max_block_size`` register rows are skipped (reported in the stats)."""

    name: str
    keys: tuple[tuple[str, str], ...]
    kind: str = "equi"
    max_block_size: int | None = None


@dataclass(frozen=True)
class TrainingSession:
    """EM over the pairs of one blocking rule. Comparisons in ``fix`` are left out of it (the
    rule selected pairs that agree on them, so these pairs say nothing about their m)."""

    block_on: str
    fix: tuple[str, ...]


@dataclass(frozen=True)
class LinkageSettings:
    comparisons: tuple[Comparison, ...]
    blocking_rules: tuple[BlockingRule, ...]
    id_rules: tuple[str, ...]
    training: tuple[TrainingSession, ...]
    link_rate: float = 0.9
    u_sample_pairs: int = 300_000
    training_sample_rows: int = 20_000
    em_iterations: int = 20
    m_prior_pairs: float = 100.0
    tf_min: float = 1e-4
    match_threshold: float = 0.99
    review_threshold: float = 0.5
    min_margin_bits: float = 6.0
    require_agreement: tuple[str, ...] = ()
    max_review_candidates: int = 3
    seed: int = 42

    def comparison(self, name: str) -> Comparison:
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(name)

    def rule(self, name: str) -> BlockingRule:
        for rule in self.blocking_rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def columns(self) -> set[str]:
        """Every prepared column the comparisons and blocking rules read."""
        used = {column for rule in self.blocking_rules for key in rule.keys for column in key}
        for comparison in self.comparisons:
            used |= {*comparison.null_if_missing, *comparison.null_unless_equal}
            for level in comparison.levels:
                used |= {level.left_column, level.right_column, level.if_either, level.tf_column}
        return used - {None}

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def _plain(value: Any) -> Any:
    """Tuples -> lists and None-valued level keys dropped, so the dict round-trips via JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _keys(keys: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key in keys if isinstance(keys, list | tuple) else [keys]:
        if isinstance(key, str):
            pairs.append((key, key))
        else:
            left, right = key
            pairs.append((str(left), str(right)))
    return tuple(pairs)


def settings_from_dict(data: dict[str, Any]) -> LinkageSettings:
    """Build and check :class:`LinkageSettings` from plain data (YAML/JSON)."""
    try:
        comparisons = tuple(
            Comparison(
                name=c["name"],
                levels=tuple(Level(**level) for level in c["levels"]),
                null_if_missing=tuple(c.get("null_if_missing", ())),
                null_unless_equal=tuple(c.get("null_unless_equal", ())),
                m_else_init=float(c.get("m_else_init", 0.05)),
            )
            for c in data["comparisons"]
        )
        rules = tuple(
            BlockingRule(
                name=r["name"],
                keys=_keys(r["keys"]),
                kind=r.get("kind", "equi"),
                max_block_size=r.get("max_block_size"),
            )
            for r in data["blocking_rules"]
        )
        training = tuple(
            TrainingSession(block_on=t["block_on"], fix=tuple(t.get("fix", ())))
            for t in data.get("training", ())
        )
        scalars = {
            key: (tuple(value) if isinstance(value, list) else value)
            for key, value in data.items()
            if key not in {"comparisons", "blocking_rules", "training", "id_rules", "version"}
        }
        settings = LinkageSettings(
            comparisons=comparisons,
            blocking_rules=rules,
            id_rules=tuple(data.get("id_rules", ())),
            training=training,
            **scalars,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"invalid linkage settings: {error}") from error
    _check(settings)
    return settings


def _check(settings: LinkageSettings) -> None:
    names = {rule.name for rule in settings.blocking_rules}
    comparison_names = {c.name for c in settings.comparisons}
    problems = []
    for rule in settings.blocking_rules:
        if rule.kind not in RULE_KINDS:
            problems.append(f"blocking rule {rule.name}: unknown kind {rule.kind!r}")
        if rule.kind == "near_id" and len(rule.keys) != 1:
            problems.append(f"blocking rule {rule.name}: near_id takes one ID column")
    for comparison in settings.comparisons:
        for level in comparison.levels:
            if level.kind not in LEVEL_KINDS:
                problems.append(f"{comparison.name}.{level.name}: unknown kind {level.kind!r}")
            if level.kind in THRESHOLD_KINDS and level.threshold is None:
                problems.append(f"{comparison.name}.{level.name}: {level.kind} needs a threshold")
            if not (level.column or (level.left and level.right)):
                problems.append(f"{comparison.name}.{level.name}: needs column or left/right")
    problems += [
        f"id rule {name!r} is not a blocking rule"
        for name in settings.id_rules
        if name not in names
    ]
    for session in settings.training:
        if session.block_on not in names:
            problems.append(f"training block_on {session.block_on!r} is not a blocking rule")
        problems += [
            f"training fix {name!r} is not a comparison"
            for name in session.fix
            if name not in comparison_names
        ]
    problems += [
        f"require_agreement {name!r} is not a comparison"
        for name in settings.require_agreement
        if name not in comparison_names
    ]
    if not 0 <= settings.review_threshold <= settings.match_threshold <= 1:
        problems.append("thresholds must satisfy 0 <= review_threshold <= match_threshold <= 1")
    if problems:
        raise UserError("invalid linkage settings: " + "; ".join(problems))


def load_settings(path: str | Path | None = None) -> LinkageSettings:
    """Read settings from YAML or JSON; default: ``matching/settings/default.yaml``."""
    if path is None:
        text = resources.files("matching").joinpath("settings/default.yaml").read_text("utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise UserError(f"cannot read linkage settings {path}: {error.strerror}") from error
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as error:
        raise UserError(
            f"linkage settings {path or 'default'} are not valid YAML/JSON: {error}"
        ) from error
    if not isinstance(data, dict):
        raise UserError(f"linkage settings {path or 'default'} must be a mapping")
    return settings_from_dict(data)
