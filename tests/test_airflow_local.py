"""The DAGs on a real scheduler (``airflow standalone`` as ``make airflow`` starts it, from another
working directory, LocalExecutor, the warehouse on PostgreSQL), driven through the REST API like
an operator: scheduled and Asset-triggered runs pull the landing folder and load every extract
as the CLI does; manual runs (no logical date) and backfills work; a second run takes only new or
changed files; one broken file fails its own DAG only; a truncated file is blocked and loads
nothing."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest
from airflow_stack import (
    CHECKOUT_ENV,
    DAG_IDS,
    DATE,
    EXTRACT_DAGS,
    REPO,
    TABLES,
    TcpProxy,
    assert_same_tables,
    free_port,
    loaded_runs,
    local_env,
    own_databases,
    query,
    standalone,
    wait_quiet,
)

from transforms.readers import read_source

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse_url():
    """A PostgreSQL database of its own for the module (the pg_url fixture is per test)."""
    with own_databases("popsync_airflow", "wh") as [url]:
        yield url


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, warehouse_url):
    """Airflow standalone on a free port, its landing folder seeded with the samples."""
    sys.path.insert(0, str(REPO / "ops"))
    import airflow_local

    root = tmp_path_factory.mktemp("airflow")
    home, landing, elsewhere = root / "home", root / "landing", root / "elsewhere"
    elsewhere.mkdir()
    airflow_local.seed_landing(landing)
    port = free_port()
    # Airflow reaches the warehouse through a proxy the tests can stop and start again.
    proxy = TcpProxy(5432).start()
    through_proxy = warehouse_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    more = {"POPSYNC_DATABASE_URL": through_proxy, "POPSYNC_RETRY_DELAY_SECONDS": "2",
            "POPSYNC_SETTLE_SECONDS": "0"}  # fmt: skip
    stack = standalone(home, port, landing, more, cwd=elsewhere)
    try:
        api = stack.logged_in(port)
        yield {"api": api, "home": home, "landing": landing, "port": port, "more": more,
               "stack": stack, "proxy": proxy, "elsewhere": elsewhere}  # fmt: skip
    finally:
        stack.stop()
        proxy.stop()


def test_scheduled_runs_pull_the_landing_folder_and_load_like_the_cli(
    airflow, warehouse_url, pg_url
):
    api = airflow["api"]
    # Unpaused, each DAG's daily run starts (the latest 01:00 and 02:00 passed); an extract
    # pulls nothing before a register is loaded, and the register's Asset triggers them again.
    for dag_id in DAG_IDS:
        api.unpause(dag_id)
    wait_quiet(api, DAG_IDS)
    for dag_id in DAG_IDS:
        states = {r["dag_run_id"]: r["state"] for r in api.runs(dag_id)}
        assert states and set(states.values()) == {"success"}, (dag_id, states)
    extract_runs = {d: api.runs(d) for d in EXTRACT_DAGS.values()}
    assert all({"scheduled", "asset_triggered"} <= {r["run_type"] for r in runs}
               for runs in extract_runs.values()), extract_runs  # fmt: skip

    # Each landed file loaded once, reconciled; the register too.
    loaded = loaded_runs(warehouse_url)
    assert sorted(loaded) == ["bhxh", "dan_cu", "f0", "tiem_chung"]
    for source in TABLES:
        [(delivery, version, read, *placed)] = loaded[source]
        assert delivery.startswith(f"{source}_{DATE}") and version == 1
        assert read == sum(placed) > 0

    # One Asset event per load, for its own table, with its counts; the register's; the status.
    for source, table in TABLES.items():
        [event] = api.asset_events(f"popsync_{table}")
        extra = event["extra"]
        assert extra["read"] == extra["loaded"] + extra["quarantined"] + extra["review"] > 0
        assert extra["delivery"].startswith(f"{source}_{DATE}")
    assert len(api.asset_events("popsync_register")) == 1
    assert api.asset_events("popsync_person_status")

    # The logs an operator reads: GX silent, one summary line per step.
    run_id = next(r["dag_run_id"] for r in api.runs("f0_sync")
                  if api.task_states("f0_sync", r["dag_run_id"]).get("file.load[0]") == "success")  # fmt: skip
    gate_log = api.log("f0_sync", run_id, "file.validate_pre", map_index=0)
    assert "PASSED (verdict" in gate_log and "Skipping registering" not in gate_log
    assert len(gate_log.splitlines()) < 40, gate_log
    assert " rows read = " in api.log("f0_sync", run_id, "file.load", map_index=0)

    # The CLI on the same files gives the same warehouse.
    landing = airflow["landing"]
    register = next(landing.glob(f"dan_cu_{DATE}.*"))
    for source in TABLES:
        extract = next(landing.glob(f"{source}_{DATE}.*"))
        done = subprocess.run(
            [str(REPO / ".venv/bin/popsync"), "run", source, "--input", str(extract),
             "--population", str(register), "--date", DATE, "--batch", extract.name,
             "--database-url", pg_url, "--workdir", str(airflow["home"] / "cli_work")],
            capture_output=True, text=True, timeout=600, cwd=REPO, env=CHECKOUT_ENV,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert_same_tables(pg_url, warehouse_url, [*TABLES.values(), "person", "quarantine"])

    # A manual run (no logical date) finds nothing new; so does a backfill over two days.
    manual = api.trigger("f0_sync")
    assert api.wait("f0_sync", manual) == "success"
    assert "0 new item(s)" in api.log("f0_sync", manual, "pull")
    backfill = subprocess.run(
        [str(REPO / ".venv/bin/airflow"), "backfill", "create", "--dag-id", "social_insurance_sync",
         "--from-date", "2023-01-15", "--to-date", "2023-01-17"],
        env=local_env(airflow["home"], airflow["port"], landing, airflow["more"]),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    wait_quiet(api, ["social_insurance_sync"])
    backfilled = [r for r in api.runs("social_insurance_sync") if r["run_type"] == "backfill"]
    assert len(backfilled) == 2 and {r["state"] for r in backfilled} == {"success"}
    assert loaded_runs(warehouse_url) == loaded


def _redeliver_without_last_rows(landing, name: str, drop: int) -> int:
    """A corrected re-delivery of a landed file (same name, its last rows gone); its rows."""
    path = landing / name
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, dtype=str, engine="calamine")
        frame.iloc[:-drop].to_excel(path, index=False)
        return len(frame) - drop
    lines = path.read_bytes().splitlines(keepends=True)  # the file's own encoding kept
    path.write_bytes(b"".join(lines[:-drop]))
    return len(lines) - 1 - drop


def test_one_broken_file_fails_its_own_dag_and_corrected_files_replace_their_batch(
    airflow, warehouse_url
):
    api, landing = airflow["api"], airflow["landing"]
    before = loaded_runs(warehouse_url)
    rows = {source: _redeliver_without_last_rows(landing, next(landing.glob(f"{source}_{DATE}.*")).name, 40)
            for source in ("tiem_chung", "bhxh")}  # fmt: skip
    (landing / "f0_2023-01-16.csv").write_text("not,an,extract\n1,2,3\n", encoding="utf-8")

    runs = {dag_id: api.trigger(dag_id) for dag_id in EXTRACT_DAGS.values()}
    states = {dag_id: api.wait(dag_id, run_id) for dag_id, run_id in runs.items()}
    assert states == {"vaccination_sync": "success", "f0_sync": "failed",
                      "social_insurance_sync": "success"}  # fmt: skip

    # f0: the broken file failed at once (no retries: wrong input), and nothing of f0 changed.
    f0 = {ti["task_id"]: ti for ti in api.task_instances("f0_sync", runs["f0_sync"])
          if ti["map_index"] in (-1, 0)}  # fmt: skip
    assert f0["file.standardize"]["state"] == "failed" and f0["file.standardize"]["try_number"] == 1
    assert f0["outcome"]["state"] == "failed"
    after = loaded_runs(warehouse_url)
    assert after["f0"] == before["f0"]
    # The corrected files were the only ones pulled, and replaced their batch whole.
    for source in ("tiem_chung", "bhxh"):
        [(delivery, version, read, *placed)] = after[source]  # version 1 is 'replaced' now
        assert version == 2 and read == rows[source] == sum(placed)
        [(status,)] = query(warehouse_url, "SELECT status FROM run WHERE source = %s AND "
                            "version = 1", (source,))  # fmt: skip
        assert status == "superseded"
        [(count,)] = query(warehouse_url, f"SELECT count(*) FROM {TABLES[source]}")  # noqa: S608
        [(quarantined,)] = query(warehouse_url, "SELECT count(*) FROM quarantine q JOIN run r "
                                 "ON r.run_id = q.run_id WHERE r.source = %s", (source,))  # fmt: skip
        assert count + quarantined == rows[source]


def test_a_truncated_file_is_blocked_and_loads_nothing(airflow, warehouse_url):
    api, landing = airflow["api"], airflow["landing"]
    (landing / "f0_2023-01-16.csv").unlink()  # the broken file of the test before, withdrawn
    source_file = next(landing.glob(f"f0_{DATE}.*"))
    lines = source_file.read_bytes().splitlines(keepends=True)  # Windows-1258: kept as bytes
    # Records, not lines: a quoted field may hold a line break (the reader counts as the pull does).
    records = len(read_source(source_file, "f0"))
    (landing / "f0_2023-01-17.csv").write_bytes(b"".join(lines[:100]))
    (landing / "f0_2023-01-17.csv.count").write_text(f"{records}\n")
    # Another file of the same run, whole (its own record ids: F… becomes G…), loads.
    other = [lines[0]] + [b"G" + line[1:] if line.startswith(b"F") else line for line in lines[1:]]
    (landing / "f0_2023-01-18.csv").write_bytes(b"".join(other))
    assert len(read_source(landing / "f0_2023-01-18.csv", "f0")) == records
    (landing / "f0_2023-01-18.csv.count").write_text(f"{records}\n")

    run_id = api.trigger("f0_sync")
    assert api.wait("f0_sync", run_id) == "failed"
    states = api.task_states("f0_sync", run_id)
    assert (
        states["file.validate_pre[0]"] == "failed" and states["file.load[0]"] == "upstream_failed"
    )
    assert states["file.load[1]"] == "success" and states["publish_status"] == "success"
    gate_log = api.log("f0_sync", run_id, "file.validate_pre", map_index=0)
    assert (
        "BLOCKED validate_pre f0_2023-01-17.csv" in gate_log and "the delivery states" in gate_log
    )
    [ti] = [t for t in api.task_instances("f0_sync", run_id)
            if t["task_id"] == "file.validate_pre" and t["map_index"] == 0]  # fmt: skip
    assert ti["try_number"] == 1  # a block is not retried
    [(status, error)] = query(warehouse_url, "SELECT status, error FROM run WHERE delivery = %s",
                              ("f0_2023-01-17.csv",))  # fmt: skip
    assert status == "blocked" and "the delivery states" in error
    assert query(warehouse_url, "SELECT count(*) FROM f0_case WHERE delivery = %s",
                 ("f0_2023-01-17.csv",)) == [(0,)]  # fmt: skip
    [(delivery_status,)] = query(warehouse_url, "SELECT status FROM delivery WHERE delivery = %s",
                                 ("f0_2023-01-17.csv",))  # fmt: skip
    assert delivery_status == "blocked"
    # The next run does not take the blocked file again.
    again = api.trigger("f0_sync")
    assert api.wait("f0_sync", again) == "success"
    assert "0 new item(s)" in api.log("f0_sync", again, "pull")


def _wait_for_state(api, dag_id, run_id, task, states, timeout=600):
    deadline = time.monotonic() + timeout
    while (found := api.task_states(dag_id, run_id).get(task)) not in states:
        assert time.monotonic() < deadline, (task, found, api.task_states(dag_id, run_id))
        time.sleep(0.5)
    return found


def _first_retry(api, dag_id, run_id, timeout=600) -> dict:
    """The first task instance of the file group found waiting for a retry."""
    deadline = time.monotonic() + timeout
    while True:
        tis = api.task_instances(dag_id, run_id)
        waiting = [t for t in tis if t["task_id"].startswith("file.")
                   and t["state"] == "up_for_retry"]  # fmt: skip
        if waiting:
            return waiting[0]
        states = {t["task_id"]: t["state"] for t in tis}
        assert time.monotonic() < deadline and api.run(dag_id, run_id)["state"] == "running", states
        time.sleep(0.5)


def test_a_refused_warehouse_connection_is_retried_until_the_database_is_back(
    airflow, warehouse_url
):
    api, landing, proxy = airflow["api"], airflow["landing"], airflow["proxy"]
    latest = ("SELECT version, rows_read FROM run WHERE source = 'bhxh' AND status = 'loaded' "
              "ORDER BY version DESC LIMIT 1")  # fmt: skip
    [(before, _)] = query(warehouse_url, latest)
    rows = _redeliver_without_last_rows(landing, f"bhxh_{DATE}.csv", 10)  # the next version
    run_id = api.trigger("social_insurance_sync")
    # The database goes away once the file's tasks have started (each of them records its
    # progress in the warehouse)...
    _wait_for_state(api, "social_insurance_sync", run_id, "file.standardize[0]",
                    {"running", "success"})  # fmt: skip
    proxy.stop()
    try:
        # ... so the next task's connection is refused: it waits for a retry, it does not fail.
        retried = _first_retry(api, "social_insurance_sync", run_id)
    finally:
        proxy.start()
    assert api.wait("social_insurance_sync", run_id) == "success"
    [task] = [t for t in api.task_instances("social_insurance_sync", run_id)
              if (t["task_id"], t["map_index"]) == (retried["task_id"], retried["map_index"])]  # fmt: skip
    assert task["state"] == "success" and task["try_number"] >= 2
    first_try = api.log("social_insurance_sync", run_id, task["task_id"], task["map_index"], 1)
    assert "OperationalError" in first_try, first_try[-3000:]
    assert query(warehouse_url, latest) == [(before + 1, rows)]


def test_a_register_change_with_no_new_file_re_checks_every_source(airflow, warehouse_url):
    """A new register snapshot in which people linked by the extracts changed (name, birth
    date) lands; population_register_sync loads it and its Asset triggers the extract DAGs with
    no new file: their recheck task links the flagged rows again, in a run of its own, and
    publish_status publishes the people it touched."""
    import json
    from pathlib import Path

    import pyarrow.parquet as pq

    api, landing = airflow["api"], airflow["landing"]
    people = {p for (p,) in query(warehouse_url, "SELECT DISTINCT so_dinh_danh FROM f0_case "
                                  "WHERE decision = 'match' ORDER BY 1 LIMIT 10")}  # fmt: skip
    register = pd.read_csv(landing / f"dan_cu_{DATE}.csv", dtype=str, keep_default_na=False)
    at = register["so_dinh_danh"].isin(people)
    register.loc[at, "ho_ten"] = "Quách Thị Mỹ Duyên"
    register.loc[at, "ngay_sinh"] = "01/01/1950"
    register.loc[at, "ngay_cap_nhat"] = register["ngay_cap_nhat"].max()
    register.to_csv(landing / "dan_cu_2023-01-16.csv", index=False)
    linked = {source: query(warehouse_url, f"SELECT count(*) FROM {table} WHERE so_dinh_danh "  # noqa: S608
                            "= ANY(%s)", (list(people),))[0][0] for source, table in TABLES.items()}  # fmt: skip
    before = {dag_id: {r["dag_run_id"] for r in api.runs(dag_id)} for dag_id in DAG_IDS}
    published = {p for (p,) in query(warehouse_url, "SELECT publication_id FROM publication")}

    loaded = api.trigger("population_register_sync")
    assert api.wait("population_register_sync", loaded) == "success"
    wait_quiet(api, list(EXTRACT_DAGS.values()))

    for source, dag_id in EXTRACT_DAGS.items():
        [run] = [r for r in api.runs(dag_id) if r["dag_run_id"] not in before[dag_id]]
        assert (run["run_type"], run["state"]) == ("asset_triggered", "success"), run
        states = api.task_states(dag_id, run["dag_run_id"])
        assert "0 new item(s)" in api.log(dag_id, run["dag_run_id"], "pull")
        found = query(warehouse_url, "SELECT status, counts FROM run WHERE kind = 'recheck' AND "
                      "source = %s", (source,))  # fmt: skip
        recheck_log = api.log(dag_id, run["dag_run_id"], "recheck")
        if not linked[source]:
            assert states["recheck"] == "skipped" and found == [], (source, states)
            assert "nothing flagged" in recheck_log
            continue
        [(status, counts)] = found
        assert states["recheck"] == "success" and status == "loaded", (source, states)
        assert counts["rechecked"] == counts["flagged"] >= linked[source]
        assert f"recheck {source}: {counts['rechecked']} rows re-checked" in recheck_log
        assert states["publish_status"] == "success" or not counts["status_changed"], states
    for table in TABLES.values():
        assert query(warehouse_url, f"SELECT count(*) FROM {table} WHERE needs_recheck") == [(0,)]  # noqa: S608
    # The links that changed have their finding, under the re-check run; f0's did change.
    changed = dict(query(warehouse_url, "SELECT r.source, count(*) FROM quality_finding f JOIN "
                         "run r ON r.run_id = f.run_id WHERE f.rule = 'link_rechecked' AND "
                         "r.kind = 'recheck' GROUP BY r.source"))  # fmt: skip
    counted = dict(query(warehouse_url, "SELECT source, counts FROM run WHERE kind = 'recheck'"))
    assert {s: c["changed"] for s, c in counted.items() if c["changed"]} == changed
    assert changed.get("f0", 0) > 0
    # The touched people's status went out with a publication of those runs.
    out = set()
    for (path,) in query(warehouse_url, "SELECT location FROM publication WHERE NOT "
                         "publication_id = ANY(%s)", (list(published),)):  # fmt: skip
        out |= set(pq.read_table(Path(path) / "person_status.parquet")["so_dinh_danh"].to_pylist())
        assert json.loads((Path(path) / "manifest.json").read_text())["people"] >= 0
    assert people & out, "no publication holds the people the re-check touched"


def test_the_grid_shows_a_green_run_and_a_blocked_gate_in_chromium(airflow):
    """Logged in to Airflow's UI: the grid of a successful run and of the run a gate blocked
    (PNGs in build/screenshots/ or $POPSYNC_SCREENSHOTS)."""
    import json
    import os
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("POPSYNC_SCREENSHOTS", REPO / "build" / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    api, base = airflow["api"], f"http://127.0.0.1:{airflow['port']}"
    password = json.loads((airflow["home"] / "simple_auth_manager_passwords.json.generated")
                          .read_text())["admin"]  # fmt: skip
    green = next(r["dag_run_id"] for r in api.runs("vaccination_sync") if r["run_type"] == "manual")
    blocked = next(r["dag_run_id"] for r in api.runs("f0_sync")
                   if api.task_states("f0_sync", r["dag_run_id"]).get("file.validate_pre[0]") == "failed")  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(base + "/")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
        for dag_id, run_id, name in (("vaccination_sync", green, "airflow_grid_success"),
                                     ("f0_sync", blocked, "airflow_grid_blocked_gate")):  # fmt: skip
            page.goto(f"{base}/dags/{dag_id}/runs/{run_id}")
            page.get_by_text("validate_pre").first.wait_for()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            assert (shots / f"{name}.png").stat().st_size > 20_000
        browser.close()
