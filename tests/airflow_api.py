"""A small client of Airflow 3's REST API (v2) for the end-to-end tests: log in (JWT from
``/auth/token``), unpause and trigger DAGs, wait for runs, read task instances and Asset events."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

TERMINAL = {"success", "failed"}


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str):
        self.base = base_url.rstrip("/")
        self.username, self.password = username, password
        self.token = None

    @classmethod
    def for_standalone(cls, base_url: str, home: Path) -> AirflowApi:
        """Logged in as standalone's admin, with the password it generated in ``home``."""
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        return cls(base_url, "admin", passwords["admin"])

    def _call(self, method: str, path: str, body=None, auth=True):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.login()}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode()[:500]
            raise AssertionError(f"{method} {path}: {error.code} {detail}") from None
        return json.loads(text) if text else None

    def login(self) -> str:
        if self.token is None:
            self.token = self._call("POST", "/auth/token",
                                    {"username": self.username, "password": self.password},
                                    auth=False)["access_token"]  # fmt: skip
        return self.token

    def wait_ready(self, dag_ids, timeout: float = 300) -> None:
        """Until the API answers and every DAG is parsed."""
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while time.monotonic() < deadline:
            try:
                found = self._call("GET", "/api/v2/dags?limit=100")
                missing = set(dag_ids) - {d["dag_id"] for d in found["dags"]}
                if not missing:
                    return
            except (OSError, AssertionError):
                self.token = None
            time.sleep(2)
        raise AssertionError(f"Airflow did not come up with the DAGs {sorted(missing)}")

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str | None = None) -> str:
        """A manual run (no logical date unless given); its run id."""
        run = self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                         {"logical_date": logical_date, "conf": {}})  # fmt: skip
        return run["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """The run's final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run(dag_id, run_id)["state"]
            if state in TERMINAL:
                return state
            time.sleep(3)
        raise AssertionError(f"{dag_id} {run_id} not finished after {timeout} s: "
                             f"{self.task_states(dag_id, run_id)}")  # fmt: skip

    def runs(self, dag_id: str) -> list[dict]:
        return self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        found = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")
        return found["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """``task_id[map_index]`` -> state."""
        return {
            ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
            for ti in self.task_instances(dag_id, run_id)
        }

    def log(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number=1):
        path = (f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/"
                f"{try_number}?map_index={map_index}&full_content=true")  # fmt: skip
        content = self._call("GET", path)["content"]
        if isinstance(content, list):
            return "\n".join(line for entry in content for line in _log_lines(entry))
        return str(content)

    def asset_events(self, asset_name: str | None = None) -> list[dict]:
        events = self._call("GET", "/api/v2/assets/events?limit=100")["asset_events"]
        if asset_name is None:
            return events
        assets = self._call("GET", "/api/v2/assets?limit=100")["assets"]
        ids = {a["id"] for a in assets if a["name"] == asset_name}
        return [e for e in events if e["asset_id"] in ids]

    def set_variable(self, key: str, value: str) -> None:
        self._call("POST", "/api/v2/variables", {"key": key, "value": value})

    def add_connection(self, conn_id: str, conn_type: str, **fields) -> None:
        self._call("POST", "/api/v2/connections",
                   {"connection_id": conn_id, "conn_type": conn_type, **fields})  # fmt: skip


def _log_lines(entry) -> list[str]:
    """A structured log entry as text: its event, then each exception of its ``error_detail``
    (the raised one and its causes) as ``exc_type: exc_value``, the way a traceback ends."""
    if not isinstance(entry, dict):
        return [str(entry)]
    lines = [entry.get("event", "")]
    for error in entry.get("error_detail") or []:
        if isinstance(error, dict):
            lines.append(f"{error.get('exc_type', '')}: {error.get('exc_value', '')}")
    return lines
