"""What the benchmarks share: a child process measured from outside (wall time and peak RSS
from ``os.wait4``, so the parent's own memory never counts) and a throwaway PostgreSQL database.

Import it from a benchmark script (``bench/`` is the script's folder, so it is on ``sys.path``)::

    from _shared import measured_child, temporary_database
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

BENCH_SERVER = os.environ.get(
    "POPSYNC_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class ChildRun:
    exit_code: int | None  # None: killed at the timeout
    wall_seconds: float
    peak_mb: float
    output: str  # the tail of stdout+stderr when captured, else ""
    cpu_seconds: float = 0.0  # user + system time of the child and its reaped children

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


def measured_child(
    args: list[str],
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    capture: bool = False,
) -> ChildRun:
    """Run a command in its own session; its exit code, wall time and peak resident memory.

    At ``timeout`` seconds the whole process group is killed (``exit_code`` None). With
    ``capture`` the output's last 3,000 characters are kept, else it goes to the terminal.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
    )
    output = process.stdout.read() if capture else ""  # returns when the child closes it
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - started > timeout:
            os.killpg(process.pid, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = -signal.SIGKILL
            return ChildRun(
                None, time.perf_counter() - started, usage.ru_maxrss / 1024, output, _cpu(usage)
            )
        time.sleep(0.2)
    # Reaped by wait4, not by Popen: tell it, or it warns that the child is still running.
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return ChildRun(process.returncode, wall, usage.ru_maxrss / 1024, output[-3000:], _cpu(usage))


def _cpu(usage) -> float:
    """CPU seconds (user + system) from ``os.wait4``'s resource usage."""
    return usage.ru_utime + usage.ru_stime


def temporary_database(server_url: str = BENCH_SERVER):
    """Create an empty database on the server; return its URL and a function that drops it."""
    import psycopg2
    from psycopg2 import sql

    name = f"popsync_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()

    return urlsplit(server_url)._replace(path=f"/{name}").geturl(), drop


def independent_batch(folder, source: str) -> dict:
    """A new batch of ``source`` from an independent data set (``bench/independent``): its
    extract against its register, as of the extract date its manifest names."""
    import json
    from pathlib import Path

    from popsync.pipeline.batch import new_batch

    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return new_batch(
        source, folder / manifest["sources"][source]["file"],
        folder / manifest["sources"]["dan_cu"]["file"], manifest["extract_date"],
    )  # fmt: skip
