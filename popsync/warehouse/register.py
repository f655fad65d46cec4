"""The register merge: a snapshot of ``dan_cu`` into ``person``, with the history of every
changed field and the re-check flags on the rows linked to a person whose identity changed."""

from __future__ import annotations

import uuid

import pandas as pd

from popsync.core.contracts import FINDING_COLUMNS
from popsync.core.timing import Steps
from popsync.core.unique import require_unique_ids
from popsync.warehouse.batch import arrow_or_none, to_arrow
from popsync.warehouse.runs import run_record

# A change of these re-opens the links to the person (needs_recheck); a death can make
# later events impossible, so it counts too.
IDENTITY_FIELDS = ("ho_ten", "ngay_sinh", "ngay_sinh_precision", "gioi_tinh", "ngay_mat")
# The key and the version of a person (never "changed" fields themselves).
_KEY, _VERSION = "so_dinh_danh", "ngay_cap_nhat"


def _differs(new: str, old: str) -> str:
    """SQL: the identity of ``new``'s person differs from ``old``'s (nulls compared as values)."""
    return (
        "("
        + " OR ".join(
            f"NOT ({new}.{f} = {old}.{f} OR ({new}.{f} IS NULL AND {old}.{f} IS NULL))"
            for f in IDENTITY_FIELDS
        )
        + ")"
    )


def _replaces(new: str, old: str) -> str:
    """SQL: the snapshot's version of a person replaces the stored one: a newer
    ``ngay_cap_nhat``, or the same (or none) with a changed identity: a change is seen in the
    content, whatever ``ngay_cap_nhat`` says, unless the snapshot's version is older."""
    newer = (f"({new}.{_VERSION} > {old}.{_VERSION} OR ({old}.{_VERSION} IS NULL "
             f"AND {new}.{_VERSION} IS NOT NULL))")  # fmt: skip
    not_older = (f"({new}.{_VERSION} = {old}.{_VERSION} OR ({new}.{_VERSION} IS NULL "
                 f"AND {old}.{_VERSION} IS NULL))")  # fmt: skip
    return f"({newer} OR ({not_older} AND {_differs(new, old)}))"


