"""The re-check after a register change: the stored rows flagged ``needs_recheck``, and the
outcome of linking them again, written in one transaction with the runs counted again."""

from __future__ import annotations

import pandas as pd

from popsync.core.contracts import (
    CANDIDATE_COLUMNS,
    DATE,
    FINDING_COLUMNS,
    INT,
    QUARANTINE_COLUMNS,
    SMALLINT,
    TIMESTAMP,
)
from popsync.core.errors import UserError
from popsync.core.privacy import mask_id
from popsync.warehouse.batch import (
    ROW_KEY_SEP,
    arrow_or_none,
    rows_as_json,
    split_row_keys,
    to_arrow,
    typed,
)


class Recheck:
    def rows_to_recheck(
        self, source: str, *, flagged: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        """The rows of ``source`` (every batch) that a register load flagged ``needs_recheck``:
        their delivery, their stored standardized columns (what the linker compares and the
        post-link rules check: every stored column, dates as datetime64) and their current
        link (``so_dinh_danh``, ``decision``, ``score``, ``run_id``), ordered by record id and
        delivery. ``flagged=False``: the same of every stored row (at most ``limit``), to
        train a model for a register snapshot no batch was linked against yet."""
        spec = self.catalog.extract(source)
        columns = [*RECHECK_COLUMNS, *(c for c in spec.table_columns() if c not in
                                       RECHECK_COLUMNS and c != "explanation")]  # fmt: skip
        query = (
            "SELECT {columns} FROM {table} WHERE source = %s AND needs_recheck = TRUE "
            "ORDER BY record_id, delivery"
            if flagged
            else "SELECT {columns} FROM {table} WHERE source = %s ORDER BY record_id, delivery "
            "LIMIT %s"
        )
        params = (source,) if flagged else (source, int(limit or 2**62))
        with self._transaction() as cur:
            found = self._run(cur, query, params, columns=columns, table=spec.table).fetchall()
        rows = typed(pd.DataFrame(found, columns=columns))
        kinds = spec.table_columns()
        for name in columns:
            if name in ("birth_date", "score"):
                continue
            if kinds.get(name) in (DATE, TIMESTAMP):
                rows[name] = pd.to_datetime(rows[name], errors="coerce")
            elif kinds.get(name) in (INT, SMALLINT):
                rows[name] = pd.to_numeric(rows[name]).astype("Int64")
        return rows

    def count_to_recheck(self, source: str) -> int:
        """How many rows of ``source`` wait for a re-check (``needs_recheck``)."""
        with self._transaction() as cur:
            return self._scalar(cur, "SELECT count(*) FROM {table} WHERE source = %s AND "
                                "needs_recheck = TRUE", (source,), table=self._table_of(source))  # fmt: skip

    def latest_register_run(self) -> dict | None:
        """The register load the database holds now (the latest loaded): ``run_id``,
        ``input_file``, ``input_sha256``, ``run_date``; None before any."""
        names = ("run_id", "input_file", "input_sha256", "run_date")
        with self._transaction() as cur:
            found = self._run(cur, "SELECT run_id, input_file, input_sha256, run_date FROM run "
                              "WHERE source = %s AND status = 'loaded' ORDER BY finished_at "
                              "DESC LIMIT 1", (self.catalog.register.id,)).fetchone()  # fmt: skip
        return None if found is None else dict(zip(names, found, strict=True))

    def latest_batch_day(self, source: str):
        """The run date of ``source``'s latest loaded batch (not a re-check); None before any."""
        with self._transaction() as cur:
            return self._scalar(cur, "SELECT max(run_date) FROM run WHERE source = %s AND "
                                "status = 'loaded' AND kind = 'batch'", (source,))  # fmt: skip

    def apply_recheck(
        self,
        source: str,
        decisions: pd.DataFrame,
        candidates: pd.DataFrame | None,
        run_id: str,
        register_run_id: str | None = None,
        quarantine: pd.DataFrame | None = None,
    ) -> dict:
        """Write the new links of re-checked rows (``rows_to_recheck``) in one transaction.

        ``decisions``: ``record_id``, ``so_dinh_danh``, ``decision``, ``score``,
        ``explanation`` (``matching.link`` against the current register), the record id being
        the row's key in its delivery (``row_key``); ``candidates``: the review candidates of
        those rows, keyed the same way. Only rows still flagged are written (a rerun of their
        batch may have re-linked them meanwhile). A row whose decision and person are
        unchanged only loses its flag. A changed row gets its new link, its review candidates
        when it now waits for review, and a ``link_rechecked`` finding (stage ``recheck``,
        run id ``run_id``: the run that re-checked it); it keeps its own run id, and that
        run's ``rows_loaded`` / ``rows_review`` are counted again (a row moving between
        loaded and review changes them, never their sum): the run is reconciled in the same
        transaction, so nothing read is lost.

        ``register_run_id``: the register load the rows were linked against. When another
        snapshot has been loaded since, nothing is written (the flags stay for the next run)
        and ``deferred`` says how many rows wait.

        As a full re-run of those rows: ``quarantine`` (``row_key``-keyed ``record_id``, the
        stored columns, ``rules``, and ``findings``: a list of finding dicts) holds the rows the
        post-link rules now quarantine (a dose after a new death): they move to ``quarantine``
        under their own run id with their findings (stage ``recheck``). A steward's decision
        (the latest, not undone) is kept while it still holds: ``match`` while its person is
        the new match or one of the new candidates, ``no_match`` unless the linker now finds a
        match. Returns ``rechecked``, ``changed``, ``quarantined``, ``deferred``."""
        table = self._table_of(source)
        with self._transaction() as cur:
            self._db.lock(cur, "dan_cu")
            self._db.lock(cur, source)
            flagged = pd.DataFrame(
                self._run(
                    cur,
                    "SELECT delivery, record_id, run_id, so_dinh_danh, decision FROM {table} "
                    "WHERE source = %s AND needs_recheck = TRUE",
                    (source,),
                    table=table,
                ).fetchall(),
                columns=["delivery", "record_id", "run_id", "so_dinh_danh", "decision"],
                dtype="string",
            )
            work = flagged.merge(
                _keyed(_new_links(decisions), flagged),
                on=["delivery", "record_id"],
                how="inner",
                suffixes=("_old", ""),
            )
            outcome = {"rechecked": 0, "changed": 0, "quarantined": 0, "deferred": 0}
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
            work = self._kept_decisions(cur, source, work, candidates, flagged)
            quarantined = _keyed_quarantine(quarantine, flagged)
            if len(quarantined):
                outcome["quarantined"] = self._quarantine_rechecked(
                    cur, source, table, quarantined, run_id
                )
                gone = work.merge(quarantined[["delivery", "record_id"]], how="left",
                                  indicator=True)["_merge"].eq("both").to_numpy()  # fmt: skip
                work = work[~gone]
            same_person = work["so_dinh_danh"].eq(work["so_dinh_danh_old"]).fillna(False) | (
                work["so_dinh_danh"].isna() & work["so_dinh_danh_old"].isna()
            )
            changed = ~(work["decision"].eq(work["decision_old"]).fillna(False) & same_person)
            work = work.assign(changed=changed.astype("int64"))
            self._run(cur, "DROP TABLE IF EXISTS recheck_stage")
            self._run(
                cur,
                "CREATE TEMP TABLE recheck_stage (delivery text, record_id text, so_dinh_danh text, "
                "decision text, score double precision, explanation jsonb, changed integer)",
            )
            self._db.bulk_insert(
                cur, "recheck_stage", to_arrow(work, _RECHECK_STAGE, {}, "re-check")
            )
            outcome["rechecked"] = self._run(
                cur,
                "UPDATE {table} SET needs_recheck = FALSE WHERE source = %s "
                "AND needs_recheck = TRUE AND EXISTS (SELECT 1 FROM recheck_stage s "
                "WHERE s.delivery = {table}.delivery AND s.record_id = {table}.record_id)",
                (source,),
                table=table,
            ).rowcount
            outcome["changed"] = self._run(
                cur,
                "UPDATE {table} SET so_dinh_danh = s.so_dinh_danh, decision = s.decision, "
                "score = s.score, explanation = s.explanation FROM recheck_stage s "
                "WHERE s.changed = 1 AND {table}.source = %s AND {table}.delivery = s.delivery "
                "AND {table}.record_id = s.record_id",
                (source,),
                table=table,
            ).rowcount
            # Their people's status is recomputed by the next refresh (``stage_status``).
            self._queue_rechecked(cur, source, work[work["changed"].eq(1)], candidates)
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s AND EXISTS "
                "(SELECT 1 FROM recheck_stage s WHERE s.changed = 1 "
                "AND s.delivery = review_candidate.delivery "
                "AND s.record_id = review_candidate.record_id)",
                (source,),
            )
            self._run(cur, "DROP TABLE recheck_stage")
            moved = work[work["changed"].eq(1)]
            in_review = moved.loc[
                moved["decision"].eq("review"), ["delivery", "record_id", "run_id"]
            ]
            if candidates is not None and len(candidates) and len(in_review):
                held = _keyed(candidates.drop(columns=["run_id"], errors="ignore"), flagged).merge(
                    in_review, on=["delivery", "record_id"]
                )
                found = arrow_or_none(
                    held, CANDIDATE_COLUMNS, {"source": source}, "re-check candidates"
                )
                if found is not None:
                    self._db.bulk_insert(cur, "review_candidate", found)
            if len(moved):
                findings = pd.DataFrame(
                    {
                        "delivery": moved["delivery"],
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
            runs = set(moved["run_id"].dropna()) | set(
                quarantined.get("run_id", pd.Series()).dropna()
            )
            for row_run in sorted(runs):
                self._recount(cur, row_run, source)
        return outcome

    def _kept_decisions(self, cur, source, work, candidates, flagged) -> pd.DataFrame:
        """``work`` with the stewards' decisions that still hold put back in place of the
        linker's new link (then the row does not change)."""
        decided = pd.DataFrame(
            self._run(
                cur,
                "SELECT delivery, record_id, decision, so_dinh_danh FROM (SELECT delivery, "
                "record_id, decision, so_dinh_danh, ROW_NUMBER() OVER (PARTITION BY delivery, "
                "record_id ORDER BY decided_at DESC) AS latest FROM review_decision r "
                "WHERE source = %s AND NOT EXISTS (SELECT 1 FROM review_undo u "
                "WHERE u.decision_id = r.decision_id)) d WHERE latest = 1",
                (source,),
            ).fetchall(),
            columns=["delivery", "record_id", "steward", "steward_person"],
            dtype="string",
        )
        if decided.empty:
            return work
        held = work.merge(decided, on=["delivery", "record_id"], how="left")
        offered = set()
        if candidates is not None and len(candidates):
            keyed = _keyed(candidates, flagged)
            offered = set(zip(keyed["delivery"], keyed["record_id"],
                              keyed["so_dinh_danh"].astype("string"), strict=True))  # fmt: skip
        chosen = [
            (d, r, p) in offered
            for d, r, p in zip(held["delivery"], held["record_id"], held["steward_person"],
                               strict=True)
        ]  # fmt: skip
        new_match = held["decision"].eq("match").fillna(False)
        keep_match = held["steward"].eq("match").fillna(False) & (
            (new_match & held["so_dinh_danh"].eq(held["steward_person"]).fillna(False))
            | pd.Series(chosen, index=held.index)
        )
        keep_no_match = held["steward"].eq("no_match").fillna(False) & ~new_match
        keep = (keep_match | keep_no_match).to_numpy()
        held.loc[keep, "decision"] = held.loc[keep, "steward"]
        held.loc[keep, "so_dinh_danh"] = held.loc[keep, "steward_person"].where(
            held.loc[keep, "steward"].eq("match")
        )
        held.loc[keep, "score"] = pd.NA
        return held.drop(columns=["steward", "steward_person"])

    def _quarantine_rechecked(self, cur, source, table, rows: pd.DataFrame, run_id) -> int:
        """Move re-checked rows the post-link rules now quarantine: into ``quarantine`` (under
        their own run), out of the source table with their candidates; their findings under
        the re-checking run. Returns how many moved."""
        self._run(cur, "DROP TABLE IF EXISTS recheck_out")
        self._run(cur, "CREATE TEMP TABLE recheck_out (delivery text, record_id text)")
        self._db.bulk_insert(cur, "recheck_out", to_arrow(
            rows, {"delivery": "text", "record_id": "text"}, {}, "re-check quarantine"))  # fmt: skip
        self._queue_status(cur, rows["so_dinh_danh"], "recheck")
        for target in (table, "review_candidate"):
            self._run(
                cur,
                "DELETE FROM {target} WHERE source = %s AND EXISTS (SELECT 1 FROM recheck_out o "
                "WHERE o.delivery = {target}.delivery AND o.record_id = {target}.record_id)",
                (source,),
                target=target,
            )
        self._run(cur, "DROP TABLE recheck_out")
        stored = rows.assign(row_data=rows_as_json(rows.drop(columns=["rules", "findings",
                                                                      "run_id"])))  # fmt: skip
        self._db.bulk_insert(cur, "quarantine", to_arrow(
            stored, QUARANTINE_COLUMNS, {"source": source}, "re-check quarantine"))  # fmt: skip
        findings = pd.DataFrame([
            {**finding, "delivery": d, "record_id": r}
            for d, r, found in zip(rows["delivery"], rows["record_id"], rows["findings"],
                                   strict=True)
            for finding in found
        ])  # fmt: skip
        if len(findings):
            findings = findings.assign(stage="recheck")
            self._db.bulk_insert(cur, "quality_finding", to_arrow(
                findings, FINDING_COLUMNS, {"source": source, "run_id": run_id},
                "re-check findings"))  # fmt: skip
        return len(rows)


def _keyed_quarantine(quarantine: pd.DataFrame | None, flagged: pd.DataFrame) -> pd.DataFrame:
    """The rows to quarantine that are still flagged, with their delivery and their own run."""
    if quarantine is None or not len(quarantine):
        return pd.DataFrame(columns=["delivery", "record_id", "run_id"])
    keyed = _keyed(quarantine.drop(columns=["run_id", "delivery"], errors="ignore"), flagged)
    return keyed.drop(columns=["so_dinh_danh"], errors="ignore").merge(
        flagged[["delivery", "record_id", "run_id", "so_dinh_danh"]], on=["delivery", "record_id"]
    )


# What the linker needs of a stored row to link it again, and its current link.
RECHECK_COLUMNS = (
    "delivery", "record_id", "full_name", "birth_date", "birth_date_precision", "sex", "id_number",
    "phone", "province_code", "district_code", "ward_code", "admin_scheme", "flags",
    "so_dinh_danh", "decision", "score", "run_id",
)  # fmt: skip
RECHECK_REASON = "the linked person's identity changed in the register; the link was checked again"
_RECHECK_STAGE = {"delivery": "text", "record_id": "text", "so_dinh_danh": "text", "decision": "text",
                  "score": "float", "explanation": "json", "changed": "int"}  # fmt: skip


def _keyed(frame: pd.DataFrame, flagged: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the ``delivery`` of each row: from its row key (``row_keys``), from its
    own column, or, for a record id that only one flagged row has, from that row."""
    ids = frame["record_id"].astype("string")
    if "delivery" in frame.columns:
        return frame
    if ids.str.contains(ROW_KEY_SEP, regex=False).all():
        return split_row_keys(frame)
    owners = flagged[["delivery", "record_id"]]
    shared = owners["record_id"][owners["record_id"].duplicated()].unique()
    if len(shared):
        raise UserError(f"re-check: record ids in several deliveries need row keys, e.g. "
                        f"{shared[0]!r}")  # fmt: skip
    return frame.merge(owners, on="record_id", how="left")


def _new_links(decisions: pd.DataFrame) -> pd.DataFrame:
    """The linker's decisions with ``so_dinh_danh`` only where the decision is ``match``."""
    columns = ["record_id", "so_dinh_danh", "decision", "score", "explanation"]
    links = decisions[[c for c in ("delivery", *columns) if c in decisions.columns]].copy()
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
