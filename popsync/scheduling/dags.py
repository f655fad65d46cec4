"""The DAGs, one per declared source (``build_dags``).

Every task has a timeout and retries with exponential backoff, the quality gates
(``validate_pre``, ``validate_post``, the register's ``validate``) too: they read and write the
warehouse, and a refused connection there is worth a retry. A block is not: the gate raises
``AirflowFailException``, which Airflow never retries (a block is final until the data changes).
Only ``outcome``, which fails on purpose when a file did not load, has no retry. Runs need no Params and no logical date (manual runs have none): a batch's date is its
file's, else the run's day.

An extract's DAG: ``pull`` (each new item fetched into the work area) → one mapped group per
pulled item, ``file`` (``standardize`` → ``validate_pre`` → ``link`` → ``validate_post`` →
``load`` → ``report``); a file of more rows than the chunk size goes the ``chunks`` path
instead (``popsync.scheduling.chunked``: a mapped ``link`` per chunk, on any worker, then one
``load`` of the whole batch) → ``recheck`` (whatever became of the files, even when none came:
the source's rows a register change flagged, linked again in a run of its own, as ``popsync
recheck``; skipped when none is flagged) → ``publish_status`` (whatever loaded, even when a
file failed, or the statuses the re-check changed) → ``outcome`` (fails the run, naming the
files that did not load and a failed re-check, so a run with a blocked file is red while the
other files are loaded and published)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from popsync.core.sources import SourceCatalog, SourceSpec, load_catalog
from popsync.pipeline.status import STATUS_ASSET
from popsync.scheduling import chunked, steps
from popsync.scheduling import context as ctx

TZ = "Asia/Ho_Chi_Minh"
# The register is pulled at 01:00 and the extracts at 02:00, Vietnam time, every day.
REGISTER_CRON = "0 1 * * *"
EXTRACTS_CRON = "0 2 * * *"
START = dt.datetime(2021, 3, 8, tzinfo=dt.UTC)  # the vaccination campaign's first day
MINUTES = dt.timedelta(minutes=1)
# execution_timeout per step (minutes): sized for a city's extract (about 13M rows).
TIMEOUTS = {"pull": 30, "standardize": 60, "validate_pre": 60, "link": 120,
            "validate_post": 60, "load": 90, "report": 30, "recheck": 120,
            "publish_status": 30, "outcome": 5, "validate": 60, "fan_out": 5}  # fmt: skip
NEVER_RETRIED = ("outcome",)


def _retry_delay() -> dt.timedelta:
    """First retry after ``POPSYNC_RETRY_DELAY_SECONDS`` (default 60 s), then doubling."""
    return dt.timedelta(seconds=float(os.environ.get("POPSYNC_RETRY_DELAY_SECONDS", "60")))


def task_options(step: str) -> dict[str, Any]:
    """Timeout and retry policy of a step; its log ends with the step's summary line, not the
    batch record it returns (scores, blocking counts, the whole linkage model)."""
    options = {"task_id": step, "execution_timeout": TIMEOUTS[step] * MINUTES,
               "show_return_value_in_logs": False}  # fmt: skip
    if step in NEVER_RETRIED:
        return options | {"retries": 0}
    return options | {"retries": 4, "retry_delay": _retry_delay(),
                      "retry_exponential_backoff": 2.0, "max_retry_delay": 30 * MINUTES}  # fmt: skip


def _labelled(batch: dict[str, Any]) -> None:
    """Name the mapped task instance after its file (``map_index_template``)."""
    from airflow.sdk import get_current_context

    get_current_context()["delivery"] = batch.get("delivery", "")


def extract_dag(spec: SourceSpec, register_asset):
    """The DAG of one extract source."""
    from airflow.sdk import (
        Asset,
        AssetOrTimeSchedule,
        CronTriggerTimetable,
        dag,
        get_current_context,
        task,
        task_group,
    )
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    table = Asset(name=spec.asset_name, uri=f"popsync://warehouse/{spec.table}")
    status_asset = Asset(name=STATUS_ASSET, uri="popsync://warehouse/person_status")
    label = {"map_index_template": "{{ delivery }}"}

    def stage(step: str, work, **more):
        @task(**task_options(step), **label, **more)
        def run(batch: dict) -> dict:
            _labelled(batch)
            return work(ctx.task_resources(), batch)

        return run

    @dag(
        dag_id=spec.dag_name,
        description=f"{spec.title}: pull, standardize, validate, link, validate, load, report",
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(EXTRACTS_CRON, timezone=TZ), assets=[register_asset]
        ),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["popsync", spec.id],
        doc_md=f"### {spec.dag_name}\n\n{spec.title} ({spec.title_vi}).\n\n{__doc__}",
    )
    def extract_sync():
        @task(**task_options("pull"))
        def pull() -> list[dict]:
            """The new items, fetched: those for the ``file`` path; the large ones for the
            ``chunks`` path in the XCom ``chunked``."""
            res, context = ctx.task_resources(), get_current_context()
            rows = chunked.chunk_rows(getattr(context["dag_run"], "conf", None))
            routed = chunked.route(res, steps.pull_items(res, spec.id), rows)
            context["ti"].xcom_push(key="chunked", value=routed["chunked"])
            return routed["whole"]

        @task(**task_options("standardize"), **label)
        def standardize(item: dict) -> dict:
            _labelled(item)
            day = ctx.run_day(get_current_context())
            batch = steps.standardize(ctx.task_resources(), item, day)
            if batch is None:
                raise AirflowSkipException(f"{item['delivery']} was processed meanwhile")
            return batch

        @task(**task_options("load"), **label, outlets=[table])
        def load(batch: dict) -> dict:
            _labelled(batch)
            return _loaded_event(table, steps.load(ctx.task_resources(), batch))

        @task_group(group_id="file")
        def one_file(item: dict):
            batch = standardize(item)
            for step in ("validate_pre", "link", "validate_post"):
                batch = stage(step, getattr(steps, step))(batch)
            return stage("report", steps.report)(load(batch))

        @task_group(group_id="chunks")
        def in_chunks(whole: list[dict]):
            @task(**task_options("pull"))
            def pulled(whole: list[dict]) -> list[dict]:
                """The items ``pull`` put on this path (``whole``: the others)."""
                return _chunked(get_current_context())

            @task(**task_options("standardize"), **label)
            def standardize(item: dict) -> dict:
                _labelled(item)
                context = get_current_context()
                rows = chunked.chunk_rows(getattr(context["dag_run"], "conf", None))
                batch = chunked.plan(ctx.task_resources(), item, ctx.run_day(context), rows)
                if batch is None:
                    raise AirflowSkipException(f"{item['delivery']} was processed meanwhile")
                return batch

            @task(**task_options("fan_out"), trigger_rule="all_done")
            def fan_out(batches) -> list[dict]:
                # (by index: iterating the mapped XComs past their end logs an error)
                return chunked.fan_out([batches[i] for i in range(len(batches))])

            @task(**task_options("link"), map_index_template="{{ delivery }}")
            def link(part: dict) -> dict:
                get_current_context()["delivery"] = (
                    f"{part['batch']['delivery']} #{part['index'] + 1}")  # fmt: skip
                return chunked.link(ctx.task_resources(), part)

            @task(**task_options("load"), **label, trigger_rule="all_done", outlets=[table])
            def load(batch: dict) -> dict:
                _labelled(batch)
                return _loaded_event(table, chunked.load(ctx.task_resources(), batch))

            batches = standardize.expand(item=pulled(whole))
            linked = link.expand(part=fan_out(batches))
            return linked >> load.expand(batch=batches)

        @task(**task_options("recheck"), trigger_rule="all_done")
        def recheck() -> dict:
            """The rows a register change flagged, whether a file came or not."""
            from popsync.pipeline.recheck_run import summary_line

            done = steps.recheck(ctx.task_resources(), spec.id)
            if not done["flagged"]:
                raise AirflowSkipException(summary_line(done))
            return done

        @task(**task_options("publish_status"), trigger_rule="all_done", outlets=[status_asset])
        def publish_status(items: list[dict]) -> dict:
            context = get_current_context()
            rechecked = context["ti"].xcom_pull(task_ids="recheck") or {}
            if not any(report for _, report in _reports(context, items)) and not rechecked.get(
                "status", {}
            ).get("changed"):
                raise AirflowSkipException("nothing loaded in this run and no status changed by "
                                           "the re-check: nothing to publish")  # fmt: skip
            done = steps.publish(ctx.task_resources(), ctx.feed_dir())
            context["outlet_events"][status_asset].extra = {
                "publication_id": done["publication_id"], "people": done["people"]}  # fmt: skip
            return {key: done[key] for key in ("publication_id", "people", "path")}

        @task(**task_options("outcome"), trigger_rule="all_done")
        def outcome(items: list[dict]) -> None:
            context = get_current_context()
            outcomes = _reports(context, items)
            missing = [item["delivery"] for item, done in outcomes if done is None]
            items = [item for item, _ in outcomes]
            recheck_failed = _recheck_failed(context)
            steps.log.info("outcome %s: %d of %d item(s) loaded%s%s", spec.id,
                           len(items) - len(missing), len(items),
                           f"; not loaded: {', '.join(missing)}" if missing else "",
                           "; the re-check FAILED" if recheck_failed else "")  # fmt: skip
            if missing:
                raise AirflowFailException(
                    f"{len(missing)} of {len(items)} item(s) did not load: {', '.join(missing)} "
                    "(see the file's tasks: a BLOCKED gate or a failure)"
                )
            if recheck_failed:
                raise AirflowFailException("the re-check failed (see the recheck task and its "
                                           "run record): the flagged rows wait for the next run")  # fmt: skip

        items = pull()
        done = [one_file.expand(item=items), in_chunks(items)]
        published = publish_status(items)
        done >> recheck() >> published >> outcome(items)

    return extract_sync()


def _loaded_event(table, loaded: dict) -> dict:
    """The table's Asset event of a load: its run, delivery and counts in ``extra``."""
    from airflow.sdk import get_current_context

    events = get_current_context()["outlet_events"]
    events[table].extra = {"run_id": loaded["run_id"], "delivery": loaded["delivery"],
                           **loaded["counts"]}  # fmt: skip
    return loaded