class RegisterMerge:
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
        return self._load_register(lambda: [register_std], len(register_std), run_meta, findings)

    def _load_register(self, parts, rows: int, run_meta: dict | None, findings) -> dict:
        """``load_register`` of a snapshot given as ``parts()`` (its frames, in order)."""
        spec = self.catalog.register
        meta = {"run_id": str(uuid.uuid4()), **(run_meta or {})}
        run = run_record(meta, spec.id, rows)
        steps = Steps()

        def tables():
            for frame in parts():
                frame = frame.rename(columns=spec.store)
                require_unique_ids(frame, _KEY, "register")
                yield to_arrow(frame, spec.table_columns(), {"run_id": run["run_id"]}, "register")

        try:
            found = arrow_or_none(
                pd.DataFrame() if findings is None else findings,
                FINDING_COLUMNS,
                {"source": spec.id, "delivery": run["delivery"], "run_id": run["run_id"]},
                "register findings",
            )
            steps("prepare")
            with self._transaction() as cur:
                self._db.lock(cur, spec.id)
                if run["input_sha256"]:
                    loaded = self._run(
                        cur,
                        "SELECT run_id FROM run WHERE source = %s AND input_sha256 = %s "
                        "AND status = 'loaded'",
                        (spec.id, run["input_sha256"]),
                    ).fetchone()
                    if loaded:
                        stale = self._stale_people(cur, tables(), loaded[0])
                        return {"run_id": loaded[0], "skipped": True, "rows_read": rows,
                                "stale_people": stale}  # fmt: skip
                stats = self._merge_register(cur, tables(), run["run_id"], steps)
                if found is not None:
                    self._db.bulk_insert(cur, "quality_finding", found)
                stats["findings"] = 0 if found is None else len(found)
                run.update(rows_loaded=stats["inserted"] + stats["updated"], status="loaded",
                           timings={**run["timings"], "load": steps.seconds})  # fmt: skip
                self._write_run(cur, run)
        except Exception as error:
            self._record_failure(run, error, steps)
            raise
        return {"run_id": run["run_id"], "skipped": False, "rows_read": rows, **stats}

    def load_register_snapshot(self, parts, rows: int, run_meta: dict, findings=None) -> dict:
        """``load_register`` of a snapshot given in parts (``parts()`` yields its standardized
        frames in order; ``rows`` in all), each COPYed in turn: a city's register need not be
        held in memory. A snapshot the warehouse holds already is not read again unless a
        later one was loaded since (``stale_people``); ``findings()`` gives its findings."""
        return self._load_register(parts, rows, run_meta, None if findings is None else findings())

    def _merge_register(self, cur, parts, run_id: str, steps) -> dict:
        self._run(cur, "DROP TABLE IF EXISTS register_stage")
        self._run(cur, "CREATE TEMP TABLE register_stage AS SELECT * FROM person WHERE 1 = 0")
        staged = 0
        for data in parts:
            self._db.bulk_insert(cur, "register_stage", data)
            staged += len(data)
        self._run(cur, "CREATE INDEX register_stage_id ON register_stage (so_dinh_danh)")
        self._run(cur, "ANALYZE register_stage")
        steps("stage")
        # The stored version of every known person this snapshot replaces.
        self._run(cur, "DROP TABLE IF EXISTS register_old")
        self._run(
            cur,
            "CREATE TEMP TABLE register_old AS SELECT p.* FROM register_stage s "  # noqa: S608
            "JOIN person p ON p.so_dinh_danh = s.so_dinh_danh WHERE " + _replaces("s", "p"),
        )
        history = 0
        columns = list(self.catalog.register.table_columns())
        for field in [c for c in columns if c not in (_KEY, _VERSION, "run_id")]:
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
        for table in (spec.table for spec in self.catalog.extracts):
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
        # Column names come from the register's validated declaration; no value is inlined.
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != _KEY)
        upsert = (
            "INSERT INTO person ({columns}) SELECT {columns} FROM register_stage WHERE TRUE "  # noqa: S608
            f"ON CONFLICT (so_dinh_danh) DO UPDATE SET {updates} "
            "WHERE " + _replaces("excluded", "person")
        )
        upserted = self._run(
            cur,
            upsert,
            columns=columns,
        ).rowcount
        stale = self._stale_count(cur)
        self._run(cur, "DROP TABLE register_stage")
        self._run(cur, "DROP TABLE register_old")
        steps("merge")
        return {
            "stale_people": stale,
            "inserted": inserted,
            "updated": upserted - inserted,
            "unchanged": staged - upserted,
            "history_rows": history,
            "deaths": deaths,
            "needs_recheck": recheck,
        }

    def _stale_people(self, cur, parts, run_id: str) -> int:
        """For a snapshot loaded before (skipped): how many of its people the database holds
        in another version now (a later snapshot changed them). None needed when it is the
        latest register load: the database is that snapshot, for its people."""
        latest = self._run(cur, "SELECT run_id FROM run WHERE source = %s AND status = "
                           "'loaded' ORDER BY finished_at DESC LIMIT 1",
                           (self.catalog.register.id,)).fetchone()  # fmt: skip
        if latest is not None and latest[0] == run_id:
            return 0
        self._run(cur, "DROP TABLE IF EXISTS register_stage")
        self._run(cur, "CREATE TEMP TABLE register_stage AS SELECT * FROM person WHERE 1 = 0")
        for part in parts:
            self._db.bulk_insert(cur, "register_stage", part)
        stale = self._stale_count(cur)
        self._run(cur, "DROP TABLE register_stage")
        return stale

    def _stale_count(self, cur) -> int:
        """People of ``register_stage`` whose stored identity differs from the snapshot's after
        the merge: the database holds a newer version of them, so links computed against this
        snapshot would be links to people as they no longer are."""
        return self._scalar(
            cur,
            "SELECT count(*) FROM register_stage s JOIN person p "  # noqa: S608
            "ON p.so_dinh_danh = s.so_dinh_danh WHERE " + _differs("s", "p"),
        )
