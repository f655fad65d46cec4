"""Shared fixtures. ``pg_url``: a fresh PostgreSQL database per test on the server at
``POPSYNC_TEST_DATABASE_URL``; the test fails (never skips) when the server is down."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
from psycopg2 import sql

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _admin_connection(url: str):
    try:
        conn = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at POPSYNC_TEST_DATABASE_URL "
            f"({urlsplit(url).hostname}:{urlsplit(url).port or 5432}): {error}\n"
            "Start it with: pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start\n"
            "or point POPSYNC_TEST_DATABASE_URL at a server where the user may CREATE DATABASE.",
            pytrace=False,
        )
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_url():
    """URL of a new, empty database (dropped after the test)."""
    url = os.environ.get("POPSYNC_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    name = f"popsync_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection(url)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


@pytest.fixture(scope="session")
def samples_workdir(tmp_path_factory):
    """A work area after ``popsync run all --samples data_samples/`` (the embedded database),
    made once per session: copy it (``copy_workdir``) before changing it."""
    from click.testing import CliRunner

    from popsync.cli import main

    workdir = tmp_path_factory.mktemp("samples_run")
    result = CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(
        main, ["run", "all", "--samples", str(SAMPLES), "--workdir", str(workdir)]
    )
    assert result.exit_code == 0, result.output
    return workdir


def copy_workdir(source: Path, target: Path) -> Path:
    """A copy of a work area (its files and a consistent copy of its embedded database)."""
    import shutil
    import sqlite3

    shutil.copytree(source, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("popsync.sqlite3*"))  # fmt: skip
    with (
        sqlite3.connect(source / "popsync.sqlite3") as db,
        sqlite3.connect(target / "popsync.sqlite3") as copy,
    ):
        db.backup(copy)
    return target


@pytest.fixture
def sftp_server(tmp_path):
    """A real SFTP server (OpenSSH's sshd on a free loopback port, key auth) for this test:
    ``server.url(folder)`` and ``server.options`` reach any folder of the machine."""
    from infra.sshd import start_sshd, stop_sshd

    try:
        server = start_sshd(tmp_path / "sshd")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    stop_sshd(server.process)
