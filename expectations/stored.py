"""The suites stored in ``expectations/suites/*.yaml``: loading them and turning them into GX suites."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from popsync.core import domain

STAGES = ("pre_link", "post_link", "register")  # register: the dan_cu snapshot itself
PILLARS = {"dung": "Đúng", "du": "Đủ", "sach": "Sạch", "song": "Sống"}
PILLAR_MEANING = {
    "dung": "correct: agrees with the source documents and the register",
    "du": "complete: every required field, every person",
    "sach": "clean: standardized, no duplicates, no conflicts",
    "song": "live: current, deaths and ID changes applied",
}
SEVERITIES = ("block", "quarantine", "warn")


@dataclass(frozen=True)
class Rule:
    """One stored expectation: what GX checks, and what a steward is told when it fails."""

    rule: str
    expect: str
    pillar: str
    severity: str
    reason: str
    column: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    observed: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # for the derived column, not GX

    def meta(self, source: str, stage: str) -> dict[str, str]:
        return {
            "rule": self.rule,
            "pillar": self.pillar,
            "severity": self.severity,
            "reason": self.reason,
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


def _read(name: str) -> Any:
    path = resources.files("expectations").joinpath("suites", f"{name}.yaml")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _resolve_facts(value: Any) -> Any:
    """``{fact: name}`` -> ``popsync.core.domain.facts()[name]``, so suites hold no domain constant."""
    if isinstance(value, dict):
        if set(value) == {"fact"}:
            return domain.facts()[value["fact"]]
        return {key: _resolve_facts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_facts(item) for item in value]
    return value


@cache
def load_rules(source: str, stage: str) -> tuple[Rule, ...]:
    """The rules of ``<source>_<stage>.yaml`` (its includes first), checked for consistency."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; known: {STAGES}")
    try:
        document = _read(f"{source}_{stage}")
    except FileNotFoundError:
        raise ValueError(f"no {stage} suite for source {source!r}") from None
    entries: list[dict] = []
    for include in document.get("include", []):
        entries.extend(_read(include))
    entries.extend(document.get("expectations", []))
    rules = []
    for entry in entries:
        rule = Rule(
            rule=entry["rule"],
            expect=entry["expect"],
            pillar=entry["pillar"],
            severity=entry["severity"],
            reason=entry["reason"],
            column=entry.get("column"),
            kwargs=_resolve_facts(entry.get("kwargs", {})),
            observed=tuple(entry.get("observed", ())),
            params=entry.get("params", {}),
        )
        if rule.pillar not in PILLARS or rule.severity not in SEVERITIES:
            raise ValueError(f"{source}_{stage}: rule {rule.rule} has a bad pillar or severity")
        rules.append(rule)
    names = [r.rule for r in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}_{stage}: duplicated rule names")
    return tuple(rules)


def build_suite(source: str, stage: str):
    """The GX ``ExpectationSuite`` of a stored suite (imports Great Expectations)."""
    import great_expectations as gx

    from expectations.gx_rules import RULE_CLASSES

    suite = gx.ExpectationSuite(name=f"{source}_{stage}")
    for rule in load_rules(source, stage):
        cls = RULE_CLASSES.get(rule.expect) or getattr(gx.expectations, rule.expect)
        kwargs = dict(rule.kwargs)
        if rule.column is not None:
            kwargs["column"] = rule.column
        suite.add_expectation(
            cls(
                **kwargs,
                meta=rule.meta(source, stage),
                notes=rule.notes(),
                description=rule.description(),
            )
        )
    return suite
