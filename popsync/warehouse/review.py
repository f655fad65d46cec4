"""The review queue: the rows the linker was unsure of, and a steward's decision on one."""

from __future__ import annotations

import json

import pandas as pd

from popsync.core.errors import UserError
from popsync.core.privacy import mask_id
from popsync.warehouse.batch import typed
from popsync.warehouse.db import now


class Review:
    def review_queue(self, source: str | None = None, limit: int = 50) -> pd.DataFrame:
        """The rows waiting for review (of ``source``, else of every extract), at most
        ``limit`` rows ordered by source and record id, one line per (row, candidate) in
        rank order (a row without candidates has one line with no candidate).

        Columns: ``source``, ``delivery``, ``record_id``, ``rank``, ``so_dinh_danh``, ``score`` (the
        candidate's), the row's own ``full_name``, ``birth_date``, ``sex``, the candidate's
        ``candidate_name``, ``candidate_birth_date``, ``candidate_sex`` (from ``person``) and
        the row's ``run_id``. Real values: the caller masks them for display."""
        sources = [s.id for s in self.catalog.extracts] if source is None else [source]
        for name in sources:
            self._table_of(name)
        if limit < 1:
            raise UserError(f"limit must be at least 1, not {limit}")
        found = []
        with self._transaction() as cur:
            for name in sources:
                found += self._run(
                    cur,
                    "SELECT t.source, t.delivery, t.record_id, c.rank, c.so_dinh_danh, c.score, "
                    "t.full_name, t.birth_date, t.sex, p.ho_ten, p.ngay_sinh, p.gioi_tinh, "
                    "t.run_id FROM (SELECT source, delivery, record_id, full_name, birth_date, "
                    "sex, run_id FROM {table} WHERE source = %s AND decision = 'review' "
                    "ORDER BY record_id, delivery LIMIT %s) t "
                    "LEFT JOIN review_candidate c ON c.source = t.source "
                    "AND c.delivery = t.delivery AND c.record_id = t.record_id "
                    "LEFT JOIN person p ON p.so_dinh_danh = c.so_dinh_danh "
                    "ORDER BY t.record_id, t.delivery, c.rank",
                    (name, limit),
                    table=self._table_of(name),
                ).fetchall()
        frame = pd.DataFrame(found, columns=list(REVIEW_QUEUE_COLUMNS))
        keys = ["source", "delivery", "record_id"]
        rows = frame[keys].drop_duplicates().head(limit)
        return typed(frame.merge(rows, on=keys).reset_index(drop=True))

    def decide_review(
        self,
        source: str,
        record_id: str,
        so_dinh_danh: str | None = None,
        *,
        decided_by: str,
        note: str | None = None,
        rank: int | None = None,
        delivery: str | None = None,
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
        and ``popsync review list`` show it), read in the same transaction. ``delivery``: the
        row's delivery, needed only when its record id is in more than one delivery.
        Returns ``source``, ``delivery``, ``record_id``, ``decision``, ``so_dinh_danh``, ``run_id``,
        ``decided_by``, ``decided_at``, the run's ``counts`` and ``status``: what the decision
        changed in people's status (``refresh_status``, run right after the decision's
        transaction; the people stay queued for the next refresh should it fail)."""
        table = self._table_of(source)
        decided_by = (decided_by or "").strip()
        if not decided_by:
            raise UserError("a review decision needs the name of who decided it")
        person = None if so_dinh_danh is None else str(so_dinh_danh).strip()
        if rank is not None and person is not None:
            raise UserError("give a candidate's so_dinh_danh or its rank, not both")
        what = f"{source} record {record_id!r}"
        with self._transaction() as cur:
            self._db.lock(cur, source)
            rows = self._run(
                cur,
                "SELECT decision, run_id, delivery FROM {table} WHERE source = %s "
                "AND record_id = %s ORDER BY delivery",
                (source, record_id),
                table=table,
            ).fetchall()
            if delivery is not None:
                rows = [found for found in rows if found[2] == delivery]
            if not rows:
                raise UserError(f"{what} is not in the warehouse (quarantined or never loaded)")
            if len(rows) > 1:
                named = ", ".join(repr(found[2]) for found in rows)
                raise UserError(f"{what} is in several deliveries ({named}): name one")
            row = rows[0]
            delivery = row[2]
            if row[0] != "review":
                raise UserError(f"{what} is not waiting for review: its decision is {row[0]}")
            run_id = row[1]
            ranked = self._run(
                cur,
                "SELECT rank, so_dinh_danh FROM review_candidate WHERE source = %s "
                "AND delivery = %s AND record_id = %s ORDER BY rank",
                (source, delivery, record_id),
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
                    "WHERE c.source = %s AND c.delivery = %s AND c.record_id = %s "
                    "AND c.so_dinh_danh = %s AND {table}.source = c.source "
                    "AND {table}.delivery = c.delivery AND {table}.record_id = c.record_id",
                    (source, delivery, record_id, person),
                    table=table,
                )
            else:
                self._run(
                    cur,
                    "UPDATE {table} SET decision = 'no_match', so_dinh_danh = NULL "
                    "WHERE source = %s AND delivery = %s AND record_id = %s",
                    (source, delivery, record_id),
                    table=table,
                )
            self._run(
                cur,
                "DELETE FROM review_candidate WHERE source = %s AND delivery = %s "
                "AND record_id = %s",
                (source, delivery, record_id),
            )
            decision = {
                "source": source,
                "delivery": delivery,
                "record_id": record_id,
                "decision": "no_match" if person is None else "match",
                "so_dinh_danh": person,
                "run_id": run_id,
                "decided_by": decided_by,
                "decided_at": now(),
            }
            self._run(
                cur,
                "INSERT INTO review_decision (source, delivery, record_id, decision, "
                "so_dinh_danh, candidates, decided_by, note, decided_at, run_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (source, delivery, record_id, decision["decision"], person, json.dumps(candidates),
                 decided_by, note, decision["decided_at"], run_id),
            )  # fmt: skip
            decision["counts"] = self._recount(cur, run_id, source)
            self._queue_status(cur, [*candidates, person], "review")
        # The people the decision concerns get their status recomputed at once (counts only).
        decision["status"] = self.refresh_status(reason="review")
        return decision


REVIEW_QUEUE_COLUMNS = (
    "source", "delivery", "record_id", "rank", "so_dinh_danh", "score", "full_name", "birth_date", "sex",
    "candidate_name", "candidate_birth_date", "candidate_sex", "run_id",
)  # fmt: skip
