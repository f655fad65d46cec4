"""The batch load: one extract batch in one transaction, reconciled before commit; a rerun
replaces its batch and keeps the stewards' decisions that still hold."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from popsync.core.ahead import one_ahead
from popsync.core.contracts import CANDIDATE_COLUMNS, FINDING_COLUMNS, QUARANTINE_COLUMNS
from popsync.core.errors import UserError
from popsync.core.timing import Steps
from popsync.warehouse.batch import Batch, arrow_or_none, batch_keys, rows_as_json
from popsync.warehouse.runs import run_counts, run_record

# What a batch replaces: its delivery's rows (``replace``), or the rows of its record ids in its
# delivery (``upsert``). No OR next to an IN (subquery): PostgreSQL would then test every row
# against the whole key list instead of joining.
_MOVED = {
    "replace": "SELECT run_id, count(*) FROM {target} WHERE source = %s AND delivery = %s "
    "AND run_id <> %s GROUP BY run_id",
    "upsert": "SELECT run_id, count(*) FROM {target} WHERE source = %s AND delivery = %s "
    "AND record_id IN (SELECT record_id FROM batch_key) AND run_id <> %s GROUP BY run_id",
}
_DELETE = {
    "replace": "DELETE FROM {target} WHERE source = %s AND delivery = %s",
    "upsert": "DELETE FROM {target} WHERE source = %s AND delivery = %s "
    "AND record_id IN (SELECT record_id FROM batch_key)",
}


class BatchLoad:
    def load_batch(self, batch: Batch) -> dict:
        """Load one batch (one version of one delivery) in one transaction and reconcile it
        before commit.

        ``replace`` (a file): the batch replaces everything its delivery held, whatever the
        record ids: rows of the earlier version that are gone from this one are retired
        (counted in ``rows_retired``), and the earlier run is marked ``superseded`` (``replaced``
        when it was the same content). ``upsert`` (an incremental table pull): the batch's rows
        replace the rows of the same record ids in its delivery; the others stay. Either way the
        runs whose rows moved are counted again (``rows_moved``) and keep reconciling. Record
        ids are scoped to their delivery: two files that both number their rows from 1 are two
        sets of rows. The delivery's version is recorded in the ``delivery`` ledger.

        The rows go by COPY straight into the source's table after the rows they replace are
        deleted: the same end state as an upsert, at about half the cost of staging every row
        and INSERT ... ON CONFLICT (measured: bench/load.py). Loads of one source are
        serialized by an advisory lock; other sources load at the same time.

        A rerun does not undo the stewards' work: a row the linker leaves in review again
        gets its latest ``review_decision`` back when it still holds (``no_match`` always,
        ``match`` while the person is still one of its candidates), before the run is
        counted and reconciled; ``decisions_reapplied`` in the result says how many."""
        return self._load(batch, lambda keys_only: [batch])

    def load_batch_chunks(self, batch: Batch, parts: Callable[[bool], Iterable[Batch]]) -> dict:
        """``load_batch`` for a batch that comes in chunks, in bounded memory: one transaction,
        the same checks and the same end state as loading it whole.

        ``batch`` carries the run's facts (``rows_read`` is the whole batch's) and what belongs
        to no chunk (the batch-level findings); ``parts(keys_only)`` yields every chunk's
        ``Batch`` (``build_batch``) in order, and is called twice: first with ``keys_only``
        (rows with ``record_id``, ``so_dinh_danh`` and ``decision`` are enough, for the batch's
        keys), then for the rows, COPYed chunk by chunk."""
        # A chain, not a list: a chunk is made only when the one before it has been written.
        return self._load(batch, lambda keys_only: chain([batch], parts(keys_only)), chunked=True)

    def _load(self, batch: Batch, parts, chunked: bool = False) -> dict:
        self._table_of(batch.source)
        run = run_record(vars(batch), batch.source, batch.rows_read)
        steps = Steps()
        try:
            with self._transaction() as cur:
                counts = self._write_batch(cur, batch, parts, steps, chunked)
                run.update(run_counts(counts), status="loaded", version=counts["version"],
                           timings={**run["timings"], "load": steps.seconds})  # fmt: skip
                self._write_run(cur, run)
        except Exception as error:
            self._record_failure(run, error, steps)
            raise
        return {
            "run_id": batch.run_id,
            "source": batch.source,
            "delivery": batch.delivery,
            "status": "loaded",
            "rows_read": batch.rows_read,
            **counts,
            "findings": counts.pop("findings"),
            "candidates": counts.pop("candidates"),
            "timings": steps.seconds,
        }

    def _prepared(self, batch: Batch) -> tuple[dict, int, int]:
        """``_prepare`` of a batch (or chunk), with its numbers of findings and candidates."""
        return self._prepare(batch), len(batch.findings), len(batch.candidates)

    def _prepare(self, batch: Batch) -> dict:
        """Every table's rows of one batch (or chunk) as Arrow tables (None: nothing)."""
        source, run_id = batch.source, batch.run_id
        constants = {"source": source, "delivery": batch.delivery, "run_id": run_id}
        columns = self.catalog.extract(source).table_columns()
        data = {
            # In key order, the primary key index is appended to instead of split at random.
            "rows": arrow_or_none(batch.rows, columns, constants, f"{source} rows"),
            "review": arrow_or_none(batch.review, columns, constants, f"{source} review rows"),
        }
        if data["rows"] is not None:
            data["rows"] = data["rows"].sort_by("record_id")
        quarantine = batch.quarantine
        if len(quarantine) and "rules" not in quarantine.columns:
            raise UserError(f"{source} quarantine: missing column rules")
        if len(quarantine):
            rules = quarantine["rules"].map(
                lambda r: r if isinstance(r, str) else ";".join(r), na_action="ignore"
            )
            quarantine = quarantine.assign(
                row_data=rows_as_json(quarantine.drop(columns="rules")), rules=rules
            )
        data["quarantine"] = arrow_or_none(quarantine, QUARANTINE_COLUMNS, constants, "quarantine")
        data["review_candidate"] = arrow_or_none(batch.candidates, CANDIDATE_COLUMNS, constants,
                                          "review candidates")  # fmt: skip
        data["quality_finding"] = arrow_or_none(
            batch.findings, FINDING_COLUMNS, constants, "findings"
        )
        return data

    def _write_batch(self, cur, batch: Batch, parts, steps, chunked: bool) -> dict:
        source, table, delivery = batch.source, self._table_of(batch.source), batch.delivery
        self._db.lock(cur, source)
        self._run(cur, "DROP TABLE IF EXISTS batch_key")
        self._run(cur, "CREATE TEMP TABLE batch_key (record_id text, so_dinh_danh text)")
        for keys in one_ahead(parts(True), batch_keys):
            if len(keys):
                self._db.bulk_insert(cur, "batch_key", keys)
        if chunked:  # each chunk checked its own ids; across chunks, here
            repeated = self._scalar(
                cur, "SELECT count(*) - count(DISTINCT record_id) FROM batch_key"
            )
            if repeated:
                raise UserError(f"{source} batch: {repeated} record ids repeat across chunks")
        self._run(cur, "ANALYZE batch_key")
        unknown = self._scalar(
            cur,
            "SELECT count(*) FROM batch_key k WHERE k.so_dinh_danh IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM person p WHERE p.so_dinh_danh = k.so_dinh_danh)",
        )
        if unknown:
            raise UserError(f"{source} batch: {unknown} rows linked to a so_dinh_danh that is "
                            "not in the register (load the register first)")  # fmt: skip
        version = self._delivery_version(cur, batch)
        steps("stage_keys")
        moved, retired = self._delete_previous(cur, batch, table)
        steps("delete_previous")
        written = {"findings": 0, "candidates": 0}
        # The next chunk is read and prepared while this one is COPYed.
        for data, findings, candidates in one_ahead(parts(False), self._prepared):
            for name in ("rows", "review", "quarantine", "review_candidate", "quality_finding"):
                if data[name] is not None and len(data[name]):
                    target = table if name in ("rows", "review") else name
                    self._db.bulk_insert(cur, target, data[name])
            written["findings"] += findings
            written["candidates"] += candidates
        steps("copy_rows")
        reapplied = self._reapply_decisions(cur, source, delivery)
        self._queue_changed(cur, source, batch.run_id)  # status: people whose rows changed
        self._run(cur, "DROP TABLE batch_key")
        steps("reapply_decisions")
        for run_id, count in moved.items():
            self._moved(cur, run_id, source, count, batch)
        self._loaded_delivery(cur, batch, version)
        # Counted after the decisions are applied again: those rows are loaded, not review.
        counts = self._reconcile(cur, batch.run_id, source, batch.rows_read)
        steps("reconcile")
        return {**counts, "rows_retired": retired, "version": version,
                "decisions_reapplied": reapplied, **written}  # fmt: skip

    def _delete_previous(self, cur, batch: Batch, table: str) -> tuple[dict[str, int], int]:
        """Delete what this batch replaces: its delivery's rows (``replace``) or the rows of its
        record ids (``upsert``), with their quarantine, candidates and findings. Returns the
        rows moved per earlier run, and the rows retired (an earlier version's rows whose
        record id is not in this batch)."""
        source, delivery, run_id = batch.source, batch.delivery, batch.run_id
        moved: dict[str, int] = {}
        for target in (table, "quarantine"):
            for earlier, count in self._run(
                cur, _MOVED[batch.mode], (source, delivery, run_id), target=target
            ).fetchall():
                moved[earlier] = moved.get(earlier, 0) + count
        retired = 0
        if batch.mode == "replace":
            for target in (table, "quarantine"):
                retired += self._scalar(
                    cur,
                    "SELECT count(*) FROM {target} WHERE source = %s AND delivery = %s "
                    "AND run_id <> %s AND record_id NOT IN (SELECT record_id FROM batch_key)",
                    (source, delivery, run_id),
                    target=target,
                )
        # The people these rows count for get their status recomputed (``PersonStatus``).
        self._queue_replaced(cur, source, delivery, batch.mode, table)
        for target in (table, "quarantine", "review_candidate"):
            self._run(cur, _DELETE[batch.mode], (source, delivery), target=target)
        # The findings of the runs replaced; re-check findings belong to the run that re-checked
        # (its report keeps them), not to the rows' own runs.
        self._run(cur, _DELETE[batch.mode] + " AND stage <> 'recheck'", (source, delivery),
                  target="quality_finding")  # fmt: skip
        return moved, retired

    def _moved(self, cur, run_id: str, source: str, count: int, batch: Batch) -> None:
        """An earlier run whose rows this batch replaced: counted again; ``superseded`` (or
        ``replaced``, for the same content) when none of its rows is left."""
        self._run(cur, "UPDATE run SET rows_moved = rows_moved + %s WHERE run_id = %s",
                  (count, run_id))  # fmt: skip
        counts = self._recount(cur, run_id, source)
        if counts is not None and not any(counts.values()):
            self._run(
                cur,
                "UPDATE run SET status = CASE WHEN input_sha256 = %s THEN 'replaced' "
                "ELSE 'superseded' END, replaced_by = %s WHERE run_id = %s",
                (batch.input_sha256, batch.run_id, run_id),
            )

    def _reapply_decisions(self, cur, source: str, delivery: str) -> int:
        """Apply again the stewards' decisions (the latest ``review_decision`` per record of the
        delivery, undone ones left out) to the rows of the batch just written (``batch_key``)
        that the linker left in review, in the caller's transaction: ``no_match`` always;
        ``match`` only when its person is still one of the row's new review candidates (else
        the evidence changed: the row stays in review with its candidates, for a new
        decision). Applied rows lose their candidates. No new audit row: the decision is the
        one already recorded. Returns the rows applied."""
        table = self._table_of(source)
        self._run(cur, "DROP TABLE IF EXISTS reapply_stage")
        self._run(
            cur,
            "CREATE TEMP TABLE reapply_stage AS SELECT d.record_id, d.decision, d.so_dinh_danh "
            "FROM (SELECT record_id, decision, so_dinh_danh, ROW_NUMBER() OVER "
            "(PARTITION BY record_id ORDER BY decided_at DESC) AS latest FROM review_decision r "
            "WHERE source = %s AND delivery = %s AND NOT EXISTS (SELECT 1 FROM review_undo u "
            "WHERE u.decision_id = r.decision_id) "
            "AND record_id IN (SELECT record_id FROM batch_key)) d "
            "JOIN {table} t ON t.source = %s AND t.delivery = %s AND t.record_id = d.record_id "
            "WHERE d.latest = 1 AND t.decision = 'review' AND (d.decision = 'no_match' "
            "OR EXISTS (SELECT 1 FROM review_candidate c WHERE c.source = %s "
            "AND c.delivery = %s AND c.record_id = d.record_id "
            "AND c.so_dinh_danh = d.so_dinh_danh))",
            (source, delivery) * 3,
            table=table,
        )
        reapplied = self._scalar(cur, "SELECT count(*) FROM reapply_stage")
        if reapplied:
            self._run(
                cur,
                "UPDATE {table} SET decision = 'match', so_dinh_danh = c.so_dinh_danh, "
                "score = c.score, explanation = c.explanation "
                "FROM reapply_stage s, review_candidate c WHERE s.decision = 'match' "
                "AND c.source = %s AND c.delivery = %s AND c.record_id = s.record_id "
                "AND c.so_dinh_danh = s.so_dinh_danh AND {table}.source = %s "
                "AND {table}.delivery = %s AND {table}.record_id = s.record_id",
                (source, delivery) * 2,
                table=table,
            )
            self._run(
                cur,
                "UPDATE {table} SET decision = 'no_match', so_dinh_danh = NULL "
                "WHERE source = %s AND delivery = %s AND record_id IN "
                "(SELECT record_id FROM reapply_stage WHERE decision = 'no_match')",
                (source, delivery),
                table=table,
            )
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s AND delivery = %s "
                "AND record_id IN (SELECT record_id FROM reapply_stage)",
                (source, delivery),
            )
        self._run(cur, "DROP TABLE reapply_stage")
        return reapplied
