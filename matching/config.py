"""Linkage settings as data: blocking rules, comparisons made of levels, training, thresholds.

The YAML (or JSON) file is the whole model description, in the spirit of Splink's settings
dictionary: a register or extract with other columns is linked by editing it, not the code.
The settings are checked when they load (pydantic): every column they name must be one that
``matching.prepare`` makes (``PREPARED_COLUMNS``) or one the settings declare (``tables``
columns, or ``text_columns`` of a standardized frame), so a typo is an error at load time,
never a ``KeyError`` in the middle of a link.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from popsync.core.errors import UserError

THRESHOLD_KINDS = ("jaro_winkler", "edit_distance_le", "abs_diff_le")
# Columns ``matching.prepare`` makes from a standardized frame (see its docstring).
PREPARED_COLUMNS = frozenset(
    {
        *("id12", "id9", "id_birth_year", "id_sex"),
        *("id_year_if_undeclared", "id_sex_if_undeclared"),
        *("dob", "dob_ymd", "dob_swapped", "birth_year", "birth_md", "dob_imprecise", "sex"),
        *("family_name", "middle_name", "given_name", "family_key", "middle_key", "given_key"),
        *("name_key", "name_sorted_key", "phone", "admin_scheme"),
        *("province_code", "district_code", "ward_code"),
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One agreement level of a comparison; the first level whose test holds wins.

    ``exact``: left == right (``column``, or ``left``/``right`` for two different columns, such
    as a swapped birth date or a given name written as the family name); ``jaro_winkler``:
    similarity >= ``threshold``; ``edit_distance_le``: optimal-string-alignment distance <=
    ``threshold``; ``id_near``: 12-digit IDs one substituted digit or one adjacent swap apart;
    ``one_digit``: numbers one substituted digit apart (a year typed 1989 for 1988 or 1998);
    ``abs_diff_le``: numeric difference <= ``threshold``. ``also_equal``: columns that must be
    equal too (a year one apart *with the same day and month*). ``if_either``: the level only
    holds where that flag column is set on one side. ``tf_column``: term-frequency adjustment.
    A level whose columns are missing on either side is not tested; a pair for which no level
    could be tested is null (weight 0): a missing value is no disagreement.
    """

    name: str
    kind: Literal[
        "exact", "jaro_winkler", "edit_distance_le", "id_near", "one_digit", "abs_diff_le"
    ]
    column: str | None = None
    left: str | None = None
    right: str | None = None
    threshold: float | None = None
    also_equal: tuple[str, ...] = ()
    if_either: str | None = None
    tf_column: str | None = None
    m_init: float = Field(0.1, gt=0, lt=1)

    @model_validator(mode="after")
    def _complete(self) -> Level:
        if self.kind in THRESHOLD_KINDS and self.threshold is None:
            raise ValueError(f"{self.name}: {self.kind} needs a threshold")
        if not (self.column or (self.left and self.right)):
            raise ValueError(f"{self.name}: needs column or left/right")
        return self

    @property
    def left_column(self) -> str:
        return self.left or self.column  # type: ignore[return-value]

    @property
    def right_column(self) -> str:
        return self.right or self.column  # type: ignore[return-value]


class Comparison(_Strict):
    """A field compared in levels; the implicit last level is ``else`` (disagreement).

    The pair is ``null`` (weight 0) when no level can be tested, when a ``null_if_missing``
    column is missing on either side, or when a ``null_unless_equal`` column differs (address
    codes of two schemes)."""

    name: str
    levels: tuple[Level, ...] = Field(min_length=1)
    null_if_missing: tuple[str, ...] = ()
    null_unless_equal: tuple[str, ...] = ()
    m_else_init: float = Field(0.05, gt=0, lt=1)

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*(level.name for level in self.levels), "else")


class BlockingRule(_Strict):
    """Candidate pairs: rows equal on every key of ``keys`` (``[extract_col, register_col]`` or one
    name for both), or, for ``near_id``, IDs one digit / one adjacent swap apart. A row whose
    block holds more than ``max_block_size`` register rows is split: its key is extended by
    the columns of ``split_on``, one at a time, until its block fits; a row whose block never
    fits (or whose split value is missing) gets no pairs from the rule. Both are counted in
    the stats (``split_rows``, ``skipped_rows``): candidates per row stay bounded however
    large the register grows."""

    name: str
    keys: tuple[tuple[str, str], ...] = Field(min_length=1)
    kind: Literal["equi", "near_id"] = "equi"
    max_block_size: int | None = Field(None, gt=0)
    split_on: tuple[str, ...] | None = None  # None: not in the fingerprint of older settings

    @field_validator("keys", mode="before")
    @classmethod
    def _pairs(cls, keys: Any) -> Any:
        items = keys if isinstance(keys, list | tuple) else [keys]
        return [(key, key) if isinstance(key, str) else key for key in items]

    @model_validator(mode="after")
    def _one_id(self) -> BlockingRule:
        if self.kind == "near_id" and len(self.keys) != 1:
            raise ValueError(f"blocking rule {self.name}: near_id takes one ID column")
        if self.split_on and (self.kind != "equi" or self.max_block_size is None):
            raise ValueError(f"blocking rule {self.name}: split_on needs max_block_size")
        return self


class TrainingSession(_Strict):
    """EM over the pairs of one blocking rule. Comparisons in ``fix`` are left out of it (the
    rule selected pairs that agree on them, so these pairs say nothing about their m)."""

    block_on: str
    fix: tuple[str, ...] = ()


class TableSide(_Strict):
    """A plain table (CSV/XLSX/Parquet) read as text: its row id column."""

    id: str


