"""A batch's refresh reads its source's table once when the batch's rows are many for it: the
people the run touched and every person's events from that one read (``_read_run_table``).
The statuses and the counts are the ones the separate reads give (the run's rows, then the
table), with other runs' rows in the table, unlinked rows declaring an ID, rows in review and
quarantined, and people queued by a later version."""

from __future__ import annotations

import pandas as pd
import pytest
from test_status_warehouse import P1, P2, P3, load, rows
from test_warehouse import PEOPLE, register, sample_batch, tamper

from popsync import warehouse
from popsync.warehouse import status as status_module

P4 = "001090000004"  # in the register, named only by the run refreshed


@pytest.mark.postgres
def test_the_run_s_table_read_once_gives_what_the_separate_reads_give(pg_url, monkeypatch):
    with warehouse.connect(pg_url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE, {"person_id": P4, "full_name": "Lê Thị Dung"}),
                            {"run_id": "reg-1"})  # fmt: skip
        store.load_batch(sample_batch())  # linked, unlinked, review, quarantined
        load(store, "f0", rows("f0", {"C1": P1}), "run-f0")
        store.refresh_status(everyone=True, as_of="2024-06-01")
        # A second delivery of doses (another run's rows stay in the table) and a new version
        # of it: the people of the rows it replaces are queued.
        other = rows("tiem_chung", {"D1": P3}, vaccination_date="2021-08-01")
        load(store, "tiem_chung", other, "run-other", delivery="other.csv")
        first = pd.concat([rows("tiem_chung", {"V1": P1, "V2": P2}, vaccination_date="2021-09-01"),
                           rows("tiem_chung", {"V3": None}).assign(id_number=P3)])  # fmt: skip
        load(store, "tiem_chung", first.reset_index(drop=True), "run-v1", delivery="v.csv")
        store.refresh_status(run_id="run-v1")
        again = rows("tiem_chung", {"V1": P1, "V4": P4}, vaccination_date="2021-09-08")
        load(store, "tiem_chung", again, "run-v2", delivery="v.csv", sha="ef" * 32)
        tamper(pg_url, "CREATE TABLE dirty_kept AS SELECT * FROM status_dirty")
        tamper(pg_url, "CREATE TABLE status_kept AS SELECT * FROM person_status")

        runs = {}
        for share, label in ((float("inf"), "apart"), (0.0, "once")):
            monkeypatch.setattr(status_module, "CLIENT_JOIN_SHARE", share)
            read = []
            taken = status_module.PersonStatus._read_run_table
            monkeypatch.setattr(status_module.PersonStatus, "_read_run_table",
                                lambda self, *a, taken=taken, read=read:
                                read.append(taken(self, *a)) or read[-1])  # fmt: skip
            done = store.refresh_status(run_id="run-v2")
            runs[label] = (done, store.status_of().drop(columns="change_seq"), read[0])
            for statement in ("DELETE FROM person_status", "INSERT INTO person_status SELECT * "
                              "FROM status_kept", "DELETE FROM status_dirty",
                              "INSERT INTO status_dirty SELECT * FROM dirty_kept"):  # fmt: skip
                tamper(pg_url, statement)
    (apart, apart_status, apart_read), (once, once_status, once_read) = runs.values()
    assert apart_read is None and once_read is not None  # each way was taken
    assert apart["people"] == once["people"] == 4  # P1, P4 (the run); P2, P3 (V2, V3 gone)
    for name in ("changed", "new", "became_fully_vaccinated", "with_pending_rows"):
        assert apart[name] == once[name], name
    pd.testing.assert_frame_equal(apart_status, once_status)
    assert once_status.loc[P2, "doses"] == 0 and once_status.loc[P3, "rows_unlinked"] == 0
    assert once_status.loc[P4, "doses"] == 1
