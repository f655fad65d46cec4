"""The warehouse's plumbing: one connection (a backend of ``backends``), the declared sources,
transactions, and the small query helpers every part of the warehouse uses."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager, suppress

from popsync.core.sources import SourceCatalog
from popsync.warehouse.failures import named_database_failures


class Database:
    """A connection to the warehouse and the sources it holds. Every write method of the
    warehouse runs in one ``transaction()``: on failure nothing of it is visible."""

    def __init__(self, backend, catalog: SourceCatalog):
        self._db = backend
        self.catalog = catalog

    @property
    def backend(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return self._db.name

    def close(self) -> None:
        with suppress(Exception):  # closing a lost connection: nothing left to do
            self._db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextmanager
    def _transaction(self):
        """One transaction; a driver error comes out named by its cause
        (``failures.database_failure``), never buried under the rollback's own error."""
        with named_database_failures():
            cur = self._db.begin()
            try:
                yield cur
                self._db.conn.commit()
            except BaseException as error:  # a failed commit too: nothing of it stays open
                try:
                    self._db.conn.rollback()
                except Exception as rollback_error:  # the connection is gone: say why first
                    error.add_note(f"rollback failed too: {type(rollback_error).__name__}")
                raise
            finally:
                with suppress(Exception):  # a lost connection's cursor: nothing to free
                    cur.close()

    def _run(self, cur, template: str, params=(), **identifiers):
        cur.execute(self._db.query(template, **identifiers), params)
        return cur

    def _scalar(self, cur, template: str, params=(), **identifiers):
        return self._run(cur, template, params, **identifiers).fetchone()[0]

    def _plans_hashed(self, cur, template: str, params=(), **identifiers) -> bool:
        """Whether PostgreSQL runs the ``NOT IN (subquery)`` of a query as a hashed subplan (the
        subquery's rows held in memory once) rather than running the subquery again for each
        row: a NOT IN that is not hashed is quadratic, whatever the statistics promised."""
        plan = self._run(cur, "EXPLAIN " + template, params, **identifiers).fetchall()
        return any("hashed SubPlan" in line for (line,) in plan)

    def fetch(self, template: str, params=(), **identifiers) -> list[tuple]:
        """Rows of a read-only query (``{name}`` identifiers, ``%s`` values), in a transaction
        of its own: for reports and tests, never for writes."""
        with self._transaction() as cur:
            return self._run(cur, template, params, **identifiers).fetchall()

    def _table_of(self, source: str) -> str:
        """The table of an extract source; a ``UserError`` for the register or an unknown id."""
        return self.catalog.extract(source).table


def now() -> str:
    """Wall-clock time as the warehouse stores it (ISO 8601, UTC), always passed in by the
    tool, never taken from the server."""
    return dt.datetime.now(dt.UTC).isoformat()
