"""Where a source's deliveries are: configuration, never the repository. Made at the edge (the
CLI from the environment, a DAG task from Airflow's connections and Variables:
``popsync.pull.airflow_settings``) and passed in; credentials stay here, out of pull items.

Environment, for source ``<SOURCE>`` (upper case, e.g. ``TIEM_CHUNG``):

- ``POPSYNC_LANDING_<SOURCE>``: the landing area, a local folder or any fsspec URL
  (``sftp://user@host:22/outgoing``, ``s3://bucket/prefix``);
- ``POPSYNC_LANDING_<SOURCE>_OPTIONS``: JSON of the file system's options
  (``{"key_filename": "/etc/popsync/id_ed25519"}`` for SFTP);
- ``POPSYNC_TABLE_<SOURCE>``: a source table, ``schema.table``, read from
  ``POPSYNC_TABLE_<SOURCE>_URL`` (an SQLAlchemy URL, ``postgresql://reader@db/vax``) by the
  watermark column ``POPSYNC_TABLE_<SOURCE>_WATERMARK`` (default: the declaration's);
- ``POPSYNC_SETTLE_SECONDS``: how long a new file's size and modification time must stay the
  same before it is taken (default 5).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from popsync.core.errors import UserError
from popsync.core.sources import SourceSpec

DEFAULT_SETTLE_SECONDS = 5.0
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def without_password(url: str) -> str:
    """The URL as logs, the ledger and pull items may show it."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class PullSettings:
    """One source's landing area and source table (either or both), with the declaration's
    defaults for file names and the watermark column."""

    spec: SourceSpec
    landing: str | None = None
    landing_options: dict = field(default_factory=dict)
    table: str | None = None
    table_url: str | None = None
    watermark: str | None = None
    settle_seconds: float = DEFAULT_SETTLE_SECONDS

    def __post_init__(self):
        if self.table is not None:
            if not _TABLE_NAME.match(self.table):
                raise UserError(f"{self.spec.id}: source table {self.table!r} is not schema.table")
            if not self.table_url:
                raise UserError(f"{self.spec.id}: source table {self.table} has no database URL")
        if self.settle_seconds < 0:
            raise UserError("the settle time cannot be negative")

    @property
    def source(self) -> str:
        return self.spec.id

    @property
    def watermark_column(self) -> str:
        return self.watermark or self.spec.pull.watermark

    @property
    def configured(self) -> bool:
        return bool(self.landing or self.table)

    @classmethod
    def from_environment(
        cls,
        spec: SourceSpec,
        env: Mapping[str, str] | None = None,
        settle_seconds: float | None = None,
    ) -> PullSettings:
        env = os.environ if env is None else env
        name = spec.id.upper()
        options = env.get(f"POPSYNC_LANDING_{name}_OPTIONS") or "{}"
        try:
            landing_options = json.loads(options)
        except ValueError as error:
            raise UserError(f"POPSYNC_LANDING_{name}_OPTIONS is not JSON: {error}") from None
        if settle_seconds is None:
            settle_seconds = float(env.get("POPSYNC_SETTLE_SECONDS") or DEFAULT_SETTLE_SECONDS)
        return cls(
            spec=spec,
            landing=env.get(f"POPSYNC_LANDING_{name}") or None,
            landing_options=landing_options,
            table=env.get(f"POPSYNC_TABLE_{name}") or None,
            table_url=env.get(f"POPSYNC_TABLE_{name}_URL") or None,
            watermark=env.get(f"POPSYNC_TABLE_{name}_WATERMARK") or None,
            settle_seconds=settle_seconds,
        )
