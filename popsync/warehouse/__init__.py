"""The warehouse: schema migrations, the register merge, the batch load, the re-check, the
review queue, each person's status and its publications, each in a file of its own and together
one ``Warehouse``.

Two backends behind it (``backends``):

- PostgreSQL (psycopg2) for ``postgresql://`` URLs: the production target. Batches are bulk
  loaded with COPY.
- SQLite (Python's standard library) for ``sqlite:///path`` URLs: an embedded database file
  needs no server and nothing to install, so ``make run`` works on a fresh machine. Same schema,
  same transactions, same ``INSERT ... ON CONFLICT`` (SQLite 3.24 or later); loads are slower
  (executemany) and one writer runs at a time.

``connect(url, catalog)`` is given its URL (``popsync.resources`` decides it, once, at the
edge); credentials come only from that URL (or libpq's environment, e.g. ``PGPASSWORD``).
"""

from __future__ import annotations

from pathlib import Path

from popsync.core.errors import UserError
from popsync.core.sources import SourceCatalog, load_catalog
from popsync.warehouse.audit import StewardAudit
from popsync.warehouse.backends import LOCK_TIMEOUT, Postgres, Sqlite
from popsync.warehouse.batch import Batch, build_batch
from popsync.warehouse.db import Database
from popsync.warehouse.deliveries import Deliveries
from popsync.warehouse.lifecycle import RunLifecycle
from popsync.warehouse.load import BatchLoad
from popsync.warehouse.migrate import Migrations
from popsync.warehouse.publication import Publications
from popsync.warehouse.pulls import Pulls
from popsync.warehouse.queue import ReviewQueue
from popsync.warehouse.recheck import Recheck
from popsync.warehouse.register import RegisterMerge
from popsync.warehouse.reports import BatchReports
from popsync.warehouse.review import Review
from popsync.warehouse.runs import ReconciliationError, RunRecords
from popsync.warehouse.status import PersonStatus
from popsync.warehouse.undo import ReviewUndo

__all__ = ["Batch", "ReconciliationError", "Warehouse", "build_batch", "connect", "open_backend"]


class Warehouse(
    Migrations,
    RegisterMerge,
    BatchLoad,
    Deliveries,
    Pulls,
    Recheck,
    Review,
    ReviewQueue,
    ReviewUndo,
    StewardAudit,
    BatchReports,
    RunRecords,
    RunLifecycle,
    PersonStatus,
    Publications,
    Database,
):
    """The pipeline's database. Every write method runs in one transaction: on failure
    nothing of it is visible, and the failed run is recorded afterwards."""


def open_backend(url: str, lock_timeout: float = LOCK_TIMEOUT):
    """The backend of a ``postgresql://`` (or ``postgres://``) or ``sqlite:///path`` URL;
    ``lock_timeout``: seconds a run waits for another run's lock."""
    if url.startswith(("postgresql://", "postgres://")):
        return Postgres(url, lock_timeout)
    if url.startswith("sqlite:///"):
        return Sqlite(Path(url.removeprefix("sqlite:///")), lock_timeout)
    raise UserError(f"unsupported database URL scheme: {url.split(':', 1)[0]}://")


def connect(
    url: str, catalog: SourceCatalog | None = None, lock_timeout: float = LOCK_TIMEOUT
) -> Warehouse:
    """A ``Warehouse`` on the database at ``url``, holding the sources of ``catalog`` (the
    packaged ones by default)."""
    return Warehouse(open_backend(url, lock_timeout), catalog or load_catalog())
