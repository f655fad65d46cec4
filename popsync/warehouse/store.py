"""``Warehouse``: migrations, the register merge and the batch load, written once for both
backends (``backends.Postgres``, ``backends.Sqlite``)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from contextlib import contextmanager
from importlib import resources

import pandas as pd
import psycopg2

from popsync import TABLE_OF_SOURCE
from popsync.errors import UserError
from popsync.privacy import mask_id, mask_value
from popsync.warehouse.batch import (
    CANDIDATE_COLUMNS,
    FINDING_COLUMNS,
    IDENTITY_FIELDS,
    PERSON_COLUMNS,
    PERSON_FROM_STD,
    QUARANTINE_COLUMNS,
    Batch,
    row_columns,
    rows_as_json,
    to_arrow,
)

_HISTORY_FIELDS = [
    c for c in PERSON_COLUMNS if c not in ("so_dinh_danh", "ngay_cap_nhat", "run_id")
]


class ReconciliationError(UserError):
    """The database does not hold every row read: read != loaded + quarantined + review."""


class Warehouse:
    """The pipeline's database. Every write method runs in one transaction: on failure
    nothing of it is visible, and the failed run is recorded afterwards."""

    def __init__(self, backend):
        self._db = backend

    @property
    def backend(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return self._db.name

    def close(self) -> None:
        self._db.conn.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _transaction(self):
        cur = self._db.begin()
        try:
            yield cur
        except BaseException:
            self._db.conn.rollback()
            raise
        else:
            self._db.conn.commit()
        finally:
            cur.close()

    def _run(self, cur, template: str, params=(), **identifiers):
        cur.execute(self._db.query(template, **identifiers), params)
        return cur

    def _scalar(self, cur, template: str, params=(), **identifiers):
        return self._run(cur, template, params, **identifiers).fetchone()[0]

    # ------------------------------------------------------------------ migrations

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet (``migrations/NNNN_name[.backend].sql``, in
        order, in one transaction); return their names. Safe to call from concurrent processes."""
        pending = []
        with self._transaction() as cur:
            self._db.lock(cur, "schema_migrations")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)"
            )
            applied = {row[0] for row in self._run(cur, "SELECT version FROM schema_migrations")}
            for version, name, script in _migrations(self._db.name):
                if version in applied:
                    continue
                self._db.run_script(cur, script)
                self._run(cur, "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                          (version, name, _now()))  # fmt: skip
                pending.append(name)
        return pending

    # ------------------------------------------------------------------ register

    def load_register(
        self,
        register_std: pd.DataFrame,
        run_meta: dict | None = None,
        findings: pd.DataFrame | None = None,
    ) -> dict:
        """Merge a register snapshot (standardized ``dan_cu`` frame) into ``person``.

        A person is inserted when new and replaced when the snapshot's ``ngay_cap_nhat`` is
        newer; every changed field goes to ``person_history``; deaths come in as ``ngay_mat``.
        Rows linked to a person whose name, birth date, sex or death changed get
        ``needs_recheck``: they are re-linked by the next run of their source, never here.
        People absent from the snapshot are kept (a snapshot may cover one province).
        ``run_meta``: ``run_id``, ``input_file``, ``input_sha256``, ``run_date``, ``timings``
        (all optional); a snapshot whose sha256 was already loaded is skipped.
        ``findings``: the snapshot's quality findings (``expectations.validate_register``), stored
        in ``quality_finding`` with source ``dan_cu`` and the register load's run id."""
        meta = {"run_id": str(uuid.uuid4()), **(run_meta or {})}
        run = _run_record(meta, "dan_cu", len(register_std))
        steps = _Steps()
        try:
            frame = register_std.rename(columns=PERSON_FROM_STD)
            _require_unique_ids(frame, "so_dinh_danh", "register")
            data = to_arrow(frame, PERSON_COLUMNS, {"run_id": run["run_id"]}, "register")
            found = _table(
                pd.DataFrame() if findings is None else findings,
                FINDING_COLUMNS,
                {"source": "dan_cu", "run_id": run["run_id"]},
                "register findings",
            )
            steps("prepare")
            with self._transaction() as cur:
                self._db.lock(cur, "dan_cu")
                if run["input_sha256"]:
                    loaded = self._run(
                        cur,
                        "SELECT run_id FROM run WHERE source = 'dan_cu' AND input_sha256 = %s "
                        "AND status = 'loaded'",
                        (run["input_sha256"],),
                    ).fetchone()
                    if loaded:
                        return {"run_id": loaded[0], "skipped": True, "rows_read": len(data)}
                stats = self._merge_register(cur, data, run["run_id"], steps)
                if found is not None:
                    self._db.bulk_insert(cur, "quality_finding", found)
                stats["findings"] = 0 if found is None else len(found)
                run.update(rows_loaded=stats["inserted"] + stats["updated"], status="loaded",
                           timings={**run["timings"], "load": steps.seconds})  # fmt: skip
                self._write_run(cur, run)
        except Exception as error:
            self._record_failure(run, error, steps)
            raise
        return {"run_id": run["run_id"], "skipped": False, "rows_read": len(data), **stats}

    def _merge_register(self, cur, data, run_id: str, steps) -> dict:
        self._run(cur, "DROP TABLE IF EXISTS register_stage")
        self._run(cur, "CREATE TEMP TABLE register_stage AS SELECT * FROM person WHERE 1 = 0")
        self._db.bulk_insert(cur, "register_stage", data)
        self._run(cur, "CREATE INDEX register_stage_id ON register_stage (so_dinh_danh)")
        self._run(cur, "ANALYZE register_stage")
        steps("stage")
        # The stored version of every known person this snapshot replaces.
        self._run(cur, "DROP TABLE IF EXISTS register_old")
        self._run(
            cur,
            "CREATE TEMP TABLE register_old AS SELECT p.* FROM register_stage s "
            "JOIN person p ON p.so_dinh_danh = s.so_dinh_danh "
            "WHERE s.ngay_cap_nhat > p.ngay_cap_nhat "
            "OR (p.ngay_cap_nhat IS NULL AND s.ngay_cap_nhat IS NOT NULL)",
        )
        history = 0
        for field in _HISTORY_FIELDS:
            history += self._run(
                cur,
                "INSERT INTO person_history "
                "(so_dinh_danh, field, old_value, new_value, changed_at, run_id) "
                "SELECT s.so_dinh_danh, %s, CAST(o.{f} AS text), CAST(s.{f} AS text), "
                "s.ngay_cap_nhat, %s FROM register_old o "
                "JOIN register_stage s ON s.so_dinh_danh = o.so_dinh_danh "
                "WHERE s.{f} <> o.{f} OR (s.{f} IS NULL) <> (o.{f} IS NULL)",
                (field, run_id),
                f=field,
            ).rowcount
        recheck = 0
        for table in TABLE_OF_SOURCE.values():
            recheck += self._run(
                cur,
                "UPDATE {table} SET needs_recheck = TRUE WHERE needs_recheck = FALSE "
                "AND so_dinh_danh IN (SELECT so_dinh_danh FROM person_history "
                "WHERE run_id = %s AND field IN (%s, %s, %s, %s, %s))",
                (run_id, *IDENTITY_FIELDS),
                table=table,
            ).rowcount
        deaths = self._scalar(
            cur,
            "SELECT count(*) FROM person_history WHERE run_id = %s AND field = 'ngay_mat' "
            "AND old_value IS NULL",
            (run_id,),
        )
        inserted = self._scalar(
            cur,
            "SELECT count(*) FROM register_stage s WHERE NOT EXISTS "
            "(SELECT 1 FROM person p WHERE p.so_dinh_danh = s.so_dinh_danh)",
        )
        upserted = self._run(
            cur,
            "INSERT INTO person ({columns}) SELECT {columns} FROM register_stage WHERE TRUE "
            "ON CONFLICT (so_dinh_danh) DO UPDATE SET so_cmnd = excluded.so_cmnd, "
            "ho_ten = excluded.ho_ten, ngay_sinh = excluded.ngay_sinh, "
            "ngay_sinh_precision = excluded.ngay_sinh_precision, "
            "gioi_tinh = excluded.gioi_tinh, ma_tinh = excluded.ma_tinh, "
            "ma_huyen = excluded.ma_huyen, ma_xa = excluded.ma_xa, "
            "admin_scheme = excluded.admin_scheme, dia_chi = excluded.dia_chi, "
            "so_dien_thoai = excluded.so_dien_thoai, ngay_mat = excluded.ngay_mat, "
            "ngay_cap_nhat = excluded.ngay_cap_nhat, run_id = excluded.run_id "
            "WHERE excluded.ngay_cap_nhat > person.ngay_cap_nhat "
            "OR (person.ngay_cap_nhat IS NULL AND excluded.ngay_cap_nhat IS NOT NULL)",
            columns=list(PERSON_COLUMNS),
        ).rowcount
        self._run(cur, "DROP TABLE register_stage")
        self._run(cur, "DROP TABLE register_old")
        steps("merge")
        return {
            "inserted": inserted,
            "updated": upserted - inserted,
            "unchanged": len(data) - upserted,
            "history_rows": history,
            "deaths": deaths,
            "needs_recheck": recheck,
        }

    # ------------------------------------------------------------------ batches

    def load_batch(self, batch: Batch) -> dict:
        """Load one extract batch in one transaction and reconcile it before commit.

        The rows go by COPY straight into the source's table after the rows of the same
        record ids (an earlier load of this batch) are deleted: the same end state as an
        upsert, at about half the cost of staging every row and INSERT ... ON CONFLICT
        (measured: bench/load.py). Only the record ids are staged. Reruns of one source are
        serialized by an advisory lock; other sources load at the same time.

        A rerun does not undo the stewards' work: a row the linker leaves in review again
        gets its latest ``review_decision`` back when it still holds (``no_match`` always,
        ``match`` while the person is still one of its candidates), before the run is
        counted and reconciled; ``decisions_reapplied`` in the result says how many."""
        _source_table(batch.source)
        run = _run_record(vars(batch), batch.source, batch.rows_read)
        steps = _Steps()
        try:
            data = self._prepare(batch)
            steps("prepare")
            with self._transaction() as cur:
                counts = self._write_batch(cur, batch, data, steps)
                run.update(_counts(counts), status="loaded",
                           timings={**run["timings"], "load": steps.seconds})  # fmt: skip
                self._write_run(cur, run)
        except Exception as error:
            self._record_failure(run, error, steps)
            raise
        return {
            "run_id": batch.run_id,
            "source": batch.source,
            "status": "loaded",
            "rows_read": batch.rows_read,
            **counts,
            "findings": len(batch.findings),
            "candidates": len(batch.candidates),
            "timings": steps.seconds,
        }

    def _prepare(self, batch: Batch) -> dict:
        """Every table's rows as Arrow tables; checks record ids before anything is written."""
        source, run_id = batch.source, batch.run_id
        constants = {"source": source, "run_id": run_id}
        columns = row_columns(source)
        data = {
            # In key order, the primary key index is appended to instead of split at random.
            "rows": to_arrow(batch.rows, columns, constants, f"{source} rows").sort_by("record_id"),
            "review": _table(batch.review, columns, constants, f"{source} review rows"),
        }
        quarantine = batch.quarantine
        if len(quarantine) and "rules" not in quarantine.columns:
            raise UserError(f"{source} quarantine: missing column rules")
        # Every record id of the batch, with its link for the rows that load.
        keys = pd.concat(
            [batch.rows[["record_id", "so_dinh_danh"]],
             batch.review.reindex(columns=["record_id", "so_dinh_danh"]),
             quarantine.reindex(columns=["record_id"]).dropna()],
            ignore_index=True,
        )  # fmt: skip
        _require_unique_ids(keys, "record_id", f"{source} batch")
        data["keys"] = to_arrow(keys, {"record_id": "text", "so_dinh_danh": "text"}, {}, "keys")
        if len(quarantine):
            rules = quarantine["rules"].map(
                lambda r: r if isinstance(r, str) else ";".join(r), na_action="ignore"
            )
            quarantine = quarantine.assign(
                row_data=rows_as_json(quarantine.drop(columns="rules")), rules=rules
            )
        data["quarantine"] = _table(quarantine, QUARANTINE_COLUMNS, constants, "quarantine")
        data["review_candidate"] = _table(batch.candidates, CANDIDATE_COLUMNS, constants,
                                          "review candidates")  # fmt: skip
        data["quality_finding"] = _table(batch.findings, FINDING_COLUMNS, constants, "findings")
        return data

    def _write_batch(self, cur, batch: Batch, data: dict, steps) -> dict:
        source, table = batch.source, TABLE_OF_SOURCE[batch.source]
        self._db.lock(cur, source)
        self._run(cur, "DROP TABLE IF EXISTS batch_key")
        self._run(cur, "CREATE TEMP TABLE batch_key (record_id text, so_dinh_danh text)")
        self._db.bulk_insert(cur, "batch_key", data["keys"])
        self._run(cur, "ANALYZE batch_key")
        unknown = self._scalar(
            cur,
            "SELECT count(*) FROM batch_key k WHERE k.so_dinh_danh IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM person p WHERE p.so_dinh_danh = k.so_dinh_danh)",
        )
        if unknown:
            raise UserError(f"{source} batch: {unknown} rows linked to a so_dinh_danh that is "
                            "not in the register (load the register first)")  # fmt: skip
        steps("stage_keys")
        # No OR next to an IN (subquery): PostgreSQL would then test every row against the
        # whole key list instead of joining.
        for target in (table, "quarantine", "review_candidate", "quality_finding"):
            self._run(
                cur,
                "DELETE FROM {target} WHERE source = %s "
                "AND record_id IN (SELECT record_id FROM batch_key)",
                (source,),
                target=target,
            )
        self._run(
            cur,
            "DELETE FROM quarantine WHERE source = %s AND src_sha256 = %s",
            (source, batch.input_sha256),
        )
        self._run(
            cur,
            "DELETE FROM quality_finding WHERE source = %s AND record_id IS NULL AND run_id IN "
            "(SELECT run_id FROM run WHERE source = %s AND input_sha256 = %s)",
            (source, source, batch.input_sha256),
        )
        self._run(
            cur,
            "UPDATE run SET status = 'replaced', replaced_by = %s WHERE source = %s "
            "AND input_sha256 = %s AND status = 'loaded' AND run_id <> %s",
            (batch.run_id, source, batch.input_sha256, batch.run_id),
        )
        steps("delete_previous")
        self._db.bulk_insert(cur, table, data["rows"])
        steps("copy_rows")
        for name in ("review", "quarantine", "review_candidate", "quality_finding"):
            if data[name] is not None and len(data[name]):
                self._db.bulk_insert(cur, table if name == "review" else name, data[name])
        steps("copy_other")
        reapplied = self._reapply_decisions(cur, source)
        self._run(cur, "DROP TABLE batch_key")
        steps("reapply_decisions")
        # Counted after the decisions are applied again: those rows are loaded, not review.
        counts = self._reconcile(cur, batch.run_id, source, batch.rows_read)
        steps("reconcile")
        return {**counts, "decisions_reapplied": reapplied}

    def _reapply_decisions(self, cur, source: str) -> int:
        """Apply again the stewards' decisions (the latest ``review_decision`` per record) to
        the rows of the batch just written (``batch_key``) that the linker left in review, in
        the caller's transaction: ``no_match`` always; ``match`` only when its person is still
        one of the row's new review candidates (else the evidence changed: the row stays in
        review with its candidates, for a new decision). Applied rows lose their candidates.
        No new audit row: the decision is the one already recorded. Returns the rows applied."""
        table = TABLE_OF_SOURCE[source]
        self._run(cur, "DROP TABLE IF EXISTS reapply_stage")
        self._run(
            cur,
            "CREATE TEMP TABLE reapply_stage AS SELECT d.record_id, d.decision, d.so_dinh_danh "
            "FROM (SELECT record_id, decision, so_dinh_danh, ROW_NUMBER() OVER "
            "(PARTITION BY record_id ORDER BY decided_at DESC) AS latest FROM review_decision "
            "WHERE source = %s AND record_id IN (SELECT record_id FROM batch_key)) d "
            "JOIN {table} t ON t.source = %s AND t.record_id = d.record_id "
            "WHERE d.latest = 1 AND t.decision = 'review' AND (d.decision = 'no_match' "
            "OR EXISTS (SELECT 1 FROM review_candidate c WHERE c.source = %s "
            "AND c.record_id = d.record_id AND c.so_dinh_danh = d.so_dinh_danh))",
            (source, source, source),
            table=table,
        )
        reapplied = self._scalar(cur, "SELECT count(*) FROM reapply_stage")
        if reapplied:
            self._run(
                cur,
                "UPDATE {table} SET decision = 'match', so_dinh_danh = c.so_dinh_danh, "
                "score = c.score, explanation = c.explanation "
                "FROM reapply_stage s, review_candidate c WHERE s.decision = 'match' "
                "AND c.source = %s AND c.record_id = s.record_id "
                "AND c.so_dinh_danh = s.so_dinh_danh "
                "AND {table}.source = %s AND {table}.record_id = s.record_id",
                (source, source),
                table=table,
            )
            self._run(
                cur,
                "UPDATE {table} SET decision = 'no_match', so_dinh_danh = NULL "
                "WHERE source = %s AND record_id IN "
                "(SELECT record_id FROM reapply_stage WHERE decision = 'no_match')",
                (source,),
                table=table,
            )
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s "
                "AND record_id IN (SELECT record_id FROM reapply_stage)",
                (source,),
            )
        self._run(cur, "DROP TABLE reapply_stage")
        return reapplied

    # ------------------------------------------------------------------ reconciliation

    def reconcile(self, run_id: str) -> dict:
        """Count the run's rows in the database; raise ``ReconciliationError`` unless
        rows read = loaded + quarantined + review. Returns the counts."""
        with self._transaction() as cur:
            found = self._run(cur, "SELECT source, rows_read FROM run WHERE run_id = %s",
                              (run_id,)).fetchone()  # fmt: skip
            if found is None:
                raise UserError(f"no run {run_id!r} in the warehouse")
            if found[0] not in TABLE_OF_SOURCE:
                raise UserError(f"run {run_id!r} loaded the register: nothing to reconcile")
            return self._reconcile(cur, run_id, found[0], found[1])

    def _reconcile(self, cur, run_id: str, source: str, rows_read: int) -> dict:
        loaded, review = self._run(
            cur,
            "SELECT count(CASE WHEN decision <> 'review' THEN 1 END), "
            "count(CASE WHEN decision = 'review' THEN 1 END) FROM {table} WHERE run_id = %s",
            (run_id,),
            table=TABLE_OF_SOURCE[source],
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

    # ------------------------------------------------------------------ re-check

    def rows_to_recheck(self, source: str) -> pd.DataFrame:
        """The rows of ``source`` (every batch) that a register load flagged ``needs_recheck``:
        their stored standardized columns (what the linker compares) and their current link
        (``so_dinh_danh``, ``decision``, ``score``, ``run_id``), ordered by record id."""
        table = _source_table(source)
        with self._transaction() as cur:
            found = self._run(
                cur,
                "SELECT {columns} FROM {table} WHERE source = %s AND needs_recheck = TRUE "
                "ORDER BY record_id",
                (source,),
                columns=list(RECHECK_COLUMNS),
                table=table,
            ).fetchall()
        return _typed(pd.DataFrame(found, columns=list(RECHECK_COLUMNS)))

    def apply_recheck(
        self,
        source: str,
        decisions: pd.DataFrame,
        candidates: pd.DataFrame | None,
        run_id: str,
        register_run_id: str | None = None,
    ) -> dict:
        """Write the new links of re-checked rows (``rows_to_recheck``) in one transaction.

        ``decisions``: ``record_id``, ``so_dinh_danh``, ``decision``, ``score``,
        ``explanation`` (``matching.link`` against the current register); ``candidates``: the
        review candidates of those rows. Only rows still flagged are written (a rerun of their
        batch may have re-linked them meanwhile). A row whose decision and person are
        unchanged only loses its flag. A changed row gets its new link, its review candidates
        when it now waits for review, and a ``link_rechecked`` finding (stage ``recheck``,
        run id ``run_id``: the run that re-checked it); it keeps its own run id, and that
        run's ``rows_loaded`` / ``rows_review`` are counted again (a row moving between
        loaded and review changes them, never their sum): the run is reconciled in the same
        transaction, so nothing read is lost.

        ``register_run_id``: the register load the rows were linked against. When another
        snapshot has been loaded since, nothing is written (the flags stay for the next run)
        and ``deferred`` says how many rows wait. Returns ``rechecked``, ``changed``,
        ``deferred``."""
        table = _source_table(source)
        with self._transaction() as cur:
            self._db.lock(cur, "dan_cu")
            self._db.lock(cur, source)
            flagged = pd.DataFrame(
                self._run(
                    cur,
                    "SELECT record_id, run_id, so_dinh_danh, decision FROM {table} "
                    "WHERE source = %s AND needs_recheck = TRUE",
                    (source,),
                    table=table,
                ).fetchall(),
                columns=["record_id", "run_id", "so_dinh_danh", "decision"],
                dtype="string",
            )
            work = flagged.merge(
                _new_links(decisions), on="record_id", how="inner", suffixes=("_old", "")
            )
            outcome = {"rechecked": 0, "changed": 0, "deferred": 0}
            if work.empty:
                return outcome
            if register_run_id is not None:
                latest = self._run(
                    cur,
                    "SELECT run_id FROM run WHERE source = 'dan_cu' AND status = 'loaded' "
                    "ORDER BY finished_at DESC LIMIT 1",
                ).fetchone()
                if latest is not None and latest[0] != register_run_id:
                    return {**outcome, "deferred": len(work)}
            same_person = work["so_dinh_danh"].eq(work["so_dinh_danh_old"]).fillna(False) | (
                work["so_dinh_danh"].isna() & work["so_dinh_danh_old"].isna()
            )
            changed = ~(work["decision"].eq(work["decision_old"]).fillna(False) & same_person)
            work = work.assign(changed=changed.astype("int64"))
            self._run(cur, "DROP TABLE IF EXISTS recheck_stage")
            self._run(
                cur,
                "CREATE TEMP TABLE recheck_stage (record_id text, so_dinh_danh text, "
                "decision text, score double precision, explanation jsonb, changed integer)",
            )
            self._db.bulk_insert(
                cur, "recheck_stage", to_arrow(work, _RECHECK_STAGE, {}, "re-check")
            )
            outcome["rechecked"] = self._run(
                cur,
                "UPDATE {table} SET needs_recheck = FALSE WHERE source = %s "
                "AND needs_recheck = TRUE AND record_id IN (SELECT record_id FROM recheck_stage)",
                (source,),
                table=table,
            ).rowcount
            outcome["changed"] = self._run(
                cur,
                "UPDATE {table} SET so_dinh_danh = s.so_dinh_danh, decision = s.decision, "
                "score = s.score, explanation = s.explanation FROM recheck_stage s "
                "WHERE s.changed = 1 AND {table}.source = %s AND {table}.record_id = s.record_id",
                (source,),
                table=table,
            ).rowcount
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s AND record_id IN "
                "(SELECT record_id FROM recheck_stage WHERE changed = 1)",
                (source,),
            )
            self._run(cur, "DROP TABLE recheck_stage")
            moved = work[work["changed"].eq(1)]
            in_review = moved.loc[moved["decision"].eq("review"), ["record_id", "run_id"]]
            if candidates is not None and len(candidates) and len(in_review):
                held = candidates.drop(columns=["run_id"], errors="ignore").merge(
                    in_review, on="record_id"
                )
                found = _table(held, CANDIDATE_COLUMNS, {"source": source}, "re-check candidates")
                if found is not None:
                    self._db.bulk_insert(cur, "review_candidate", found)
            if len(moved):
                findings = pd.DataFrame(
                    {
                        "record_id": moved["record_id"],
                        "observed": [
                            _link_text(old_decision, old_id) + " -> " + _link_text(new, new_id)
                            for old_decision, old_id, new, new_id in zip(
                                moved["decision_old"], moved["so_dinh_danh_old"],
                                moved["decision"], moved["so_dinh_danh"], strict=True,
                            )
                        ],
                    }
                )  # fmt: skip
                constants = {"source": source, "stage": "recheck", "rule": "link_rechecked",
                             "pillar": "song", "severity": "warn", "reason": RECHECK_REASON,
                             "run_id": run_id}  # fmt: skip
                self._db.bulk_insert(
                    cur,
                    "quality_finding",
                    to_arrow(findings, FINDING_COLUMNS, constants, "re-check findings"),
                )
            for row_run in sorted(moved["run_id"].dropna().unique()):
                self._recount(cur, row_run, source)
        return outcome

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

    # ------------------------------------------------------------------ review

    def review_queue(self, source: str | None = None, limit: int = 50) -> pd.DataFrame:
        """The rows waiting for review (of ``source``, else of every extract), at most
        ``limit`` rows ordered by source and record id, one line per (row, candidate) in
        rank order (a row without candidates has one line with no candidate).

        Columns: ``source``, ``record_id``, ``rank``, ``so_dinh_danh``, ``score`` (the
        candidate's), the row's own ``full_name``, ``birth_date``, ``sex``, the candidate's
        ``candidate_name``, ``candidate_birth_date``, ``candidate_sex`` (from ``person``) and
        the row's ``run_id``. Real values: the caller masks them for display."""
        sources = list(TABLE_OF_SOURCE) if source is None else [source]
        for name in sources:
            _source_table(name)
        if limit < 1:
            raise UserError(f"limit must be at least 1, not {limit}")
        found = []
        with self._transaction() as cur:
            for name in sources:
                found += self._run(
                    cur,
                    "SELECT t.source, t.record_id, c.rank, c.so_dinh_danh, c.score, t.full_name, "
                    "t.birth_date, t.sex, p.ho_ten, p.ngay_sinh, p.gioi_tinh, t.run_id FROM "
                    "(SELECT source, record_id, full_name, birth_date, sex, run_id FROM {table} "
                    "WHERE source = %s AND decision = 'review' ORDER BY record_id LIMIT %s) t "
                    "LEFT JOIN review_candidate c "
                    "ON c.source = t.source AND c.record_id = t.record_id "
                    "LEFT JOIN person p ON p.so_dinh_danh = c.so_dinh_danh "
                    "ORDER BY t.record_id, c.rank",
                    (name, limit),
                    table=TABLE_OF_SOURCE[name],
                ).fetchall()
        frame = pd.DataFrame(found, columns=list(REVIEW_QUEUE_COLUMNS))
        rows = frame[["source", "record_id"]].drop_duplicates().head(limit)
        return _typed(frame.merge(rows, on=["source", "record_id"]).reset_index(drop=True))

    def decide_review(
        self,
        source: str,
        record_id: str,
        so_dinh_danh: str | None = None,
        *,
        decided_by: str,
        note: str | None = None,
        rank: int | None = None,
    ) -> dict:
        """A data steward's decision on a row waiting for review, in one transaction.

        ``so_dinh_danh`` (one of the row's review candidates) makes the row a ``match`` to
        that person, with the candidate's score and explanation; ``None`` makes it
        ``no_match``. The row's review candidates are deleted, a ``review_decision`` row
        records who decided what and when (with the candidates chosen among), and the row's
        run is counted again and reconciled (the row moves from review to loaded: read =
        loaded + quarantined + review keeps holding). A row not waiting for review, or a
        person who is not a candidate, is a ``UserError`` (IDs masked in the message).
        ``rank`` instead of ``so_dinh_danh``: the candidate of that rank (as ``review_queue``
        and ``popsync review list`` show it), read in the same transaction.
        Returns ``source``, ``record_id``, ``decision``, ``so_dinh_danh``, ``run_id``,
        ``decided_by``, ``decided_at`` and the run's ``counts``."""
        table = _source_table(source)
        decided_by = (decided_by or "").strip()
        if not decided_by:
            raise UserError("a review decision needs the name of who decided it")
        person = None if so_dinh_danh is None else str(so_dinh_danh).strip()
        if rank is not None and person is not None:
            raise UserError("give a candidate's so_dinh_danh or its rank, not both")
        what = f"{source} record {record_id!r}"
        with self._transaction() as cur:
            self._db.lock(cur, source)
            row = self._run(
                cur,
                "SELECT decision, run_id FROM {table} WHERE source = %s AND record_id = %s",
                (source, record_id),
                table=table,
            ).fetchone()
            if row is None:
                raise UserError(f"{what} is not in the warehouse (quarantined or never loaded)")
            if row[0] != "review":
                raise UserError(f"{what} is not waiting for review: its decision is {row[0]}")
            run_id = row[1]
            ranked = self._run(
                cur,
                "SELECT rank, so_dinh_danh FROM review_candidate WHERE source = %s "
                "AND record_id = %s ORDER BY rank",
                (source, record_id),
            ).fetchall()
            candidates = [found[1] for found in ranked]
            if rank is not None:
                chosen = [found[1] for found in ranked if found[0] == rank]
                if not chosen:
                    ranks = ", ".join(str(found[0]) for found in ranked) or "none"
                    raise UserError(f"{what} has no candidate of rank {rank}: its ranks are "
                                    f"{ranks} (or decide no match)")  # fmt: skip
                person = chosen[0]
            if person is not None:
                if person not in candidates:
                    allowed = ", ".join(mask_id(c) for c in candidates) or "none"
                    raise UserError(
                        f"{mask_id(person)} is not a review candidate of {what}: its "
                        f"candidates are {allowed} (or decide no match)"
                    )
                if not self._scalar(cur, "SELECT count(*) FROM person WHERE so_dinh_danh = %s",
                                    (person,)):  # fmt: skip
                    raise UserError(f"{mask_id(person)} is not in the register any more")
                self._run(
                    cur,
                    "UPDATE {table} SET decision = 'match', so_dinh_danh = c.so_dinh_danh, "
                    "score = c.score, explanation = c.explanation FROM review_candidate c "
                    "WHERE c.source = %s AND c.record_id = %s AND c.so_dinh_danh = %s "
                    "AND {table}.source = c.source AND {table}.record_id = c.record_id",
                    (source, record_id, person),
                    table=table,
                )
            else:
                self._run(
                    cur,
                    "UPDATE {table} SET decision = 'no_match', so_dinh_danh = NULL "
                    "WHERE source = %s AND record_id = %s",
                    (source, record_id),
                    table=table,
                )
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s AND record_id = %s",
                (source, record_id),
            )
            decision = {
                "source": source,
                "record_id": record_id,
                "decision": "no_match" if person is None else "match",
                "so_dinh_danh": person,
                "run_id": run_id,
                "decided_by": decided_by,
                "decided_at": _now(),
            }
            self._run(
                cur,
                "INSERT INTO review_decision (source, record_id, decision, so_dinh_danh, "
                "candidates, decided_by, note, decided_at, run_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (source, record_id, decision["decision"], person, json.dumps(candidates),
                 decided_by, note, decision["decided_at"], run_id),
            )  # fmt: skip
            decision["counts"] = self._recount(cur, run_id, source)
        return decision

    # ------------------------------------------------------------------ run records

    def _write_run(self, cur, run: dict) -> None:
        """Insert or replace the run record (a run id loaded again is one run)."""
        run = {**run, "finished_at": _now(), "timings": json.dumps(run["timings"], default=str)}
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


