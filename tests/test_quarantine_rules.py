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
