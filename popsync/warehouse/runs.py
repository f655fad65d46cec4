"""Run records and reconciliation: every run leaves a record (loaded, or failed with why), and
a run reconciles when the database holds every row it read: read = loaded + quarantined +
review."""

from __future__ import annotations

import json

from popsync.core.errors import UserError
from popsync.core.privacy import error_text
from popsync.warehouse.db import now


class ReconciliationError(UserError):
    """The database does not hold every row read: read != loaded + quarantined + review."""


class RunRecords:
    def reconcile(self, run_id: str) -> dict:
        """Count the run's rows in the database; raise ``ReconciliationError`` unless rows
        read = loaded + quarantined + review + moved (replaced since by a later version of its
        delivery). Returns the counts in the tables."""
        with self._transaction() as cur:
            found = self._run(cur, "SELECT source, rows_read FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found is None:
                raise UserError(f"no run {run_id!r} in the warehouse")
            if found[0] == self.catalog.register.id:
                raise UserError(f"run {run_id!r} loaded the register: nothing to reconcile")
            return self._reconcile(cur, run_id, found[0], found[1])

    def _table_counts(self, cur, run_id: str, source: str) -> dict:
        """What the tables hold for an extract's run now: ``rows_loaded``, ``rows_quarantined``
        and ``rows_review``."""
        loaded, review = self._run(
            cur,
            "SELECT count(CASE WHEN decision <> 'review' THEN 1 END), "
            "count(CASE WHEN decision = 'review' THEN 1 END) FROM {table} WHERE run_id = %s",
            (run_id,),
            table=self._table_of(source),
        ).fetchone()
        quarantined = self._scalar(cur, "SELECT count(*) FROM quarantine WHERE run_id = %s",
                                   (run_id,))  # fmt: skip
        return {"rows_loaded": loaded, "rows_quarantined": quarantined, "rows_review": review}

    def _reconcile(self, cur, run_id: str, source: str, rows_read: int) -> dict:
        counts = self._table_counts(cur, run_id, source)
        loaded, quarantined, review = (
            counts["rows_loaded"], counts["rows_quarantined"], counts["rows_review"]
        )  # fmt: skip
        stored = self._run(cur, "SELECT rows_moved FROM run WHERE run_id = %s",
                           (run_id,)).fetchone()  # fmt: skip
        moved = stored[0] if stored else 0
        if rows_read != loaded + quarantined + review + moved:
            held = f"{loaded} loaded + {quarantined} quarantined + {review} review"
            if moved:
                held += f" + {moved} moved to a later version"
            raise ReconciliationError(
                f"{source} run {run_id}: {rows_read} rows read but the database holds "
                f"{held} = {loaded + quarantined + review + moved}"
            )
        return counts

    def _recount(self, cur, run_id: str, source: str) -> dict | None:
        """Count a run's rows again after some moved (between loaded and review, or to a later
        version of its delivery), store the counts and reconcile, in the caller's
        transaction. None when the run has no record (nothing to count again)."""
        found = self._run(cur, "SELECT rows_read FROM run WHERE run_id = %s",
                          (run_id,)).fetchone()  # fmt: skip
        if found is None:
            return None
        counts = self._reconcile(cur, run_id, source, found[0])
        self._run(
            cur,
            "UPDATE run SET rows_loaded = %s, rows_quarantined = %s, rows_review = %s "
            "WHERE run_id = %s",
            (counts["rows_loaded"], counts["rows_quarantined"], counts["rows_review"], run_id),
        )
        return counts

    def _write_run(self, cur, run: dict) -> None:
        """Insert or replace the run record (a run id loaded again is one run)."""
        run = {**run, "finished_at": now(), "timings": json.dumps(run["timings"], default=str)}
        # A run opened when it started (``open_run``) keeps its start time.
        updates = ", ".join(
            "started_at = coalesce(run.started_at, excluded.started_at)"
            if c == "started_at"
            else f"{c} = excluded.{c}"
            for c in _RUN_COLUMNS
            if c != "run_id"
        )
        self._run(
            cur,
            "INSERT INTO run ({columns}) VALUES ("  # noqa: S608 (fixed column names)
            + ", ".join(["%s"] * len(_RUN_COLUMNS))
            + f") ON CONFLICT (run_id) DO UPDATE SET {updates}",
            tuple(run[c] for c in _RUN_COLUMNS),
            columns=list(_RUN_COLUMNS),
        )

    def _record_failure(self, run: dict, error: Exception, steps) -> None:
        """After the rollback, in a transaction of its own: the run, failed, and why. Its
        counts are what the tables hold for it: nothing (the load's transaction rolled back),
        whatever the load had counted before its commit failed."""
        cause = error_text(error)
        if not isinstance(error, UserError):
            cause = f"{type(error).__name__}: {cause}"
        run = {**run, "status": "failed", "error": cause,
               "rows_loaded": 0, "rows_quarantined": 0, "rows_review": 0, "rows_retired": 0,
               "timings": {**run["timings"], "load": steps.seconds}}  # fmt: skip
        try:
            with self._transaction() as cur:
                self._write_run(cur, run)
        except Exception as record_error:  # the original error matters more: keep it
            error.add_note(f"the failed run could not be recorded: {error_text(record_error)}")


def run_counts(counts: dict) -> dict:
    """The run record's row counts of a load's result."""
    names = ("rows_loaded", "rows_quarantined", "rows_review", "rows_retired")
    return {name: counts[name] for name in names if name in counts}


_RUN_COLUMNS = (
    "run_id", "source", "delivery", "version", "input_file", "input_sha256", "run_date",
    "started_at", "finished_at", "rows_read", "rows_loaded", "rows_quarantined", "rows_review",
    "rows_moved", "rows_retired", "status", "timings", "error",
)  # fmt: skip


def run_record(meta: dict, source: str, rows_read: int) -> dict:
    run_date = meta.get("run_date")
    return {
        "run_id": meta["run_id"],
        "source": source,
        "delivery": meta.get("delivery"),
        "version": meta.get("version"),
        "input_file": None if meta.get("input_file") is None else str(meta["input_file"]),
        "input_sha256": meta.get("input_sha256"),
        "run_date": None if run_date is None else str(run_date),
        "started_at": now(),
        "rows_read": rows_read,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_review": 0,
        "rows_moved": 0,
        "rows_retired": 0,
        "status": "failed",
        "timings": dict(meta.get("timings") or {}),
        "error": None,
    }
