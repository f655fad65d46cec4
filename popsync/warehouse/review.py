"""The review queue: the rows the linker was unsure of, and a steward's decision on one."""

from __future__ import annotations

import json
import uuid

import pandas as pd

from popsync.core.errors import UserError
from popsync.core.privacy import mask_id, mask_record_id
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
        via: str = "cli",
        role: str | None = None,
    ) -> dict:
        """A data steward's decision on a row waiting for review, in one transaction.

        ``so_dinh_danh`` (one of the row's review candidates, or its masked form as a list
        prints it, ``001******330``, when that names one candidate only) makes the row a
        ``match`` to that person, with the candidate's score and explanation; ``None`` makes it
        ``no_match``. The row's review candidates are deleted, a ``review_decision`` row
        records who decided what and when (with the candidates chosen among, and what an undo
        needs: ``undo_review``), the journal ``steward_audit`` a ``decide`` line (``via``
        ``cli`` or ``web``, the actor's ``role``), and the row's run is counted again and
        reconciled (the row moves from review to loaded: read = loaded + quarantined + review
        keeps holding). A row not waiting for review, or a person who is not a candidate, is a
        ``UserError`` naming the candidates by rank (IDs masked). ``rank`` instead of
        ``so_dinh_danh``: the candidate of that rank, read in the same transaction.
        ``delivery``: the row's delivery, needed only when its record id is in more than one.
        Returns ``source``, ``delivery``, ``record_id``, ``decision``, ``so_dinh_danh``,
        ``rank``, ``run_id``, ``decided_by``, ``decided_at``, ``decision_id``, the run's
        ``counts`` and ``status``: what the decision changed in people's status
        (``refresh_status``, run right after the decision's transaction; the people stay queued
        for the next refresh should it fail)."""
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
            record_id, delivery, row = self._review_row(cur, source, record_id, delivery, what)
            if row[0] != "review":
                raise UserError(f"{what} is not waiting for review: its decision is {row[0]}")
            run_id = row[1]
            ranked = self._run(
                cur,
                "SELECT rank, so_dinh_danh, score, explanation FROM review_candidate "
                "WHERE source = %s AND delivery = %s AND record_id = %s ORDER BY rank",
                (source, delivery, record_id),
            ).fetchall()
            chosen = _chosen(ranked, person, rank, what)
            person = None if chosen is None else chosen[1]
            if person is not None:
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
                "rank": None if chosen is None else chosen[0],
                "run_id": run_id,
                "decided_by": decided_by,
                "decided_at": now(),
                "decision_id": uuid.uuid4().hex,
            }
            undo = {"score": row[3], "explanation": _as_text(row[4]),
                    "candidates": [dict(zip(("rank", "so_dinh_danh", "score", "explanation"),
                                            (r[0], r[1], r[2], _as_text(r[3])), strict=True))
                                   for r in ranked]}  # fmt: skip
            self._run(
                cur,
                "INSERT INTO review_decision (source, delivery, record_id, decision, "
                "so_dinh_danh, candidates, decided_by, note, decided_at, run_id, decision_id, "
                "undo_data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (source, delivery, record_id, decision["decision"], person,
                 json.dumps([r[1] for r in ranked]), decided_by, note, decision["decided_at"],
                 run_id, decision["decision_id"], json.dumps(undo)),
            )  # fmt: skip
            self._audit(cur, decided_by, "decide", via=via, role=role, source=source,
                        delivery=delivery, record_id=record_id,
                        detail={"decision": decision["decision"], "rank": decision["rank"],
                                "so_dinh_danh": mask_id(person) or None, "note": note,
                                "decision_id": decision["decision_id"]})  # fmt: skip
            decision["counts"] = self._recount(cur, run_id, source)
            self._queue_status(cur, [*(r[1] for r in ranked), person], "review")
        # The people the decision concerns get their status recomputed at once (counts only).
        decision["status"] = self.refresh_status(reason="review")
        return decision

    def _review_row(self, cur, source, record_id, delivery, what) -> tuple[str, str, tuple]:
        """The row's record id, its delivery and (decision, run_id, delivery, score, explanation,
        so_dinh_danh); a ``UserError`` when it is not stored or its delivery is ambiguous.
        A record id masked as lists print it (``mask_record_id``: a BHXH number inside it)
        names the row waiting for review, or decided, that prints so."""
        if "*" in record_id:
            record_id = self._unmasked_record_id(cur, source, record_id, what)
        rows = self._run(
            cur,
            "SELECT decision, run_id, delivery, score, explanation, so_dinh_danh FROM {table} "
            "WHERE source = %s AND record_id = %s ORDER BY delivery",
            (source, record_id),
            table=self._table_of(source),
        ).fetchall()
        if delivery is not None:
            rows = [found for found in rows if found[2] == delivery]
        if not rows:
            raise UserError(f"{what} is not in the warehouse (quarantined or never loaded)")
        if len(rows) > 1:
            named = ", ".join(repr(found[2]) for found in rows)
            raise UserError(f"{what} is in several deliveries ({named}): name one")
        return record_id, rows[0][2], rows[0]

    def _unmasked_record_id(self, cur, source: str, masked: str, what: str) -> str:
        found = {
            row[0]
            for row in self._run(
                cur,
                "SELECT record_id FROM {table} WHERE source = %s AND decision = 'review' "
                "UNION SELECT record_id FROM review_decision WHERE source = %s",
                (source, source),
                table=self._table_of(source),
            ).fetchall()
            if mask_record_id(row[0]) == masked
        }
        if len(found) > 1:
            raise UserError(f"{what}: {len(found)} rows print so: give the whole record id")
        if not found:
            raise UserError(f"{what} is not waiting for review nor decided")
        return found.pop()


def _chosen(ranked: list[tuple], person: str | None, rank: int | None, what: str):
    """The (rank, so_dinh_danh) a steward chose among ``ranked`` (rank, so_dinh_danh, ...)
    candidates, by rank, by ID or by the masked ID as a list prints it; None for no match."""
    choices = ", ".join(f"rank {r[0]} {mask_id(r[1])}" for r in ranked) or "none"
    if rank is not None:
        chosen = [r for r in ranked if r[0] == rank]
        if not chosen:
            ranks = ", ".join(str(r[0]) for r in ranked) or "none"
            raise UserError(f"{what} has no candidate of rank {rank}: its ranks are {ranks} "
                            "(or decide no match)")  # fmt: skip
        return chosen[0][:2]
    if person is None:
        return None
    chosen = [r for r in ranked if r[1] == person]
    if not chosen and "*" in person:
        chosen = [r for r in ranked if mask_id(r[1]) == person]
        if len(chosen) > 1:
            ranks = " and ".join(str(r[0]) for r in chosen)
            raise UserError(f"{person} is how candidates of rank {ranks} of {what} are "
                            "printed: give the rank instead")  # fmt: skip
    if not chosen:
        raise UserError(f"{mask_id(person) if '*' not in person else person} is not a review "
                        f"candidate of {what}: its candidates are {choices} "
                        "(give --rank N, or decide no match)")  # fmt: skip
    return chosen[0][:2]


def _as_text(value):
    """A JSON column as text (PostgreSQL gives jsonb back as a dict, SQLite as text)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


REVIEW_QUEUE_COLUMNS = (
    "source", "delivery", "record_id", "rank", "so_dinh_danh", "score", "full_name", "birth_date", "sex",
    "candidate_name", "candidate_birth_date", "candidate_sex", "run_id",
)  # fmt: skip
