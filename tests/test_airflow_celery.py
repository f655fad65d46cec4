"""The same DAGs on the CeleryExecutor: Redis on 127.0.0.1:6379 as the broker, PostgreSQL for
Airflow's metadata and Celery's results, the scheduler, dag-processor and API server started one
by one, and two Celery workers, each started from a working directory of its own (their own
queue, so no other worker takes their tasks). The chunk size is 1,000 rows: the vaccination
doses (6,574 rows) and BHXH periods (1,208) fan out in chunks across both workers, the F0 cases
(627) take the one-task-per-step path. Every extract loads as the CLI (one process) loads it,
and nothing is written in a worker's working directory."""

from __future__ import annotations

import subprocess
import uuid

import pytest
import redis
from airflow_stack import (
    BIN,
    CHECKOUT_ENV,
    DAG_IDS,
    DATE,
    REPO,
    TABLES,
    Stack,
    assert_same_tables,
    free_port,
    loaded_runs,
    local_env,
    own_databases,
    query,
    wait_quiet,
)

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379/0"
WORKERS = ("worker_a", "worker_b")
CHUNK_ROWS = 1000


@pytest.fixture(scope="module")
def databases():
    """Two databases of their own: Airflow's metadata (and Celery's results), the warehouse."""
    with own_databases("popsync_celery", "meta", "wh") as urls:
        yield urls


@pytest.fixture(scope="module")
def celery_airflow(tmp_path_factory, databases):
    sys_path_ops()
    import airflow_local

    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS} ({error}): start redis-server")
    meta, warehouse = databases
    root = tmp_path_factory.mktemp("celery")
    home, landing = root / "home", root / "landing"
    elsewhere = {name: root / f"cwd_{name}" for name in WORKERS}
    for folder in elsewhere.values():
        folder.mkdir()
    airflow_local.seed_landing(landing)
    port, queue = free_port(), f"popsync_{uuid.uuid4().hex[:8]}"
    more = {"POPSYNC_DATABASE_URL": warehouse, "POPSYNC_RETRY_DELAY_SECONDS": "2",
            "POPSYNC_SETTLE_SECONDS": "0", "POPSYNC_CHUNK_ROWS": str(CHUNK_ROWS)}  # fmt: skip
    env = local_env(home, port, landing, more) | {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
        "AIRFLOW__CELERY__BROKER_URL": REDIS,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
    }
    airflow = str(BIN / "airflow")
    migrate = subprocess.run([airflow, "db", "migrate"], env=env, cwd=root, capture_output=True,
                             text=True, timeout=600)  # fmt: skip
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    stack = Stack(home)
    try:
        for name, command in (("api-server", ["api-server", "--port", str(port)]),
                              ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"])):  # fmt: skip
            stack.start(name, [airflow, *command], env, cwd=root)
        for name, cwd in elsewhere.items():  # two workers on one machine, told apart by name
            worker_env = env | {
                "POPSYNC_TEST_WORKER": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_stack.worker_hostname",
                "PYTHONPATH": f"{env['PYTHONPATH']}:{REPO / 'tests'}",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
            stack.start(name, [airflow, "celery", "worker", "--queues", queue, "--concurrency",
                               "2", "--celery-hostname", f"{name}@%h"], worker_env, cwd=cwd)  # fmt: skip
        api = stack.logged_in(port, timeout=240)
        yield {"api": api, "landing": landing, "warehouse": warehouse, "queue": queue,
               "elsewhere": elsewhere, "home": home, "stack": stack}  # fmt: skip
    finally:
        stack.stop()


def sys_path_ops() -> None:
    import sys

    sys.path.insert(0, str(REPO / "ops"))


def test_the_celery_worker_runs_every_task_and_loads_like_the_cli(celery_airflow, pg_url):
    api, warehouse = celery_airflow["api"], celery_airflow["warehouse"]
    for dag_id in DAG_IDS:
        api.unpause(dag_id)
    wait_quiet(api, DAG_IDS, timeout=1200)
    for dag_id in DAG_IDS:
        states = {r["dag_run_id"]: r["state"] for r in api.runs(dag_id)}
        assert states and set(states.values()) == {"success"}, (dag_id, states)
        for run_id in states:
            ran = [t for t in api.task_instances(dag_id, run_id) if t["state"] == "success"]
            assert ran and {t["queue"] for t in ran} == {celery_airflow["queue"]}
    loaded = loaded_runs(warehouse)
    assert sorted(loaded) == ["bhxh", "dan_cu", "f0", "tiem_chung"]
    for source in TABLES:
        [(delivery, version, read, *placed)] = loaded[source]
        assert delivery.startswith(f"{source}_{DATE}") and read == sum(placed) > 0
    # Each worker ran in a folder of its own and left nothing there: no path is relative.
    for folder in celery_airflow["elsewhere"].values():
        assert list(folder.iterdir()) == []

    landing = celery_airflow["landing"]
    register = next(landing.glob(f"dan_cu_{DATE}.*"))
    for source in TABLES:
        extract = next(landing.glob(f"{source}_{DATE}.*"))
        done = subprocess.run(
            [str(BIN / "popsync"), "run", source, "--input", str(extract), "--population",
             str(register), "--date", DATE, "--batch", extract.name, "--database-url", pg_url,
             "--workdir", str(celery_airflow["home"] / "cli_work")],
            capture_output=True, text=True, timeout=600, cwd=REPO, env=CHECKOUT_ENV,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert_same_tables(pg_url, warehouse, [*TABLES.values(), "person", "quarantine"])


def test_a_large_extract_fans_out_in_chunks_across_both_workers(celery_airflow):
    """After the runs above: the vaccination file went the chunks path, one mapped ``link``
    per 1,000 rows, spread over both workers, then one ``load`` of the whole batch (one run,
    its rows all read); the small F0 file went the file path."""
    api, warehouse = celery_airflow["api"], celery_airflow["warehouse"]
    tasks = {dag_id: [t for r in api.runs(dag_id) for t in api.task_instances(dag_id, r["dag_run_id"])
                      if t["state"] == "success"] for dag_id in ("vaccination_sync", "f0_sync")}  # fmt: skip
    links = [t for t in tasks["vaccination_sync"] if t["task_id"] == "chunks.link"]
    [(rows,)] = query(warehouse, "SELECT rows_read FROM run WHERE source = 'tiem_chung' "
                      "AND status = 'loaded'")  # fmt: skip
    assert len(links) == -(-rows // CHUNK_ROWS) > 1
    assert {t["hostname"] for t in links} == set(WORKERS)
    assert [t["task_id"] for t in tasks["vaccination_sync"]].count("chunks.load") == 1
    assert not any(t["task_id"].startswith("file.") for t in tasks["vaccination_sync"])
    f0 = {t["task_id"] for t in tasks["f0_sync"] if t["map_index"] >= 0}  # the per-item tasks
    assert "file.load" in f0 and not any(task.startswith("chunks.") for task in f0)
