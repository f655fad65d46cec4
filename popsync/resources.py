"""What a run needs from outside, made once at the edge (the CLI, a DAG task, a test) and passed
in: the warehouse's URL, the work area and the declared sources. Nothing below reads the
environment; ``Resources.from_environment`` is the one place that does.

Settings come from arguments first, then ``POPSYNC_*`` environment variables (typed and
checked by pydantic-settings):

- ``POPSYNC_DATABASE_URL``: the warehouse (``postgresql://…``); without it, the embedded SQLite
  database ``popsync.sqlite3`` in the work area (which must then be a local folder);
- ``POPSYNC_WORKDIR``: the work area, a folder or an fsspec URL (default ``.popsync``);
- ``POPSYNC_SOURCES_DIR``: more source declarations (folders, ``os.pathsep``-separated);
- ``POPSYNC_LOCK_TIMEOUT``: seconds a run waits for another run's lock (default 600).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from popsync.core.sources import SourceCatalog, load_catalog
from popsync.workarea import WorkArea

EMBEDDED_DATABASE = "popsync.sqlite3"
# Seconds a run waits for another run's lock (``popsync.warehouse.backends.LOCK_TIMEOUT``).
LOCK_TIMEOUT = 600.0


class Environment(BaseSettings):
    """The ``POPSYNC_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="POPSYNC_", extra="ignore")

    database_url: str | None = None
    workdir: str = ".popsync"
    sources_dir: tuple[str, ...] = ()
    lock_timeout: float = LOCK_TIMEOUT

    @field_validator("database_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("sources_dir", mode="before")
    @classmethod
    def _split_dirs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part for part in value.split(os.pathsep) if part)
        return value


@dataclass(frozen=True)
class Resources:
    """The warehouse URL (None: the embedded database), the work area and the sources."""

    workarea: WorkArea
    database_url: str | None = None
    catalog: SourceCatalog = field(default_factory=load_catalog)
    lock_timeout: float = LOCK_TIMEOUT

    @classmethod
    def from_environment(
        cls,
        *,
        database_url: str | None = None,
        workdir: str | os.PathLike | None = None,
        sources_dir: tuple[str, ...] | None = None,
        lock_timeout: float | None = None,
    ) -> Resources:
        """Arguments given win over the environment."""
        env = Environment()
        dirs = tuple(sources_dir) if sources_dir is not None else env.sources_dir
        return cls(
            workarea=WorkArea(workdir if workdir is not None else env.workdir),
            database_url=database_url or env.database_url,
            catalog=load_catalog(tuple(str(d) for d in dirs)),
            lock_timeout=env.lock_timeout if lock_timeout is None else lock_timeout,
        )

    @property
    def warehouse_url(self) -> str:
        """The configured URL, else the embedded database's in the work area."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.workarea.local_path(EMBEDDED_DATABASE)}"

    @property
    def has_embedded_database(self) -> bool:
        return self.database_url is None and self.workarea.local_path(EMBEDDED_DATABASE).exists()

    def warehouse(self):
        """A connection to the warehouse (the caller closes it: ``with res.warehouse() as w``)."""
        from popsync import warehouse

        return warehouse.connect(self.warehouse_url, self.catalog, self.lock_timeout)
