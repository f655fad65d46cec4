"""What each task of the DAGs does: the same ``popsync.pipeline`` stage the CLI runs, one
summary line in the task's log (rows, decisions, the gate's outcome, where the report is), and
failures told apart:

- a quality gate that blocks (``BatchBlocked``, or a file whose stated row count does not match)
  leaves a ``blocked`` run record, the delivery ``blocked`` in the ledger and its report, logs
  ``BLOCKED …`` and raises ``AirflowFailException``: no retry, a block is not a crash;
- wrong input (``UserError``: an unreadable file, a missing column) fails at once too;
- anything else (a refused connection, a full disk: ``InfrastructureError`` too, although the
  CLI counts it a ``UserError`` for its exit code) is raised as is: the task retries."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from expectations import BatchBlocked
from popsync import pipeline, pull
from popsync.core.errors import InfrastructureError, UserError
from popsync.core.privacy import error_text
from popsync.pipeline import lifecycle
from popsync.pipeline.batch import in_folder
from popsync.resources import Resources
from popsync.scheduling import intake

log = logging.getLogger("popsync.airflow")
# Libraries that log a line per internal registration (GX logs ~200 at import): warnings only.
NOISY_LOGGERS = ("great_expectations", "altair", "matplotlib", "numexpr", "fsspec")


def quiet_libraries() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _refuse(step: str, subject: str, error: Exception, after: str = ""):
    """One log line says why ``step`` stopped for ``subject`` (masked, as every output says an
    error), and the task fails without retries (``AirflowFailException``)."""
    from airflow.sdk.exceptions import AirflowFailException

    word, said = "BLOCKED" if isinstance(error, BatchBlocked) else "FAILED", error_text(error)
    log.error("%s %s %s: %s%s", word, step, subject, said, after)
    raise AirflowFailException(f"{word} at {step}: {said}") from error


def stopped(batch: dict[str, Any], res: Resources, step: str, error: Exception):
    """A batch a gate blocked (its report too) or wrong input stopped: its run record and the
    ledger say so (``popsync.pull.record_stopped``), one line says why, the task fails without
    retries."""
    blocked = isinstance(error, BatchBlocked)
    if blocked:
        pipeline.report_blocked(batch, res, error)
    lifecycle.fail_run(res, batch, error)
    pull.record_stopped(res, batch, error)
    where = f"; report: {_report_path(batch, res)}" if blocked and "folder" in batch else ""
    _refuse(step, batch["delivery"], error, f"; nothing loaded (run {batch.get('run_id')}){where}")


def _report_path(batch: dict[str, Any], res: Resources) -> str:
    return res.workarea.path(in_folder(batch, "report.html"))


def guarded(step: str, batch: dict[str, Any], res: Resources, work, alive=True) -> dict[str, Any]:
    """``work(batch)``, with blocks and wrong input turned into failures without retries;
    ``alive``: the batch's run record (``lifecycle.open_run``) first says it starts ``step``."""
    quiet_libraries()
    if alive:
        lifecycle.heartbeat(res, batch, step)  # its tasks may run on several workers
    try:
        return work(batch)
    except InfrastructureError:
        raise  # a database or disk that failed: the task retries (a UserError for the CLI only)
    except (BatchBlocked, UserError) as error:
        stopped(batch, res, step, error)


def _pct(scores: dict[str, Any]) -> str:
    pillars = scores.get("pillars", {})
    return " ".join(f"{name} {value:.1%}" for name, value in pillars.items())


# ------------------------------------------------------------------------- the steps


def pull_items(res: Resources, source: str) -> list[dict[str, Any]]:
    """The source's new items (files, table slices), oldest first. An extract waits for the
    register: none is pulled before a register snapshot is loaded."""
    if source != res.catalog.register.id and intake.current_register(res, False) is None:
        log.info("pull %s: no register loaded yet, nothing pulled (the register's Asset "
                 "triggers this DAG once it is loaded)", source)  # fmt: skip
        return []
    items = intake.pending(res, source)
    names = ", ".join(item["delivery"] for item in items) or "nothing new"
    log.info("pull %s: %d new item(s): %s", source, len(items), names)
    return items


def standardize(res: Resources, item: dict[str, Any], run_day: str) -> dict[str, Any] | None:
    """Fetch one item, start its batch, read and standardize it with the register prepared
    for its date; None when it was processed meanwhile."""
    batch = intake.start_batch(res, item, run_day)
    if batch is None:
        log.info("standardize %s: processed meanwhile, nothing to do", item["delivery"])
        return None
    batch = lifecycle.open_run(res, batch)  # its stages run as tasks, on any worker

    def work(batch):
        batch = pipeline.stage_register(batch, res)
        return pipeline.stage_standardize(batch, res)

    batch = guarded("standardize", batch, res, work)
    log.info("standardize %s: %s rows read (run date %s, register %s) in %.1f s",
             batch["delivery"], f"{batch['rows_read']:,}", batch["run_date"],
             batch["register_sha256"][:12], sum(batch["timings"].values()))  # fmt: skip
    return batch


