"""What a pull asks the ledger (``delivery``, migration 0006) beyond its versions: whether a
landing file was already seen as it is now, where a source table's watermark stands, and the
run record of a delivery blocked before its load."""

from __future__ import annotations

from popsync.warehouse.runs import run_record

# A version in one of these states was processed: pulling its content again does nothing.
PROCESSED = ("loaded", "blocked")


class Pulls:
    def receive_pulled(
        self,
        source: str,
        delivery: str,
        input_sha256: str,
        *,
        origin: str,
        stated_rows: int | None = None,
        origin_size: int | None = None,
        origin_mtime: str | None = None,
        watermark_column: str | None = None,
        watermark: str | None = None,
    ) -> dict:
        """``receive_delivery`` plus what the pull saw: the file's size and modification time
        (updated when an already known content is seen again, e.g. a file touched), or the
        watermark a table slice reaches. A known content that was blocked is received again
        when the row count its delivery states has changed (a sidecar corrected or come late):
        it deserves another check. Returns the ledger entry."""
        with self._transaction() as cur:
            self._db.lock(cur, source)
            version = self._receive(cur, source, delivery, input_sha256, origin, stated_rows)
            status, stated_before = self._run(
                cur,
                "SELECT status, stated_rows FROM delivery WHERE source = %s AND delivery = %s "
                "AND version = %s",
                (source, delivery, version),
            ).fetchone()
            if status == "blocked" and stated_before != stated_rows:
                status = "received"
            self._run(
                cur,
                "UPDATE delivery SET origin = %s, origin_size = %s, origin_mtime = %s, "
                "stated_rows = %s, watermark_column = %s, watermark = %s, status = %s "
                "WHERE source = %s AND delivery = %s AND version = %s",
                (origin, origin_size, origin_mtime, stated_rows, watermark_column, watermark,
                 status, source, delivery, version),
            )  # fmt: skip
        return self.delivery_state(source, delivery, input_sha256)

    def seen_unchanged(self, source: str, delivery: str, size: int, mtime: str) -> bool:
        """Whether the latest version of this delivery was processed and was pulled from a file
        of this size and modification time (then the file is not fetched again)."""
        found = self.fetch(
            "SELECT status, origin_size, origin_mtime FROM delivery WHERE source = %s "
            "AND delivery = %s ORDER BY version DESC LIMIT 1",
            (source, delivery),
        )
        return bool(found) and found[0][0] in PROCESSED and found[0][1:] == (size, mtime)

    def committed_watermark(self, source: str, delivery: str) -> tuple[str, str] | None:
        """``(column, value)`` of the table's latest loaded version; None before its first."""
        found = self.fetch(
            "SELECT watermark_column, watermark FROM delivery WHERE source = %s "
            "AND delivery = %s AND status = 'loaded' AND watermark IS NOT NULL "
            "ORDER BY version DESC LIMIT 1",
            (source, delivery),
        )
        return (found[0][0], found[0][1]) if found else None

    def record_outcome(
        self, batch: dict, status: str, error: str, ledger_status: str | None = None
    ) -> None:
        """A run stopped before its load (``blocked`` by a quality rule or a stated row count
        that does not match, or ``failed``): its run record with the cause (unless the load
        recorded its own failure) and the ledger's entry (``ledger_status``, default the run's),
        in one transaction. Nothing of the batch is loaded."""
        run = run_record(
            {**batch, "input_file": batch.get("input_path")},
            batch["source"],
            batch.get("rows_read") or 0,
        )
        run.update(status=status, error=error)
        with self._transaction() as cur:
            self._receive(cur, batch["source"], batch["delivery"], batch["input_sha256"],
                          None, None)  # fmt: skip
            known = self._run(cur, "SELECT 1 FROM run WHERE run_id = %s", (batch["run_id"],))
            if known.fetchone() is None:
                self._write_run(cur, run)
            self._run(
                cur,
                "UPDATE delivery SET status = %s, run_id = %s WHERE source = %s "
                "AND delivery = %s AND input_sha256 = %s AND status <> 'loaded'",
                (ledger_status or status, batch["run_id"], batch["source"], batch["delivery"],
                 batch["input_sha256"]),
            )  # fmt: skip