# What the linker needs of a stored row to link it again, and its current link.
RECHECK_COLUMNS = (
    "record_id", "full_name", "birth_date", "birth_date_precision", "sex", "id_number",
    "phone", "province_code", "district_code", "ward_code", "admin_scheme", "flags",
    "so_dinh_danh", "decision", "score", "run_id",
)  # fmt: skip
REVIEW_QUEUE_COLUMNS = (
    "source", "record_id", "rank", "so_dinh_danh", "score", "full_name", "birth_date", "sex",
    "candidate_name", "candidate_birth_date", "candidate_sex", "run_id",
)  # fmt: skip


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored values as the linker and the CLI take them: dates (``date`` on PostgreSQL, ISO
    text on SQLite) as datetime64, ``score`` float64, ``rank`` Int64, the rest strings."""
    for column in frame.columns:
        if column in ("birth_date", "candidate_birth_date"):
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
        elif column == "score":
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        elif column == "rank":
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        else:
            frame[column] = frame[column].astype("string")
    return frame


RECHECK_REASON = "the linked person's identity changed in the register; the link was checked again"
_RECHECK_STAGE = {"record_id": "text", "so_dinh_danh": "text", "decision": "text",
                  "score": "float", "explanation": "json", "changed": "int"}  # fmt: skip


def _counts(counts: dict) -> dict:
    """The run record's row counts of a load's result."""
    return {name: counts[name] for name in ("rows_loaded", "rows_quarantined", "rows_review")}


def _source_table(source: str) -> str:
    if source not in TABLE_OF_SOURCE:
        raise UserError(f"unknown source {source!r}: one of {', '.join(TABLE_OF_SOURCE)}")
    return TABLE_OF_SOURCE[source]


def _new_links(decisions: pd.DataFrame) -> pd.DataFrame:
    """The linker's decisions with ``so_dinh_danh`` only where the decision is ``match``."""
    links = decisions[["record_id", "so_dinh_danh", "decision", "score", "explanation"]].copy()
    links["record_id"] = links["record_id"].astype("string")
    links["decision"] = links["decision"].astype("string")
    person = links["so_dinh_danh"].astype("string")
    links["so_dinh_danh"] = person.where(links["decision"].eq("match") & person.ne(""))
    return links


