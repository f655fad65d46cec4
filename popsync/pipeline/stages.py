"""The stages of one batch, each ``batch -> batch`` with the ``Resources`` it works with: read
and standardize, validate before linking, link, validate after linking, load. Each reads its
inputs from the work area and writes its outputs there, so an Airflow task can run it on any
worker with XCom values, and the CLI can run it in a loop: a DAG run and a CLI run do the same.

The register is prepared once per snapshot and run date (``prepare_register``), before the
batches that link to it; ``stage_recheck`` (``pipeline.recheck``) follows the load.
"""

from __future__ import annotations

import functools
import json
import uuid
from pathlib import Path
from typing import Any

from popsync.core.errors import UserError
from popsync.core.files import file_sha256
from popsync.core.sources import SourceSpec
from popsync.core.timing import Steps
from popsync.pipeline.batch import (
    as_date,
    batch_folder,
    in_folder,
    require_file,
)
from popsync.pipeline.register_cache import checked_register, is_current, register_keys
from popsync.resources import Resources

FINDINGS_FILES = ("findings_pre.parquet", "findings_post.parquet")


def read_standardized(path: str | Path, spec: SourceSpec):
    """Read one source file and standardize it (the first two steps of every command)."""
    from transforms.readers import read_source
    from transforms.standardize import standardize

    what = "register file" if spec.role == "register" else f"{spec.id} extract"
    return standardize(read_source(require_file(path, what), spec), spec)


