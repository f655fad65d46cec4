"""``popsync rerun RUN_ID``: the batch of a run again, from what the work area kept (the pulled
copy of its input and how it was run), whatever the ledger says of it; the new run replaces the
earlier one's rows (same content: ``replaced``; ``run`` records both)."""

from __future__ import annotations

from typing import Any

from popsync.core.errors import UserError
from popsync.pipeline.batch import batch_folder, new_batch
from popsync.pipeline.run import run_batch
from popsync.pull.fetch import item_key
from popsync.pull.item import PullItem
from popsync.pull.run import run_item
from popsync.resources import Resources


def rerun(res: Resources, run_id: str, echo: bool = False) -> dict[str, Any]:
    """Run the batch of ``run_id`` again. A pulled batch is run from its copy in the work area
    with the register and run date it had; a batch of ``popsync run`` from the paths its
    ``summary.json`` names. Returns the outcome (as ``run_item``'s)."""
    with res.warehouse() as store:
        store.migrate()
        found = store.fetch(
            "SELECT source, delivery, input_sha256, kind FROM run WHERE run_id = %s", (run_id,)
        )
    if not found:
        raise UserError(f"no run {run_id!r} in the warehouse")
    source, delivery, sha, kind = found[0]
    if kind == "recheck":
        raise UserError(f"run {run_id!r} was a re-check: run 'popsync recheck {source}'")
    if source == res.catalog.register.id:
        raise UserError(f"run {run_id!r} loaded the register: rerun a batch of an extract")
    if not sha:
        raise UserError(f"run {run_id!r} has no input recorded: nothing to run again")
    area = res.workarea
    key = item_key(source, sha, delivery)
    if area.exists(key + ".pull.json") and area.exists(key + ".run.json"):
        item = PullItem.from_dict(area.read_json(key + ".pull.json"))
        how = area.read_json(key + ".run.json")
        return run_item(res, item, how["population"], how["run_date"], echo=echo, force=True)
    summary = area.read_json(f"{batch_folder(source, sha)}/summary.json")
    if not summary:
        raise UserError(
            f"run {run_id!r}: the work area {area.url} kept neither its pulled input nor its "
            "summary: run it with 'popsync run' and its file"
        )
    batch = new_batch(source, summary["input_path"], summary["population"],
                      summary["run_date"], delivery=delivery, mode=summary.get("mode", "replace"))  # fmt: skip
    done = run_batch(batch, res, echo=echo)
    return {"source": source, "delivery": delivery, "outcome": "loaded", "run_id": done["run_id"],
            "rows": done["counts"], "report": done["report"]}  # fmt: skip
