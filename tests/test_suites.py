"""Suite files are typed and checked (pydantic): a faulty one is refused with a message naming
the file and the rule; a declaration's ``suites_dir`` is where its suites are looked up."""

from __future__ import annotations

import textwrap

import pytest

from expectations.stored import SuiteError, build_suite, load_rules
from popsync.core.sources import load_catalog

GOOD = """\
- rule: positive_date_present
  expect: ExpectColumnValuesToNotBeNull
  column: raw_positive_date
  pillar: du
  severity: quarantine
  reason: Ngày dương tính is required.
"""


def _f0_with_suites(tmp_path, pre_link: str):
    """The f0 declaration, its suites in ``tmp_path`` (``f0_pre_link.yaml`` is ``pre_link``)."""
    (tmp_path / "f0_pre_link.yaml").write_text(textwrap.dedent(pre_link), encoding="utf-8")
    return load_catalog()["f0"].model_copy(update={"suites_dir": str(tmp_path)})


def _refused(tmp_path, pre_link: str) -> str:
    spec = _f0_with_suites(tmp_path, pre_link)
    with pytest.raises(SuiteError) as raised:
        load_rules(spec, "pre_link")
    message = str(raised.value)
    assert str(tmp_path / "f0_pre_link.yaml") in message
    return message


def test_a_declared_suites_dir_is_used_and_includes_fall_back_to_the_packaged_suites(tmp_path):
    spec = _f0_with_suites(tmp_path, "include: [common_pre_link]\nexpectations:\n" + GOOD)
    rules = load_rules(spec, "pre_link")
    assert rules[-1].rule == "positive_date_present"
    assert {"row_readable", "full_name_present"} <= {r.rule for r in rules}
    assert rules[-1].file == str(tmp_path / "f0_pre_link.yaml")
    # an include beside the suite wins over the packaged one
    beside = tmp_path / "beside"
    beside.mkdir()
    (beside / "common_pre_link.yaml").write_text(GOOD.replace("positive", "other"), "utf-8")
    spec = _f0_with_suites(beside, "include: [common_pre_link]\nexpectations:\n" + GOOD)
    assert [r.rule for r in load_rules(spec, "pre_link")] == [
        "other_date_present",
        "positive_date_present",
    ]


def test_a_bad_pillar_or_severity_names_the_file_and_the_rule(tmp_path):
    message = _refused(tmp_path, GOOD.replace("pillar: du", "pillar: dú"))
    assert "rule positive_date_present: pillar: Input should be 'dung', 'du', 'sach' or 'song'" in (
        message
    )
    message = _refused(tmp_path, GOOD.replace("quarantine", "hold"))
    assert "rule positive_date_present: severity:" in message and "'block'" in message


def test_an_unknown_key_or_a_missing_one_names_the_rule(tmp_path):
    message = _refused(tmp_path, GOOD.replace("column:", "colum:"))
    assert "rule positive_date_present: colum: Extra inputs are not permitted" in message
    (tmp_path / "b").mkdir()
    message = _refused(tmp_path / "b", GOOD.replace("  reason: Ngày dương tính is required.\n", ""))
    assert "rule positive_date_present: reason: Field required" in message
    (tmp_path / "c").mkdir()
    message = _refused(tmp_path / "c", "include: [common_pre_link]\nexpect: []\n")
    assert "expect: Extra inputs are not permitted" in message


def test_a_rule_declared_twice_is_refused(tmp_path):
    message = _refused(tmp_path, GOOD + GOOD)
    assert "rule positive_date_present is declared twice" in message
    (tmp_path / "b").mkdir()
    twice = "include: [common_pre_link]\nexpectations:\n" + GOOD.replace("positive_date", "row")
    message = _refused(tmp_path / "b", twice.replace("row_present", "row_readable"))
    assert "rule row_readable is declared twice" in message and "common_pre_link.yaml" in message


def test_unknown_includes_facts_and_files_are_refused(tmp_path):
    message = _refused(tmp_path, "include: [nowhere]\n")
    assert "include: no nowhere.yaml" in message
    (tmp_path / "b").mkdir()
    fact = GOOD + "  kwargs: {min_value: {fact: no_such_fact}}\n"
    assert "rule positive_date_present: kwargs: Value error, unknown fact 'no_such_fact'" in (
        _refused(tmp_path / "b", fact)
    )
    spec = load_catalog()["f0"].model_copy(update={"suites_dir": str(tmp_path / "empty")})
    with pytest.raises(SuiteError, match="suite f0_post_link: no f0_post_link.yaml in .*empty"):
        load_rules(spec, "post_link")
    with pytest.raises(SuiteError, match="unknown stage 'recheck'"):
        load_rules("f0", "recheck")


def test_an_unknown_expectation_class_names_the_file_and_the_rule(tmp_path):
    spec = _f0_with_suites(tmp_path, GOOD.replace("ExpectColumnValuesToNotBeNull", "ExpectMagic"))
    with pytest.raises(SuiteError, match=r"f0_pre_link.yaml: rule positive_date_present: unknown"):
        build_suite(spec, "pre_link")
