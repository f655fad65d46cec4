"""The ``chunks`` path's ``load`` when a chunk did not finish or was stopped: nothing of the
batch loads, its run record and the ledger say why, and the chunks are named as the ``link``
tasks' logs name them (``chunk 2 of 3``: counted from 1)."""

from __future__ import annotations

import shutil

import pytest
from airflow.sdk.exceptions import AirflowFailException

from popsync import pull
from popsync.scheduling import chunked, intake
from tests.pull_helpers import REGISTER, age, bhxh_rows, resources, settings, write_extract

RUN_DAY = "2022-06-30"


@pytest.fixture
def planned(tmp_path, pg_url):
    """A 300-row BHXH file planned in 3 chunks of 100 rows against the sample register."""
    res = resources(tmp_path, pg_url)
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(REGISTER, landing / f"dan_cu_{RUN_DAY}.csv")
    write_extract(landing / f"bhxh_{RUN_DAY}.csv", bhxh_rows()[1][:300])
    for path in landing.iterdir():
        age(path)
    key = pull.fetch_register(res, settings(res, landing, "dan_cu"))
    intake.set_current_register(res, {"key": key, "input_sha256": "-", "run_date": RUN_DAY})
    source = settings(res, landing)
    [item] = pull.pending(res, source)
    fetched = pull.fetch(res, item, source).to_dict()
    batch = chunked.plan(res, fetched, RUN_DAY, 100)
    assert len(batch["chunks"]) == 3
    return res, batch


def _run(res, run_id: str) -> tuple[str, str]:
    with res.warehouse() as store:
        [found] = store.fetch("SELECT status, error FROM run WHERE run_id = %s", (run_id,))
    return found


def _loaded(res) -> int:
    with res.warehouse() as store:
        return store.fetch("SELECT count(*) FROM social_insurance_period")[0][0]


def test_a_stopped_chunk_or_one_that_did_not_finish_stops_the_batch(planned):
    res, batch = planned
    chunked.link(res, {"batch": batch, "index": 1})
    stopped = {"run_id": batch["run_id"], "index": 2, "stopped": True}
    res.workarea.write_json(chunked._part_key(batch, 2), stopped)
    with pytest.raises(AirflowFailException) as failed:
        chunked.load(res, batch)
    assert "chunk 3 of 3 stopped" in str(failed.value)

    res.workarea.fs.rm(res.workarea.path(chunked._part_key(batch, 2)))
    with pytest.raises(AirflowFailException) as failed:
        chunked.load(res, batch)
    assert "chunks 1 and 3 of 3 did not finish" in str(failed.value)
    status, error = _run(res, batch["run_id"])
    assert status == "failed"
    assert "chunks 1 and 3 of 3 did not finish" in error
    assert error.count(batch["delivery"]) <= 1
    assert _loaded(res) == 0
