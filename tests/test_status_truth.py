"""On a generated set with truth, the status popsync computes from its own links against the
status the same rules give from the true links: every difference is a row waiting for review or
left unlinked (no wrong link, nothing unexplained), and once the review queue is decided the two
agree for at least 99.9% of people. The same on 20,000 people: bench/status_truth.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from popsync import pipeline
from popsync.generate import generate_dataset
from popsync.pipeline.status_truth import compare_with_truth, decide_reviews_by_truth
from popsync.resources import Resources


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("status_truth")
    generate_dataset(folder / "set", people=2000, seed=11, formats="csv")
    res = Resources.from_environment(workdir=folder / "work")
    batches = pipeline.run_all(res, folder / "set")
    return res, folder / "set", batches


def test_each_batch_says_what_it_changed_in_people_s_status(synced):
    _, _, batches = synced
    by_source = {batch["source"]: batch["status"] for batch in batches}
    assert by_source["tiem_chung"]["became_fully_vaccinated"] > 1000
    assert by_source["f0"]["new_f0_episode"] > 300
    assert by_source["bhxh"]["became_insured"] > 200
    assert all(batch["timings"]["status"] > 0 for batch in batches)
    report = Path(batches[0]["report"]).read_text(encoding="utf-8")
    assert "Lô này đã thay đổi trạng thái của người dân như thế nào" in report
    fully = f"{by_source['tiem_chung']['became_fully_vaccinated']:,}".replace(",", ".")
    assert f'tiêm đủ liều cơ bản</td><td class="num">{fully}</td>' in report


def test_the_status_from_popsync_s_links_equals_the_status_from_the_true_links(synced):
    res, truth, batches = synced
    with res.warehouse() as store:
        found = compare_with_truth(store, truth / "truth", batches[0]["run_date"])
        differences = found["differences"]
        assert differences["wrong_link"] == differences["unexplained"] == 0, found
        assert differences["review"] + differences["unlinked"] == differences["total"]
        assert found["equal_share"] >= 0.995, found
        assert decide_reviews_by_truth(store, truth / "truth") > 0
        decided = compare_with_truth(store, truth / "truth", batches[0]["run_date"])
    assert decided["differences"]["review"] == 0
    assert decided["equal_share"] >= 0.999, decided