def validate_pre(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    def work(batch):
        pull.check_stated_rows(batch)  # a truncated delivery: RowCountMismatch
        return pipeline.stage_validate_pre(batch, res)

    batch = guarded("validate_pre", batch, res, work)
    scores = batch["scores_pre"]
    log.info("validate_pre %s: PASSED (verdict %s; %s)",
             batch["delivery"], scores["verdict"], _pct(scores))  # fmt: skip
    return batch


def link(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    batch = guarded("link", batch, res, lambda b: pipeline.stage_link(b, res))
    decisions = batch["link_stats"].get("decisions", {})
    said = ", ".join(f"{count:,} {name}" for name, count in sorted(decisions.items()))
    log.info("link %s: %s in %.1f s", batch["delivery"], said, batch["timings"]["link"])
    return batch


def validate_post(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    batch = guarded("validate_post", batch, res, lambda b: pipeline.stage_validate_post(b, res))
    scores = batch["scores_post"]
    log.info("validate_post %s: PASSED (verdict %s; %s)",
             batch["delivery"], scores["verdict"], _pct(scores))  # fmt: skip
    return batch


def load(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Load the batch in one transaction, re-check earlier rows the register change flagged,
    refresh the status of the people it touched."""

    def work(batch):
        for stage in (pipeline.stage_load, pipeline.stage_recheck, pipeline.stage_status):
            batch = stage(batch, res)
        lifecycle.close_run(res, batch)
        return batch

    batch = guarded("load", batch, res, work)
    log_loaded(batch)
    return batch


def log_loaded(batch: dict[str, Any]) -> None:
    counts = batch["counts"]
    log.info("load %s: %s rows read = %s loaded + %s quarantined + %s for review "
             "(run %s, version %s; %s people's status changed)",
             batch["delivery"], *(f"{counts[k]:,}" for k in ("read", "loaded", "quarantined",
             "review")), batch["run_id"], batch["version"],
             f"{batch.get('status', {}).get('changed', 0):,}")  # fmt: skip


def report(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    batch = guarded("report", batch, res, lambda b: pipeline.finish_batch(b, res))
    counts = batch["counts"]
    log.info("report %s: %s linked, %s not linked; report: %s",
             batch["delivery"], f"{counts['linked']:,}", f"{counts['not_linked']:,}",
             batch["report"])  # fmt: skip
    return {key: batch[key] for key in ("source", "delivery", "run_id", "counts", "report")}


def recheck(res: Resources, source: str) -> dict[str, Any]:
    """The source's rows a register change flagged, linked again with no new file, in a run of
    its own (``popsync recheck``); its summary line (nothing flagged: the caller skips)."""
    from popsync.pipeline.recheck_run import recheck_source, summary_line

    quiet_libraries()
    try:
        done = recheck_source(res, source)
    except InfrastructureError:
        raise  # the task retries
    except (BatchBlocked, UserError) as error:  # its run record says it too
        _refuse("recheck", source, error)
    log.info("%s", summary_line(done))
    return done


def publish(res: Resources, out_dir: str) -> dict[str, Any]:
    """The people whose status changed since the last publication, for the register."""
    done = pipeline.publish_status(res, out_dir)
    log.info("publish_status: %s people whose status changed: %s",
             f"{done['people']:,}", done["path"])  # fmt: skip
    return done


# --------------------------------------------------------------- the register's steps


def register_pull(res: Resources, run_day: str) -> dict[str, Any] | None:
    """The newest register snapshot, when it is not the one loaded already."""
    batch = intake.newest_register(res, run_day)
    if batch is None:
        log.info("pull %s: the newest snapshot is loaded already", res.catalog.register.id)
    else:
        log.info("pull %s: new snapshot %s (%s)", batch["source"], batch["delivery"],
                 batch["input_sha256"][:12])  # fmt: skip
    return batch


def register_validate(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Read, standardize and validate a register snapshot (the register's gate)."""
    batch = batch | {"run_id": str(uuid.uuid4())}
    batch = guarded("validate", batch, res,  # (the register load records its own run)
                    lambda b: b | pipeline.prepare_register(res, b["input_path"], b["run_date"]),
                    alive=False)  # fmt: skip
    log.info("validate %s: PASSED (verdict %s; %s)", batch["delivery"],
             batch["register_scores"]["verdict"], _pct(batch["register_scores"]))  # fmt: skip
    return batch


def register_load(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Merge the snapshot into the warehouse's people and make it the one extracts link to."""
    area = res.workarea
    meta = {"run_id": batch["run_id"], "delivery": batch["delivery"],
            "input_file": batch["input_path"], "input_sha256": batch["input_sha256"],
            "run_date": batch["run_date"]}  # fmt: skip
    with res.warehouse() as store:
        store.migrate()
        loaded = store.load_register(area.read_parquet(batch["register"]), meta,
                                     findings=area.read_parquet(batch["register_findings"]))  # fmt: skip
    batch = batch | {"run_id": loaded["run_id"], "rows_read": loaded["rows_read"]}
    intake.set_current_register(res, batch)
    if loaded["skipped"]:
        log.info("load %s: snapshot already loaded (run %s); it is the current register",
                 batch["delivery"], loaded["run_id"])  # fmt: skip
    else:
        log.info("load %s: %s people read, %s inserted, %s updated (run %s)",
                 batch["delivery"], f"{loaded['rows_read']:,}", f"{loaded.get('inserted', 0):,}",
                 f"{loaded.get('updated', 0):,}", loaded["run_id"])  # fmt: skip
    return {key: batch[key] for key in ("source", "delivery", "run_id", "rows_read", "run_date")}
