"""A batch in chunks loads in bounded memory: ``load_batch_chunks`` takes each chunk from its
source only after the one before was written, so no more than one earlier chunk is alive
while the next is made (whatever the number of chunks)."""

from __future__ import annotations

import weakref

import pandas as pd

from popsync import warehouse
from popsync.warehouse import Batch, build_batch
from tests.test_warehouse import PEOPLE, SHA, extract, register

CHUNKS = 5


def test_chunks_are_made_one_at_a_time_while_they_load(pg_url):
    meta = {"run_id": "run-1", "source": "tiem_chung", "delivery": "tiem_chung.csv",
            "input_file": "in/tiem_chung.csv", "input_sha256": SHA, "run_date": "2024-06-01"}  # fmt: skip
    alive_when_made: list[int] = []

    def parts(keys_only: bool):
        made: list[weakref.ref] = []
        for index in range(CHUNKS):
            alive_when_made.append(sum(ref() is not None for ref in made))
            rows = extract("tiem_chung", {f"TC{index}": PEOPLE[index % 3]["person_id"]})
            part = build_batch(**meta, rows=rows)
            made.append(weakref.ref(part))
            yield part

    with warehouse.connect(pg_url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        header = Batch(**meta, rows=pd.DataFrame(), rows_read=CHUNKS)
        result = store.load_batch_chunks(header, parts)
        loaded = store.fetch("SELECT record_id FROM vaccination_dose ORDER BY 1")
    assert result["rows_loaded"] == CHUNKS
    assert [row[0] for row in loaded] == [f"TC{i}" for i in range(CHUNKS)]
    assert len(alive_when_made) == 2 * CHUNKS  # the keys pass, then the rows pass
    assert max(alive_when_made) <= 1
