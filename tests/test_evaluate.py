"""matching.evaluate on hand-built frames: every figure checked exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from matching.evaluate import evaluate, read_truth
from popsync.core.errors import UserError

A = "001090000001"
B = "001190000002"
C = "079085000003"


def _frames():
    # r1 right, r2 wrong person, r3 review (linkable), r4 no_match (linkable),
    # r5 no_match (not in register), r6 linked although not in register, r7 right.
    decisions = pd.DataFrame(
        {
            "record_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
            "so_dinh_danh": [A, B, "", None, "", C, C],
            "decision": ["match", "match", "review", "no_match", "no_match", "match", "match"],
        }
    )
    truth = pd.DataFrame(
        {
            "record_id": ["r7", "r6", "r5", "r4", "r3", "r2", "r1"],
            "true_so_dinh_danh": [C, "", None, A, B, A, A],
        }
    )
    return decisions, truth


def test_evaluate_counts_and_rates():
    decisions, truth = _frames()
    result = evaluate(decisions, truth)
    assert {key: result[key] for key in result if not isinstance(result[key], float)} == {
        "rows": 7,
        "linkable": 5,
        "match": 4,
        "review": 1,
        "no_match": 2,
        "correct": 2,
        "wrong_links": 2,
        "wrong_person": 1,
        "linked_unlinkable": 1,
    }
    assert result["precision"] == pytest.approx(2 / 4)
    assert result["recall"] == pytest.approx(2 / 5)
    assert result["f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9)
    assert result["review_share"] == pytest.approx(1 / 7)
    assert result["no_match_share"] == pytest.approx(2 / 7)


def test_evaluate_perfect_and_empty_cases():
    decisions = pd.DataFrame(
        {"record_id": ["a", "b"], "so_dinh_danh": [A, ""], "decision": ["match", "no_match"]}
    )
    truth = pd.DataFrame({"record_id": ["a", "b"], "true_so_dinh_danh": [A, ""]})
    result = evaluate(decisions, truth)
    assert (result["precision"], result["recall"], result["f1"]) == (1.0, 1.0, 1.0)
    assert result["wrong_links"] == 0

    nothing = decisions.assign(decision="no_match", so_dinh_danh="")
    result = evaluate(nothing, truth)
    assert (result["precision"], result["recall"], result["f1"]) == (0.0, 0.0, 0.0)
    assert result["no_match_share"] == 1.0

    empty = evaluate(decisions.iloc[:0], truth.iloc[:0])
    assert empty["rows"] == 0
    assert empty["review_share"] == 0.0


def test_evaluate_rejects_mismatched_inputs():
    decisions, truth = _frames()
    with pytest.raises(ValueError, match="1 decisions without truth, 0 truth rows"):
        evaluate(decisions, truth.iloc[1:])
    with pytest.raises(ValueError, match="duplicated record_id, e.g. r1"):
        evaluate(pd.concat([decisions, decisions.iloc[:1]]), truth)
    with pytest.raises(ValueError, match="found \\['maybe'\\]"):
        evaluate(decisions.assign(decision="maybe"), truth)
    with pytest.raises(ValueError, match="truth lacks the columns true_so_dinh_danh"):
        evaluate(decisions, truth.rename(columns={"true_so_dinh_danh": "x"}))


def test_read_truth_keeps_leading_zeros_and_nulls_blanks(tmp_path):
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "tiem_chung_links.csv").write_text(
        "source,record_id,true_so_dinh_danh\ntiem_chung,007,001090000001\ntiem_chung,008,\n",
        encoding="utf-8",
    )
    truth = read_truth(tmp_path, "tiem_chung")
    assert truth["record_id"].tolist() == ["007", "008"]
    assert truth["true_so_dinh_danh"].iloc[0] == "001090000001"
    assert truth["true_so_dinh_danh"].isna().tolist() == [False, True]

    with pytest.raises(UserError, match="f0_links.csv does not exist"):
        read_truth(tmp_path, "f0")
    (tmp_path / "truth" / "bhxh_links.csv").write_text("record_id\nx\n", encoding="utf-8")
    with pytest.raises(UserError, match="lacks the columns source, true_so_dinh_danh"):
        read_truth(tmp_path, "bhxh")
