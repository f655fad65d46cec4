"""Database failures named by their cause: a driver error (psycopg2, sqlite3) becomes an
``InfrastructureError`` (exit code 4) whose one-line message says what failed (server down,
connection lost, too many connections, disk full, lock held) and quotes no row data."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import psycopg2

from popsync.core.errors import InfrastructureError, InternalError, LockTimeout, UserError
from popsync.core.privacy import error_text

# SQLSTATE classes that say the database, not the data, failed: connection exception,
# insufficient resources (disk full, out of memory, too many connections), operator
# intervention (shutdown, cancel), system error, internal error.
_INFRASTRUCTURE_CLASSES = ("08", "53", "57", "58", "XX")
_SQLITE_INFRASTRUCTURE = ("unable to open", "disk i/o", "disk is full", "readonly database",
                          "not a database", "locking protocol", "no such table: main")  # fmt: skip


def database_failure(error: BaseException, where: str = "the database") -> UserError | None:
    """The user-facing error for a driver error (None for other errors)."""
    if isinstance(error, psycopg2.Error):
        return _postgres_failure(error, where)
    if isinstance(error, sqlite3.Error):
        return _sqlite_failure(error, where)
    return None


def _postgres_failure(error: psycopg2.Error, where: str) -> UserError:
    name = type(error).__name__
    code = error.pgcode or ""
    text = error_text(error)
    if code == "55P03":
        return LockTimeout(f"{where}: a lock is held by another transaction ({text})")
    if isinstance(error, psycopg2.InterfaceError) or (
        isinstance(error, psycopg2.OperationalError) and not code
    ):
        return InfrastructureError(f"the connection to {where} was lost ({name}: {text})")
    if code[:2] in _INFRASTRUCTURE_CLASSES:
        if "too many clients" in text or code == "53300":
            return InfrastructureError(f"{where} refuses new connections: too many connections "
                                       f"({name}: {text})")  # fmt: skip
        return InfrastructureError(f"{where} failed ({name}: {text})")
    return InternalError(f"{where} refused a statement ({name}: {text})")


def _sqlite_failure(error: sqlite3.Error, where: str) -> UserError:
    text = error_text(error)
    if "database is locked" in text or "database is busy" in text:
        return LockTimeout(f"{where} is locked by another run: waited for it in vain ({text})")
    if any(part in text.lower() for part in _SQLITE_INFRASTRUCTURE):
        return InfrastructureError(f"{where} failed ({type(error).__name__}: {text})")
    return InternalError(f"{where} refused a statement ({type(error).__name__}: {text})")


def connect_failure(error: psycopg2.OperationalError, where: str) -> InfrastructureError:
    """A connection refused: the server down or unreachable, too many connections, a wrong
    password or database (never the password itself: libpq does not echo it)."""
    text = error_text(error)
    if "too many" in text or error.pgcode == "53300":
        return InfrastructureError(f"{where} refuses new connections: too many connections "
                                   f"({text})")  # fmt: skip
    return InfrastructureError(f"cannot connect to {where} ({text})")


@contextmanager
def named_database_failures(where: str = "the database"):
    """Re-raise driver errors as ``database_failure`` says (the driver error chained)."""
    try:
        yield
    except (psycopg2.Error, sqlite3.Error) as error:
        raise database_failure(error, where) from error
