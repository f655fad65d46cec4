"""Real Airflow for the end-to-end tests: ``airflow standalone`` started the way ``make airflow``
starts it (``ops/airflow_local.py``) in a temporary AIRFLOW_HOME, or the components one by one
(scheduler, dag-processor, API server, Celery worker) for the CeleryExecutor; stopped with
their whole process group. Plus what the tests compare: the warehouse's tables."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_IDS = ["population_register_sync", "vaccination_sync", "f0_sync", "social_insurance_sync"]
EXTRACT_DAGS = {"tiem_chung": "vaccination_sync", "f0": "f0_sync", "bhxh": "social_insurance_sync"}
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


def table_rows(url: str, table: str, without=("run_id",)) -> list[tuple]:
    """A table's rows (sorted, ``without`` those columns): what two runs must agree on."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        )
        columns = [c for (c,) in cur.fetchall() if c not in without]
        cur.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608 (test's own names)
        return sorted(cur.fetchall(), key=repr)


def query(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
