"""The note an error gets when its run could not be recorded quotes no row data: the database's
own error may carry a row (psycopg2's DETAIL line), and the note reaches logs that mask nothing
(an Airflow task's traceback), not only the CLI's masked ``error:`` line."""

from __future__ import annotations

import contextlib
import types

from expectations import BatchBlocked
from popsync.pull.batch import record_stopped
from popsync.warehouse.runs import RunRecords

PERSONAL = "079123456789"
# What a driver says when a statement fails on a row: the row comes in its DETAIL line.
ROW_ERROR = (
    'duplicate key value violates unique constraint "run_pkey"\n'
    f"DETAIL:  Key (id_number)=({PERSONAL}) already exists."
)


class _Refusing:
    """Resources and a warehouse whose every connection and transaction fails on a row."""

    @contextlib.contextmanager
    def warehouse(self):
        raise RuntimeError(ROW_ERROR)
        yield

    _transaction = warehouse


def test_a_pulled_batch_that_cannot_be_recorded_notes_why_without_the_row():
    error = BatchBlocked("f0 batch blocked by a rule")
    batch = {"source": "f0", "delivery": "f0.csv", "input_sha256": "0" * 64, "run_id": "r1"}
    record_stopped(_Refusing(), batch, error)
    [note] = error.__notes__
    assert note.startswith("the blocked run could not be recorded: duplicate key value")
    assert PERSONAL not in note


def test_a_failed_load_that_cannot_be_recorded_notes_why_without_the_row():
    error = ValueError("the load failed")
    RunRecords._record_failure(
        _Refusing(), {"timings": {}}, error, types.SimpleNamespace(seconds={})
    )
    [note] = error.__notes__
    assert note.startswith("the failed run could not be recorded: duplicate key value")
    assert PERSONAL not in note
