"""A refresh that changes many people who had a status rewrites person_status whole (the rows
kept, the changed ones inserted into the emptied table) instead of updating them in place
(``status_write``): the same table either way, with the people it did not touch kept."""

from __future__ import annotations

import pytest
from test_status_warehouse import P1, P2, P3, load, rows
from test_warehouse import PEOPLE, register, tamper

from popsync import warehouse
from popsync.warehouse import status_write


@pytest.mark.postgres
def test_rewriting_person_status_gives_what_updating_it_in_place_gives(pg_url, monkeypatch):
    with warehouse.connect(pg_url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        load(store, "f0", rows("f0", {"C1": P1, "C2": P2}), "run-f0")
        store.refresh_status(run_id="run-f0")  # P1 and P2 have a status
        load(store, "tiem_chung", rows("tiem_chung", {"V1": P1, "V3": P3}), "run-v1")
        tamper(pg_url, "CREATE TABLE status_copy AS SELECT * FROM person_status")
        written = {}
        for share, label in ((float("inf"), "in place"), (0.0, "rewritten")):
            monkeypatch.setattr(status_write, "REWRITE_SHARE", share)
            (before,) = store.fetch("SELECT pg_relation_filenode('person_status')")
            done = store.refresh_status(run_id="run-v1")
            (after,) = store.fetch("SELECT pg_relation_filenode('person_status')")
            written[label] = (done, store.status_of(), before != after)
            for statement in ("DELETE FROM person_status", "INSERT INTO person_status SELECT * "
                              "FROM status_copy", "DELETE FROM status_refresh WHERE seq = "
                              "(SELECT max(seq) FROM status_refresh)"):  # fmt: skip
                tamper(pg_url, statement)
    (in_place, in_place_status, emptied), (rewritten, rewritten_status, new_file) = written.values()
    assert not emptied and new_file  # each way was taken (TRUNCATE gives the table a new file)
    assert (rewritten["changed"], rewritten["new"]) == (in_place["changed"], in_place["new"])
    assert (rewritten["changed"], rewritten["new"]) == (2, 1)  # P1 changed, P3 new
    assert rewritten_status.equals(in_place_status)
    assert sorted(rewritten_status.index) == [P1, P2, P3]  # P2, not touched, kept
    assert rewritten_status.loc[P1, "doses"] == 1 and rewritten_status.loc[P1, "f0_episodes"] == 1
