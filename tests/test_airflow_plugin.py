"""The workspace mounts in Airflow 3's API server as a plugin: Airflow finds it through the
package's entry point, mounts its app under /popsync with Airflow's own code, starts it with
Airflow's lifespan, and every link and form of the app keeps the prefix."""

from __future__ import annotations

import re

from conftest import copy_workdir
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_helpers import STEWARD, csrf_of, prepare


def test_airflow_finds_the_plugin_through_its_entry_point():
    from airflow._shared.plugins_manager import _load_entrypoint_plugins

    plugins, errors = _load_entrypoint_plugins()
    # (found once per copy of the package's metadata on the path: Airflow keeps the first)
    plugin = next(p for p in plugins if p.name == "popsync_stewards")
    assert errors == {}
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == "/popsync" and isinstance(app["app"], FastAPI)
    (view,) = plugin.external_views
    assert view["href"] == "popsync/" and view["destination"] == "nav"


def test_the_workspace_runs_under_airflows_mount(samples_workdir, tmp_path, monkeypatch):
    from airflow import plugins_manager
    from airflow.api_fastapi import app as airflow_app

    from popsync.web.airflow_plugin import PopsyncStewardsPlugin, shell_app

    workdir = copy_workdir(samples_workdir, tmp_path / "work")
    _, settings = prepare(workdir)
    monkeypatch.setenv("POPSYNC_WORKDIR", str(workdir))
    monkeypatch.setenv("POPSYNC_USERS_FILE", str(settings.users_file))
    monkeypatch.delenv("POPSYNC_DATABASE_URL", raising=False)
    mounted = [{**PopsyncStewardsPlugin.fastapi_apps[0], "app": shell_app()}]
    monkeypatch.setattr(plugins_manager, "get_fastapi_plugins", lambda: (mounted, []))
    api = FastAPI(lifespan=airflow_app.lifespan)
    airflow_app.init_plugins(api)
    with TestClient(api) as client:
        first = client.get("/popsync/batches", follow_redirects=False)
        assert first.headers["location"].endswith("/popsync/login")
        page = client.get("/popsync/login")
        assert 'action="/popsync/login"' in page.text and "/popsync/static/app.css" in page.text
        done = client.post("/popsync/login", data={"username": STEWARD[0], "password": STEWARD[1],
                                                    "csrf": csrf_of(page.text)})  # fmt: skip
        assert done.status_code == 200 and "Các lô dữ liệu" in done.text
        links = re.findall(r'(?:href|action|src)="(/[^"]*)"', done.text)
        assert links and all(link.startswith("/popsync/") for link in links)
        assert client.get("/popsync/review").status_code == 200
