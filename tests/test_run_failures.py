"""Failures that are not quality failures (issue 11, defects 12-14): every run leaves a record
(``failed`` or ``blocked`` with its cause and true counts, a killed run marked failed by the
next start), exit codes tell usage / input / block / infrastructure / bug apart, the cause is
one ``error:`` line, and a run waits for another run's lock only as long as it is told."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

import psycopg2
import pytest
from click.testing import CliRunner
from test_warehouse import PEOPLE, register, sample_batch, url  # noqa: F401 (url: a fixture)

from popsync import warehouse
from popsync.cli import main
from popsync.core.errors import InfrastructureError, LockTimeout
from popsync.generate import generate_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A small generated set (300 people): runs of it take seconds."""
    out = tmp_path_factory.mktemp("tiny")
    generate_dataset(out_dir=out, people=300, seed=3, formats="csv")
    return out


def run_cli(tiny: Path, workdir: Path, *extra: str, source="f0", database_url=None):
    args = [
        "run",
        source,
        "--input",
        str(tiny / f"{source}.csv"),
        "--population",
        str(tiny / "dan_cu.csv"),
        "--date",
        "2023-01-15",
        "--workdir",
        str(workdir),
        *extra,
    ]
    if database_url:
        args += ["--database-url", database_url]
    return CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, args)


def runs(url_or_workdir) -> list[tuple]:
    statement = ("SELECT source, status, error, rows_read, rows_loaded, rows_quarantined, "
                 "rows_review FROM run WHERE source <> 'dan_cu' ORDER BY started_at")  # fmt: skip
    if isinstance(url_or_workdir, Path):
        with sqlite3.connect(url_or_workdir / "popsync.sqlite3") as db:
            return db.execute(statement).fetchall()
    with warehouse.connect(url_or_workdir) as store:
        return store.fetch(statement)


def error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_an_unreachable_database_stops_the_run_before_any_stage(tiny, tmp_path):
    started = time.monotonic()
    result = run_cli(tiny, tmp_path, database_url="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.exit_code == 4
    assert "cannot connect to the PostgreSQL server at 127.0.0.1:1/nowhere" in error_line(result)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "batches").exists()  # no stage ran


@pytest.mark.postgres
def test_too_many_connections_is_named(tiny, tmp_path, pg_url):
    role = f"popsync_full_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    try:
        full = pg_url.replace("postgres@", f"{role}@")
        result = run_cli(tiny, tmp_path, database_url=full)
        assert result.exit_code == 4
        assert "too many connections" in error_line(result)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP ROLE {role}")
        admin.close()


def test_an_absurd_run_date_is_a_usage_error(tiny, tmp_path):
    result = CliRunner().invoke(main, ["run", "f0", "--input", str(tiny / "f0.csv"),
                                       "--population", str(tiny / "dan_cu.csv"),
                                       "--date", "9999-12-31", "--workdir", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 1
    assert "not a plausible run date" in result.output and "Traceback" not in result.output


def test_a_file_that_cannot_be_read_leaves_a_failed_run_and_exit_2(tiny, tmp_path):
    broken = tmp_path / "f0.csv"
    broken.write_bytes("Mã ca bệnh,Họ và tên\nF1,An\n".encode("utf-16"))
    result = CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [
        "run", "f0", "--input", str(broken), "--population", str(tiny / "dan_cu.csv"),
        "--date", "2023-01-15", "--workdir", str(tmp_path / "w")])  # fmt: skip
    assert result.exit_code == 2
    assert "UTF-16" in error_line(result)
    [(source, status, error, read, loaded, quarantined, review)] = runs(tmp_path / "w")
    assert (source, status, loaded, quarantined, review) == ("f0", "failed", 0, 0, 0)
    assert "UTF-16" in error


def test_a_quality_block_leaves_a_blocked_run_and_exit_3(tiny, tmp_path):
    lines = (tiny / "dan_cu.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    duplicated = tmp_path / "dan_cu.csv"
    duplicated.write_text("".join([*lines, *lines[1:4]]), encoding="utf-8")
    result = CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [
        "run", "f0", "--input", str(tiny / "f0.csv"), "--population", str(duplicated),
        "--date", "2023-01-15", "--workdir", str(tmp_path / "w")])  # fmt: skip
    assert result.exit_code == 3
    assert "person_id_unique" in error_line(result)
    [(source, status, error, *_)] = runs(tmp_path / "w")
    assert (source, status) == ("f0", "blocked") and "person_id_unique" in error


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"),
                                         (errno.EROFS, "the file system is read-only")])  # fmt: skip
