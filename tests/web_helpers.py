"""What the workspace's tests share: a work area after the sample run with a steward and a
viewer, the app over it, logging in through the form, and the workspace served by uvicorn in a
thread (for the browser) with its log lines kept."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from pathlib import Path

from popsync.resources import Resources
from popsync.web import accounts
from popsync.web.app import create_app
from popsync.web.settings import WebSettings

STEWARD = ("lan", "mật-khẩu-của-Lan")
VIEWER = ("minh", "mật-khẩu-của-Minh")


def prepare(workdir: Path) -> tuple[Resources, WebSettings]:
    settings = WebSettings(users_file=workdir / "users.json", secret_key="test-secret-key")
    for (name, password), role in ((STEWARD, "steward"), (VIEWER, "viewer")):
        accounts.add_user(settings.users_file, name, role, password)
    return Resources.from_environment(workdir=workdir), settings


def app_for(workdir: Path):
    return create_app(*prepare(workdir))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(client, who=STEWARD):
    page = client.get("/login")
    return client.post("/login", data={"username": who[0], "password": who[1],
                                       "csrf": csrf_of(page.text)})  # fmt: skip


class Served:
    """The app under uvicorn on a free port, in a thread; ``lines``: what it logged."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="info")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        handler = _Keep(self.lines)
        for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).addHandler(handler)
        self._handler = handler
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the workspace did not start")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).removeHandler(self._handler)


class _Keep(logging.Handler):
    def __init__(self, lines):
        super().__init__()
        self.lines = lines

    def emit(self, record):
        self.lines.append(record.getMessage())
