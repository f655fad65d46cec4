"""The run lifecycle in the ``run`` table: a run is recorded when it starts (``running``, with the
process and host that run it), shows life at each stage, and ends ``loaded`` (by its load),
``blocked`` or ``failed`` with its cause and the counts the tables really hold for it. A run
that died without a word (``kill -9``, a lost machine) is marked ``failed`` by the next run that
starts: its process is gone (same host) or its heartbeat is older than the stale limit."""

from __future__ import annotations

import json
import os
import socket

from popsync.core.errors import UserError
from popsync.warehouse.db import now

# A running run that has not shown life for this long is taken for dead (seconds). Stages show
# life when they start; the longest (linking a large batch) stays well under it.
STALE_AFTER = 4 * 3600.0


class RunLifecycle:
    def open_run(self, run: dict, *, pid: int | None = None) -> list[str]:
        """Record ``run`` (``run_id``, ``source``, ``delivery``, ``input_file``,
        ``input_sha256``, ``run_date``; ``kind``: ``batch`` unless given) as ``running`` by process ``pid`` on this host (None:
        a process that ends before the run does, like an Airflow task: only the heartbeat
        tells it is alive). First marks stale running runs failed; returns their ids."""
        reaped = self.reap_stale_runs()
        stamp = now()
        with self._transaction() as cur:
            known = self._run(cur, "SELECT status FROM run WHERE run_id = %s",
                              (run["run_id"],)).fetchone()  # fmt: skip
            if known is not None and known[0] != "running":
                raise UserError(f"run {run['run_id']} has already ended ({known[0]})")
            if known is None:
                self._run(
                    cur,
                    "INSERT INTO run (run_id, source, delivery, input_file, input_sha256, "
                    "run_date, started_at, heartbeat_at, status, pid, host, stage, timings, "
                    "kind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'running', %s, %s, 'start', "
                    "%s, %s)",
                    (run["run_id"], run["source"], run.get("delivery"), run.get("input_file"),
                     run.get("input_sha256"), run.get("run_date"), stamp, stamp, pid,
                     socket.gethostname(), "{}", run.get("kind", "batch")),
                )  # fmt: skip
        return reaped

    def heartbeat(self, run_id: str, stage: str) -> None:
        """The run is alive and starts ``stage``."""
        with self._transaction() as cur:
            self._run(cur, "UPDATE run SET heartbeat_at = %s, stage = %s WHERE run_id = %s "
                      "AND status = 'running'", (now(), stage, run_id))  # fmt: skip

    def fail_run(
        self, run_id: str, cause: str, *, status: str = "failed", rows_read: int | None = None
    ) -> None:  # fmt: skip
        """End a run ``failed`` or ``blocked`` with its cause (masked, one line) and the counts
        the tables hold for it now (nothing, when its load did not commit). A run its load
        already ended (``loaded``, or later replaced) keeps its status; the cause is added."""
        if status not in ("failed", "blocked"):
            raise UserError(f"fail_run: status {status!r} is neither failed nor blocked")
        with self._transaction() as cur:
            found = self._run(cur, "SELECT source, status, rows_read FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found is None:
                return
            source, current, stored_read = found
            counts = self._held_counts(cur, run_id, source)
            if current in ("loaded", "replaced", "superseded"):
                self._run(cur, "UPDATE run SET error = %s WHERE run_id = %s",
                          (f"after the load: {cause}", run_id))  # fmt: skip
                return
            self._run(
                cur,
                "UPDATE run SET status = %s, error = %s, finished_at = %s, rows_read = %s, "
                "rows_loaded = %s, rows_quarantined = %s, rows_review = %s WHERE run_id = %s",
                (status, cause, now(),
                 stored_read if rows_read is None else rows_read, counts["rows_loaded"],
                 counts["rows_quarantined"], counts["rows_review"], run_id),
            )  # fmt: skip

    def close_run(self, run_id: str) -> dict:
        """The run's record once its stages are done: it must have been loaded (a run
        still ``running`` here lost its load: ``failed``). Returns ``status``, ``rows_read``
        and the row counts."""
        with self._transaction() as cur:
            found = self._run(
                cur,
                "SELECT status, rows_read, rows_loaded, rows_quarantined, rows_review "
                "FROM run WHERE run_id = %s",
                (run_id,),
            ).fetchone()
            if found is None:
                raise UserError(f"no run {run_id!r} in the warehouse")
            if found[0] == "running":
                self._run(cur, "UPDATE run SET status = 'failed', finished_at = %s, error = "
                          "'its stages ended without a load' WHERE run_id = %s",
                          (now(), run_id))  # fmt: skip
            self._run(cur, "UPDATE run SET stage = 'done' WHERE run_id = %s AND status <> "
                      "'failed'", (run_id,))  # fmt: skip
        names = ("status", "rows_read", "rows_loaded", "rows_quarantined", "rows_review")
        return dict(zip(names, found, strict=True)) | (
            {"status": "failed"} if found[0] == "running" else {}
        )

    def close_recheck_run(self, run_id: str, counts: dict, timings: dict) -> None:
        """End a re-check run (kind ``recheck``) ``loaded``: its writes committed; ``counts``:
        ``rechecked``, ``changed``, ``quarantined``, ``deferred``."""
        with self._transaction() as cur:
            self._run(
                cur,
                "UPDATE run SET status = 'loaded', stage = 'done', finished_at = %s, counts = %s, "
                "timings = %s WHERE run_id = %s AND kind = 'recheck' AND status = 'running'",
                (now(), json.dumps(counts), json.dumps(timings), run_id),
            )

    def reap_stale_runs(self) -> list[str]:
        """Mark ``failed`` the running runs whose process is gone (on this host) or whose
        heartbeat is older than ``STALE_AFTER`` seconds. Returns their ids."""
        import datetime as dt

        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE_AFTER)).isoformat()
        host = socket.gethostname()
        with self._transaction() as cur:
            running = self._run(
                cur,
                "SELECT run_id, pid, host, heartbeat_at < %s FROM run WHERE status = 'running'",
                (cutoff,),
            ).fetchall()
            dead = []
            for run_id, pid, on_host, expired in running:
                if expired:
                    dead.append((run_id, f"no sign of life for over {STALE_AFTER:g} s"))
                elif pid is not None and on_host == host and not _alive(pid):
                    dead.append((run_id, f"its process {pid} on {host} ended without finishing "
                                 "(killed, or the machine stopped)"))  # fmt: skip
            for run_id, why in dead:
                self._run(cur, "UPDATE run SET status = 'failed', finished_at = %s, "
                          "error = %s WHERE run_id = %s AND status = 'running'",
                          (now(), f"interrupted: {why}", run_id))  # fmt: skip
        return [run_id for run_id, _ in dead]

    def _held_counts(self, cur, run_id: str, source: str) -> dict:
        """What the tables hold for a run now (zeros for the register's runs)."""
        if source == self.catalog.register.id:
            return {"rows_loaded": 0, "rows_quarantined": 0, "rows_review": 0}
        return self._table_counts(cur, run_id, source)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