def _timed(stage: str):
    """Record the stage's wall time in ``batch["timings"]``."""

    def wrap(func):
        @functools.wraps(func)
        def run(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
            steps = Steps()
            with steps.step(stage):
                result = func(dict(batch), res)
            result["timings"] = {**batch.get("timings", {}), **steps.seconds}
            return result

        return run

    return wrap


def prepare_register(res: Resources, population: str | Path, run_date: str) -> dict[str, Any]:
    """Read, standardize and validate the register, once per file content (cached in the work
    area with its findings and scores). Raises ``expectations.BatchBlocked`` when the register
    cannot serve as the reference: every batch linked to it stops.

    The register's freshness and its "not after the run date" rules depend on the run date, so a
    cached register is validated again (from its cached Parquet) for another run date.
    Returns the batch keys ``register``, ``register_sha256``, ``register_findings`` and
    ``register_scores``."""
    import expectations

    area = res.workarea
    population, sha, target, findings_key, scores_key = register_keys(population)
    stored = area.read_json(scores_key, default={})
    run_date = str(as_date(run_date))
    if not is_current(area, target, findings_key, stored, run_date):
        if area.exists(target):
            register = area.read_parquet(target)
        else:
            register = read_standardized(population, res.catalog.register)
        result = expectations.validate_register(
            register, as_date(run_date), source=res.catalog.register
        )
        area.write_parquet(result.findings, findings_key)
        stored = {
            "run_date": run_date,
            "scores": result.scores,
            "blocked": [[rule, count] for rule, count in result.blocked],
        }
        area.write_json(scores_key, stored)
        if not result.blocked and not area.exists(target):
            area.write_parquet(register, target)
    return checked_register(res, sha, target, findings_key, stored)


@_timed("register")
def stage_register(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """The batch's register, prepared (``prepare_register``)."""
    return batch | prepare_register(res, batch["population"], batch["run_date"])


@_timed("standardize")
def stage_standardize(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Read and standardize the extract: one row per input row, same order."""
    from transforms.row_keys import with_unique_record_ids

    spec = res.catalog.extract(batch["source"])
    sha = file_sha256(require_file(batch["input_path"], f"{spec.id} extract"))
    standardized = with_unique_record_ids(read_standardized(batch["input_path"], spec))
    batch.update(input_sha256=sha, folder=batch_folder(spec.id, sha), rows_read=len(standardized))
    batch["standardized"] = res.workarea.write_parquet(
        standardized, in_folder(batch, "standardized.personal.parquet")
    )
    return batch


def _docs_dir(batch: dict[str, Any], res: Resources) -> Path:
    return res.workarea.local_path(in_folder(batch, "data_docs"))


def _gate(batch: dict[str, Any], res: Resources, result, findings_name: str) -> dict[str, Any]:
    """Write a validation stage's findings into the batch folder, raise
    ``expectations.BatchBlocked`` on a blocking finding; return the stage's scores."""
    import expectations

    res.workarea.write_parquet(result.findings, in_folder(batch, findings_name))
    expectations.raise_if_blocked(result)
    return result.scores


@_timed("validate_pre")
def stage_validate_pre(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Pre-link quality gate. Raises ``expectations.BatchBlocked`` on a blocking finding."""
    import expectations

    result = expectations.validate_pre_link(
        res.workarea.read_parquet(batch["standardized"]),
        res.catalog.extract(batch["source"]),
        as_date(batch["run_date"]),
        docs_dir=_docs_dir(batch, res),
    )
    batch["scores_pre"] = _gate(batch, res, result, "findings_pre.parquet")
    return batch


@_timed("link")
def stage_link(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Link every row to the register: ``linked.personal.parquet`` and the review
    ``candidates.personal.parquet`` (unmasked IDs: named as personal), with the model of the
    register snapshot and source (``pipeline.linkage``; its key in ``batch["link_model"]``)."""
    import matching
    from popsync.pipeline.linkage import batch_model, batch_settings

    area = res.workarea
    extract = area.read_parquet(batch["standardized"])
    register = area.read_parquet(batch["register"])
    settings = batch_settings(batch, res)
    model, batch["link_model"] = batch_model(batch, res, settings, register, extract)
    result = matching.link(register, extract, settings, model=model)
    decisions = result.decisions[["record_id", "so_dinh_danh", "decision", "score", "explanation"]]
    linked = extract.join(decisions.drop(columns="record_id").set_axis(extract.index))
    area.write_parquet(result.candidates, in_folder(batch, "candidates.personal.parquet"))
    batch["link_stats"] = json.loads(json.dumps(result.stats, default=str))
    batch["linked"] = area.write_parquet(linked, in_folder(batch, "linked.personal.parquet"))
    return batch


@_timed("validate_post")
def stage_validate_post(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Post-link quality gate against the register."""
    import expectations

    area = res.workarea
    spec = res.catalog.extract(batch["source"])
    rows = area.read_parquet(batch["linked"])
    result = expectations.validate_post_link(
        rows,
        rows[["record_id", "so_dinh_danh", "decision", "score"]],
        area.read_parquet(batch["register"]),
        spec,
        as_date(batch["run_date"]),
        docs_dir=_docs_dir(batch, res),
    )
    batch["scores_post"] = _gate(batch, res, result, "findings_post.parquet")
    batch["scores"] = expectations.pillar_scores(
        batch_findings(batch, res), batch["rows_read"], expectations.repair_rules(spec)
    )
    return batch


@_timed("load")
def stage_load(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Split rows into loaded / quarantined / review and load the batch in one transaction,
    then check ``rows read = loaded + quarantined + review`` against the database. The run id
    is the batch's own when it has one (a pull names its run before it starts)."""
    from popsync import warehouse

    area = res.workarea
    load = warehouse.build_batch(
        **load_meta(batch),
        rows=area.read_parquet(batch["linked"]),
        findings=batch_findings(batch, res),
        candidates=area.read_parquet(in_folder(batch, "candidates.personal.parquet")),
        timings=batch.get("timings", {}),
    )
    with res.warehouse() as store:
        store.migrate()
        register_load = store.load_register(
            area.read_parquet(batch["register"]),
            register_run(batch),
            findings=area.read_parquet(batch["register_findings"]),
        )
        raise_if_stale_register(batch, register_load)
        loaded = store.load_batch(load)
    return batch | load_result(load.run_id, loaded, register_load)


def load_meta(batch: dict[str, Any]) -> dict[str, Any]:
    """What the warehouse's batch record takes from the batch (its run id, new unless the batch
    has one: a pull names its run before it starts)."""
    return {
        "run_id": batch.get("run_id") or str(uuid.uuid4()),
        "source": batch["source"],
        "delivery": batch["delivery"],
        "mode": batch.get("mode", "replace"),
        "input_file": batch["input_path"],
        "input_sha256": batch["input_sha256"],
        "run_date": as_date(batch["run_date"]),
    }


def load_result(run_id: str, loaded: dict[str, Any], register_load: dict[str, Any]) -> dict:
    """The batch keys a load adds: ``run_id``, ``counts``, ``version``, ``rows_retired`` and
    ``register_run_id``."""
    counts = {name: loaded[f"rows_{name}"] for name in ("read", "loaded", "quarantined", "review")}
    return {"run_id": run_id, "counts": counts, "version": loaded["version"],
            "rows_retired": loaded["rows_retired"], "register_run_id": register_load["run_id"]}  # fmt: skip


def register_run(batch: dict[str, Any]) -> dict[str, Any]:
    """The run record of the batch's register, for the warehouse's register load."""
    return {
        "delivery": Path(batch["population"]).name,
        "input_file": batch["population"],
        "input_sha256": batch["register_sha256"],
        "run_date": batch["run_date"],
    }


def raise_if_stale_register(batch: dict[str, Any], register_load: dict[str, Any]) -> None:
    """Stop the batch (``UserError``) when its register is older than the one the database
    holds: it was linked against people as they no longer are."""
    if register_load.get("stale_people"):
        raise UserError(
            f"register {Path(batch['population']).name} is older than the one the database "
            f"holds: {register_load['stale_people']:,} of its people have changed since "
            "(a later snapshot was loaded); the batch was linked against people as they "
            "no longer are. Run it with the current register snapshot."
        )


def batch_findings(batch: dict[str, Any], res: Resources):
    """The batch's findings of both validation stages (those written so far), as one frame."""
    import pandas as pd

    keys = [in_folder(batch, name) for name in FINDINGS_FILES]
    parts = [res.workarea.read_parquet(key) for key in keys if res.workarea.exists(key)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
