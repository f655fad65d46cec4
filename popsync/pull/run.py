"""One pulled item through the whole job, exactly once: the ledger says whether its content was
processed; a stated row count that the rows read do not match blocks it (nothing loaded, a
``blocked`` run record with the cause); any other block or failure leaves its run record too.
``pull_source`` does it for everything new of a source: ``popsync pull`` and ``backfill``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from expectations import BatchBlocked
from popsync.failures import describe_failure
from popsync.pipeline.batch import batch_folder
from popsync.pipeline.lifecycle import close_run, fail_run, heartbeat, open_run
from popsync.pipeline.run import STAGES, finish_batch, report_blocked, stage_name
from popsync.pipeline.stages import stage_standardize
from popsync.pull.batch import check_stated_rows, processed, record_stopped, start_batch
from popsync.pull.fetch import fetch, pending
from popsync.pull.item import PullItem
from popsync.pull.settings import PullSettings
from popsync.resources import Resources


def _outcome(item: PullItem, outcome: str, **more: Any) -> dict[str, Any]:
    return {"source": item.source, "delivery": item.delivery, "item": item.to_dict(),
            "outcome": outcome, **more}  # fmt: skip


def report_path(res: Resources, item: PullItem) -> str:
    return res.workarea.path(f"{batch_folder(item.source, item.sha256)}/report.html")


def run_item(
    res: Resources,
    item: PullItem | dict,
    population: str | Path,
    run_date: dt.date | str | None = None,
    echo: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    """The whole job (``start_batch``, ``pipeline.STAGES`` with ``check_stated_rows`` after
    ``standardize``, then the summary and report) on one fetched item.

    Returns ``{source, delivery, item, outcome, run_id, rows, report}``: outcome ``loaded``, or
    ``done`` when the ledger already holds this content as loaded or blocked (``force``: run it
    again, as ``popsync rerun`` does). Raises ``BatchBlocked`` (``RowCountMismatch`` for a row
    count) after recording the blocked run, and any other error after recording the failure
    (``record_stopped``)."""
    from popsync.report.progress import StageProgress

    item = PullItem.from_dict(item)
    state = None if force else processed(res, item)
    if state:
        return _outcome(item, "done", run_id=state["run_id"], status=state["status"],
                        report=report_path(res, item))  # fmt: skip
    batch = start_batch(res, item, population, run_date)
    # Recorded ``running`` before any stage, so a pull killed outright shows as failed later.
    batch = open_run(res, batch, owner_pid=os.getpid())
    try:
        with StageProgress(item.source, [stage_name(s) for s in STAGES], echo) as progress:
            for stage in STAGES:
                progress.start(stage_name(stage))
                heartbeat(res, batch, stage_name(stage))
                batch = stage(batch, res)
                if stage is stage_standardize:
                    check_stated_rows(batch)
                progress.done()
    except BaseException as error:
        if isinstance(error, BatchBlocked):  # a blocked batch leaves its report too
            report_blocked(batch, res, error)
        fail_run(res, batch, error)
        record_stopped(res, batch, error)
        raise
    close_run(res, batch)
    batch = finish_batch(batch, res)
    return _outcome(item, "loaded", run_id=batch["run_id"], rows=batch["counts"],
                    report=batch["report"])  # fmt: skip


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
            outcome = _outcome(item, "blocked", error=describe_failure(error)[1],
                               report=_report_of(res, item))  # fmt: skip
        except Exception as error:  # one item failing must not stop the others
            outcome = _outcome(item, "failed", error=describe_failure(error)[1])
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def _report_of(res: Resources, item: PullItem) -> str | None:
    if item.sha256 is None:
        return None
    path = report_path(res, item)
    return path if res.workarea.fs.exists(path) else None