def _link_text(decision: object, person: object) -> str:
    """``match 001******345`` / ``review``: a link as a finding shows it (ID masked)."""
    if person is None or pd.isna(person):
        return str(decision)
    return f"{decision} {mask_id(person)}"


_RUN_COLUMNS = (
    "run_id", "source", "input_file", "input_sha256", "run_date", "started_at", "finished_at",
    "rows_read", "rows_loaded", "rows_quarantined", "rows_review", "status", "timings", "error",
)  # fmt: skip


class _Steps:
    """Seconds per load step, in order."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def _migrations(backend: str) -> list[tuple[int, str, str]]:
    """(version, name, SQL) in order: ``NNNN_name.sql`` for every backend,
    ``NNNN_name.<backend>.sql`` for one."""
    folder = resources.files("popsync.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        name, _, variant = entry.name.removesuffix(".sql").partition(".")
        if entry.name.endswith(".sql") and variant in ("", backend):
            found.append((int(name.split("_", 1)[0]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _run_record(meta: dict, source: str, rows_read: int) -> dict:
    run_date = meta.get("run_date")
    return {
        "run_id": meta["run_id"],
        "source": source,
        "input_file": None if meta.get("input_file") is None else str(meta["input_file"]),
        "input_sha256": meta.get("input_sha256"),
        "run_date": None if run_date is None else str(run_date),
        "started_at": _now(),
        "rows_read": rows_read,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_review": 0,
        "status": "failed",
        "timings": dict(meta.get("timings") or {}),
        "error": None,
    }


def _require_unique_ids(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise UserError(f"{what}: missing column {column}")
    ids = frame[column]
    if ids.isna().any():
        raise UserError(f"{what}: {int(ids.isna().sum())} rows without {column}")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        examples = (mask_value(column, value) for value in duplicated.unique()[:3])
        raise UserError(f"{what}: {len(duplicated)} duplicated {column} values, e.g. "
                        f"{', '.join(examples)}")  # fmt: skip


def _table(frame: pd.DataFrame, columns: dict, constants: dict, what: str):
    return to_arrow(frame, columns, constants, what) if len(frame) else None


def _error_text(error: Exception) -> str:
    """The error without PostgreSQL's DETAIL (it can quote a whole row: personal data)."""
    if isinstance(error, psycopg2.Error) and error.diag.message_primary:
        return f"{type(error).__name__}: {error.diag.message_primary}"
    return f"{type(error).__name__}: {error}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
