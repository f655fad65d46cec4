"""The batch record: one extract file of one source against one register snapshot, as a plain
JSON dict (what to run, then the work-area keys, scores, counts and timings the stages add), so
that a stage can be an Airflow task (XCom) and a CLI step alike.

A batch's files live in the work area under ``batches/<source>/<sha256[:16]>/`` (``folder``):
``standardized.personal.parquet``, ``findings_pre.parquet``, ``linked.personal.parquet``,
``candidates.personal.parquet``, ``findings_post.parquet``, ``summary.json``, ``data_docs/``,
``report.html`` (a run in chunks, ``pipeline.chunks``, writes its rows under ``chunks/``).
Files named ``*.personal.*`` hold personal data unmasked (names, IDs, the register
candidates' IDs); the others are masked. The register's under ``register/<sha256[:16]>.*``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from popsync.core.errors import UserError
from popsync.core.sources import SourceCatalog


def require_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist or is not a file")
    return path


def as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def new_batch(
    source: str,
    input_path: str | Path,
    population: str | Path,
    run_date: dt.date | str,
    delivery: str | None = None,
    mode: str = "replace",
    linkage_settings: str | Path | None = None,
) -> dict[str, Any]:
    """The starting dict of one batch. Input paths are made absolute: a task on another
    worker must not depend on this process's working directory.

    ``delivery`` names what the file is a version of (default: the file's name): a later
    file of the same delivery replaces this one whole (``mode`` ``replace``), or its rows
    replace the same record ids (``upsert``, for incremental pulls).

    ``linkage_settings``: a settings file for the link stage (default: the source
    declaration's, else the shipped one).

    The warehouse URL is not part of it (it may hold a password, and batches are logged and
    stored as XCom): the stages take it from ``Resources``."""
    input_path = require_file(input_path, f"{source} extract").resolve()
    batch = {
        "source": source,
        "delivery": delivery or input_path.name,
        "mode": mode,
        "input_path": str(input_path),
        "population": str(require_file(population, "register file").resolve()),
        "run_date": str(as_date(run_date)),
        "timings": {},
    }
    if linkage_settings is not None:
        path = require_file(linkage_settings, "linkage settings file").resolve()
        batch["linkage_settings"] = str(path)
    return batch


def batch_folder(source: str, sha256: str) -> str:
    """The work-area key of a batch's folder."""
    return f"batches/{source}/{sha256[:16]}"


def in_folder(batch: dict[str, Any], name: str) -> str:
    return f"{batch['folder']}/{name}"


def plan_batches(
    samples: str | Path,
    catalog: SourceCatalog,
    run_date: dt.date | str | None = None,
    sources: tuple[str, ...] | None = None,
    linkage_settings: str | Path | None = None,
) -> list[dict[str, Any]]:
    """One batch per extract of a folder written by ``popsync generate`` (its ``manifest.json``
    names each source's file). Without a run date, the folder's own extract date is used, so a
    sample set keeps passing its freshness rules whatever day it is run on."""
    samples = Path(samples)
    manifest_path = samples / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(
            f"{samples} has no manifest.json: expected a folder written by 'popsync generate'"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = {source: samples / entry["file"] for source, entry in manifest["sources"].items()}
    register = catalog.register.id
    if register not in files:
        raise UserError(f"{manifest_path} names no register ({register}) file")
    run_date = run_date or manifest["extract_date"]
    wanted = sources or tuple(spec.id for spec in catalog.extracts)
    return [
        new_batch(
            source, files[source], files[register], run_date, linkage_settings=linkage_settings
        )
        for source in wanted
        if source in files
    ]
