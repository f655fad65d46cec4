"""The Airflow DAGs parse, wire the pipeline stages in order, and run end to end."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).with_name("airflow")


def _airflow_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(REPO / "airflow.cfg"),
        "POPSYNC_HOME": str(REPO),
        "PATH": f"{AIRFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow_home")
    migrate = subprocess.run(
        [str(AIRFLOW), "db", "migrate"],
        env=_airflow_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home


def test_dag_file_parses_with_every_stage_in_order(airflow_home):
    script = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="dags")
dag = bag.get_dag("popsync_sync")
order = [t.task_id for t in dag.topological_sort()]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "order": order}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=_airflow_env(airflow_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["order"] == [
        "plan",
        "register",
        "standardize",
        "validate_pre",
        "link",
        "validate_post",
        "load",
        "recheck",
        "status",
        "finish_batch",
    ]


def test_dag_run_loads_every_sample_extract_like_the_cli(airflow_home, tmp_path):
    workdir = tmp_path / "work"
    conf = {"samples": str(REPO / "data_samples"), "workdir": str(workdir)}
    done = subprocess.run(
        [str(AIRFLOW), "dags", "test", "popsync_sync", "2023-01-15", "-c", json.dumps(conf)],
        cwd=REPO,
        env={k: v for k, v in _airflow_env(airflow_home).items() if k != "POPSYNC_DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        runs = db.execute(
            "SELECT source, status, rows_read, rows_loaded + rows_quarantined + rows_review FROM run WHERE source <> 'dan_cu'"
        ).fetchall()
    assert sorted(r[0] for r in runs) == ["bhxh", "f0", "tiem_chung"]
    for source, status, read, placed in runs:
        assert status == "loaded", source
        assert read == placed > 0, source
    # Each load emits one event, for its own table only, with its counts.
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        events = db.execute(
            "SELECT a.name, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
        ).fetchall()
    assert sorted(name for name, _ in events) == [
        "popsync_f0_case", "popsync_social_insurance_period", "popsync_vaccination_dose"
    ]  # fmt: skip
    for _, extra in events:
        counts = json.loads(extra)
        assert counts["read"] == counts["loaded"] + counts["quarantined"] + counts["review"]