class Tables(_Strict):
    """Linking two plain tables with no Vietnamese standardization (``popsync match`` without
    ``--source``): ``columns`` maps each compared column to the tables' column (one name for
    both, or ``[population column, extract column]``); values are compared as trimmed,
    lower-cased text."""

    population: TableSide
    extract: TableSide
    columns: dict[str, str | tuple[str, str]]


class LinkageSettings(_Strict):
    comparisons: tuple[Comparison, ...] = Field(min_length=1)
    blocking_rules: tuple[BlockingRule, ...] = Field(min_length=1)
    id_rules: tuple[str, ...] = ()
    training: tuple[TrainingSession, ...] = ()
    tables: Tables | None = None
    text_columns: tuple[str, ...] = ()
    link_rate: float = Field(0.9, gt=0, lt=1)
    u_sample_pairs: int = Field(300_000, gt=0)
    training_sample_rows: int = Field(20_000, gt=0)
    em_iterations: int = Field(20, ge=0)
    m_prior_pairs: float = Field(100.0, ge=0)
    tf_min: float = Field(1e-4, gt=0)
    match_threshold: float = 0.99
    review_threshold: float = 0.5
    veto_on_disagreement: tuple[str, ...] = ()
    id_exact_tolerates: int = Field(1, ge=0)
    relatives_explain: tuple[str, ...] = ()
    contest_needs: tuple[str, ...] = ()
    housemate_contests: tuple[str, ...] = ()
    housemate_needs: tuple[str, ...] = ()
    household_column: str | None = None
    max_review_candidates: int = Field(3, gt=0)
    seed: int = 42
    version: int = 2

    def comparison(self, name: str) -> Comparison:
        return next(c for c in self.comparisons if c.name == name)

    def rule(self, name: str) -> BlockingRule:
        return next(r for r in self.blocking_rules if r.name == name)

    def columns(self) -> set[str]:
        """Every prepared column the comparisons and blocking rules read."""
        used = {column for rule in self.blocking_rules for key in rule.keys for column in key}
        used |= {column for rule in self.blocking_rules for column in rule.split_on or ()}
        for comparison in self.comparisons:
            used |= {*comparison.null_if_missing, *comparison.null_unless_equal}
            for level in comparison.levels:
                used |= {level.left_column, level.right_column, level.if_either, level.tf_column}
                used |= set(level.also_equal)
        return (used | {self.household_column}) - {None}

    def declared_text_columns(self) -> set[str]:
        return set(self.text_columns) | set(self.tables.columns if self.tables else ())

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    def fingerprint(self) -> str:
        """16 hex digits naming these settings (a saved model is valid for them only)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _consistent(self) -> LinkageSettings:
        problems = []
        rules = {rule.name for rule in self.blocking_rules}
        names = {comparison.name for comparison in self.comparisons}
        problems += [
            f"id rule {name!r} is not a blocking rule"
            for name in self.id_rules
            if name not in rules
        ]
        for session in self.training:
            if session.block_on not in rules:
                problems.append(f"training block_on {session.block_on!r} is not a blocking rule")
            problems += [
                f"training fix {n!r} is not a comparison" for n in session.fix if n not in names
            ]
        problems += [
            f"veto_on_disagreement {name!r} is not a comparison"
            for name in self.veto_on_disagreement
            if name not in names
        ]
        problems += [
            f"{what} {name!r} is not a comparison"
            for what, listed in (
                ("relatives_explain", self.relatives_explain),
                ("contest_needs", self.contest_needs),
                ("housemate_contests", self.housemate_contests),
                ("housemate_needs", self.housemate_needs),
            )  # fmt: skip
            for name in listed
            if name not in names
        ]
        if self.relatives_explain and (
            not self.household_column or len(self.veto_on_disagreement) < 2
        ):
            problems.append("relatives_explain needs household_column and two veto comparisons")
        if self.housemate_contests and not self.household_column:
            problems.append("housemate_contests needs household_column")
        known = PREPARED_COLUMNS | self.declared_text_columns()
        unknown = sorted(self.columns() - known)
        if unknown:
            problems.append(
                f"unknown column(s) {', '.join(unknown)}: use a prepared column "
                f"({', '.join(sorted(PREPARED_COLUMNS))}) or declare it in text_columns or tables"
            )
        if not 0 <= self.review_threshold <= self.match_threshold <= 1:
            problems.append("thresholds must satisfy 0 <= review_threshold <= match_threshold <= 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        text = item["msg"].removeprefix("Value error, ")
        if isinstance(item.get("input"), str | int | float) and item["type"] != "value_error":
            text += f" (got {item['input']!r})"
        parts.append(f"{where}: {text}" if where else text)
    return "; ".join(parts)


def settings_from_dict(data: dict[str, Any]) -> LinkageSettings:
    """Build and check :class:`LinkageSettings` from plain data (YAML/JSON)."""
    if "require_agreement" in data:
        raise UserError(
            "invalid linkage settings: require_agreement was removed (a missing value counted as "
            "a disagreement); use veto_on_disagreement, which a missing value never triggers"
        )
    try:
        return LinkageSettings.model_validate(data)
    except ValidationError as error:
        raise UserError(f"invalid linkage settings: {_message(error)}") from error


def default_settings_path() -> Path:
    return Path(str(resources.files("matching").joinpath("settings/default.yaml")))


def load_settings(path: str | Path | None = None) -> LinkageSettings:
    """Read settings from YAML or JSON; default: ``matching/settings/default.yaml``."""
    path = Path(path) if path is not None else default_settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot read linkage settings {path}: {error.strerror}") from error
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as error:
        raise UserError(f"linkage settings {path} are not valid YAML/JSON: {error}") from error
    if not isinstance(data, dict):
        raise UserError(f"linkage settings {path} must be a mapping")
    try:
        return settings_from_dict(data)
    except UserError as error:
        raise UserError(f"{path}: {error}") from error