def _recheck_failed(context) -> bool:
    """Whether this run's ``recheck`` task failed (its run record says why)."""
    ti = context["ti"]
    return bool(ti.get_ti_count(dag_id=ti.dag_id, task_ids=["recheck"],
                                run_ids=[ti.run_id], states=["failed"]))  # fmt: skip


def _chunked(context) -> list[dict]:
    """The items ``pull`` put on the ``chunks`` path."""
    return context["ti"].xcom_pull(task_ids="pull", key="chunked") or []


def _reports(context, items: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each pulled item with its report (None when it did not get there): ``items`` (the
    ``file`` path's, by map index), then the ``chunks`` path's (by delivery: a
    ``chunks.load`` runs only for the files planned)."""
    ti = context["ti"]
    reports = [ti.xcom_pull(task_ids="file.report", map_indexes=i) for i in range(len(items))]
    chunked = _chunked(context)
    found = [ti.xcom_pull(task_ids="chunks.load", map_indexes=i) for i in range(len(chunked))]
    by_delivery = {report["delivery"]: report for report in found if report}
    reports += [by_delivery.get(item["delivery"]) for item in chunked]
    return list(zip(items + chunked, reports, strict=True))


def register_dag(spec: SourceSpec, register_asset):
    """The register's DAG: the newest snapshot not loaded yet, validated, then loaded."""
    from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
    from airflow.sdk.exceptions import AirflowSkipException

    @dag(
        dag_id=spec.dag_name,
        description=f"{spec.title}: pull the newest snapshot, validate, load",
        schedule=CronTriggerTimetable(REGISTER_CRON, timezone=TZ),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["popsync", spec.id],
        doc_md=f"### {spec.dag_name}\n\n{spec.title} ({spec.title_vi}): the newest snapshot "
        "in the landing area is validated and merged into the warehouse's people, and becomes "
        "the register every extract is linked to (Asset `popsync_register`).",
    )
    def register_sync():
        @task(**task_options("pull"))
        def pull() -> dict:
            day = ctx.run_day(get_current_context())
            batch = steps.register_pull(ctx.task_resources(), day)
            if batch is None:
                raise AirflowSkipException("the newest register snapshot is loaded already")
            return batch

        @task(**task_options("validate"))
        def validate(batch: dict) -> dict:
            return steps.register_validate(ctx.task_resources(), batch)

        @task(**task_options("load"), outlets=[register_asset])
        def load(batch: dict) -> dict:
            loaded = steps.register_load(ctx.task_resources(), batch)
            get_current_context()["outlet_events"][register_asset].extra = loaded
            return loaded

        load(validate(pull()))

    return register_sync()


def build_dags(catalog: SourceCatalog | None = None) -> dict[str, Any]:
    """Every source's DAG by dag id."""
    from airflow.sdk import Asset

    catalog = catalog or load_catalog()
    register_asset = Asset(name=catalog.register.asset_name, uri="popsync://warehouse/register")
    built = [register_dag(catalog.register, register_asset)]
    built += [extract_dag(spec, register_asset) for spec in catalog.extracts]
    return {dag.dag_id: dag for dag in built}
