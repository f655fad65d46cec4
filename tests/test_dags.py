"""The DAGs, one per declared source: parsed (steps in order, every task but ``outcome`` retrying with
backoff, a timeout on every task, schedules, no required Param) and run in-process
(``airflow dags test``) on the embedded database. The real schedulers are in
``test_airflow_local.py`` and ``test_airflow_celery.py`` (slow)."""

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
STEPS = ("standardize", "validate_pre", "link", "validate_post", "load", "report")
# A file of more rows than the chunk size takes the ``chunks`` path (popsync.scheduling.chunked).
EXTRACT_STEPS = ["pull", *(f"file.{step}" for step in STEPS), "chunks.pull",
                 "chunks.standardize", "chunks.fan_out", "chunks.link", "chunks.load",
                 "recheck", "publish_status", "outcome"]  # fmt: skip


def _airflow_env(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POPSYNC_")}
    return env | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(REPO / "airflow.cfg"),
        "POPSYNC_HOME": str(REPO),
        "PYTHONPATH": str(REPO),
        "PATH": f"{AIRFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **more,
    }


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow_home")
    migrate = subprocess.run([str(AIRFLOW), "db", "migrate"], env=_airflow_env(home),
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home


PARSE = """
import json
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import AssetOrTimeSchedule
bag = DagBag(dag_folder="dags")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag in bag.dags.values():
    tasks = {}
    for t in dag.topological_sort():
        tasks[t.task_id] = {"retries": t.retries, "backoff": bool(t.retry_exponential_backoff),
                            "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                            "outlets": [a.name for a in t.outlets], "trigger_rule": getattr(t.trigger_rule, "value", t.trigger_rule),
                            "upstream": sorted(t.upstream_task_ids),
                            "logs_return_value": getattr(t, "partial_kwargs", {}).get(
                                "show_return_value_in_logs", getattr(t, "show_return_value_in_logs", None))}
    schedule = dag.timetable
    out["dags"][dag.dag_id] = {
        "order": list(tasks), "tasks": tasks, "params": {k: dag.params[k] for k in dag.params},
        "assets": sorted(a.name for a in schedule.asset_condition.objects) if isinstance(schedule, AssetOrTimeSchedule) else None,
        "timetable": type(getattr(schedule, "timetable", schedule)).__name__,
    }
print(json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def parsed(airflow_home) -> dict:
    done = subprocess.run([sys.executable, "-c", PARSE], cwd=REPO, env=_airflow_env(airflow_home),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    return found["dags"]


def test_one_dag_per_declared_source_with_its_steps_in_order(parsed):
    assert sorted(parsed) == ["f0_sync", "population_register_sync", "social_insurance_sync",
                              "vaccination_sync"]  # fmt: skip
    assert parsed["population_register_sync"]["order"] == ["pull", "validate", "load"]
    for dag_id in ("vaccination_sync", "f0_sync", "social_insurance_sync"):
        assert parsed[dag_id]["order"] == EXTRACT_STEPS


def test_every_task_but_outcome_retries_with_backoff_and_has_a_timeout(parsed):
    """Gates retry too (a refused warehouse connection); a block is AirflowFailException,
    which Airflow never retries (test_a_block_fails_without_retry)."""
    for dag_id, dag in parsed.items():
        for task_id, task in dag["tasks"].items():
            assert task["timeout"] and task["timeout"] > 0, (dag_id, task_id)
            step = task_id.removeprefix("file.")
            if step == "outcome":
                assert task["retries"] == 0, (dag_id, task_id)
            else:
                assert task["retries"] >= 3 and task["backoff"], (dag_id, task_id)


def test_task_logs_hold_the_summary_line_not_the_returned_batch(parsed):
    """A step returns the whole batch record (scores, blocking counts, the linkage model) for
    the next task; Airflow would print it after the step's one summary line."""
    for dag_id, dag in parsed.items():
        for task_id, task in dag["tasks"].items():
            assert task["logs_return_value"] is False, (dag_id, task_id)


def test_extracts_run_daily_and_when_the_register_changes_and_need_no_params(parsed):
    assert parsed["population_register_sync"]["timetable"] == "CronTriggerTimetable"
    assert parsed["population_register_sync"]["tasks"]["load"]["outlets"] == ["popsync_register"]
    tables = {"vaccination_sync": "popsync_vaccination_dose", "f0_sync": "popsync_f0_case",
              "social_insurance_sync": "popsync_social_insurance_period"}  # fmt: skip
    for dag_id, table in tables.items():
        dag = parsed[dag_id]
        assert dag["assets"] == ["popsync_register"] and dag["timetable"] == "CronTriggerTimetable"
        assert dag["tasks"]["file.load"]["outlets"] == [table]  # its own table only
        assert dag["tasks"]["chunks.load"]["outlets"] == [table]
        assert dag["tasks"]["publish_status"]["outlets"] == ["popsync_person_status"]
        assert dag["tasks"]["publish_status"]["trigger_rule"] == "all_done"
    for dag in parsed.values():
        assert dag["params"] == {}  # nothing to fill in: the Trigger button is never disabled


def test_recheck_runs_after_every_file_and_before_publish_status_even_when_none_came(parsed):
    """A register change with no new file (the register's Asset triggers the DAG): ``recheck``
    runs whatever became of the files (all_done), before ``publish_status``."""
    for dag_id in ("vaccination_sync", "f0_sync", "social_insurance_sync"):
        tasks = parsed[dag_id]["tasks"]
        assert tasks["recheck"]["trigger_rule"] == "all_done"
        assert tasks["recheck"]["upstream"] == ["chunks.load", "file.report"]
        assert tasks["publish_status"]["upstream"] == ["pull", "recheck"]
        assert tasks["outcome"]["upstream"] == ["publish_status", "pull"]
        assert tasks["recheck"]["retries"] >= 3 and tasks["recheck"]["timeout"] == 120 * 60


@pytest.mark.slow  # three `airflow dags test` processes: two minutes, a sixth of the default suite
def test_dags_test_pulls_the_landing_folder_into_the_embedded_database(airflow_home, tmp_path):
    sys.path.insert(0, str(REPO / "ops"))
    import airflow_local

    landing, workdir = tmp_path / "landing", tmp_path / "work"
    airflow_local.seed_landing(landing)
    # 700 rows a chunk: the F0 file (627 rows) takes the file path, BHXH's (1,208) two chunks.
    env = _airflow_env(airflow_home, POPSYNC_WORKDIR=str(workdir), POPSYNC_CHUNK_ROWS="700",
                       POPSYNC_LANDING_DAN_CU=str(landing), POPSYNC_LANDING_F0=str(landing),
                       POPSYNC_LANDING_BHXH=str(landing))  # fmt: skip
    for dag_id in ("population_register_sync", "f0_sync", "social_insurance_sync"):
        done = subprocess.run([str(AIRFLOW), "dags", "test", dag_id], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        runs = db.execute("SELECT source, delivery, status, rows_read, "
                          "rows_loaded + rows_quarantined + rows_review FROM run").fetchall()  # fmt: skip
    assert sorted(r[:3] for r in runs) == [("bhxh", "bhxh_2023-01-15.csv", "loaded"),
                                           ("dan_cu", "dan_cu_2023-01-15.csv", "loaded"),
                                           ("f0", "f0_2023-01-15.csv", "loaded")]  # fmt: skip
    f0, bhxh = (next(r for r in runs if r[0] == source) for source in ("f0", "bhxh"))
    assert f0[3] == f0[4] > 0 and bhxh[3] == bhxh[4] == 1208
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        events = db.execute("SELECT a.name, e.extra FROM asset_event e "
                            "JOIN asset a ON a.id = e.asset_id").fetchall()  # fmt: skip
        ran = db.execute("SELECT dag_id, task_id, map_index FROM task_instance "
                         "WHERE state = 'success'").fetchall()  # fmt: skip
    names = sorted(name for name, _ in events)
    assert names == ["popsync_f0_case", "popsync_person_status", "popsync_person_status",
                     "popsync_register", "popsync_social_insurance_period"]  # fmt: skip
    for table, run in (("popsync_f0_case", f0), ("popsync_social_insurance_period", bhxh)):
        counts = json.loads(next(extra for name, extra in events if name == table))
        assert (
            counts["read"] == counts["loaded"] + counts["quarantined"] + counts["review"] == run[3]
        )
    # F0 went the file path; BHXH's two chunks were linked by two mapped tasks, loaded by one.
    mapped = {d: {(t, i) for e, t, i in ran if e == d and i >= 0} for d, _, _ in ran}
    assert mapped["f0_sync"] == {(f"file.{step}", 0) for step in STEPS}
    assert mapped["social_insurance_sync"] == {("chunks.standardize", 0), ("chunks.link", 0),
                                               ("chunks.link", 1), ("chunks.load", 0)}  # fmt: skip


def test_every_module_attribute_the_tasks_use_exists():
    """The tasks reach popsync through module attributes (``pipeline.report_blocked``); one that
    is gone shows only when a task hits that branch on a worker (a blocked gate retried as a
    crash), so each such use is resolved here."""
    import ast
    import importlib
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "popsync" / "scheduling"
    missing = []
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if importlib.util.find_spec(node.module) and _is_module(name):
                        modules[alias.asname or alias.name] = importlib.import_module(name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules
                    and not hasattr(modules[node.value.id], node.attr)):  # fmt: skip
                missing.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert missing == []


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_a_step_retries_a_warehouse_it_cannot_reach_and_fails_wrong_input_at_once():
    """A task's step (``steps.guarded``) fails a block or wrong input without retries
    (``AirflowFailException``), but a database it cannot reach (``InfrastructureError``, a kind
    of ``UserError`` for the CLI's exit code) is raised as is, so Airflow retries the task."""
    from airflow.sdk.exceptions import AirflowFailException

    from popsync.core.errors import InfrastructureError, UserError
    from popsync.scheduling import steps

    def failing(error):
        def work(batch):
            raise error

        return work

    refused = InfrastructureError("cannot connect to the warehouse (connection refused)")
    with pytest.raises(InfrastructureError):
        steps.guarded("load", {"delivery": "f0.csv"}, None, failing(refused), alive=False)
    wrong = UserError("f0.csv: column ho_ten is missing")
    with pytest.raises(AirflowFailException):
        steps.guarded("load", {"delivery": "f0.csv"}, None, failing(wrong), alive=False)


def test_a_stopped_step_masks_personal_numbers_in_its_failure_and_its_log_line(caplog):
    """What a task says of wrong input (the exception Airflow shows, the log line) goes through
    the one masking every output uses, whatever the error's text holds."""
    from airflow.sdk.exceptions import AirflowFailException

    from popsync.core.errors import UserError
    from popsync.scheduling import steps

    def work(batch):
        raise UserError("row 3: ID 001090000004 is claimed by two people")

    with caplog.at_level("ERROR"), pytest.raises(AirflowFailException) as failed:
        steps.guarded("load", {"delivery": "f0.csv"}, None, work, alive=False)
    assert "ID 001******004 is claimed" in str(failed.value)
    assert "ID 001******004 is claimed" in caplog.text
    assert "001090000004" not in str(failed.value) + caplog.text


def test_the_chunk_size_comes_from_the_run_else_the_environment_else_the_default(monkeypatch):
    from popsync.core.errors import UserError
    from popsync.pipeline.chunks import DEFAULT_CHUNK_ROWS
    from popsync.scheduling.chunked import chunk_rows

    monkeypatch.delenv("POPSYNC_CHUNK_ROWS", raising=False)
    assert chunk_rows(None) == chunk_rows({}) == DEFAULT_CHUNK_ROWS
    monkeypatch.setenv("POPSYNC_CHUNK_ROWS", "500")
    assert chunk_rows({}) == 500 and chunk_rows({"chunk_rows": 20}) == 20
    for wrong in ("0", "-3", "many"):
        monkeypatch.setenv("POPSYNC_CHUNK_ROWS", wrong)
        with pytest.raises(UserError, match="chunk size"):
            chunk_rows({})
