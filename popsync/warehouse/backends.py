"""The two database backends. They differ only in how a connection is opened, how a
transaction starts, how identifiers and placeholders are written, how a table is bulk
loaded (COPY vs executemany) and how concurrent loads of one source are serialized."""

from __future__ import annotations

import io
import logging
import sqlite3
import zlib
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg2 import sql

from popsync.core.errors import LockTimeout
from popsync.warehouse.failures import connect_failure, named_database_failures
from popsync.warehouse.pgcopy import binary_copy

log = logging.getLogger("popsync")

# First key of the two-key advisory locks: "popsync" in ASCII, clear of other users' locks.
_LOCK_CLASS = 0x706F7073
# How long a run waits for another run's lock (of its source, of the database) by default.
LOCK_TIMEOUT = 600.0
# Seconds to wait for the server to answer a connection (unless the URL says otherwise).
CONNECT_TIMEOUT = 10
# Bytes sent per COPY message (psycopg2's default, 8 KiB, costs a Python call per 8 KiB).
COPY_CHUNK = 1 << 20


class Postgres:
    name = "postgresql"

    def __init__(self, url: str, lock_timeout: float = LOCK_TIMEOUT):
        self.lock_timeout = lock_timeout
        where = f"the PostgreSQL server at {_server_of(url)}"
        timeout = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT}
        try:
            self.conn = psycopg2.connect(url, **timeout)
        except psycopg2.OperationalError as error:
            raise connect_failure(error, where) from error

    def query(self, template: str, **identifiers: str | list[str]) -> sql.Composed:
        """``template`` with ``{name}`` identifiers (a name or a list of names) and ``%s``
        value placeholders."""
        return sql.SQL(template).format(
            **{key: _pg_identifiers(value) for key, value in identifiers.items()}
        )

    def begin(self) -> psycopg2.extensions.cursor:
        """psycopg2 opens the transaction at the first statement. Joins of a whole batch
        (1M keys) stay in memory with a larger work_mem, for this transaction only."""
        cur = self.conn.cursor()
        cur.execute("SET LOCAL work_mem = '128MB'")
        return cur

    def lock(self, cur, name: str) -> None:
        """Serialize transactions on ``name`` (a source) until commit / rollback. Waits at most
        ``lock_timeout`` seconds (PostgreSQL's ``lock_timeout``, for this wait only), saying
        once what it waits for; then ``LockTimeout`` names the server process that holds the
        lock and how long its transaction has been open."""
        key = zlib.crc32(name.encode()) - 2**31
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, key))
        if cur.fetchone()[0]:
            return
        log.warning("waiting for the lock of %s (%s), at most %g s", name,
                    self._lock_holder(cur, key), self.lock_timeout)  # fmt: skip
        cur.execute("SAVEPOINT popsync_lock_wait")
        cur.execute("SELECT current_setting('lock_timeout')")
        previous = cur.fetchone()[0]
        cur.execute("SELECT set_config('lock_timeout', %s, true)",
                    (f"{max(1, int(self.lock_timeout * 1000))}ms",))  # fmt: skip
        try:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, key))
        except psycopg2.errors.LockNotAvailable:
            cur.execute("ROLLBACK TO SAVEPOINT popsync_lock_wait")
            raise LockTimeout(f"{name} is locked by another run ({self._lock_holder(cur, key)}); "
                              f"waited {self.lock_timeout:g} s (--lock-timeout)") from None  # fmt: skip
        cur.execute("SELECT set_config('lock_timeout', %s, true)", (previous,))
        cur.execute("RELEASE SAVEPOINT popsync_lock_wait")

    @staticmethod
    def _lock_holder(cur, key: int) -> str:
        cur.execute(
            "SELECT a.pid, a.state, now() - a.xact_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.classid = %s AND l.objid = %s LIMIT 1",
            (_LOCK_CLASS, key & 0xFFFFFFFF),
        )
        found = cur.fetchone()
        if found is None:
            return "holder unknown"
        pid, state, age = found
        return f"server process {pid}, {state or 'busy'}, transaction open for {age}"

    def bulk_insert(self, cur, table: str, data: pa.Table, binary: bool = False) -> None:
        """COPY from an in-memory CSV written by pyarrow (strings quoted, nulls empty); with
        ``binary``, in PostgreSQL's binary format (``pgcopy``: each Arrow type must be the
        column's own), which the server stores without parsing."""
        columns, form = data.column_names, "csv"
        if binary:
            columns, parts = binary_copy(data)
            buffer, form = _Chunks(parts), "binary"
        else:
            buffer = io.BytesIO()
            pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
            buffer.seek(0)
        statement = self.query(f"COPY {{table}} ({{columns}}) FROM STDIN (FORMAT {form})",
                               table=table, columns=columns)  # fmt: skip
        cur.copy_expert(statement, buffer, size=COPY_CHUNK)

    def run_script(self, cur, script: str) -> None:
        cur.execute(script)

    def columns(self, cur, table: str) -> set[str]:
        """The columns of ``table`` in the current schema (empty when it does not exist)."""
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return {row[0] for row in cur.fetchall()}


