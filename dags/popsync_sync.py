"""
### popsync_sync

Sync the extracts (vaccination doses, F0 cases, BHXH periods) with the population register:
prepare the register once, then per extract read, standardize, validate ("Đúng, đủ, sạch,
sống"), link, validate again, load, re-check.

One mapped task instance per extract, named after its source. Every task calls the same
``popsync.pipeline`` function as ``popsync run`` does on the command line, and passes a small
JSON "batch" (work-area keys and counts) to the next; the data itself travels as Parquet files in
the work area. Loads are idempotent: clearing a task or re-running a date replaces its batch.
Each load emits an Asset event for its own table only (through the alias ``popsync_loads``).

The warehouse is the Airflow connection named by the ``warehouse_conn_id`` param (default
``popsync_warehouse``); without it, ``$POPSYNC_DATABASE_URL``; without that, the embedded
database in the work area.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, AssetAlias, Param, dag, get_current_context, task

from popsync import pipeline
from popsync.core.sources import load_catalog

LOADS = AssetAlias("popsync_loads")
TABLE_ASSETS = {
    spec.id: Asset(name=spec.asset_name, uri=f"popsync://warehouse/{spec.table}")
    for spec in load_catalog().extracts
}


def _resources(params: dict):
    """The run's resources: the warehouse URL from an Airflow connection, else the environment."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from popsync.resources import Resources

    try:
        uri = BaseHook.get_connection(params["warehouse_conn_id"]).get_uri()
        url = uri.replace("postgres://", "postgresql://", 1)
    except AirflowNotFoundException:
        url = None
    return Resources.from_environment(database_url=url, workdir=params["workdir"] or None)


def _stage_task(stage, **task_kwargs):
    """A mapped task that runs one pipeline stage on one batch, labelled with its source."""

    def run_stage(batch: dict) -> dict:
        context = get_current_context()
        context["source"] = batch["source"]
        return stage(batch, _resources(context["params"]))

    return task(
        run_stage,
        task_id=pipeline.stage_name(stage),
        map_index_template="{{ source }}",
        **task_kwargs,
    )


@dag(
    dag_id="popsync_sync",
    schedule="@daily",
    start_date=dt.datetime(2021, 3, 8),  # the vaccination campaign: any extract date can be rerun
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["popsync", "de-an-06"],
    params={
        "samples": Param(
            "data_samples",
            type="string",
            title="Extract folder",
            description="Folder with manifest.json naming the register and extract files.",
        ),
        "run_date": Param(
            None,
            type=["null", "string"],
            title="Run date (YYYY-MM-DD)",
            description="Empty: the run's logical date, else the folder's extract date.",
        ),
        "workdir": Param(None, type=["null", "string"], title="Work area (folder or URL)"),
        "warehouse_conn_id": Param(
            "popsync_warehouse", type="string", title="Warehouse connection"
        ),
    },
)
def popsync_sync():
    @task
    def plan() -> list[dict]:
        context = get_current_context()
        params = context["params"]
        logical = context.get("logical_date")
        run_date = params["run_date"] or (logical.date().isoformat() if logical else None)
        return pipeline.plan_batches(params["samples"], load_catalog(), run_date=run_date)

    @task
    def register(batches: list[dict]) -> list[dict]:
        """The register once for every batch (they share one register file)."""
        params = get_current_context()["params"]
        if not batches:
            return []
        first = batches[0]
        prepared = pipeline.prepare_register(
            _resources(params), first["population"], first["run_date"]
        )
        return [batch | prepared for batch in batches]

    @task(outlets=[LOADS], map_index_template="{{ source }}")
    def load(batch: dict) -> dict:
        context = get_current_context()
        context["source"] = batch["source"]
        loaded = pipeline.stage_load(batch, _resources(context["params"]))
        context["outlet_events"][LOADS].add(
            TABLE_ASSETS[batch["source"]], extra={"run_id": loaded["run_id"], **loaded["counts"]}
        )
        return loaded

    batches = register(plan())
    for stage in pipeline.STAGES[1:]:
        if stage is pipeline.stage_load:
            batches = load.expand(batch=batches)
        else:
            batches = _stage_task(stage).expand(batch=batches)
    _stage_task(pipeline.finish_batch).expand(batch=batches)


popsync_sync()
