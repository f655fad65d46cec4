"""A later version of a delivery queues, row by row, the people whose rows it changed (the rows
it replaces compared with the rows it loaded, by record id: the link, the ID declared and the
two event columns), and the run's refresh recomputes those people only, not every person its
rows name: the statuses are the ones recomputing everyone gives, and the delta holds exactly
the people whose status changed. When the earlier rows' runs were never refreshed, a register
was loaded since, or the refresh is as of an earlier day than one before it, every person of
the run is recomputed, as before."""

from __future__ import annotations

import pandas as pd
from test_status_replaced import queued
from test_status_warehouse import P1, P2, P3, load, rows
from test_warehouse import PEOPLE, register, url  # noqa: F401 (url: fixture)

from popsync import warehouse
from popsync.pipeline.status import write_delta

P4 = "001090000004"  # in the register; named by an unlinked row only
PEOPLE4 = (*PEOPLE, {"person_id": P4, "full_name": "Lê Thị Dung"})


def version(**dates) -> pd.DataFrame:
    """Rows of v.csv: record id -> (person, date); an unlinked row U1 declares P4's ID."""
    frames = [rows("tiem_chung", {record: person}, vaccination_date=day)
              for record, (person, day) in dates.items()]  # fmt: skip
    frames.append(rows("tiem_chung", {"U1": None}, vaccination_date="2021-08-05").assign(
        id_number=P4))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


FIRST = {"V1": (P1, "2021-08-01"), "V2": (P2, "2021-08-02"), "V3": (P3, "2021-08-03")}


def first_version(store, tmp_path, refresh: bool = True):
    store.migrate()
    store.load_register(register(*PEOPLE4), {"run_id": "reg-1"})
    load(store, "tiem_chung", version(**FIRST), "run-v1", delivery="v.csv")
    if refresh:
        store.refresh_status(run_id="run-v1")
        write_delta(store, tmp_path / "feed")


def test_only_the_people_whose_rows_changed_are_recomputed_and_published(url, tmp_path):  # noqa: F811
    with warehouse.connect(url) as store:
        first_version(store, tmp_path)
        before = store.status_of()
        # V1 and U1 as they were (P1, P4 unchanged), V2 a week later, V3 gone.
        again = version(V1=(P1, "2021-08-01"), V2=(P2, "2021-08-09"))
        load(store, "tiem_chung", again, "run-v2", delivery="v.csv", sha="ef" * 32)
        assert queued(store) == {P2, P3}
        done = store.refresh_status(run_id="run-v2")
        assert (done["people"], done["changed"], done["new"]) == (2, 2, 0)
        after = store.status_of()
        for person in (P1, P4):  # not recomputed, not written
            assert after.loc[person].equals(before.loc[person])
        delta = write_delta(store, tmp_path / "feed")
        published = pd.read_parquet(f"{delta['path']}/person_status.parquet")
        assert sorted(published["so_dinh_danh"]) == [P2, P3]
        # Recomputing everyone finds nothing left to change.
        assert store.refresh_status(everyone=True)["changed"] == 0
        pd.testing.assert_frame_equal(store.status_of(), after)


def test_a_row_moved_to_another_person_or_declaring_another_id_queues_both(url, tmp_path):  # noqa: F811
    with warehouse.connect(url) as store:
        first_version(store, tmp_path)
        again = version(**{**FIRST, "V1": (P2, "2021-08-01")}).assign(
            id_number=lambda f: f["id_number"].where(f["record_id"] != "U1", P1)
        )
        load(store, "tiem_chung", again, "run-v2", delivery="v.csv", sha="ef" * 32)
        assert queued(store) == {P1, P2, P4}
        done = store.refresh_status(run_id="run-v2")
        assert done["people"] == 3
        status = store.status_of()
        assert status.loc[[P1, P2], "doses"].tolist() == [0, 2]
        assert status.loc[[P1, P4], "rows_unlinked"].tolist() == [1, 0]
        assert store.refresh_status(everyone=True)["changed"] == 0


def test_every_person_of_the_run_when_the_earlier_run_was_never_refreshed(url, tmp_path):  # noqa: F811
    with warehouse.connect(url) as store:
        first_version(store, tmp_path, refresh=False)
        again = version(V1=(P1, "2021-08-01"), V2=(P2, "2021-08-09"))
        load(store, "tiem_chung", again, "run-v2", delivery="v.csv", sha="ef" * 32)
        done = store.refresh_status(run_id="run-v2")
        assert done["people"] == 4  # P1, P2, P4 (the run), P3 (V3 gone)
        assert store.status_of().loc[P1, "doses"] == 1


def test_every_person_of_the_run_after_a_register_load(url, tmp_path):  # noqa: F811
    with warehouse.connect(url) as store:
        first_version(store, tmp_path)
        store.load_register(register(*PEOPLE4), {"run_id": "reg-2"})
        load(store, "tiem_chung", version(**FIRST), "run-v2", delivery="v.csv", sha="ef" * 32)
        assert store.refresh_status(run_id="run-v2")["people"] == 4


def test_every_person_of_the_run_when_its_day_is_before_an_earlier_refresh(url, tmp_path):  # noqa: F811
    with warehouse.connect(url) as store:
        first_version(store, tmp_path)
        load(store, "tiem_chung", version(**FIRST), "run-v2", delivery="v.csv", sha="ef" * 32,
             run_date="2022-06-30")  # fmt: skip
        assert queued(store) == set()
        assert store.refresh_status(run_id="run-v2")["people"] == 4
