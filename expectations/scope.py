"""Which rules judge a row on its own and which need the whole batch, so that a batch can be
checked chunk by chunk (the row rules) plus once over the whole batch (the batch rules, in
bounded memory: ``expectations.batch_pass``) and give the findings a whole-batch check gives.

A batch rule is an aggregate expectation (row count, share of non-null values, the newest event,
the register's age) or a rule whose column compares a row with other rows: duplicates, a
person's dose order and intervals, one ID claimed by several people, unique record ids.
"""

from __future__ import annotations

from expectations import rules
from expectations.stored import Rule, load_rules
from popsync.core.sources import SourceSpec

SCOPES = ("all", "row", "batch")

# Derived rule columns computed over several rows (``expectations.rules``).
CROSS_ROW_COLUMNS = frozenset(
    {
        "row_not_duplicated",
        "row_has_no_copy",
        "dose_interval_respected",
        "dose_numbers_in_date_order",
        "id_claimed_by_one_person",
        "register_snapshot_age_days",
    }
)
# GX map expectations that still look at other rows.
CROSS_ROW_EXPECTATIONS = frozenset(
    {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}
)


def is_batch_rule(rule: Rule) -> bool:
    """True when the rule needs the whole batch (imports Great Expectations)."""
    import great_expectations as gx

    from expectations.gx_adapter import judges_each_row
    from expectations.gx_rules import RULE_CLASSES

    if rule.column in CROSS_ROW_COLUMNS or rule.expect in CROSS_ROW_EXPECTATIONS:
        return True
    cls = RULE_CLASSES.get(rule.expect) or getattr(gx.expectations, rule.expect, None)
    return not judges_each_row(cls)


def in_scope(rule: Rule, scope: str) -> bool:
    if scope not in SCOPES:
        raise ValueError(f"unknown rule scope {scope!r}; one of {', '.join(SCOPES)}")
    return scope == "all" or is_batch_rule(rule) == (scope == "batch")


def carried_columns(spec: SourceSpec, stage: str) -> list[str]:
    """The derived rule columns that batch rules check but that each row has on its own (the
    share of valid person IDs, an event's age): computed with a chunk's rows and carried into
    the batch pass, which then needs none of their inputs."""
    return list(
        dict.fromkeys(
            rule.column
            for rule in load_rules(spec, stage)
            if rule.column is not None
            and rule.column not in CROSS_ROW_COLUMNS
            and rules.is_rule(spec, rule.column)
            and is_batch_rule(rule)
        )
    )


def batch_rules(spec: SourceSpec, stage: str) -> list[Rule]:
    """A stage's rules that need the whole batch, in suite order."""
    return [rule for rule in load_rules(spec, stage) if is_batch_rule(rule)]
