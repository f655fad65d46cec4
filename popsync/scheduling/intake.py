"""What a DAG run works on, through ``popsync.pull`` (the same pull, ledger and settings as
``popsync pull``): a source's new items, each fetched into the work area and started as a batch,
and the register snapshot the extracts are linked to.

The register's DAG records the snapshot it loaded in the work area (``register/current.json``:
its work-area key, sha256 and date); the extracts' DAGs link to that one, so every extract of a
day uses the same register and no worker reads it from a disk of its own."""

from __future__ import annotations

import re
from typing import Any

from popsync import pull
from popsync.core.errors import UserError
from popsync.core.files import file_sha256
from popsync.pipeline.register_cache import CURRENT_REGISTER
from popsync.resources import Resources

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def settings(res: Resources, source: str) -> pull.PullSettings:
    """Where the source's deliveries are: Airflow's connections and Variables, else the
    environment (``popsync.pull.airflow_settings``)."""
    from popsync.pull.airflow_settings import settings_from_airflow

    return settings_from_airflow(res.catalog[source])


def pending(res: Resources, source: str) -> list[dict[str, Any]]:
    """The source's items not processed yet (files oldest first, then the table's slice)."""
    return [item.to_dict() for item in pull.pending(res, settings(res, source))]


def start_batch(res: Resources, item: dict[str, Any], run_day: str) -> dict[str, Any] | None:
    """Fetch one item into the work area (unless ``pull`` fetched it: it has its ``key``) and
    start its batch against the current register; None when the ledger says it was processed
    meanwhile. Its date: the file's, else the run's day (a table slice)."""
    if item.get("key") and item.get("sha256"):
        fetched = pull.PullItem.from_dict(item)
    else:
        fetched = pull.fetch(res, item, settings(res, item["source"]))
    if pull.processed(res, fetched):
        return None
    register = current_register(res)
    return pull.start_batch(res, fetched, register["key"], fetched.run_date or run_day)


def current_register(res: Resources, required: bool = True) -> dict[str, Any] | None:
    """The register snapshot the register's DAG loaded last; before any, None or (``required``)
    a ``UserError``."""
    found = res.workarea.read_json(CURRENT_REGISTER)
    if not found and required:
        raise UserError(
            f"no register loaded yet in {res.workarea.url}: run population_register_sync first"
        )
    return found


def newest_register(res: Resources, run_day: str) -> dict[str, Any] | None:
    """The newest register snapshot of its landing area, fetched into the work area, as a
    batch to validate; None when it is the one loaded already."""
    spec = res.catalog.register
    key = pull.fetch_register(res, settings(res, spec.id))
    current = current_register(res, required=False)
    if current and current["key"] == key:
        return None
    path = res.workarea.local_copy(key)
    dated = _DATE.search(path.name)
    return {"source": spec.id, "delivery": path.name, "key": key, "input_path": str(path),
            "input_sha256": file_sha256(path), "run_date": dated.group(0) if dated else run_day}  # fmt: skip


def set_current_register(res: Resources, batch: dict[str, Any]) -> dict[str, Any]:
    """Record the register snapshot just loaded as the one extracts link to."""
    current = {"key": batch["key"], "sha256": batch["input_sha256"], "date": batch["run_date"],
               "run_id": batch.get("run_id")}  # fmt: skip
    res.workarea.write_json(CURRENT_REGISTER, current)
    return current
