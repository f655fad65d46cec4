"""A batch's run record from start to end, for the CLI's loop and for Airflow tasks alike:
``open_run`` before the first stage, ``heartbeat`` as each stage starts, ``fail_run`` when a
stage raises, ``close_run`` after the last. Each opens its own connection (an Airflow task
may run each on another worker)."""

from __future__ import annotations

import uuid
from typing import Any

from popsync.core.files import file_sha256
from popsync.core.privacy import error_text
from popsync.failures import describe_failure
from popsync.resources import Resources


def open_run(res: Resources, batch: dict[str, Any], owner_pid: int | None = None
             ) -> dict[str, Any]:  # fmt: skip
    """Record the batch's run as ``running`` (a new ``run_id`` unless the batch has one) and
    return the batch with it and its input's ``input_sha256``. Migrates the warehouse first,
    and marks failed the runs that died without a word (``reaped_runs``). ``owner_pid``: the
    process that runs every stage (the CLI), whose death the next run can see; None for a run
    whose stages run in several processes (Airflow tasks): then only its heartbeat says it is
    alive.

    Connecting comes first, before any stage: an unreachable database stops the run at once
    (``InfrastructureError``)."""
    sha = batch.get("input_sha256") or file_sha256(batch["input_path"])
    batch = {**batch, "run_id": batch.get("run_id") or str(uuid.uuid4()), "input_sha256": sha}
    with res.warehouse() as store:
        store.migrate()
        reaped = store.open_run(
            {"run_id": batch["run_id"], "source": batch["source"],
             "delivery": batch.get("delivery"), "input_file": batch.get("input_path"),
             "input_sha256": sha, "run_date": batch.get("run_date"),
             "kind": batch.get("kind", "batch")},
            pid=owner_pid,
        )  # fmt: skip
    if reaped:
        batch["reaped_runs"] = reaped
    return batch


def heartbeat(res: Resources, batch: dict[str, Any], stage: str) -> None:
    """The run is alive and starts ``stage`` (nothing for a batch without a run record)."""
    if batch.get("run_id"):
        with res.warehouse() as store:
            store.heartbeat(batch["run_id"], stage)


def fail_run(res: Resources, batch: dict[str, Any], error: BaseException) -> None:
    """End the batch's run ``blocked`` (a quality rule) or ``failed`` (anything else) with its
    cause in one masked line and the counts the tables hold for it. Never raises: when the
    database itself is what failed, the run stays ``running`` and the next run that starts
    marks it failed (its process is gone)."""
    if not batch.get("run_id"):
        return
    status = getattr(error, "run_status", "failed")
    cause = describe_failure(error)[1]
    try:
        with res.warehouse() as store:
            store.fail_run(batch["run_id"], cause, status=status, rows_read=batch.get("rows_read"))
    except Exception as record_error:  # the original error matters more: keep it
        error.add_note(f"the run could not be recorded as {status}: {error_text(record_error)}")


def close_run(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """The run's record after its last stage (``Warehouse.close_run``)."""
    with res.warehouse() as store:
        return store.close_run(batch["run_id"])