class Sqlite:
    name = "sqlite"

    def __init__(self, path: Path, lock_timeout: float = LOCK_TIMEOUT):
        self.lock_timeout = lock_timeout
        path.parent.mkdir(parents=True, exist_ok=True)
        # Transactions are explicit (BEGIN IMMEDIATE); a second writer waits up to the lock
        # timeout, then fails with "database is locked" (a ``LockTimeout``).
        with named_database_failures(f"the embedded database {path}"):
            self.conn = sqlite3.connect(path, timeout=lock_timeout, isolation_level=None,
                                        check_same_thread=False)  # fmt: skip
            self.conn.execute("PRAGMA journal_mode = WAL")

    def query(self, template: str, **identifiers: str | list[str]) -> str:
        return template.format(
            **{key: _sqlite_identifiers(value) for key, value in identifiers.items()}
        ).replace("%s", "?")

    def begin(self) -> sqlite3.Cursor:
        """Take the write lock at once: one writer at a time, the others wait for it."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        return cur

    def lock(self, cur, name: str) -> None:
        """BEGIN IMMEDIATE already holds the database's only write lock."""

    def bulk_insert(self, cur, table: str, data: pa.Table, binary: bool = False) -> None:
        """An INSERT per row (``binary``: PostgreSQL's COPY only)."""
        columns = [_sqlite_text(column) for column in data.columns]
        placeholders = ", ".join(["%s"] * len(columns))  # only placeholders: no values
        statement = self.query(
            "INSERT INTO {table} ({columns}) VALUES (" + placeholders + ")",  # noqa: S608
            table=table,
            columns=data.column_names,
        )
        cur.executemany(statement, zip(*(column.to_pylist() for column in columns), strict=True))

    def run_script(self, cur, script: str) -> None:
        """executescript would commit the open transaction: run statement by statement."""
        for statement in _statements(script):
            cur.execute(statement)

    def columns(self, cur, table: str) -> set[str]:
        """The columns of ``table`` (empty when it does not exist)."""
        cur.execute("SELECT name FROM pragma_table_info(?)", (table,))
        return {row[0] for row in cur.fetchall()}


class _Chunks:
    """Buffers read one after the other, as a file (what COPY reads), without joining them."""

    def __init__(self, parts):
        self._parts, self._at = [memoryview(part) for part in parts], 0

    def read(self, size: int = -1) -> bytes:
        while self._parts and self._at >= len(self._parts[0]):
            self._parts.pop(0)
            self._at = 0
        if not self._parts:
            return b""
        part = self._parts[0]
        stop = len(part) if size is None or size < 0 else self._at + size
        chunk = part[self._at : stop].tobytes()
        self._at += len(chunk)
        return chunk


def _server_of(url: str) -> str:
    """host:port/database of a URL, never its user or password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def _pg_identifiers(value: str | list[str]) -> sql.Composable:
    if isinstance(value, str):
        return sql.Identifier(value)
    return sql.SQL(", ").join(sql.Identifier(name) for name in value)


def _sqlite_identifiers(value: str | list[str]) -> str:
    names = [value] if isinstance(value, str) else value
    return ", ".join('"' + name.replace('"', '""') + '"' for name in names)


def _sqlite_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates and times as ISO text, the form SQLite compares and sorts correctly."""
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        return pc.cast(column, pa.string())
    return column


def _statements(script: str) -> list[str]:
    """Split a migration into statements (the migrations use no ``;`` inside a statement)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
