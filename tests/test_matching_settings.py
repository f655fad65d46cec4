"""Linkage settings are checked when they load: a clear error names what is wrong, never a
``KeyError`` at link time; ``id_rules: []`` and comparisons of two different columns work."""

from __future__ import annotations

import json

import pytest

import matching
from matching.config import settings_from_dict
from popsync.core.errors import UserError
from tests.test_matching import PEOPLE, std_frame


def test_settings_round_trip_through_json(tmp_path):
    settings = matching.load_settings()
    assert settings_from_dict(json.loads(settings.to_json())) == settings
    path = tmp_path / "s.json"
    path.write_text(settings.to_json(), encoding="utf-8")
    assert matching.load_settings(path) == settings
    assert matching.load_settings(path).fingerprint() == settings.fingerprint()


def test_bad_values_are_named_at_load_time():
    bad = matching.load_settings().to_dict()
    bad["comparisons"][0]["levels"][0]["kind"] = "soundex"
    bad["match_threshold"] = 0.1
    with pytest.raises(UserError) as error:
        settings_from_dict(bad)
    assert "'soundex'" in str(error.value) and "comparisons.0.levels.0" in str(error.value)


def test_a_missing_threshold_and_a_near_id_rule_on_two_keys():
    bad = matching.load_settings().to_dict()
    del bad["comparisons"][1]["levels"][3]["threshold"]  # family_name one_typo
    bad["blocking_rules"][2]["keys"] = ["id12", "id9"]  # id_near
    with pytest.raises(UserError) as error:
        settings_from_dict(bad)
    assert "one_typo: edit_distance_le needs a threshold" in str(error.value)
    assert "near_id takes one ID column" in str(error.value)


def test_an_unknown_column_is_an_error_at_load_not_at_link(tmp_path):
    bad = matching.load_settings().to_dict()
    bad["comparisons"][1]["levels"][0]["column"] = "family_nmae"
    bad["blocking_rules"][3]["keys"] = ["dob", "surname"]
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.yaml.*unknown column\(s\) family_nmae, surname"):
        matching.load_settings(path)


def test_thresholds_rules_and_the_removed_require_agreement_are_checked():
    bad = matching.load_settings().to_dict()
    bad["match_threshold"] = 0.1
    bad["id_rules"] = ["id_exact", "no_such_rule"]
    bad["veto_on_disagreement"] = ["nickname"]
    with pytest.raises(UserError) as error:
        settings_from_dict(bad)
    message = str(error.value)
    assert "review_threshold <= match_threshold" in message
    assert "'no_such_rule' is not a blocking rule" in message
    assert "'nickname' is not a comparison" in message
    old = matching.load_settings().to_dict() | {"require_agreement": ["given_name"]}
    with pytest.raises(UserError, match="require_agreement was removed"):
        settings_from_dict(old)


def test_housemate_rule_names_comparisons_and_needs_a_household():
    bad = matching.load_settings().to_dict()
    bad["housemate_needs"] = ["shoe_size"]
    bad["relatives_explain"] = []
    del bad["household_column"]
    with pytest.raises(UserError) as error:
        settings_from_dict(bad)
    assert "housemate_needs 'shoe_size' is not a comparison" in str(error.value)
    assert "housemate_contests needs household_column" in str(error.value)


def test_declared_text_column_missing_from_the_frames_is_a_clear_error():
    data = matching.load_settings().to_dict()
    data["text_columns"] = ["bhxh_number"]
    data["comparisons"].append(
        {"name": "bhxh", "levels": [{"name": "exact", "kind": "exact", "column": "bhxh_number"}]}
    )
    settings = settings_from_dict(data)
    register = std_frame(PEOPLE[:20], register=True)
    with pytest.raises(UserError, match="compare bhxh_number, which the extract lacks"):
        matching.link(register, std_frame(PEOPLE[:20]), settings)


def test_id_rules_may_be_empty():
    data = matching.load_settings().to_dict() | {"id_rules": []}
    settings = settings_from_dict(data)
    register = std_frame(PEOPLE, register=True)
    extract = std_frame([dict(p, record_id=f"r{i}") for i, p in enumerate(PEOPLE)])
    decisions = matching.link(register, extract, settings).decisions
    assert (decisions["decision"] == "match").all()
    assert (decisions["so_dinh_danh"] == register["person_id"]).all()
    assert decisions["explanation"].str.contains('"pass":"id"').all()  # found by id_exact


def test_two_different_text_columns_share_one_dictionary():
    """Given name written in the family-name column: compared across columns, coded alike."""
    data = matching.load_settings().to_dict()
    data["comparisons"].append(
        {
            "name": "given_as_family",
            "levels": [
                {"name": "exact", "kind": "exact", "left": "family_key", "right": "given_key"}
            ],
        }
    )
    settings = settings_from_dict(data)
    register = std_frame(PEOPLE[:50], register=True)
    swapped = []
    for i, person in enumerate(PEOPLE[:50]):
        family, *rest = person["name"].split()
        swapped.append(
            dict(person, name=" ".join([rest[-1], *rest[:-1], family]), record_id=f"s{i}")
        )
    result = matching.link(register, std_frame(swapped), settings)
    levels = result.decisions["explanation"].map(
        lambda e: json.loads(e)["fields"]["given_as_family"][0]
    )
    assert (levels == "exact").all(), levels.value_counts()
