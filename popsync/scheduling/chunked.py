"""A large extract in chunks across workers (``popsync.pipeline.chunks``, as ``popsync run`` runs
every batch): ``pull`` fetches each item into the work area and routes it by its row count;
a file of more rows than the chunk size (``chunk_rows``: the run's conf, else
``$POPSYNC_CHUNK_ROWS``, else 250,000) takes the ``chunks`` path of the DAG, the others the
``file`` path, whose steps are unchanged.

The ``chunks`` path: ``standardize`` (per file: the register prepared and validated, the file
read into raw chunks, its stated row count checked, the model of the register and source
trained or reused) → ``fan_out`` (one entry per chunk of every file) → ``link`` (a mapped task
per chunk, on any worker: standardize, the row rules before and after linking, link with the
batch's register and model) → ``load`` (per file: the rules that need the whole batch, then
every chunk in ONE transaction, re-check, status, report). Each chunk's outcome is written to
the work area (``chunks/part_<i>.json`` in the batch folder, with its run id), where ``load``
finds it: nothing depends on a worker's disk or working directory."""

from __future__ import annotations

import os
from typing import Any

from popsync import pull
from popsync.core.errors import UserError
from popsync.pipeline import lifecycle
from popsync.pipeline.batch import in_folder
from popsync.pipeline.chunk_finish import finish_chunks
from popsync.pipeline.chunks import DEFAULT_CHUNK_ROWS, run_chunk
from popsync.pipeline.recheck import stage_recheck
from popsync.pipeline.status import stage_status
from popsync.resources import Resources
from popsync.scheduling import intake, steps

CHUNK_ROWS_ENV = "POPSYNC_CHUNK_ROWS"


def chunk_rows(conf: dict[str, Any] | None = None) -> int:
    """The chunk size of a run: its conf's ``chunk_rows``, else ``$POPSYNC_CHUNK_ROWS``, else
    ``DEFAULT_CHUNK_ROWS``."""
    value = (conf or {}).get("chunk_rows") or os.environ.get(CHUNK_ROWS_ENV) or DEFAULT_CHUNK_ROWS
    try:
        rows = int(value)
    except (TypeError, ValueError):
        rows = 0
    if rows < 1:
        raise UserError(f"chunk_rows {value!r}: the chunk size must be a whole number >= 1")
    return rows


def more_rows_than(res: Resources, item: dict[str, Any], limit: int) -> bool:
    """Whether the fetched item holds more than ``limit`` rows (read no further than that). A
    file the reader refuses is not large: it fails on the ``file`` path, with its reason."""
    from transforms.readers.stream import read_source_chunks

    path = res.workarea.local_copy(item["key"])
    rows = 0
    try:
        for frame in read_source_chunks(path, res.catalog[item["source"]], limit + 1).frames:
            rows += len(frame)
            if rows > limit:
                return True
    except Exception:  # any reading error is for the ``file`` path to report
        return False
    return False


def route(res: Resources, items: list[dict[str, Any]], limit: int) -> dict[str, list[dict]]:
    """Fetch each item into the work area (``pull.fetch``: the ledger notes its arrival) and
    put it on the ``file`` path (``whole``) or, above ``limit`` rows, the ``chunks`` path."""
    routed: dict[str, list[dict]] = {"whole": [], "chunked": []}
    for item in items:
        fetched = pull.fetch(res, item, intake.settings(res, item["source"])).to_dict()
        path = "chunked" if more_rows_than(res, fetched, limit) else "whole"
        routed[path].append(fetched)
    if routed["chunked"]:
        steps.log.info("pull %s: in chunks of %s rows: %s", items[0]["source"], f"{limit:,}",
                       ", ".join(i["delivery"] for i in routed["chunked"]))  # fmt: skip
    return routed


