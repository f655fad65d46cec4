"""The re-check on its own: ``popsync recheck`` and the extract DAGs' ``recheck`` task.

A register load flags ``needs_recheck`` on the rows linked to a person whose identity changed;
the next batch of their source re-checks them after its load (``stage_recheck``). When no file
comes, ``recheck_source`` does it, as a run of its own: a run record of kind ``recheck``
(``running``, then ``loaded`` with its counts, or ``failed`` / ``blocked`` with the cause),
against the register the database holds now (the snapshot ``register/current.json`` names when
it is that one, else the file its load recorded), prepared or reused from the work area's cache
as a batch gets it (``prepare_register``), with the model of that snapshot and source
(``batch_model``; trained on the source's stored rows when no batch was linked against the
snapshot yet), then ``stage_recheck`` and ``stage_status``: the people whose status changed go
out with the next ``publish_status``. Nothing flagged: nothing done, no run."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from popsync.core.errors import UserError
from popsync.pipeline.lifecycle import fail_run, heartbeat, open_run
from popsync.pipeline.recheck import stage_recheck
from popsync.pipeline.register_cache import CURRENT_REGISTER
from popsync.pipeline.stages import stage_register
from popsync.pipeline.status import stage_status
from popsync.resources import Resources

STEPS = (("register", stage_register), ("recheck", stage_recheck), ("status", stage_status))


def recheck_source(res: Resources, source: str, run_date: str | None = None) -> dict[str, Any]:
    """Link again the rows of ``source`` flagged ``needs_recheck`` (every batch) against the
    current register, in a run of its own (see the module). ``run_date`` (the post-link rules'
    and the status's day): default the later of the register load's and the source's latest
    batch's. Returns ``source`` and ``flagged`` (rows waiting); when some were, also
    ``run_id``, ``rechecked``, ``changed``, ``quarantined``, ``deferred`` and ``status`` (the
    refresh's counts): no personal data."""
    spec = res.catalog.extract(source)
    with res.warehouse() as store:
        store.migrate()
        flagged = store.count_to_recheck(spec.id)
        if not flagged:
            return {"source": spec.id, "flagged": 0}
        register = store.latest_register_run()
        days = store.latest_batch_day(spec.id)
    if register is None:
        raise UserError(f"{spec.id}: {flagged:,} rows flagged for a re-check but no register "
                        "load in the warehouse")  # fmt: skip
    day = run_date or max((str(d) for d in (register["run_date"], days) if d),
                          default=dt.date.today().isoformat())  # fmt: skip
    batch = {"source": spec.id, "kind": "recheck", "delivery": None, "run_date": str(day),
             "input_path": register["input_file"], "input_sha256": register["input_sha256"],
             "register_run_id": register["run_id"], "timings": {}}  # fmt: skip
    batch = open_run(res, batch, owner_pid=os.getpid())  # every step runs in this process
    try:
        population = _register_file(res, register)
        batch |= {"population": str(population), "input_path": str(population)}
        for step, stage in STEPS:
            heartbeat(res, batch, step)
            batch = stage(batch, res)
            if step == "register" and batch["register_sha256"] != register["input_sha256"]:
                raise UserError(f"register file {population.name} changed since it was loaded "
                                f"(run {register['run_id']}): load it again first")  # fmt: skip
        done = {"rechecked": 0, "changed": 0, "quarantined": 0, "deferred": 0}
        done |= batch["recheck"]
        with res.warehouse() as store:
            store.close_recheck_run(batch["run_id"], {"flagged": flagged, **done,
                                    "status_changed": batch["status"]["changed"]},
                                    batch["timings"])  # fmt: skip
    except BaseException as error:
        fail_run(res, batch, error)
        raise
    status = {key: batch["status"][key] for key in ("seq", "people", "changed")}
    return {"source": spec.id, "flagged": flagged, "run_id": batch["run_id"], **done,
            "status": status, "register_run_id": register["run_id"]}  # fmt: skip


def summary_line(done: dict[str, Any]) -> str:
    """One line for a terminal or a task's log: the counts, never a person."""
    if not done["flagged"]:
        return f"recheck {done['source']}: nothing flagged, nothing to do"
    if done["deferred"]:
        return (f"recheck {done['source']}: {done['deferred']:,} of {done['flagged']:,} flagged "
                "rows deferred: another register snapshot was loaded meanwhile (run "
                f"{done['run_id']})")  # fmt: skip
    return (f"recheck {done['source']}: {done['rechecked']:,} rows re-checked, "
            f"{done['changed']:,} changed, {done['quarantined']:,} quarantined; "
            f"{done['status']['changed']:,} people's status changed (run {done['run_id']})")  # fmt: skip


def _register_file(res: Resources, register: dict[str, Any]) -> Path:
    """The file of the register load the database holds: the work area's copy that
    ``register/current.json`` names when it is that snapshot (any worker reaches it), else the
    path the load recorded."""
    area = res.workarea
    current = area.read_json(CURRENT_REGISTER)
    if (
        current
        and current.get("sha256") == register["input_sha256"]
        and area.exists(current["key"])
    ):
        return area.local_copy(current["key"])
    recorded = register.get("input_file")
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    raise UserError(
        f"the register the database holds (run {register['run_id']}) is neither in the work "
        f"area {area.url} ({CURRENT_REGISTER}) nor at the path its load recorded: load the "
        "register again, then re-check"
    )
