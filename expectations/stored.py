"""The stored suites: ``<source>_<stage>.yaml``, typed and checked with pydantic, and turned into
GX suites.

A source's suites are in the folder its declaration names (``suites_dir``, for a source declared
outside popsync), else in the packaged ``expectations/suites/``. A suite is a list of rules, or
``{include: [...], expectations: [...]}``; an included suite (``common_pre_link``) is looked up
beside the including one, then among the packaged suites. The format is described at the top of
``expectations/suites/common_pre_link.yaml``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from popsync.core import domain
from popsync.core.contracts import PILLAR_MEANING, PILLARS, SEVERITIES, VALIDATION_STAGES
from popsync.core.errors import UserError
from popsync.core.sources import SourceSpec, spec_of

PACKAGED_SUITES = Path(str(resources.files("expectations").joinpath("suites")))
_NAME = r"^[a-z][a-z0-9_]*$"


class SuiteError(UserError):
    """A suite file that cannot be used: the message names the file and the rule."""


class Rule(BaseModel):
    """One stored expectation: what GX checks, and what a steward is told when it fails."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(pattern=_NAME)
    # A GX expectation class, or one of ``expectations.gx_rules``.
    expect: str = Field(pattern=r"^Expect[A-Za-z0-9]+$")
    pillar: Literal[tuple(PILLARS)]  # type: ignore[valid-type]
    severity: Literal[SEVERITIES]  # type: ignore[valid-type]
    reason: str = Field(min_length=1)
    # The reason in Vietnamese: what the stewards' report and workspace show (every packaged rule
    # has one; a source declared elsewhere may leave it out and gets ``reason`` instead).
    reason_vi: str | None = Field(default=None, min_length=1)
    # popsync rewrote the value in its standard form (a phone with +84, an ID that lost its
    # leading zero): reported apart as a repair, not counted against the pillar's score.
    repair: bool = False
    # A standardized column, or a derived rule column (``expectations.rules``).
    column: str | None = None
    # Other GX arguments; ``{fact: name}`` reads ``popsync.core.domain.facts()``.
    kwargs: dict[str, Any] = Field(default_factory=dict)
    # The fields shown (masked) in a finding; ``event_date``: the source's declared event date.
    observed: tuple[str, ...] = ()
    # Settings of the derived column, not GX's.
    params: dict[str, Any] = Field(default_factory=dict)
    _file: str = PrivateAttr(default="")

    @field_validator("kwargs")
    @classmethod
    def _facts(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        return _resolve_facts(kwargs)

    @model_validator(mode="after")
    def _repair_is_a_warning(self) -> Rule:
        if self.repair and self.severity != "warn":
            raise ValueError(f"a repair is reported, never {self.severity}: severity must be warn")
        return self

    @property
    def steward_reason(self) -> str:
        """The reason as the stewards read it: in Vietnamese when the suite gives it."""
        return self.reason_vi or self.reason

    @property
    def file(self) -> str:
        """The suite file that declares the rule."""
        return self._file

    def meta(self, source: str, stage: str) -> dict[str, str]:
        return {
            "rule": self.rule,
            "pillar": self.pillar,
            "severity": self.severity,
            "reason": self.reason,
            "reason_vi": self.steward_reason,
            "repair": self.repair,
            "source": source,
            "stage": stage,
        }

    def description(self) -> str:
        """What Data Docs show in place of GX's generic sentence (no ``$``: it is a template)."""
        return f"{self.rule}: {self.reason} [{PILLARS[self.pillar]} · {self.severity}]"

    def notes(self) -> str:
        return (
            f"**Pillar:** {PILLARS[self.pillar]} ({PILLAR_MEANING[self.pillar]})  \n"
            f"**Severity:** {self.severity}  \n**Why:** {self.reason}"
        )


class SuiteFile(BaseModel):
    """One suite file: the suites it includes, then its own rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    include: tuple[str, ...] = ()
    expectations: tuple[Rule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, document: Any) -> Any:
        """A file that is a list holds rules only."""
        return {"expectations": document} if isinstance(document, list) else document


def _resolve_facts(value: Any) -> Any:
    """``{fact: name}`` -> ``popsync.core.domain.facts()[name]``, so suites hold no domain constant."""
    if isinstance(value, dict):
        if set(value) == {"fact"}:
            facts = domain.facts()
            if value["fact"] not in facts:
                raise ValueError(f"unknown fact {value['fact']!r}")
            return facts[value["fact"]]
        return {key: _resolve_facts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_facts(item) for item in value]
    return value


def _problems(error: ValidationError, document: Any) -> str:
    """Pydantic's errors, each named by its rule (``rule <name>``, else its position)."""
    entries = document if isinstance(document, list) else (document or {}).get("expectations")
    out = []
    for problem in error.errors():
        loc = list(problem["loc"])
        where = []
        if len(loc) >= 2 and loc[0] == "expectations" and isinstance(loc[1], int):
            entry = entries[loc[1]] if isinstance(entries, list) else None
            name = entry.get("rule") if isinstance(entry, dict) else None
            where.append(f"rule {name}" if name else f"rule #{loc[1] + 1}")
            loc = loc[2:]
        where += [".".join(str(part) for part in loc)] if loc else []
        out.append(f"{': '.join([*where, problem['msg']])}")
    return "; ".join(out)


def _read(path: Path) -> SuiteFile:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SuiteError(f"{path}: not valid YAML ({error})") from error
    try:
        suite = SuiteFile.model_validate(document)
    except ValidationError as error:
        raise SuiteError(f"{path}: {_problems(error, document)}") from error
    for rule in suite.expectations:
        rule._file = str(path)
    return suite


def _find(name: str, folders: tuple[Path, ...], what: str) -> Path:
    """``<name>.yaml`` in the first of ``folders`` that has it."""
    for folder in folders:
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    raise SuiteError(f"{what}: no {name}.yaml in {' or '.join(str(f) for f in folders)}")


@cache
def _load(suites_dir: str | None, name: str) -> tuple[Rule, ...]:
    """The rules of ``<name>.yaml`` (its includes first), rule names unique."""
    home = Path(suites_dir) if suites_dir else PACKAGED_SUITES
    path = _find(name, (home,), f"suite {name}")
    document = _read(path)
    rules: list[Rule] = []
    for include in document.include:
        rules += _read(_find(include, (home, PACKAGED_SUITES), f"{path}: include")).expectations
    rules += document.expectations
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.rule in seen:
            raise SuiteError(
                f"{path}: rule {rule.rule} is declared twice ({seen[rule.rule]} and {rule.file})"
            )
        seen[rule.rule] = rule.file
    return tuple(rules)


def suite_name(spec: SourceSpec, stage: str) -> str:
    return f"{spec.id}_{stage}"


def load_rules(source: str | SourceSpec, stage: str) -> tuple[Rule, ...]:
    """The rules of a source's suite for ``stage`` (``<source>_<stage>.yaml``), checked."""
    if stage not in VALIDATION_STAGES:
        raise SuiteError(f"unknown stage {stage!r}; known: {VALIDATION_STAGES}")
    spec = spec_of(source)
    return _load(spec.suites_dir, suite_name(spec, stage))


def build_suite(source: str | SourceSpec, stage: str, rules: tuple[Rule, ...] | None = None):
    """The GX ``ExpectationSuite`` of a stored suite, or of the given ``rules`` of it (imports
    Great Expectations)."""
    import great_expectations as gx

    from expectations.gx_rules import RULE_CLASSES

    spec = spec_of(source)
    suite = gx.ExpectationSuite(name=suite_name(spec, stage))
    for rule in load_rules(spec, stage) if rules is None else rules:
        cls = RULE_CLASSES.get(rule.expect) or getattr(gx.expectations, rule.expect, None)
        if cls is None:
            raise SuiteError(f"{rule.file}: rule {rule.rule}: unknown expectation {rule.expect}")
        kwargs = dict(rule.kwargs)
        if rule.column is not None:
            kwargs["column"] = rule.column
        try:
            expectation = cls(
                **kwargs,
                meta=rule.meta(spec.id, stage),
                notes=rule.notes(),
                description=rule.description(),
            )
        except (TypeError, ValueError) as error:  # pydantic's ValidationError is a ValueError
            raise SuiteError(f"{rule.file}: rule {rule.rule}: {error}") from error
        suite.add_expectation(expectation)
    return suite
