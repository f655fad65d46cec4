"""
### popsync_sync

Sync the three extracts (vaccination doses, F0 cases, BHXH periods) with the population
register: read, standardize, validate ("Đúng, đủ, sạch, sống"), link, validate again, load.

One mapped task instance per extract, named after its source. Every task calls the same
``popsync.pipeline`` stage as ``popsync run`` does on the command line, and passes a small
JSON "batch" (paths and counts) to the next; the data itself travels as Parquet files in the
work directory. Loads are idempotent: clearing a task or re-running a date replaces its batch.

The warehouse is the Airflow connection named by the ``warehouse_conn_id`` param (default
``popsync_warehouse``); without it, ``$POPSYNC_DATABASE_URL``; without that, the embedded
database under the work directory.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import Asset, Param, dag, get_current_context, task

from popsync import TABLE_OF_SOURCE, pipeline

WAREHOUSE_ASSETS = [
    Asset(name=f"popsync_{table}", uri=f"popsync://warehouse/{table}")
    for table in TABLE_OF_SOURCE.values()
]


def _warehouse_url(conn_id: str) -> str | None:
    """The warehouse URL from an Airflow connection, else the environment, else None (embedded)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        uri = BaseHook.get_connection(conn_id).get_uri()
    except AirflowNotFoundException:
        return os.environ.get("POPSYNC_DATABASE_URL")
    return uri.replace("postgres://", "postgresql://", 1)


def _stage_task(stage, **task_kwargs):
    """A mapped task that runs one pipeline stage on one batch, labelled with its source."""

    def run_stage(batch: dict) -> dict:
        context = get_current_context()
        context["source"] = batch["source"]
        if stage is pipeline.stage_load:
            return stage(batch, database_url=_warehouse_url(context["params"]["warehouse_conn_id"]))
        return stage(batch)

    return task(
        run_stage,
        task_id=stage.__name__.removeprefix("stage_"),
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
            "",
            type="string",
            title="Run date (YYYY-MM-DD)",
            description="Empty: the run's logical date.",
        ),
        "workdir": Param(".popsync", type="string", title="Work directory"),
        "warehouse_conn_id": Param(
            "popsync_warehouse", type="string", title="Warehouse connection"
        ),
    },
)
def popsync_sync():
    @task
    def plan(params: dict, ds: str) -> list[dict]:
        return pipeline.plan_batches(
            params["samples"], run_date=params["run_date"] or ds, workdir=params["workdir"]
        )

    batches = plan()
    for stage in pipeline.STAGES[:-1]:
        batches = _stage_task(stage).expand(batch=batches)
    loaded = _stage_task(pipeline.stage_load, outlets=WAREHOUSE_ASSETS).expand(batch=batches)
    _stage_task(pipeline.finish_batch).expand(batch=loaded)


popsync_sync()