def test_a_full_or_read_only_work_area_is_infrastructure(tiny, tmp_path, monkeypatch, code, words):
    from popsync.workarea import WorkArea

    real = WorkArea.write_parquet

    def refuse(self, frame, key):
        if "linked" in key:
            raise OSError(code, os.strerror(code), str(self.path(key)))
        return real(self, frame, key)

    monkeypatch.setattr(WorkArea, "write_parquet", refuse)
    result = run_cli(tiny, tmp_path)
    assert result.exit_code == 4
    assert words in error_line(result)
    [(_, status, error, *_)] = runs(tmp_path)
    assert status == "failed" and words in error


def test_a_bug_is_exit_5_in_one_line(tiny, tmp_path, monkeypatch):
    from popsync.pipeline import run as run_module

    def broken(batch, res, index):
        raise KeyError("no such column: 001234567345")

    # A bug in the link step of a chunk (the run goes through chunks, not the STAGES list).
    monkeypatch.setattr(run_module, "run_chunk", broken)
    result = run_cli(tiny, tmp_path)
    assert result.exit_code == 5
    line = error_line(result)
    assert "internal error (KeyError" in line and "001234567345" not in line
    [(_, status, error, *_)] = runs(tmp_path)
    assert status == "failed" and "KeyError" in error and "001******345" in error


def test_a_path_with_brackets_is_printed_as_it_is(tiny, tmp_path):
    folder = tmp_path / "a[/]b"
    folder.mkdir(parents=True)
    (folder / "f0.csv").write_bytes((tiny / "f0.csv").read_bytes())
    result = CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [
        "run", "f0", "--input", str(folder / "f0.csv"), "--population", str(tiny / "dan_cu.csv"),
        "--date", "2023-01-15", "--workdir", str(folder / "w")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a[/]b" in result.output


def test_a_failed_commit_claims_no_rows(url):  # noqa: F811
    with warehouse.connect(url) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
        real = store._db.conn

        class CommitFails:
            def __getattr__(self, name):
                return getattr(real, name)

            def commit(self):
                if store._loading:
                    store._loading = False
                    raise OSError(errno.EIO, "I/O error at commit")
                return real.commit()

        store._loading = False
        store._db.conn = CommitFails()
        original = store._write_batch

        def write(*args, **kwargs):
            store._loading = True
            return original(*args, **kwargs)

        store._write_batch = write
        with pytest.raises(OSError):
            store.load_batch(sample_batch("run-x"))
        [(status, loaded, quarantined, review)] = store.fetch(
            "SELECT status, rows_loaded, rows_quarantined, rows_review FROM run "
            "WHERE run_id = 'run-x'"
        )
    assert (status, loaded, quarantined, review) == ("failed", 0, 0, 0)


def _hold_source_lock(database: str, source: str, release: threading.Event, held: threading.Event):
    """Another run's transaction that holds ``source``'s lock until ``release``."""
    if database.startswith("sqlite:///"):
        conn = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn = psycopg2.connect(database)
        key = zlib.crc32(source.encode()) - 2**31
        conn.cursor().execute("SELECT pg_advisory_xact_lock(%s, %s)", (0x706F7073, key))
    held.set()
    release.wait(30)
    conn.rollback() if not database.startswith("sqlite") else conn.execute("ROLLBACK")
    conn.close()


@contextlib.contextmanager
def _source_locked(database: str):
    """A warehouse with the register loaded, and another run's transaction that holds
    ``tiem_chung``'s lock until the block ends."""
    with warehouse.connect(database) as store:
        store.migrate()
        store.load_register(register(*PEOPLE), {"run_id": "reg-1"})
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_source_lock, args=(database, "tiem_chung", release, held)
    )
    holder.start()
    try:
        assert held.wait(10)
        yield
    finally:
        release.set()
        holder.join()


