"""A pulled item as a pipeline batch, in pieces a DAG can run as tasks of their own:
``start_batch`` (the batch dict, its run named before it starts), the stages of
``popsync.pipeline`` with ``check_stated_rows`` right after ``stage_standardize``, and
``record_stopped`` when a stage blocks or fails (the run record and the ledger say so; nothing
is loaded). ``run_item`` (``pull.run``) chains them for the CLI."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from expectations import BatchBlocked
from popsync.core.privacy import error_text
from popsync.failures import describe_failure
from popsync.pipeline.batch import batch_folder, new_batch
from popsync.pull.item import PullItem
from popsync.resources import Resources
from popsync.warehouse.pulls import PROCESSED


class RowCountMismatch(BatchBlocked):
    """The delivery states a row count that the rows read do not match (a truncated or padded
    file), or its sidecar states none: a quality block, not a crash."""


def processed(res: Resources, item: PullItem) -> dict | None:
    """The ledger's entry of the item's content when it was processed (``loaded`` or
    ``blocked``): then there is nothing to do."""
    with res.warehouse() as store:
        store.migrate()
        state = store.delivery_state(item.source, item.delivery, item.sha256)
    return state if state and state["status"] in PROCESSED else None


def _population(res: Resources, population: str | Path) -> tuple[Path, str]:
    """A register given as a work-area key (a fetched register) or a local path: the local
    file, and how to name it again later (the key, or the absolute path)."""
    text = str(population)
    if not Path(text).is_absolute() and res.workarea.exists(text):
        return res.workarea.local_copy(text), text
    path = Path(population).resolve()
    return path, str(path)


def start_batch(
    res: Resources,
    item: PullItem | dict,
    population: str | Path,
    run_date: dt.date | str | None = None,
) -> dict[str, Any]:
    """The batch of a fetched item (``pipeline.new_batch``), with its ``run_id``, its folder
    and, under ``pull``, the item's key, stated row count and sidecar problem. ``run_date``:
    default the date in the file's name, else today. How it was started is kept beside the
    pulled copy (``<key>.run.json``) for ``popsync rerun``."""
    item = PullItem.from_dict(item)
    if item.key is None or item.sha256 is None:
        raise ValueError(f"{item.delivery} was not fetched: call popsync.pull.fetch first")
    register, named = _population(res, population)
    batch = new_batch(item.source, res.workarea.local_copy(item.key), register,
                      run_date or item.run_date or dt.date.today(), delivery=item.delivery,
                      mode=item.mode)  # fmt: skip
    batch.update(
        run_id=str(uuid.uuid4()),
        input_sha256=item.sha256,
        folder=batch_folder(item.source, item.sha256),
        pull={"key": item.key, "stated_rows": item.stated_rows, "problem": item.problem},
    )
    res.workarea.write_json(item.key + ".run.json",
                            {"population": named, "run_date": batch["run_date"]})  # fmt: skip
    return batch


def check_stated_rows(batch: dict[str, Any]) -> None:
    """After ``stage_standardize``: raise ``RowCountMismatch`` when the delivery's sidecar
    states another row count than was read, or states none. The message is the fact alone:
    whoever prints it names the delivery and says that nothing was loaded."""
    stated = batch.get("pull") or {}
    if stated.get("problem"):
        raise RowCountMismatch(stated["problem"])
    rows = stated.get("stated_rows")
    if rows is not None and rows != batch["rows_read"]:
        raise RowCountMismatch(
            f"the delivery states {rows:,} rows but {batch['rows_read']:,} were read"
        )


def record_stopped(res: Resources, batch: dict[str, Any], error: BaseException) -> None:
    """A batch a stage stopped before its load committed: its run record (``blocked`` for a
    ``BatchBlocked``, else ``failed``, with the cause) and the ledger's entry. A delivery
    blocked by its own content is not taken again as it is; one stopped by a failure, or by
    the register's gate (not the file's fault), is retried by the next pull. A batch whose
    load committed is left as the load recorded it. The original error is what matters when
    this cannot be written."""
    if "counts" in batch:
        return
    blocked = isinstance(error, BatchBlocked)
    status = "blocked" if blocked else "failed"
    ledger = status if blocked and "register" in batch else "failed"
    try:
        with res.warehouse() as store:
            cause = f"{type(error).__name__}: {describe_failure(error)[1]}"
            store.record_outcome(batch, status, cause, ledger)
    except Exception as record_error:
        error.add_note(f"the {status} run could not be recorded: {error_text(record_error)}")
