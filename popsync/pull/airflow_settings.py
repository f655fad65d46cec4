"""A source's pull settings in an Airflow task: from Airflow's connections and Variables, each
falling back to the environment (``PullSettings.from_environment``). Imported by the DAGs only.

For source ``<source>`` (lower case, e.g. ``tiem_chung``):

- landing area: Variable ``popsync_landing_<source>`` (a folder or an fsspec URL), or a
  connection ``popsync_landing_<source>``: type ``sftp`` (host, port, login, password; extra
  ``path`` and ``key_file``) or any other with its URI as the landing URL;
- source table: connection ``popsync_source_<source>`` (its URI is the SQLAlchemy URL; the
  ``postgres`` type's ``postgres://`` read as ``postgresql://``), Variable
  ``popsync_table_<source>`` (``schema.table``), Variable ``popsync_watermark_<source>``
  (default: the declaration's column);
- Variable ``popsync_settle_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping

from popsync.core.sources import SourceSpec
from popsync.pull.settings import PullSettings


def _connection(conn_id: str):
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _variable(key: str) -> str | None:
    from airflow.sdk import Variable

    return Variable.get(key, default=None) or None


def _landing(conn) -> tuple[str, dict]:
    """The landing URL (no secret in it) and the file system's options (the secrets)."""
    extra = conn.extra_dejson
    if conn.conn_type != "sftp":
        return conn.get_uri(), {}
    path = "/" + str(extra.get("path") or "").lstrip("/")
    url = f"sftp://{conn.login + '@' if conn.login else ''}{conn.host}:{conn.port or 22}{path}"
    options = {"username": conn.login} if conn.login else {}
    if conn.password:
        options["password"] = conn.password
    if extra.get("key_file"):
        options["key_filename"] = extra["key_file"]
    return url, options


def settings_from_airflow(spec: SourceSpec, env: Mapping[str, str] | None = None) -> PullSettings:
    """Airflow's connections and Variables first, then the ``POPSYNC_*`` environment."""
    base = PullSettings.from_environment(spec, env)
    source = spec.id
    landing, options = base.landing, base.landing_options
    if found := _variable(f"popsync_landing_{source}"):
        landing, options = found, {}
    elif (conn := _connection(f"popsync_landing_{source}")) is not None:
        landing, options = _landing(conn)
    table_url = base.table_url
    if (conn := _connection(f"popsync_source_{source}")) is not None:
        table_url = conn.get_uri().replace("postgres://", "postgresql://", 1)
    settle = _variable("popsync_settle_seconds")
    return PullSettings(
        spec=spec,
        landing=landing,
        landing_options=options,
        table=_variable(f"popsync_table_{source}") or base.table,
        table_url=table_url,
        watermark=_variable(f"popsync_watermark_{source}") or base.watermark,
        settle_seconds=float(settle) if settle else base.settle_seconds,
    )
