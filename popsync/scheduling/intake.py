"""What a DAG run works on: the pulled items of a source (``popsync.pull``) turned into batches,
and the register snapshot the extracts are linked to.

The register's DAG records the snapshot it loaded in the work area (``register/current.json``:
the file, its sha256 and date); the extracts' DAGs link to that one, so every extract of a day
uses the same register and none reads it from a worker's disk of its own."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from popsync.core.errors import UserError
from popsync.pipeline.batch import file_sha256, new_batch
from popsync.resources import Resources

CURRENT_REGISTER = "register/current.json"
_DATED = re.compile(r"_(\d{4}-\d{2}-\d{2})\.(csv|xlsx|parquet)$")


def _landing(source: str) -> Path:
    import os

    folder = os.environ.get(f"POPSYNC_LANDING_{source.upper()}") or ""
    if not folder:
        raise UserError(f"{source}: no landing area (set POPSYNC_LANDING_{source.upper()})")
    return Path(folder)


def pending(res: Resources, source: str) -> list[dict[str, Any]]:
    """The source's files not processed yet (the ledger knows the others), oldest first."""
    items = []
    with res.warehouse() as store:
        store.migrate()
        for path in sorted(_landing(source).glob(f"{source}_*")):
            dated = _DATED.search(path.name)
            if not dated:
                continue
            sha = file_sha256(path)
            state = store.delivery_state(source, path.name, sha)
            if state and state["status"] in ("loaded", "blocked", "superseded"):
                continue
            sidecar = path.with_name(path.name + ".count")
            stated = int(sidecar.read_text().strip()) if sidecar.exists() else None
            items.append({"source": source, "delivery": path.name, "path": str(path),
                          "date": dated.group(1), "sha256": sha, "stated_rows": stated})  # fmt: skip
    return sorted(items, key=lambda item: (item["date"], item["delivery"]))


def current_register(res: Resources, required: bool = True) -> dict[str, Any] | None:
    """The register snapshot the register's DAG loaded last; before any, None or (``required``)
    a ``UserError``."""
    found = res.workarea.read_json(CURRENT_REGISTER)
    if not found and required:
        raise UserError(
            f"no register loaded yet in {res.workarea.url}: run population_register_sync first"
        )
    return found


def set_current_register(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Record the register snapshot just loaded as the one extracts link to."""
    current = {"population": batch["input_path"], "sha256": batch["register_sha256"],
               "date": batch["run_date"], "run_id": batch.get("run_id")}  # fmt: skip
    res.workarea.write_json(CURRENT_REGISTER, current)
    return current


def batch_of(item: dict[str, Any], population: str, run_day: str) -> dict[str, Any]:
    """The batch of one pulled item: its file, the register, and its date (the file's own,
    else the run's day)."""
    run_date = item.get("date") or run_day
    dt.date.fromisoformat(run_date)
    batch = new_batch(item["source"], item["path"], population, run_date, item["delivery"])
    return batch | {"stated_rows": item.get("stated_rows")}
