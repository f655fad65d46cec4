"""Undoing a steward's decision: the row goes back to review as the decision found it."""

from __future__ import annotations

import json

from popsync.core.errors import UserError
from popsync.core.privacy import mask_id
from popsync.warehouse.db import now


class ReviewUndo:
    def undo_review(
        self,
        source: str,
        record_id: str,
        *,
        undone_by: str,
        note: str | None = None,
        delivery: str | None = None,
        via: str = "cli",
        role: str | None = None,
    ) -> dict:
        """Undo the latest decision on a row (``decide_review``) in one transaction: the row
        is back in review with the score, explanation and candidates it had, its run is
        counted again and reconciled, a ``review_undo`` row records who undid it, when and
        why, and the journal ``steward_audit`` an ``undo`` line. The decision's own row stays.
        A rerun of the batch does not apply an undone decision again.

        A ``UserError`` when the row has no decision left to undo, when the decision was made
        before decisions could be undone (no ``undo_data``), or when the row is no longer as
        the decision left it (a later run linked it otherwise). Returns ``source``,
        ``delivery``, ``record_id``, the undone ``decision`` and ``so_dinh_danh``,
        ``decision_id``, ``undone_by``, ``undone_at``, the run's ``counts`` and ``status`` (what
        the undo changed in people's status, as ``decide_review``)."""
        table = self._table_of(source)
        undone_by = (undone_by or "").strip()
        if not undone_by:
            raise UserError("undoing a decision needs the name of who undoes it")
        what = f"{source} record {record_id!r}"
        with self._transaction() as cur:
            self._db.lock(cur, source)
            record_id, delivery, row = self._review_row(cur, source, record_id, delivery, what)
            found = self._run(
                cur,
                "SELECT d.decision_id, d.decision, d.so_dinh_danh, d.undo_data "
                "FROM review_decision d WHERE d.source = %s AND d.delivery = %s "
                "AND d.record_id = %s AND NOT EXISTS (SELECT 1 FROM review_undo u "
                "WHERE u.decision_id = d.decision_id) ORDER BY d.decided_at DESC LIMIT 1",
                (source, delivery, record_id),
            ).fetchone()
            if found is None or row[0] == "review":
                raise UserError(f"{what} has no decision to undo")
            decision_id, decision, person, undo = found
            if decision_id is None or undo is None:
                raise UserError(f"{what}: its decision was made before decisions could be "
                                "undone; decide the row again instead")  # fmt: skip
            if (row[0], row[5]) != (decision, person):
                raise UserError(f"{what} is no longer as the decision left it (now {row[0]}): "
                                "nothing to undo")  # fmt: skip
            undo = undo if isinstance(undo, dict) else json.loads(undo)
            run_id = row[1]
            self._run(
                cur,
                "UPDATE {table} SET decision = 'review', so_dinh_danh = NULL, score = %s, "
                "explanation = %s WHERE source = %s AND delivery = %s AND record_id = %s",
                (undo["score"], undo["explanation"], source, delivery, record_id),
                table=table,
            )
            for candidate in undo["candidates"]:
                self._run(
                    cur,
                    "INSERT INTO review_candidate (source, delivery, record_id, rank, "
                    "so_dinh_danh, score, explanation, run_id) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (source, delivery, record_id, candidate["rank"], candidate["so_dinh_danh"],
                     candidate["score"], candidate["explanation"], run_id),
                )  # fmt: skip
            undone_at = now()
            self._run(
                cur,
                "INSERT INTO review_undo (decision_id, undone_by, note, undone_at) "
                "VALUES (%s, %s, %s, %s)",
                (decision_id, undone_by, note, undone_at),
            )
            self._audit(cur, undone_by, "undo", via=via, role=role, source=source,
                        delivery=delivery, record_id=record_id,
                        detail={"decision": decision, "so_dinh_danh": mask_id(person) or None,
                                "note": note, "decision_id": decision_id})  # fmt: skip
            counts = self._recount(cur, run_id, source)
            people = [c["so_dinh_danh"] for c in undo["candidates"]]
            self._queue_status(cur, [*people, person], "review")
        # The people the undo concerns get their status recomputed at once (counts only).
        status = self.refresh_status(reason="review")
        return {
            "source": source,
            "delivery": delivery,
            "record_id": record_id,
            "decision": decision,
            "so_dinh_danh": person,
            "decision_id": decision_id,
            "undone_by": undone_by,
            "undone_at": undone_at,
            "counts": counts,
            "status": status,
        }

    def recent_decisions(self, limit: int = 10, decided_by: str | None = None) -> list[dict]:
        """The newest decisions first (``decided_by``: only theirs), each with ``undone``
        (True once undone) and whether it can be undone (``decision_id`` and ``undo_data``)."""
        where, params = ("WHERE d.decided_by = %s", (decided_by,)) if decided_by else ("", ())
        names = ("decision_id", "source", "delivery", "record_id", "decision", "so_dinh_danh",
                 "decided_by", "decided_at", "note", "undone", "undoable")  # fmt: skip
        rows = self.fetch(
            "SELECT d.decision_id, d.source, d.delivery, d.record_id, d.decision, "  # noqa: S608
            "d.so_dinh_danh, d.decided_by, d.decided_at, d.note, "
            "CASE WHEN u.decision_id IS NULL THEN 0 ELSE 1 END, "
            "CASE WHEN d.undo_data IS NULL THEN 0 ELSE 1 END FROM review_decision d "
            "LEFT JOIN review_undo u ON u.decision_id = d.decision_id "
            + where
            + " ORDER BY d.decided_at DESC LIMIT %s",
            (*params, limit),
        )
        return [dict(zip(names, row, strict=True)) | {"undone": bool(row[9]),
                                                      "undoable": bool(row[10])}
                for row in rows]  # fmt: skip

    def undo_decision(self, decision_id: str, **kwargs) -> dict:
        """``undo_review`` for the row of a decision named by its id (which must be the row's
        latest decision still standing)."""
        found = self.fetch("SELECT source, delivery, record_id FROM review_decision "
                           "WHERE decision_id = %s", (decision_id,))  # fmt: skip
        if not found:
            raise UserError("no such decision")
        source, delivery, record_id = found[0]
        latest = self.fetch(
            "SELECT d.decision_id FROM review_decision d WHERE d.source = %s AND d.delivery = %s "
            "AND d.record_id = %s AND NOT EXISTS (SELECT 1 FROM review_undo u "
            "WHERE u.decision_id = d.decision_id) ORDER BY d.decided_at DESC LIMIT 1",
            (source, delivery, record_id),
        )
        if not latest or latest[0][0] != decision_id:
            raise UserError("this decision is not the row's latest standing decision")
        return self.undo_review(source, record_id, delivery=delivery, **kwargs)
