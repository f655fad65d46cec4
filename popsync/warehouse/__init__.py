"""The warehouse: schema migrations, the register merge and the batch load.

Two backends behind one ``Warehouse``:

- PostgreSQL (psycopg2) for ``postgresql://`` URLs: the production target. Batches are
  bulk loaded with COPY.
- SQLite (Python's standard library) otherwise, in ``<workdir>/popsync.sqlite3``: an
  embedded database file needs no server and nothing to install, so ``make run`` works on a
  fresh machine. Same schema (the migrations are portable SQL), same transactions, same
  ``INSERT ... ON CONFLICT`` (SQLite 3.24 or later); loads are slower (executemany) and one
  writer runs at a time.

``connect(url)`` takes the URL from its argument, else from ``POPSYNC_DATABASE_URL``;
credentials come only from that URL (or libpq's environment, e.g. ``PGPASSWORD``).
"""

from __future__ import annotations

import os
from pathlib import Path

from popsync.errors import UserError
from popsync.warehouse.backends import Postgres, Sqlite
from popsync.warehouse.batch import Batch, build_batch
from popsync.warehouse.store import ReconciliationError, Warehouse

__all__ = ["Batch", "ReconciliationError", "Warehouse", "build_batch", "connect"]

SQLITE_FILE = "popsync.sqlite3"


def connect(url: str | None = None, workdir: str | Path = ".popsync") -> Warehouse:
    """A ``Warehouse`` on PostgreSQL for ``postgresql://`` (or ``postgres://``) URLs, on a
    SQLite file for ``sqlite:///path``, else on ``<workdir>/popsync.sqlite3``."""
    url = url or os.environ.get("POPSYNC_DATABASE_URL") or None
    if url and url.startswith(("postgresql://", "postgres://")):
        return Warehouse(Postgres(url))
    if url and url.startswith("sqlite:///"):
        return Warehouse(Sqlite(Path(url.removeprefix("sqlite:///"))))
    if url:
        raise UserError(f"unsupported database URL scheme: {url.split(':', 1)[0]}://")
    return Warehouse(Sqlite(Path(workdir) / SQLITE_FILE))
