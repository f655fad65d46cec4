"""Real Airflow for the end-to-end tests: ``airflow standalone`` started the way ``make airflow``
starts it (``ops/airflow_local.py``) in a temporary AIRFLOW_HOME, or the components one by one
(scheduler, dag-processor, API server, Celery worker) for the CeleryExecutor; stopped with
their whole process group. Plus what the tests compare: the warehouse's tables."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from airflow_api import AirflowApi

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_IDS = ["population_register_sync", "vaccination_sync", "f0_sync", "social_insurance_sync"]
EXTRACT_DAGS = {"tiem_chung": "vaccination_sync", "f0": "f0_sync", "bhxh": "social_insurance_sync"}
DATE = "2023-01-15"  # the samples' extract date: the landed files are named with it
TABLES = {"tiem_chung": "vaccination_dose", "f0": "f0_case", "bhxh": "social_insurance_period"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_env(home: Path, port: int, landing: Path, more: dict[str, str]) -> dict[str, str]:
    """The environment ``ops/airflow_local.py`` gives Airflow (secrets generated in ``home``)."""
    sys.path.insert(0, str(REPO / "ops"))
    import airflow_local

    os.environ.update(more)
    try:
        return airflow_local.environment(home, port, landing, list(EXTRACT_DAGS) + ["dan_cu"])
    finally:
        for name in more:
            os.environ.pop(name, None)


class Stack:
    """Processes started in their own session, stopped together; output in ``home/*.out``."""

    def __init__(self, home: Path):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        out = open(self.home / f"{name}.out", "wb")  # noqa: SIM115 (closed with the process)
        self.processes.append(subprocess.Popen(command, env=env, cwd=cwd, stdout=out,
                                               stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.home.glob("*.out"))

    def logged_in(self, port: int, timeout: float = 180) -> AirflowApi:
        """The API on ``port``, logged in as the admin whose password Airflow generated in
        ``home``, once it answers with every DAG parsed."""
        deadline = time.monotonic() + timeout
        while not (self.home / "simple_auth_manager_passwords.json.generated").exists():
            assert time.monotonic() < deadline, self.output()
            time.sleep(1)
        api = AirflowApi.for_standalone(f"http://127.0.0.1:{port}", self.home)
        api.wait_ready(DAG_IDS)
        return api

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes:
            try:
                process.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def standalone(home: Path, port: int, landing: Path, more: dict[str, str], cwd: Path) -> Stack:
    """``make airflow``'s way: ``ops/airflow_local.py standalone``."""
    stack = Stack(home)
    env = {**os.environ, **more}
    command = [sys.executable, str(REPO / "ops" / "airflow_local.py"), "standalone",
               "--home", str(home), "--port", str(port), "--landing", str(landing)]  # fmt: skip
    stack.start("standalone", command, env, cwd)
    return stack


@contextlib.contextmanager
def own_databases(prefix: str, *whats: str):
    """PostgreSQL databases of their own on the test server (``<prefix>_<what>_<random>``),
    their URLs; dropped afterwards."""
    from conftest import DEFAULT_TEST_DATABASE_URL, _admin_connection
    from psycopg2 import sql

    names = [f"{prefix}_{what}_{uuid.uuid4().hex[:8]}" for what in whats]
    admin = _admin_connection(DEFAULT_TEST_DATABASE_URL)
    try:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base = urlsplit(DEFAULT_TEST_DATABASE_URL)
        yield [base._replace(path=f"/{name}").geturl() for name in names]
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                            .format(sql.Identifier(name)))  # fmt: skip
        admin.close()


def table_rows(url: str, table: str, without=("run_id", "src_file")) -> list[tuple]:
    """A table's rows (sorted, ``without`` those columns): what two runs must agree on. The
    file a row was read from is its local copy (each run its own); its sha256 is compared."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        )
        columns = [c for (c,) in cur.fetchall() if c not in without]
        cur.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608 (test's own names)
        rows = [
            tuple({k: v for k, v in value.items() if k not in without}
                  if isinstance(value, dict) else value for value in row)  # (a row kept as JSON)
            for row in cur.fetchall()
        ]  # fmt: skip
        return sorted(rows, key=repr)


def query(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


class TcpProxy:
    """A TCP forwarder to ``target`` on a fixed local port that can be stopped (connections
    refused, open ones cut) and started again: a database that goes away and comes back."""

    def __init__(self, target_port: int, port: int | None = None):
        self.target_port, self.port = target_port, port or free_port()
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def start(self) -> TcpProxy:
        import threading

        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the accepting thread
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for end in self.open:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass
        self.open = []


def wait_quiet(api, dag_ids, timeout: float = 900) -> None:
    """Until no run of these DAGs is queued or running (three looks 5 s apart)."""
    deadline, calm = time.monotonic() + timeout, 0
    while calm < 3:
        assert time.monotonic() < deadline, {d: api.runs(d)[:3] for d in dag_ids}
        busy = any(r["state"] in ("queued", "running") for d in dag_ids for r in api.runs(d))
        calm = 0 if busy else calm + 1
        time.sleep(5)


def loaded_runs(url: str) -> dict[str, list[tuple]]:
    rows = query(url, "SELECT source, delivery, version, rows_read, rows_loaded, "
                      "rows_quarantined, rows_review FROM run WHERE status = 'loaded' "
                      "ORDER BY source, delivery, version")  # fmt: skip
    found: dict[str, list[tuple]] = {}
    for source, *rest in rows:
        found.setdefault(source, []).append(tuple(rest))
    return found


def assert_same_tables(one: str, other: str, tables) -> None:
    """The tables hold the same rows in both warehouses; on a difference, say which columns
    differ in the first rows that differ."""
    for table in tables:
        left, right = table_rows(one, table), table_rows(other, table)
        if left == right:
            continue
        columns = [c for (c,) in query(one, "SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = %s ORDER BY ordinal_position", (table,))
                   if c not in ("run_id", "src_file")]  # fmt: skip
        only_left = [r for r in left if r not in right][:3]
        only_right = [r for r in right if r not in left][:3]
        diffs = [{c: (a, b) for c, a, b in zip(columns, x, y, strict=False) if a != b}
                 for x, y in zip(only_left, only_right, strict=False)]  # fmt: skip
        raise AssertionError(f"{table}: {len(left)} vs {len(right)} rows; first differences "
                             f"{diffs or (only_left, only_right)}")  # fmt: skip


# The CLI of this checkout (not an editable install of another one), for comparisons.
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(REPO)}
