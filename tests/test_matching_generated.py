"""The accuracy targets of issue 3 on a generated data set of realistic size (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import matching
from matching.evaluate import evaluate, read_truth
from popsync.generate import generate_dataset
from transforms.readers import read_source
from transforms.standardize import standardize

PEOPLE = 100_000


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    generate_dataset(out, people=PEOPLE, seed=1, formats="parquet")
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["sources"]

    def load(source):
        return standardize(read_source(out / files[source]["file"], source), source)

    return out, load("dan_cu"), load


@pytest.mark.slow
@pytest.mark.parametrize("source", ["tiem_chung", "f0", "bhxh"])
def test_targets_on_generated_data(dataset, source):
    out, register, load = dataset
    assert len(register) >= PEOPLE
    result = matching.link(register, load(source))
    scores = evaluate(result.decisions, read_truth(out, source))
    assert scores["precision"] >= 0.9995, scores
    assert scores["recall"] >= 0.99, scores
    assert scores["review_share"] <= 0.02, scores


@pytest.mark.slow
def test_a_rows_decision_is_the_same_alone_as_in_a_batch_of_100k(dataset):
    _, register, load = dataset
    extract = load("tiem_chung")
    assert len(extract) >= 100_000
    model = matching.train(register, extract)
    whole = matching.link(register, extract, model=model).decisions.set_index("record_id")
    # every review and no_match row among the first 100k, and matches: linked again apart
    some = whole.iloc[:100_000]
    picked = list(some[some["decision"] != "match"].index[:150]) + list(some.index[:50])
    apart = extract[extract["record_id"].isin(picked)]
    small = matching.link(register, apart, model=model).decisions.set_index("record_id")
    columns = ["decision", "so_dinh_danh", "score", "explanation"]
    pd.testing.assert_frame_equal(small[columns], whole.loc[small.index, columns])
    for record_id in picked[:3] + picked[-2:]:
        alone = matching.link(register, extract[extract["record_id"] == record_id], model=model)
        row = alone.decisions.set_index("record_id").loc[record_id]
        assert row[columns].tolist() == whole.loc[record_id, columns].tolist()