def test_a_held_lock_times_out_with_a_message(url):  # noqa: F811
    with _source_locked(url):
        started = time.monotonic()
        with warehouse.connect(url, lock_timeout=1.0) as store, pytest.raises(LockTimeout) as lock:
            store.load_batch(sample_batch("run-late"))
        waited = time.monotonic() - started
    assert 0.9 <= waited < 10
    assert "locked by another run" in str(lock.value)
    if url.startswith("postgresql"):
        assert "server process" in str(lock.value) and "tiem_chung" in str(lock.value)
    with warehouse.connect(url) as store:
        recorded = store.fetch("SELECT status, error FROM run WHERE run_id = 'run-late'")
        if url.startswith("postgresql"):  # SQLite: the holder locks the whole file, the record too
            [(status, error)] = recorded
            assert status == "failed" and "locked by another run" in error
        assert store.load_batch(sample_batch("run-late"))["status"] == "loaded"


@pytest.mark.postgres
def test_a_lost_connection_names_its_cause(pg_url):
    """The server ends the load's connection while it waits (a restart, an administrator):
    the error says the connection was lost and why (AdminShutdown when the server said so),
    not the rollback that failed after it."""
    failure = {}

    def load():
        with warehouse.connect(pg_url) as store:
            failure["pid"] = store.fetch("SELECT pg_backend_pid()")[0][0]
            try:
                store.load_batch(sample_batch("run-lost"))
            except Exception as error:  # noqa: BLE001 (the test looks at it below)
                failure["error"] = error

    with _source_locked(pg_url):
        loader = threading.Thread(target=load)
        loader.start()
        with psycopg2.connect(pg_url) as admin, admin.cursor() as cur:
            for _ in range(100):
                cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                            (failure.get("pid"),))  # fmt: skip
                if cur.fetchone() == ("Lock",):
                    break
                time.sleep(0.1)
            cur.execute("SELECT pg_terminate_backend(%s)", (failure["pid"],))
        loader.join(30)
    error = failure["error"]
    assert isinstance(error, InfrastructureError)
    assert "the connection to the database was lost" in str(error)
    assert "server closed the connection" in str(error) and "rollback" not in str(error)


def test_a_killed_run_is_marked_failed_by_the_next_start(tiny, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "POPSYNC_DATABASE_URL": ""}
    args = [sys.executable, "-m", "popsync.cli", "run", "f0", "--input", str(tiny / "f0.csv"),
            "--population", str(tiny / "dan_cu.csv"), "--date", "2023-01-15",
            "--workdir", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    database = tmp_path / "popsync.sqlite3"
    while time.monotonic() < deadline:
        if database.exists():
            try:
                with sqlite3.connect(database) as db:
                    found = db.execute("SELECT status FROM run WHERE source = 'f0'").fetchall()
            except sqlite3.OperationalError:
                found = []
            if found == [("running",)]:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the run never recorded itself as running")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert runs(tmp_path)[0][1] == "running"
    result = run_cli(tiny, tmp_path)
    assert result.exit_code == 0, result.output
    (_, killed, why, *_), (_, loaded, *_) = runs(tmp_path)
    assert (killed, loaded) == ("failed", "loaded")
    assert f"process {process.pid}" in why and "ended without finishing" in why
