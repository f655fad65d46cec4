"""Shared fixtures. ``pg_url``: a fresh PostgreSQL database per test on the server at
``POPSYNC_TEST_DATABASE_URL``; the test fails (never skips) when the server is down."""

from __future__ import annotations

import os
import uuid
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
