"""The workspace inside Airflow 3's UI: an Airflow plugin that mounts the same FastAPI app on
the API server under ``/popsync`` (``fastapi_apps``) and adds a "popsync" entry to the UI's
navigation that shows it (``external_views``).

Registered through the ``airflow.plugins`` entry point of this package (``pyproject.toml``), so
an Airflow with popsync installed finds it without a plugins folder. The app has its own log in
(Airflow does not protect a plugin's app): the same users file and roles as ``popsync serve``.
The warehouse and work area come from the API server's environment (``POPSYNC_DATABASE_URL``,
``POPSYNC_WORKDIR``, ``POPSYNC_USERS_FILE``), as for ``popsync serve``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI

URL_PREFIX = "/popsync"


def stewards_app() -> FastAPI:
    """The workspace over the warehouse the environment names (made at the edge)."""
    from popsync.resources import Resources
    from popsync.web.app import create_app
    from popsync.web.settings import WebSettings

    res = Resources.from_environment()
    return create_app(res, WebSettings.from_environment(workdir=res.workarea.url))


@asynccontextmanager
async def _start(shell: FastAPI):
    """Every Airflow process imports its plugins; only the API server starts this app's
    lifespan: the workspace is made then (no file or connection in the other processes)."""
    app = stewards_app()
    shell.mount("/", app)
    async with app.router.lifespan_context(app):
        yield


def shell_app() -> FastAPI:
    return FastAPI(lifespan=_start, docs_url=None, redoc_url=None, openapi_url=None)


class PopsyncStewardsPlugin(AirflowPlugin):
    name = "popsync_stewards"
    fastapi_apps = [{"app": shell_app(), "url_prefix": URL_PREFIX, "name": "popsync stewards"}]
    external_views = [{
        "name": "popsync",
        "href": URL_PREFIX.lstrip("/") + "/",
        "destination": "nav",
        "url_route": "popsync-stewards",
    }]  # fmt: skip
