"""Blocking against a register index built once: the same pairs as a plain join, and a chunk's
cost that does not include keying and sorting the register again."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_matching import PEOPLE, std_frame

import matching
from matching.block_index import build_index
from matching.blocking import equi_join


def _brute_pairs(left_parts, right_parts, rows):
    left = pd.DataFrame({f"k{i}": p[rows] for i, p in enumerate(left_parts)}).assign(li=rows)
    right = pd.DataFrame({f"k{i}": p for i, p in enumerate(right_parts)})
    right["ri"] = np.arange(len(right))
    keys = [f"k{i}" for i in range(len(left_parts))]
    left = left[(left[keys] >= 0).all(axis=1)]
    right = right[(right[keys] >= 0).all(axis=1)]
    merged = left.merge(right, on=keys)
    return sorted(zip(merged["li"], merged["ri"], strict=True))


def test_index_join_gives_the_pairs_of_a_plain_join_with_nulls_unseen_values_and_overflow():
    rng = np.random.default_rng(5)
    n_left, n_right = 3_000, 5_000
    # small codes, a part with huge values (forces the dense re-coding), and nulls
    right_parts = [
        rng.integers(-1, 40, n_right),
        rng.integers(-1, 3, n_right) * 10**15 + 7,
        rng.integers(-1, 6, n_right),
    ]
    # the extract holds values the register never does (codes past the register's largest)
    left_parts = [
        rng.integers(-1, 60, n_left),
        rng.integers(-1, 5, n_left) * 10**15 + 7,
        rng.integers(-1, 9, n_left),
    ]
    rows = np.sort(rng.choice(n_left, 2_000, replace=False))
    for used in (1, 2, 3):
        index = build_index(right_parts[:used])
        li, ri, over = equi_join(index.left_key(left_parts[:used]), index, rows, None)
        assert len(over) == 0
        assert sorted(zip(li, ri, strict=True)) == _brute_pairs(
            left_parts[:used], right_parts[:used], rows
        )
        # pairs come row by row, register rows ascending within a row
        assert (np.diff(li) >= 0).all()
        same = np.diff(li) == 0
        assert (np.diff(ri)[same] > 0).all()


def test_chunks_linked_against_a_prepared_register_reuse_its_blocking_indexes():
    register = std_frame(PEOPLE, register=True)
    # half without an ID: the probabilistic pass (every rule) links them
    rows = [{**p, "record_id": f"r{i}", "id": p["id"] if i % 2 else None}
            for i, p in enumerate(PEOPLE[:200])]  # fmt: skip
    extract = std_frame(rows)
    settings = matching.load_settings()
    model = matching.train(register, extract, settings)
    prepared = matching.prepare_snapshot(register, settings)
    first = matching.link(prepared, extract.iloc[:100], settings, model=model)
    built = dict(prepared.derived)
    equi = [rule for rule in settings.blocking_rules if rule.kind == "equi"]
    assert {("equi", tuple(r for _, r in rule.keys)) for rule in equi} <= set(built)
    second = matching.link(prepared, extract.iloc[100:], settings, model=model)
    assert all(prepared.derived[key] is value for key, value in built.items())
    whole = matching.link(register, extract, settings, model=model)
    chunked = pd.concat([first.decisions, second.decisions], ignore_index=True)
    pd.testing.assert_frame_equal(chunked, whole.decisions)


def _three_namesakes_and_a_row(others: tuple = ()):
    """Three register people born on one day with one family name, in three wards."""
    base = {"dob": "05/06/1990", "sex": "F", "phone": None}
    people = [
        {**base, "id": f"00119000000{i}", "name": f"Nguyễn Thị {given}", "ward": ward}
        for i, (given, ward) in enumerate([("Lan", "01001"), ("Mai", "01002"), ("Hoa", "01003")])
    ]
    row = {**base, "id": None, "record_id": "r1", "name": "Nguyễn Thị Mây", "ward": "01002"}
    return std_frame([*people, *others], register=True), std_frame([row, *others])


def _blocked(rule_fields: dict):
    from matching.blocking import block
    from matching.config import BlockingRule
    from matching.engine import _prepare

    register, extract = _three_namesakes_and_a_row()
    prep = _prepare(extract, register, matching.load_settings())
    rule = BlockingRule(name="birth_date_family", keys=["dob", "family_key"], **rule_fields)
    return block(prep, rule, np.arange(prep.n_left))


def test_an_over_cap_block_split_on_a_further_key_gives_the_pairs_the_cap_dropped():
    capped = _blocked({"max_block_size": 2})
    assert len(capped.left) == 0
    assert (capped.skipped_rows, capped.split_rows) == (1, 0)
    split = _blocked({"max_block_size": 2, "split_on": ["ward_code"]})
    assert split.right.tolist() == [1]  # the namesake of the row's ward
    assert (split.skipped_rows, split.split_rows) == (0, 1)
    # a split still over the cap is skipped, and counted as both
    over = _blocked({"max_block_size": 2, "split_on": ["sex"]})
    assert len(over.left) == 0
    assert (over.skipped_rows, over.split_rows) == (1, 1)
    assert _blocked({"max_block_size": 3}).right.tolist() == [0, 1, 2]


def test_link_stats_report_split_and_skipped_rows_per_rule():
    from matching.config import settings_from_dict

    others = [{**p, "record_id": p["id"]} for p in PEOPLE]
    register, extract = _three_namesakes_and_a_row(tuple(others))
    data = matching.load_settings().to_dict()
    for rule in data["blocking_rules"]:
        if rule.get("max_block_size"):
            rule.update(max_block_size=2, split_on=["ward_code"])
    settings = settings_from_dict(data)
    model = matching.train(register, extract, settings)
    result = matching.link(register, extract.iloc[:1], settings, model=model)
    stats = result.stats["blocking"]["birth_date_family"]
    assert stats["split_rows"] == 1 and stats["skipped_rows"] == 0
    assert stats["pairs"] == 1
