"""Fault injection on a real PostgreSQL server (issue 11): the loader is killed (``kill -9``) at
random points, or the server is restarted under it, at least 20 times; each time the next run
leaves the same tables as an undisturbed run, and the interrupted run is recorded ``failed``.
The server is a throwaway cluster of the test's own (``private_postgres``): the shared one is
never restarted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from private_postgres import private_cluster

from popsync import pipeline, warehouse
from popsync.generate import generate_dataset
from popsync.resources import Resources

REPO = Path(__file__).resolve().parents[1]
ITERATIONS = int(os.environ.get("POPSYNC_FAULT_ITERATIONS", "20"))
# The tables a batch writes, compared without run ids and times.
COMPARED = ("person", "person_history", "f0_case", "quarantine", "review_candidate",
            "quality_finding", "delivery")  # fmt: skip
NOT_COMPARED = {"run_id", "received_at", "changed_at"}


def tables(url: str) -> dict[str, list[tuple]]:
    """Every compared table's rows, sorted, without the columns that name a run or a time."""
    with warehouse.connect(url) as store:
        found = {}
        for table in COMPARED:
            columns = [c for (c,) in store.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema() ORDER BY ordinal_position", (table,))
                if c not in NOT_COMPARED]  # fmt: skip
            rows = store.fetch("SELECT {columns} FROM {table}", columns=columns, table=table)
            found[table] = sorted(rows, key=repr)
        return found


def launch(url: str, files: Path, workdir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "POPSYNC_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "popsync.cli", "run", "f0", "--input", str(files / "f0.csv"),
         "--population", str(files / "dan_cu.csv"), "--date", "2023-01-15",
         "--workdir", str(workdir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
def test_kills_and_server_restarts_never_leave_a_partial_batch(tmp_path):
    files = tmp_path / "set"
    generate_dataset(out_dir=files, people=300, seed=3, formats="csv")
    chance = random.Random(11)
    with private_cluster() as cluster:
        baseline_url = cluster.database("baseline")
        undisturbed = launch(baseline_url, files, tmp_path / "w0")
        assert undisturbed.wait(600) == 0, undisturbed.stderr.read().decode()
        expected = tables(baseline_url)
        assert expected["f0_case"] and expected["person"]
        # Most victims run a file loaded already with the register's cache warm: the window
        # to interrupt them is such a run's length, not the first (cold) one's.
        started = time.monotonic()
        again = launch(baseline_url, files, tmp_path / "w0")
        assert again.wait(600) == 0, again.stderr.read().decode()
        duration = time.monotonic() - started
        assert tables(baseline_url) == expected

        url = cluster.database("chaos")
        res = Resources.from_environment(database_url=url, workdir=tmp_path / "w")
        interrupted = {"kill": 0, "restart": 0, "recorded": 0}
        for turn in range(ITERATIONS):
            how = "kill" if turn % 2 == 0 else "restart"
            victim = launch(url, files, tmp_path / "w")
            time.sleep(chance.uniform(0.2, duration))
            if how == "kill":
                victim.send_signal(signal.SIGKILL)
            else:
                cluster.restart()
            code = victim.wait(600)
            stderr = victim.stderr.read().decode()
            assert code in (0, -signal.SIGKILL, 4), stderr
            if code == 4:
                assert stderr.startswith("error: ") and "Traceback" not in stderr, stderr
            if code != 0:
                interrupted[how] += 1
            # The next run: to the end, then the tables are as if nothing had happened.
            done = pipeline.run_source(res, "f0", files / "f0.csv", files / "dan_cu.csv",
                                       "2023-01-15")  # fmt: skip
            assert tables(url) == expected, f"turn {turn} ({how} at exit code {code})"
            with warehouse.connect(url) as store:
                store.reconcile(done["run_id"])
                left = store.fetch("SELECT run_id, status, error FROM run WHERE source = 'f0' "
                                   "AND run_id <> %s AND status NOT IN ('loaded', 'replaced', "
                                   "'superseded')", (done["run_id"],))  # fmt: skip
            assert all(status == "failed" for _, status, _ in left), left
            interrupted["recorded"] = len(left)
        assert interrupted["kill"] + interrupted["restart"] >= ITERATIONS // 2, interrupted
        assert interrupted["recorded"] >= interrupted["kill"] // 2, interrupted
