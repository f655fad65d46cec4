"""A file re-issued three times (rows edited, added and removed): the database holds exactly the
latest version, and every run of every version reconciles (issue 11, "Must show")."""

from __future__ import annotations

import pandas as pd
import pytest

from popsync import pipeline
from popsync.generate import generate_dataset
from popsync.resources import Resources


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def database_url(request):
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


def test_three_reissues_leave_exactly_the_latest_version(tmp_path, database_url):
    generate_dataset(out_dir=tmp_path / "set", people=300, seed=3, formats="csv")
    first = pd.read_csv(tmp_path / "set" / "f0.csv", dtype=str, keep_default_na=False)
    second = first.copy()
    second.loc[10:14, "Nơi điều trị"] = "Bệnh viện Dã chiến số 2"  # edited
    third = pd.concat(
        [
            second.iloc[10:],
            second.iloc[:3].assign(  # removed and added
                **{"Mã ca bệnh": lambda f: f["Mã ca bệnh"] + "-B"}
            ),
        ],
        ignore_index=True,
    )
    fourth = third.copy()
    fourth.loc[len(fourth) - 1, "Số điện thoại"] = ""  # edited again
    res = Resources.from_environment(database_url=database_url, workdir=tmp_path / "w")
    runs = []
    for version in (first, second, third, fourth):
        path = tmp_path / "landing" / "f0_2022-02.csv"
        path.parent.mkdir(exist_ok=True)
        version.to_csv(path, index=False)
        runs.append(pipeline.run_source(res, "f0", path, tmp_path / "set" / "dan_cu.csv",
                                        "2023-01-15"))  # fmt: skip
    with res.warehouse() as store:
        stored = store.fetch("SELECT record_id, treatment_place, phone FROM f0_case")
        stored += store.fetch("SELECT record_id, NULL, NULL FROM quarantine WHERE source = 'f0'")
        for done in runs:
            store.reconcile(done["run_id"])
        statuses = [store.fetch("SELECT status FROM run WHERE run_id = %s",
                                (done["run_id"],))[0][0] for done in runs]  # fmt: skip
        ledger = store.fetch("SELECT version, status FROM delivery WHERE source = 'f0' "
                             "ORDER BY version")  # fmt: skip
    ids = sorted(record for record, *_ in stored)
    assert ids == sorted(fourth["Mã ca bệnh"])  # nothing of the earlier versions is left
    edited = {record: place for record, place, _ in stored if place}
    assert edited[fourth.loc[0, "Mã ca bệnh"]] == "Bệnh viện Dã chiến số 2"
    assert statuses == ["superseded", "superseded", "superseded", "loaded"]
    assert ledger == [(1, "superseded"), (2, "superseded"), (3, "superseded"), (4, "loaded")]
    assert runs[2]["rows_retired"] == 10 and runs[3]["rows_retired"] == 0
