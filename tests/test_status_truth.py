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


def test_each_difference_is_explained_person_by_person(tmp_path):
    """A person with a row in review is explained by it only when deciding that row would give
    them their true status: P3 also lost a dose to a wrong link (TI3, truly theirs, linked to
    P2), so P3 is a wrong link, not a review, though a row of theirs waits for review."""
    import pandas as pd
    from test_status_warehouse import P1, P2, P3, load, rows

    from popsync import warehouse
    from popsync.warehouse import build_batch

    frame = pd.concat([
        rows("tiem_chung", {"TI1": P1}, vaccination_date="2021-08-01", vaccine="Pfizer"),
        rows("tiem_chung", {"TI2": None}, "review", vaccination_date="2021-08-22",
             vaccine="Pfizer"),
        rows("tiem_chung", {"TI3": P2}, vaccination_date="2021-09-01", vaccine="Pfizer"),
        rows("tiem_chung", {"TI4": None}, "review", vaccination_date="2021-09-22",
             vaccine="Pfizer"),
        rows("tiem_chung", {"TI5": None}, vaccination_date="2021-07-01", vaccine="Pfizer"),
    ], ignore_index=True)  # fmt: skip
    frame.loc[frame["record_id"] == "TI5", "id_number"] = "001090000009"  # not in the register
    candidates = pd.DataFrame({
        "record_id": ["TI2", "TI2", "TI4"], "so_dinh_danh": [P1, P3, P3], "score": 0.5,
        "rank": [1, 2, 1], "explanation": "{}",
    })  # fmt: skip
    truth = tmp_path / "truth"
    truth.mkdir()
    links = {"TI1": P1, "TI2": P1, "TI3": P3, "TI4": P3, "TI5": P2}
    pd.DataFrame({"record_id": list(links), "true_so_dinh_danh": list(links.values())}).to_csv(
        truth / "tiem_chung_links.csv", index=False
    )
    for source in ("f0", "bhxh"):
        pd.DataFrame({"record_id": [], "true_so_dinh_danh": []}).to_csv(
            truth / f"{source}_links.csv", index=False
        )
    with warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite3'}") as store:
        from test_status_warehouse import PEOPLE, register

        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        batch = build_batch(run_id="run-1", source="tiem_chung", delivery="d.csv",
                            input_file="in/d.csv", input_sha256="cd" * 32,
                            run_date="2022-12-31", rows=frame, candidates=candidates)  # fmt: skip
        store.load_batch(batch)
        assert load  # the helpers' module is the warehouse tests'
        store.refresh_status(run_id="run-1")
        found = compare_with_truth(store, truth, "2022-12-31")
    assert found["differences"] == {
        "total": 3, "review": 1, "unlinked": 0, "wrong_link": 2, "unexplained": 0,
    }  # fmt: skip
    by_person = {row["person"]: row for row in found["people_differing"]}
    assert set(by_person) == {"001******001", "001******002", "001******003"}
    assert by_person["001******001"]["explanation"] == "review"
    assert by_person["001******001"]["rows"] == ["tiem_chung TI2 review"]
    assert by_person["001******003"]["explanation"] == "wrong_link"
    assert "tiem_chung TI3 match" in by_person["001******003"]["rows"]
    assert by_person["001******002"]["explanation"] == "wrong_link"
    assert by_person["001******002"]["fields"] == ["last_dose_date", "next_dose_due"]
