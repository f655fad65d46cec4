"""Run records and reconciliation: every run leaves a record (loaded, or failed with why), and
a run reconciles when the database holds every row it read: read = loaded + quarantined +
review."""

from __future__ import annotations

import json

import psycopg2

from popsync.core.errors import UserError
from popsync.warehouse.db import now


class ReconciliationError(UserError):
    """The database does not hold every row read: read != loaded + quarantined + review."""


class RunRecords:
    def reconcile(self, run_id: str) -> dict:
        """Count the run's rows in the database; raise ``ReconciliationError`` unless
        rows read = loaded + quarantined + review. Returns the counts."""
        with self._transaction() as cur:
            found = self._run(cur, "SELECT source, rows_read FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found is None:
                raise UserError(f"no run {run_id!r} in the warehouse")
            if found[0] == self.catalog.register.id:
                raise UserError(f"run {run_id!r} loaded the register: nothing to reconcile")
            return self._reconcile(cur, run_id, found[0], found[1])

    def _reconcile(self, cur, run_id: str, source: str, rows_read: int) -> dict:
        loaded, review = self._run(
            cur,
            "SELECT count(CASE WHEN decision <> 'review' THEN 1 END), "
            "count(CASE WHEN decision = 'review' THEN 1 END) FROM {table} WHERE run_id = %s",
            (run_id,),
            table=self._table_of(source),
        ).fetchone()
        quarantined = self._scalar(cur, "SELECT count(*) FROM quarantine WHERE run_id = %s",
                                   (run_id,))  # fmt: skip
        counts = {"rows_loaded": loaded, "rows_quarantined": quarantined, "rows_review": review}
        if rows_read != loaded + quarantined + review:
            raise ReconciliationError(
                f"{source} run {run_id}: {rows_read} rows read but the database holds "
                f"{loaded} loaded + {quarantined} quarantined + {review} review = "
                f"{loaded + quarantined + review}"
            )
        return counts

    def _recount(self, cur, run_id: str, source: str) -> dict | None:
        """Count a run's rows again after some moved between loaded and review (their sum
        does not change), store ``rows_loaded`` / ``rows_review`` and reconcile, in the
        caller's transaction. None when the run has no record (nothing to count again)."""
        found = self._run(cur, "SELECT rows_read FROM run WHERE run_id = %s",
                          (run_id,)).fetchone()  # fmt: skip
        if found is None:
            return None
        counts = self._reconcile(cur, run_id, source, found[0])
        self._run(
            cur,
            "UPDATE run SET rows_loaded = %s, rows_review = %s WHERE run_id = %s",
            (counts["rows_loaded"], counts["rows_review"], run_id),
        )
        return counts

    def _write_run(self, cur, run: dict) -> None:
        """Insert or replace the run record (a run id loaded again is one run)."""
        run = {**run, "finished_at": now(), "timings": json.dumps(run["timings"], default=str)}
        self._run(
            cur,
            "INSERT INTO run ({columns}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (run_id) DO UPDATE SET source = excluded.source, "
            "input_file = excluded.input_file, input_sha256 = excluded.input_sha256, "
            "run_date = excluded.run_date, started_at = excluded.started_at, "
            "finished_at = excluded.finished_at, rows_read = excluded.rows_read, "
            "rows_loaded = excluded.rows_loaded, rows_quarantined = excluded.rows_quarantined, "
            "rows_review = excluded.rows_review, status = excluded.status, "
            "timings = excluded.timings, error = excluded.error",
            tuple(run[c] for c in _RUN_COLUMNS),
            columns=list(_RUN_COLUMNS),
        )

    def _record_failure(self, run: dict, error: Exception, steps) -> None:
        """After the rollback, in a transaction of its own: the run, failed, and why."""
        run = {**run, "status": "failed", "error": _error_text(error),
               "timings": {**run["timings"], "load": steps.seconds}}  # fmt: skip
        try:
            with self._transaction() as cur:
                self._write_run(cur, run)
        except Exception as record_error:  # the original error matters more: keep it
            error.add_note(f"the failed run could not be recorded: {record_error}")


def run_counts(counts: dict) -> dict:
    """The run record's row counts of a load's result."""
    return {name: counts[name] for name in ("rows_loaded", "rows_quarantined", "rows_review")}


_RUN_COLUMNS = (
    "run_id", "source", "input_file", "input_sha256", "run_date", "started_at", "finished_at",
    "rows_read", "rows_loaded", "rows_quarantined", "rows_review", "status", "timings", "error",
)  # fmt: skip


def run_record(meta: dict, source: str, rows_read: int) -> dict:
    run_date = meta.get("run_date")
    return {
        "run_id": meta["run_id"],
        "source": source,
        "input_file": None if meta.get("input_file") is None else str(meta["input_file"]),
        "input_sha256": meta.get("input_sha256"),
        "run_date": None if run_date is None else str(run_date),
        "started_at": now(),
        "rows_read": rows_read,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_review": 0,
        "status": "failed",
        "timings": dict(meta.get("timings") or {}),
        "error": None,
    }


def _error_text(error: Exception) -> str:
    """The error without PostgreSQL's DETAIL (it can quote a whole row: personal data)."""
    if isinstance(error, psycopg2.Error) and error.diag.message_primary:
        return f"{type(error).__name__}: {error.diag.message_primary}"
    return f"{type(error).__name__}: {error}"
