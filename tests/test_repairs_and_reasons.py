"""Pillar scores count defects, not repairs; every packaged rule speaks Vietnamese to stewards.

A repair (``repair: true`` in a suite: popsync rewrote the value in its standard form, e.g. a
phone with +84 or an ID that lost its leading zero) is shown apart from the defects and does not
lower its pillar's score. ``reason_vi`` is the reason a steward reads."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from expectations import pillar_scores, repair_rules
from expectations.stored import SuiteError, load_rules
from popsync.core.contracts import VALIDATION_STAGES
from popsync.core.sources import load_catalog


def _findings(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_id", "rule", "pillar", "severity"], dtype="string")


def test_a_repaired_value_does_not_count_against_its_pillar():
    findings = _findings(
        [(str(i), "phone_written_in_standard_form", "sach", "warn") for i in range(10)]
        + [("1", "row_has_no_copy", "sach", "warn")]
    )
    scores = pillar_scores(findings, 10, repairs={"phone_written_in_standard_form"})
    assert scores["pillars"]["sach"] == pytest.approx(0.9)
    assert scores["repairs"] == {"phone_written_in_standard_form": 10}
    assert scores["repaired_rows"] == 10
    # without the repairs named, every finding is a defect (as before)
    assert pillar_scores(findings, 10)["pillars"]["sach"] == 0.0


def test_the_verdict_ignores_repairs_and_warnings_only_pass():
    findings = _findings([("1", "phone_written_in_standard_form", "sach", "warn")])
    assert pillar_scores(findings, 5, repairs={"phone_written_in_standard_form"})["verdict"] == (
        "pass"
    )


@pytest.mark.parametrize("source", [spec.id for spec in load_catalog().extracts])
def test_the_written_in_standard_form_rules_are_the_repairs(source):
    repairs = repair_rules(source)
    assert "id_number_written_in_standard_form" in repairs
    assert "full_name_written_in_standard_form" in repairs
    assert all(name.endswith("_written_in_standard_form") for name in repairs)


SUITES = [
    (spec.id, stage)
    for spec in load_catalog().values()
    for stage in VALIDATION_STAGES
    if (spec.role == "register") == (stage == "register")
]


@pytest.mark.parametrize(("source", "stage"), SUITES)
def test_every_packaged_rule_has_a_vietnamese_reason(source, stage):
    rules = load_rules(load_catalog()[source], stage)
    missing = [r.rule for r in rules if not r.reason_vi]
    assert missing == []
    # the Vietnamese reason is not the English one copied
    assert not [r.rule for r in rules if r.reason_vi == r.reason]


def test_a_repair_must_be_a_warning(tmp_path):
    (tmp_path / "f0_pre_link.yaml").write_text(
        textwrap.dedent("""\
        - rule: positive_date_present
          expect: ExpectColumnValuesToNotBeNull
          column: raw_positive_date
          pillar: du
          severity: quarantine
          reason: Ngày dương tính is required.
          reason_vi: Thiếu ngày dương tính.
          repair: true
        """),
        encoding="utf-8",
    )
    spec = load_catalog()["f0"].model_copy(update={"suites_dir": str(tmp_path)})
    with pytest.raises(SuiteError, match="rule positive_date_present: .*repair"):
        load_rules(spec, "pre_link")
