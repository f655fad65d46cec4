"""A later version of a delivery: the people whose rows it links to them again, unchanged, are
not queued (``_queue_replaced``, ``ReplacedRows``); their status does not change and they are
not published again, while a real change (a row linked elsewhere, a dose moved, a row gone)
is. When the rows cannot be compared, the people it links again are recomputed as the run's."""

from __future__ import annotations

import pandas as pd
import pytest
from test_status_warehouse import P1, P2, P3, load, rows
from test_warehouse import PEOPLE, register, tamper, url  # noqa: F401 (url: fixture)

from popsync import warehouse
from popsync.pipeline.status import write_delta


def queued(store) -> set[str]:
    return {person for (person,) in store.fetch("SELECT so_dinh_danh FROM status_dirty")}


def test_a_second_version_linking_the_same_people_queues_and_republishes_only_real_changes(
    url,  # noqa: F811 (the url fixture)
    tmp_path,
):
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        first = pd.concat([
            rows("tiem_chung", {"V1": P1}, vaccination_date="2021-08-01"),
            rows("tiem_chung", {"V2": P2}, vaccination_date="2021-08-02"),
            rows("tiem_chung", {"V3": P3}, vaccination_date="2021-08-03"),
        ], ignore_index=True)  # fmt: skip
        load(store, "tiem_chung", first, "run-v1", delivery="v.csv")
        store.refresh_status(run_id="run-v1")
        write_delta(store, tmp_path / "feed")
        before = store.status_of()

        # V1 again as it was (P1 unchanged), V2 a week later (P2 changes), V3 gone (P3 changes).
        again = pd.concat([
            rows("tiem_chung", {"V1": P1}, vaccination_date="2021-08-01"),
            rows("tiem_chung", {"V2": P2}, vaccination_date="2021-08-09"),
        ], ignore_index=True)  # fmt: skip
        load(store, "tiem_chung", again, "run-v2", delivery="v.csv", sha="ef" * 32)
        assert P1 not in queued(store)  # V1 is as it was: P1 is not recomputed
        assert P3 in queued(store)  # V3 is gone: nothing in the run names P3
        done = store.refresh_status(run_id="run-v2")
        assert (done["people"], done["changed"]) == (2, 2)  # P2, P3 (test_status_unchanged)
        after = store.status_of()
        assert after.loc[P1].equals(before.loc[P1])  # not written again: same change_seq
        assert after.loc[P3, "doses"] == 0
        delta = write_delta(store, tmp_path / "feed")
        published = pd.read_parquet(f"{delta['path']}/person_status.parquet")
        assert sorted(published["so_dinh_danh"]) == [P2, P3]


def test_a_row_linked_to_someone_else_queues_the_person_it_left(url):  # noqa: F811
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        load(store, "tiem_chung", rows("tiem_chung", {"V1": P1}), "run-v1", delivery="v.csv")
        store.refresh_status(run_id="run-v1")
        load(store, "tiem_chung", rows("tiem_chung", {"V1": P2}), "run-v2", delivery="v.csv",
             sha="ef" * 32)  # fmt: skip
        assert queued(store) == {P1, P2}  # the rows changed (test_status_unchanged)
        done = store.refresh_status(run_id="run-v2")
        assert (done["people"], done["changed"]) == (2, 2)
        assert store.status_of().loc[[P1, P2], "doses"].tolist() == [0, 1]


@pytest.mark.postgres
def test_the_relinked_people_are_kept_in_the_queue_when_batch_key_would_not_be_hashed(pg_url):
    """A plain subplan would scan batch_key once per replaced row: then every person is queued."""
    with warehouse.connect(pg_url) as store:
        store.migrate()
        with store._transaction() as cur:
            store._run(cur, "CREATE TEMP TABLE batch_key (record_id text, so_dinh_danh text)")
            store._run(cur, "INSERT INTO batch_key SELECT 'R' || i, lpad(i::text, 12, '0') "
                       "FROM generate_series(1, 50000) i")  # fmt: skip
            store._run(cur, "ANALYZE batch_key")
            args = ("vaccination_dose", "tiem_chung", "v.csv", "")
            assert "NOT IN" in store._not_relinked(cur, *args)  # work_mem 128MB: hashed
            store._run(cur, "SET LOCAL work_mem = '64kB'")
            store._run(cur, "SET LOCAL hash_mem_multiplier = 1")
            assert store._not_relinked(cur, *args) == ""
