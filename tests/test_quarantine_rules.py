"""One quarantine selection (``popsync.core.contracts.quarantine_rules``) for the validation
stages and the warehouse batch."""

from __future__ import annotations

import pandas as pd

from popsync.core.contracts import quarantine_rules


def test_rows_with_a_quarantine_finding_and_the_rules_they_broke():
    findings = pd.DataFrame(
        {
            "record_id": ["r1", "r1", "r1", "r2", None, "r3"],
            "rule": ["b_rule", "a_rule", "b_rule", "warned", "batch_level", "c_rule"],
            "severity": ["quarantine", "quarantine", "quarantine", "warn", "quarantine", "block"],
        },
        dtype="string",
    )
    assert quarantine_rules(findings).to_dict() == {"r1": "a_rule;b_rule"}
    assert quarantine_rules(pd.DataFrame()).empty


def test_rows_breaking_one_rule_and_several_come_in_record_order():
    findings = pd.DataFrame(
        {
            "record_id": ["r9", "r2", "r5", "r2", "r1", "r5"],
            "rule": ["z_rule", "b_rule", "c_rule", "a_rule", "b_rule", "c_rule"],
            "severity": ["quarantine"] * 6,
        },
        dtype="str",
    )
    found = quarantine_rules(findings)
    assert list(found.items()) == [("r1", "b_rule"), ("r2", "a_rule;b_rule"), ("r5", "c_rule"),
                                   ("r9", "z_rule")]  # fmt: skip
    assert found.index.name == "record_id"