def plan(res: Resources, item: dict[str, Any], run_day: str, rows: int) -> dict[str, Any] | None:
    """Start the item's batch and cut it into chunks (``pipeline.chunks.plan_chunks``); None
    when it was processed meanwhile. A stated row count that does not match blocks it here."""
    from popsync.pipeline.chunks import plan_chunks

    batch = intake.start_batch(res, item, run_day)
    if batch is None:
        steps.log.info("standardize %s: processed meanwhile, nothing to do", item["delivery"])
        return None
    batch = lifecycle.open_run(res, batch)

    def work(batch):
        batch = plan_chunks(batch, res, rows)
        pull.check_stated_rows(batch)
        return batch

    batch = steps.guarded("standardize", batch, res, work)
    steps.log.info("standardize %s: %s rows read in %d chunk(s) of at most %s (run date %s, "
                   "register %s, model %s) in %.1f s", batch["delivery"],
                   f"{batch['rows_read']:,}", len(batch["chunks"]), f"{rows:,}",
                   batch["run_date"], batch["register_sha256"][:12], batch["link_model"],
                   sum(batch["timings"].values()))  # fmt: skip
    return batch


def fan_out(batches: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """One entry per chunk of every batch that was planned (a file that failed has none)."""
    return [{"batch": batch, "index": entry["index"]}
            for batch in batches if batch for entry in batch["chunks"]]  # fmt: skip


def _part_key(batch: dict[str, Any], index: int) -> str:
    return in_folder(batch, f"chunks/part_{index:05d}.json")


def link(res: Resources, part: dict[str, Any]) -> dict[str, Any]:
    """One chunk through ``run_chunk``; its outcome in the work area for ``load`` (a chunk a
    rule blocked, or wrong input, leaves ``stopped``: the batch is not loaded)."""
    from airflow.sdk.exceptions import AirflowFailException

    batch, index = part["batch"], part["index"]
    mine = {"run_id": batch["run_id"], "index": index}
    try:
        done = steps.guarded("link", batch, res, lambda b: run_chunk(b, res, index))
    except AirflowFailException:
        res.workarea.write_json(_part_key(batch, index), mine | {"stopped": True})
        raise
    res.workarea.write_json(_part_key(batch, index), mine | done)
    decisions = done["link_stats"].get("decisions", {})
    said = ", ".join(f"{count:,} {name}" for name, count in sorted(decisions.items()))
    steps.log.info("link %s chunk %d of %d: %s rows: %s in %.1f s", batch["delivery"], index + 1,
                   len(batch["chunks"]), f"{done['rows']:,}", said,
                   sum(done["timings"].values()))  # fmt: skip
    return {"delivery": batch["delivery"], "index": index, "rows": done["rows"]}


def _chunks(indexes: list[int], parts: list) -> str:
    """``chunk 3 of 7``, ``chunks 1 and 3 of 7``: counted from 1, as ``link`` logs them."""
    numbers = [str(index + 1) for index in indexes]
    listed = numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"
    return f"chunk{'s' if len(numbers) > 1 else ''} {listed} of {len(parts)}"


def load(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Every chunk linked: the batch rules, then one load; its report. A chunk that did not
    finish (or was stopped) stops the batch: nothing of it is loaded."""
    from airflow.sdk.exceptions import AirflowFailException

    parts = [res.workarea.read_json(_part_key(batch, e["index"])) for e in batch["chunks"]]
    parts = [p if p and p.get("run_id") == batch["run_id"] else None for p in parts]
    stopped = [p["index"] for p in parts if p and p.get("stopped")]
    if stopped:  # the chunk recorded why (its gate or its input)
        raise AirflowFailException(f"{batch['delivery']}: {_chunks(stopped, parts)} stopped "
                                   "(see chunks.link): nothing loaded")  # fmt: skip
    missing = [e["index"] for e, p in zip(batch["chunks"], parts, strict=True) if p is None]
    if missing:  # (``stopped`` names the file)
        steps.stopped(batch, res, "load", UserError(
            f"{_chunks(missing, parts)} did not finish (see chunks.link)"))  # fmt: skip

    def work(batch):
        batch = finish_chunks(batch, res, [{k: p[k] for k in ("index", "rows", "timings",
                                                               "link_stats")} for p in parts])  # fmt: skip
        for stage in (stage_recheck, stage_status):
            batch = stage(batch, res)
        lifecycle.close_run(res, batch)
        return batch

    batch = steps.guarded("load", batch, res, work)
    steps.log_loaded(batch)
    return steps.report(res, batch)
