"""Where a source's deliveries are: from the environment (the CLI) and from Airflow's connections
and Variables (the DAGs, through Airflow's own secrets lookup), credentials kept out of what pull
items and logs show."""

from __future__ import annotations

import json

import pytest
from pull_helpers import age, bhxh_rows, resources, write_extract

from popsync import pull
from popsync.core.errors import UserError
from popsync.core.sources import load_catalog
from popsync.pull.airflow_settings import settings_from_airflow
from popsync.pull.settings import without_password

BHXH = load_catalog()["bhxh"]


def test_settings_from_the_environment():
    env = {
        "POPSYNC_LANDING_BHXH": "sftp://popsync@landing:2222/outgoing",
        "POPSYNC_LANDING_BHXH_OPTIONS": '{"key_filename": "/etc/popsync/key"}',
        "POPSYNC_TABLE_BHXH": "public.bhxh_periods",
        "POPSYNC_TABLE_BHXH_URL": "postgresql://reader:s3cret@db/bhxh",
        "POPSYNC_SETTLE_SECONDS": "0.5",
    }
    found = pull.PullSettings.from_environment(BHXH, env)
    assert (found.landing, found.landing_options) == (
        "sftp://popsync@landing:2222/outgoing", {"key_filename": "/etc/popsync/key"}
    )  # fmt: skip
    assert (found.table, found.watermark_column, found.settle_seconds) == (
        "public.bhxh_periods", "updated_at", 0.5
    )  # fmt: skip
    assert without_password(found.table_url) == "postgresql://reader@db/bhxh"
    assert not pull.PullSettings.from_environment(BHXH, {}).configured
    with pytest.raises(UserError, match="not schema.table"):
        pull.PullSettings.from_environment(BHXH, {**env, "POPSYNC_TABLE_BHXH": "x; drop"})
    with pytest.raises(UserError, match="has no database URL"):
        pull.PullSettings.from_environment(BHXH, {"POPSYNC_TABLE_BHXH": "public.t"})
    with pytest.raises(UserError, match="OPTIONS is not JSON"):
        pull.PullSettings.from_environment(BHXH, {**env, "POPSYNC_LANDING_BHXH_OPTIONS": "{"})


def test_airflow_connections_and_variables_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("POPSYNC_LANDING_BHXH", "/from/the/environment")
    monkeypatch.setenv("AIRFLOW_VAR_POPSYNC_TABLE_BHXH", "public.bhxh_periods")
    monkeypatch.setenv("AIRFLOW_VAR_POPSYNC_SETTLE_SECONDS", "2")
    monkeypatch.setenv(
        "AIRFLOW_CONN_POPSYNC_SOURCE_BHXH",
        json.dumps({"conn_type": "postgres", "host": "db", "port": 5432, "login": "reader",
                    "password": "s3cret", "schema": "bhxh"}),
    )  # fmt: skip
    monkeypatch.setenv(
        "AIRFLOW_CONN_POPSYNC_LANDING_BHXH",
        json.dumps({"conn_type": "sftp", "host": "sftp.bhxh", "port": 2222, "login": "popsync",
                    "password": "pw-secret", "extra": {"path": "/outgoing",
                                                       "key_file": "/keys/id"}}),
    )  # fmt: skip
    found = settings_from_airflow(BHXH)
    assert found.landing == "sftp://popsync@sftp.bhxh:2222/outgoing"  # no secret in the URL
    assert found.landing_options == {"username": "popsync", "password": "pw-secret",
                                     "key_filename": "/keys/id"}  # fmt: skip
    assert found.table == "public.bhxh_periods" and found.settle_seconds == 2.0
    assert found.table_url == "postgresql://reader:s3cret@db:5432/bhxh"

    monkeypatch.setenv("AIRFLOW_VAR_POPSYNC_LANDING_BHXH", "s3://landing/bhxh")
    assert settings_from_airflow(BHXH).landing == "s3://landing/bhxh"
    monkeypatch.delenv("AIRFLOW_VAR_POPSYNC_LANDING_BHXH")
    monkeypatch.delenv("AIRFLOW_CONN_POPSYNC_LANDING_BHXH")
    assert settings_from_airflow(BHXH).landing == "/from/the/environment"


def test_an_airflow_sftp_connection_reaches_a_real_server(tmp_path, monkeypatch, sftp_server):
    _, rows = bhxh_rows()
    land = tmp_path / "outgoing"
    age(write_extract(land / "bhxh_2023-01-16.csv", rows[:5]))
    monkeypatch.setenv("AIRFLOW_VAR_POPSYNC_SETTLE_SECONDS", "0.05")
    monkeypatch.setenv(
        "AIRFLOW_CONN_POPSYNC_LANDING_BHXH",
        json.dumps({"conn_type": "sftp", "host": sftp_server.host, "port": sftp_server.port,
                    "login": sftp_server.user,
                    "extra": {"path": str(land), "key_file": str(sftp_server.key_file)}}),
    )  # fmt: skip
    config = settings_from_airflow(BHXH)
    res = resources(tmp_path, None)
    (item,) = pull.pending(res, config)
    assert item.location == f"{sftp_server.url(land)}/bhxh_2023-01-16.csv"
    fetched = pull.fetch(res, item, config)
    assert (
        res.workarea.local_path(fetched.key).read_bytes()
        == (land / "bhxh_2023-01-16.csv").read_bytes()
    )


def test_a_work_area_off_this_disk_gets_the_fetched_file_whole(tmp_path):
    """Workers share a work area by URL: the pulled copy goes there, and a worker reads it back
    into a local file of its own (here fsspec's in-memory file system stands for an object
    store)."""
    import uuid

    from popsync.resources import Resources
    from popsync.workarea import WorkArea

    _, rows = bhxh_rows()
    land = tmp_path / "landing"
    extract = write_extract(land / "bhxh_2023-01-16.csv", rows[:5])
    age(extract)
    res = Resources(workarea=WorkArea(f"memory://pulls-{uuid.uuid4().hex}"),
                    database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}")  # fmt: skip
    config = pull.PullSettings(spec=BHXH, landing=str(land), settle_seconds=0)
    fetched = pull.fetch(res, pull.pending(res, config)[0], config)
    assert res.workarea.exists(fetched.key) and res.workarea.exists(fetched.key + ".pull.json")
    local = res.workarea.local_copy(fetched.key)
    assert local.read_bytes() == extract.read_bytes() and not str(local).startswith("memory")


def test_the_newest_register_file_is_copied_once(tmp_path):
    from pull_helpers import REGISTER

    registers = tmp_path / "register"
    registers.mkdir()
    older = registers / "dan_cu_2023-01-01.csv"
    older.write_text("so_dinh_danh\n")
    newest = registers / "dan_cu_2023-01-15.csv"
    newest.write_bytes(REGISTER.read_bytes())
    for path in (older, newest):
        age(path)
    res = resources(tmp_path, None)
    config = pull.PullSettings(spec=load_catalog()["dan_cu"], landing=str(registers),
                               settle_seconds=0.05)  # fmt: skip
    waits = []
    key = pull.fetch_register(res, config, sleep=waits.append)
    assert key.endswith("/dan_cu_2023-01-15.csv") and waits == [0.05]
    assert res.workarea.local_path(key).read_bytes() == REGISTER.read_bytes()
    assert pull.fetch_register(res, config, sleep=waits.append) == key
    assert waits == [0.05]  # known as it looks: neither waited for nor read again
    with pytest.raises(UserError, match="is not the register"):
        pull.fetch_register(res, pull.PullSettings(spec=BHXH, landing=str(registers)))
