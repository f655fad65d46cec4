"""One pulled item through the whole job, exactly once: the ledger says whether its content was
processed; a stated row count that the rows read do not match blocks it (nothing loaded, a
``blocked`` run record with the cause); any other block or failure leaves its run record too.
``pull_source`` does it for everything new of a source: ``popsync pull`` and ``backfill``."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from expectations import BatchBlocked
from popsync.pipeline.batch import batch_folder, new_batch
from popsync.pipeline.run import STAGES, finish_batch, report_blocked, stage_name
from popsync.pipeline.stages import stage_standardize
from popsync.pull.fetch import fetch, local_copy, pending
from popsync.pull.item import PullItem
from popsync.pull.settings import PullSettings
from popsync.resources import Resources
from popsync.warehouse.pulls import PROCESSED


class RowCountMismatch(BatchBlocked):
    """The delivery states a row count that the rows read do not match (a truncated or padded
    file), or its sidecar cannot be read: a quality block, not a crash."""


def _outcome(item: PullItem, outcome: str, **more: Any) -> dict[str, Any]:
    return {"source": item.source, "delivery": item.delivery, "item": item.to_dict(),
            "outcome": outcome, **more}  # fmt: skip


def report_path(res: Resources, item: PullItem) -> str:
    return res.workarea.path(f"{batch_folder(item.source, item.sha256)}/report.html")


def _population(res: Resources, population: str | Path) -> Path:
    """A register given as a work-area key (a fetched register) or a local path."""
    text = str(population)
    if not Path(text).is_absolute() and res.workarea.exists(text):
        return local_copy(res, text)
    return Path(population)


def _check_stated_rows(item: PullItem, batch: dict[str, Any]) -> None:
    if item.problem:
        raise RowCountMismatch(f"{item.delivery}: {item.problem}: blocked, nothing loaded")
    if item.stated_rows is not None and item.stated_rows != batch["rows_read"]:
        raise RowCountMismatch(
            f"{item.delivery}: the delivery states {item.stated_rows:,} rows but "
            f"{batch['rows_read']:,} were read: blocked, nothing loaded"
        )


def run_item(
    res: Resources,
    item: PullItem | dict,
    population: str | Path,
    run_date: dt.date | str | None = None,
    echo: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    """The whole job (``pipeline.STAGES``, then the summary and report) on one fetched item.

    Returns ``{source, delivery, item, outcome, run_id, rows, report}``: outcome ``loaded``, or
    ``done`` when the ledger already holds this content as loaded or blocked (``force``: run it
    again, as ``popsync rerun`` does). Raises ``BatchBlocked`` (``RowCountMismatch`` for a row
    count) after recording the blocked run, and any other error after recording the failure.
    ``run_date``: default the date in the file's name, else today."""
    from popsync.report.progress import StageProgress

    item = PullItem.from_dict(item)
    if item.key is None or item.sha256 is None:
        raise ValueError(f"{item.delivery} was not fetched: call popsync.pull.fetch first")
    with res.warehouse() as store:
        store.migrate()
        state = store.delivery_state(item.source, item.delivery, item.sha256)
    if state and state["status"] in PROCESSED and not force:
        return _outcome(item, "done", run_id=state["run_id"], status=state["status"],
                        report=report_path(res, item))  # fmt: skip
    run_date = run_date or item.run_date or dt.date.today()
    batch = new_batch(item.source, local_copy(res, item.key), _population(res, population),
                      run_date, delivery=item.delivery, mode=item.mode)  # fmt: skip
    batch.update(run_id=str(uuid.uuid4()), input_sha256=item.sha256,
                 folder=batch_folder(item.source, item.sha256))  # fmt: skip
    res.workarea.write_json(item.key + ".run.json", {"population": str(population),
                                                     "run_date": batch["run_date"]})  # fmt: skip
    try:
        with StageProgress(item.source, [stage_name(s) for s in STAGES], echo) as progress:
            for stage in STAGES:
                progress.start(stage_name(stage))
                batch = stage(batch, res)
                if stage is stage_standardize:
                    _check_stated_rows(item, batch)
                progress.done()
    except BatchBlocked as error:
        report_blocked(batch, res, error)
        _record(res, batch, "blocked", error)
        raise
    except Exception as error:
        if "counts" not in batch:
            _record(res, batch, "failed", error)
        raise
    batch = finish_batch(batch, res)
    return _outcome(item, "loaded", run_id=batch["run_id"], rows=batch["counts"],
                    report=batch["report"])  # fmt: skip


def _record(res: Resources, batch: dict[str, Any], status: str, error: Exception) -> None:
    """The run record and the ledger's entry of a run stopped before its load committed; the
    original error is what matters when this cannot be written."""
    try:
        with res.warehouse() as store:
            store.record_outcome(batch, status, f"{type(error).__name__}: {error}")
    except Exception as record_error:
        error.add_note(f"the {status} run could not be recorded: {record_error}")


def pull_source(
    res: Resources,
    settings: PullSettings,
    population: str | Path,
    run_date: dt.date | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    echo: bool = False,
    on_outcome=None,
) -> list[dict[str, Any]]:
    """Everything new of one source (``pending``), each item fetched and run on its own: one
    file blocked or failing leaves the others to load. Returns one outcome per item
    (``blocked`` and ``failed`` ones carry ``error``); ``on_outcome`` is called with each as it
    comes."""
    outcomes = []
    for item in pending(res, settings, since=since, until=until):
        try:
            item = fetch(res, item, settings)
            outcome = run_item(res, item, population, run_date, echo=echo)
        except BatchBlocked as error:
            outcome = _outcome(item, "blocked", error=str(error), report=_report_of(res, item))
        except Exception as error:  # one item failing must not stop the others
            outcome = _outcome(item, "failed", error=f"{type(error).__name__}: {error}")
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def _report_of(res: Resources, item: PullItem) -> str | None:
    if item.sha256 is None:
        return None
    path = report_path(res, item)
    return path if res.workarea.fs.exists(path) else None
