"""The accuracy targets of issue 3 on a generated data set of realistic size (slow)."""

from __future__ import annotations

import json

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
