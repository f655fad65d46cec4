"""Airflow's world turned into popsync's: the warehouse from the Airflow connection
``popsync_warehouse`` (else ``$POPSYNC_DATABASE_URL``, else the embedded database of the work
area), the work area from ``$POPSYNC_WORKDIR`` (a URL all workers share), and the run's date.

Nothing here depends on the worker's working directory: a relative ``POPSYNC_WORKDIR`` is
refused on a worker (each worker would get its own work area)."""

from __future__ import annotations

import datetime as dt
import os
from urllib.parse import quote
from zoneinfo import ZoneInfo

from popsync.core.errors import UserError
from popsync.resources import Resources

WAREHOUSE_CONN_ID = "popsync_warehouse"
# The day a run belongs to, when it has no logical date (a manual run): Vietnam's day.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def connection_url(conn) -> str:
    """A database URL from an Airflow connection: ``postgres`` (any SQL provider's form of
    PostgreSQL) or ``sqlite`` (host = the file)."""
    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    if conn.conn_type not in ("postgres", "postgresql"):
        raise UserError(
            f"connection {conn.conn_id}: type {conn.conn_type!r}, the warehouse must be "
            "postgres or sqlite"
        )
    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    port = f":{conn.port}" if conn.port else ""
    return f"postgresql://{auth}{conn.host or 'localhost'}{port}/{conn.schema or ''}"


def warehouse_url(conn_id: str = WAREHOUSE_CONN_ID) -> str | None:
    """The warehouse's URL from the Airflow connection; None when it is not defined."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return connection_url(BaseHook.get_connection(conn_id))
    except AirflowNotFoundException:
        return None


def task_resources(conn_id: str = WAREHOUSE_CONN_ID) -> Resources:
    """The resources of a task: the warehouse connection, the shared work area."""
    workdir = os.environ.get("POPSYNC_WORKDIR", "")
    if "://" not in workdir and not os.path.isabs(workdir):
        raise UserError(
            f"POPSYNC_WORKDIR={workdir!r}: on Airflow the work area must be an absolute path or "
            "a URL that every worker reaches (a relative one depends on each worker's folder)"
        )
    return Resources.from_environment(database_url=warehouse_url(conn_id), workdir=workdir)


def run_day(context) -> str:
    """The run's day (ISO): its logical date, else (a manual run has none) when it was
    triggered, in Vietnam's time zone."""
    when = context.get("logical_date")
    if when is None:
        dag_run = context.get("dag_run")
        when = getattr(dag_run, "run_after", None) or dt.datetime.now(dt.UTC)
    return when.astimezone(LOCAL_TZ).date().isoformat()


def feed_dir() -> str:
    """Where ``publish_status`` writes the delta for the register: ``$POPSYNC_FEED_DIR``, else
    ``status_feed`` in the work area."""
    return os.environ.get("POPSYNC_FEED_DIR") or str(
        task_resources().workarea.local_path("status_feed")
    )
