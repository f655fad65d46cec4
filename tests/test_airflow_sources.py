"""The DAGs pulling from where extracts really live, on a real scheduler (``airflow standalone``
as ``make airflow`` starts it): the register and the vaccination doses from a landing folder,
the BHXH periods from an SFTP server (Debian's sshd on loopback), the F0 cases from a table of a
source PostgreSQL database (configured afterwards as an Airflow Variable and connection, through
the REST API) pulled by its watermark. A second pull takes only what is new or changed; after
each round the warehouse equals what ``popsync pull`` (the CLI) makes of the same sources."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from urllib.parse import urlsplit

import psycopg2
import pytest
from airflow_stack import (
    BIN,
    DAG_IDS,
    REPO,
    TABLES,
    assert_same_tables,
    free_port,
    own_databases,
    query,
    standalone,
    wait_quiet,
)
from pull_helpers import age
from test_watermark import T0, _insert, _sample_cases, _source_table

pytestmark = pytest.mark.slow
TABLE = "source_sys.f0_cases"
# A manual run with this logical date: its day (Vietnam time) is the samples' extract date.
LOGICAL = "2023-01-15T0{}:00:00Z"


@pytest.fixture
def databases():
    """The warehouse and the source database, each a database of its own."""
    with own_databases("popsync_src", "wh", "source") as urls:
        yield urls


def _cli_pull(env: dict, database_url: str, workdir, *sources: str) -> None:
    """``popsync pull`` of the same sources into another warehouse (the table slice dated as the
    DAG run was)."""
    for source in sources:
        done = subprocess.run(
            [str(BIN / "popsync"), "pull", source, "--date", "2023-01-15",
             "--database-url", database_url, "--workdir", str(workdir)],
            env=env, capture_output=True, text=True, timeout=600, cwd=REPO,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def _same_warehouse(one: str, other: str) -> None:
    assert_same_tables(one, other, [*TABLES.values(), "person", "quarantine"])
    versions = (
        "SELECT source, delivery, version, status, rows_read FROM run "
        "WHERE source <> 'dan_cu' ORDER BY 1, 2, 3"
    )
    assert query(one, versions) == query(other, versions)


def test_landing_folder_sftp_and_source_table_pulled_once_each_like_the_cli(
    tmp_path, sftp_server, databases, pg_url
):
    import sys

    sys.path.insert(0, str(REPO / "ops"))
    import airflow_local

    warehouse, source_db = databases
    landing, outgoing, no_files = (
        tmp_path / "landing",
        tmp_path / "sftp_outgoing",
        tmp_path / "none",
    )
    airflow_local.seed_landing(landing)
    outgoing.mkdir()
    no_files.mkdir()
    (landing / "bhxh_2023-01-15.csv").rename(outgoing / "bhxh_2023-01-15.csv")
    (landing / "f0_2023-01-15.csv").unlink()
    cases = _sample_cases()
    _source_table(source_db, cases[:300])
    sources = {"POPSYNC_LANDING_BHXH": sftp_server.url(outgoing),
               "POPSYNC_LANDING_BHXH_OPTIONS": json.dumps(sftp_server.options),
               "POPSYNC_LANDING_F0": str(no_files), "POPSYNC_LANDING_DAN_CU": str(landing),
               "POPSYNC_LANDING_TIEM_CHUNG": str(landing), "POPSYNC_SETTLE_SECONDS": "0"}  # fmt: skip
    more = {**sources, "POPSYNC_DATABASE_URL": warehouse, "POPSYNC_RETRY_DELAY_SECONDS": "2"}
    port, home = free_port(), tmp_path / "home"
    stack = standalone(home, port, landing, more, cwd=tmp_path)
    try:
        api = stack.logged_in(port)

        # Round 1: the register, then (through its Asset) every extract; f0's table is
        # configured afterwards, in Airflow, and pulled by a run dated like the samples.
        for dag_id in DAG_IDS:
            api.unpause(dag_id)
        wait_quiet(api, DAG_IDS)
        api.set_variable("popsync_table_f0", TABLE)
        parts = urlsplit(source_db)
        api.add_connection("popsync_source_f0", "postgres", host=parts.hostname, port=parts.port,
                           login=parts.username, schema=parts.path.lstrip("/"))  # fmt: skip
        first = api.trigger("f0_sync", LOGICAL.format(3))
        assert api.wait("f0_sync", first) == "success"
        for dag_id in DAG_IDS:
            assert {r["state"] for r in api.runs(dag_id)} == {"success"}, dag_id
        delivery = f"table:{TABLE}"
        assert query(warehouse, "SELECT rows_read FROM run WHERE delivery = %s", (delivery,)) == [
            (300,)
        ]
        assert query(warehouse, "SELECT delivery FROM run WHERE source = 'bhxh'") == [
            ("bhxh_2023-01-15.csv",)
        ]
        cli_env = {k: v for k, v in more.items() if k != "POPSYNC_DATABASE_URL"} | {
            "POPSYNC_TABLE_F0": TABLE, "POPSYNC_TABLE_F0_URL": source_db,
            "PATH": f"{BIN}:/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}  # fmt: skip
        cli_work = tmp_path / "cli_work"
        _cli_pull(cli_env, pg_url, cli_work, "tiem_chung", "f0", "bhxh")
        _same_warehouse(warehouse, pg_url)

        # Round 2: three cases updated and four added at the source, a corrected BHXH file
        # on the SFTP server; nothing new for the vaccination doses.
        later = T0 + dt.timedelta(hours=5)
        with psycopg2.connect(source_db) as conn, conn.cursor() as cur:
            cur.execute("UPDATE source_sys.f0_cases SET test_type = 'RT-PCR', updated_at = %s "
                        "WHERE record_id = ANY(%s)", (later, [c["record_id"] for c in cases[:3]]))  # fmt: skip
            _insert(cur, cases[300:304], later)
        corrected = outgoing / "bhxh_2023-01-15.csv"
        lines = corrected.read_bytes().splitlines(keepends=True)
        corrected.write_bytes(b"".join(lines[:-30]))
        age(corrected)
        runs = {"f0_sync": api.trigger("f0_sync", LOGICAL.format(5)),
                "social_insurance_sync": api.trigger("social_insurance_sync"),
                "vaccination_sync": api.trigger("vaccination_sync")}  # fmt: skip
        for dag_id, run_id in runs.items():
            assert api.wait(dag_id, run_id) == "success", api.task_states(dag_id, run_id)
        assert "0 new item(s)" in api.log("vaccination_sync", runs["vaccination_sync"], "pull")
        assert query(warehouse, "SELECT version, rows_read FROM run WHERE delivery = %s "
                     "AND status = 'loaded' ORDER BY version", (delivery,)) == [(1, 300), (2, 7)]  # fmt: skip
        assert query(warehouse, "SELECT version, rows_read FROM run WHERE source = 'bhxh' "
                     "AND status = 'loaded'") == [(2, len(lines) - 1 - 30)]  # fmt: skip
        _cli_pull(cli_env, pg_url, cli_work, "tiem_chung", "f0", "bhxh")
        _same_warehouse(warehouse, pg_url)
    finally:
        stack.stop()
    shutil.rmtree(home / "logs", ignore_errors=True)
