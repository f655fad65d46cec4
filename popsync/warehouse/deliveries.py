"""The ledger of deliveries: every version of every file (or table pull) a source received, and
what became of it. A pull asks it whether a file was already processed; a load records the
version it loaded and supersedes the earlier ones."""

from __future__ import annotations

from popsync.warehouse.batch import Batch
from popsync.warehouse.db import now

# A delivery in one of these states is done: pulling it again would do nothing new.
SETTLED = ("loaded", "blocked", "superseded")


class Deliveries:
    def delivery_state(self, source: str, delivery: str, input_sha256: str) -> dict | None:
        """The ledger's entry for this content of this delivery: ``version``, ``status``,
        ``run_id``; None when it was never received."""
        found = self.fetch(
            "SELECT version, status, run_id FROM delivery WHERE source = %s AND delivery = %s "
            "AND input_sha256 = %s",
            (source, delivery, input_sha256),
        )
        if not found:
            return None
        version, status, run_id = found[0]
        return {"version": version, "status": status, "run_id": run_id}

    def receive_delivery(
        self,
        source: str,
        delivery: str,
        input_sha256: str,
        origin: str | None = None,
        stated_rows: int | None = None,
    ) -> dict:
        """Record that this content of this delivery arrived (its next version when the content
        is new; nothing when it is known). Returns its ledger entry."""
        with self._transaction() as cur:
            self._db.lock(cur, source)
            self._receive(cur, source, delivery, input_sha256, origin, stated_rows)
        return self.delivery_state(source, delivery, input_sha256)

    def mark_delivery(
        self, source: str, delivery: str, input_sha256: str, status: str, run_id: str | None
    ) -> None:
        """Set what became of a received delivery (``blocked`` or ``failed``), in a transaction
        of its own: a failed or blocked load leaves this record, never a partial batch."""
        with self._transaction() as cur:
            self._receive(cur, source, delivery, input_sha256, None, None)
            self._run(
                cur,
                "UPDATE delivery SET status = %s, run_id = %s WHERE source = %s "
                "AND delivery = %s AND input_sha256 = %s AND status <> 'loaded'",
                (status, run_id, source, delivery, input_sha256),
            )

    def _receive(self, cur, source, delivery, input_sha256, origin, stated_rows) -> int:
        found = self._run(
            cur,
            "SELECT version FROM delivery WHERE source = %s AND delivery = %s "
            "AND input_sha256 = %s",
            (source, delivery, input_sha256),
        ).fetchone()
        if found:
            return found[0]
        version = 1 + self._scalar(
            cur,
            "SELECT coalesce(max(version), 0) FROM delivery WHERE source = %s AND delivery = %s",
            (source, delivery),
        )
        self._run(
            cur,
            "INSERT INTO delivery (source, delivery, version, input_sha256, origin, stated_rows, "
            "received_at, status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'received')",
            (source, delivery, version, input_sha256, origin, stated_rows, now()),
        )
        return version

    def _delivery_version(self, cur, batch: Batch) -> int:
        """The version this batch loads (received now if the pull did not record it)."""
        return self._receive(
            cur, batch.source, batch.delivery, batch.input_sha256, batch.input_file, None
        )

    def _loaded_delivery(self, cur, batch: Batch, version: int) -> None:
        """This version is loaded, by this run; a file's earlier versions are superseded (an
        incremental pull's earlier versions keep the rows it did not update)."""
        self._run(
            cur,
            "UPDATE delivery SET status = 'loaded', run_id = %s WHERE source = %s "
            "AND delivery = %s AND version = %s",
            (batch.run_id, batch.source, batch.delivery, version),
        )
        if batch.mode == "replace":
            self._run(
                cur,
                "UPDATE delivery SET status = 'superseded' WHERE source = %s AND delivery = %s "
                "AND version <> %s AND status = 'loaded'",
                (batch.source, batch.delivery, version),
            )
