"""The whole job: every stage of a batch in order, then its summary and report."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from popsync.pipeline.batch import in_folder, new_batch, plan_batches
from popsync.pipeline.chunk_finish import finish_chunks
from popsync.pipeline.chunks import DEFAULT_CHUNK_ROWS, plan_chunks, run_chunk
from popsync.pipeline.lifecycle import close_run, fail_run, heartbeat, open_run
from popsync.pipeline.recheck import stage_recheck
from popsync.pipeline.stages import (
    batch_findings,
    stage_link,
    stage_load,
    stage_register,
    stage_standardize,
    stage_validate_post,
    stage_validate_pre,
)
from popsync.pipeline.status import stage_status
from popsync.resources import Resources

STAGES = (
    stage_register,
    stage_standardize,
    stage_validate_pre,
    stage_link,
    stage_validate_post,
    stage_load,
    stage_recheck,
    stage_status,
)


def stage_name(stage) -> str:
    return stage.__name__.removeprefix("stage_")


def finish_batch(batch: dict[str, Any], res: Resources, echo: bool = False) -> dict[str, Any]:
    """Write the batch's ``summary.json`` and its HTML report (built from the warehouse:
    ``pipeline.reporting``); print the summary line."""
    from popsync.pipeline import reporting
    from popsync.report import terminal

    area = res.workarea
    report_key = in_folder(batch, "report.html")
    with res.warehouse() as store:
        view = reporting.batch_view(store, res.catalog, batch["run_id"])
    area.write_text(report_key, reporting.render(view))
    batch["counts"] = {**batch.get("counts", {}), "linked": view["counts"]["linked"],
                       "not_linked": view["counts"]["not_linked"]}  # fmt: skip
    batch["report"] = area.path(report_key)
    area.write_json(in_folder(batch, "summary.json"), batch)
    if echo:
        terminal.print_run_summary(batch)
    return batch


def report_blocked(batch: dict[str, Any], res: Resources, error: Exception) -> None:
    """A batch a block-severity rule stopped still leaves its report (from the findings
    written so far), naming the rule, beside its findings."""
    from popsync.pipeline import reporting

    if "folder" not in batch:
        return
    batch = {**batch, "error": str(error)}
    view = reporting.blocked_view(batch, batch_findings(batch, res), res.catalog)
    res.workarea.write_text(in_folder(batch, "report.html"), reporting.render(view))


# The steps of ``run_batch``: the batch in chunks (``pipeline.chunks``), then the stages that
# follow the load.
RUN_STEPS = ("read", "link", "load", "recheck", "status")


def run_batch(
    batch: dict[str, Any], res: Resources, echo: bool = False, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> dict[str, Any]:
    """Every stage on one batch, ``chunk_rows`` rows at a time (``pipeline.chunks``: memory is
    bounded by the chunk, not the file), then its summary and report, inside the run's
    lifecycle: the run is recorded (``open_run``) before any stage, so a database that cannot
    be reached stops it at once; a stage's failure ends the record ``failed`` or ``blocked``
    with its cause (``fail_run``; a blocked batch leaves its report too), then the error goes
    on."""
    from expectations import BatchBlocked
    from popsync.report.progress import StageProgress

    batch = open_run(res, batch, owner_pid=os.getpid())
    try:
        with StageProgress(batch["source"], RUN_STEPS, echo) as progress:
            try:
                for step, work in (
                    ("read", lambda b: plan_chunks(b, res, chunk_rows)),
                    ("link", lambda b: b | {"parts": [run_chunk(b, res, e["index"])
                                                      for e in b["chunks"]]}),
                    ("load", lambda b: finish_chunks(b, res, b.pop("parts"))),
                    ("recheck", lambda b: stage_recheck(b, res)),
                    ("status", lambda b: stage_status(b, res)),
                ):  # fmt: skip
                    progress.start(step)
                    heartbeat(res, batch, step)
                    batch = work(batch)
                    progress.done()
            except BatchBlocked as error:
                report_blocked(batch, res, error)
                raise
        close_run(res, batch)
        return finish_batch(batch, res, echo=echo)
    except BaseException as error:
        fail_run(res, batch, error)
        raise


def run_source(
    res: Resources,
    source: str,
    input_path: str | Path,
    population: str | Path,
    run_date: dt.date | str,
    echo: bool = False,
    delivery: str | None = None,
    linkage_settings: str | Path | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, Any]:
    """The main job for one extract: read, standardize, validate, link, validate, load.
    ``delivery``: what the file is a version of (default: its name)."""
    batch = new_batch(
        source, input_path, population, run_date, delivery, linkage_settings=linkage_settings
    )
    return run_batch(batch, res, echo, chunk_rows)


def run_all(
    res: Resources,
    samples: str | Path,
    run_date: dt.date | str | None = None,
    echo: bool = False,
    linkage_settings: str | Path | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> list[dict[str, Any]]:
    """``popsync run all``: every extract of a sample folder, one batch after the other."""
    batches = plan_batches(samples, res.catalog, run_date, linkage_settings=linkage_settings)
    return [run_batch(batch, res, echo, chunk_rows) for batch in batches]
