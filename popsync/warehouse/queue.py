"""The review queue as stewards work it: one page of rows waiting for review (filtered by
source, district and reason), each with its own fields, its findings and its ranked candidates
with the register's fields; and the counts behind the filters. Real values: callers mask."""

from __future__ import annotations

import json

from popsync.core.errors import UserError

# SQL is composed of fixed fragments of this module (values always as %s parameters): the
# ``noqa: S608`` lines below.
# Why a row waits, as the linker left it (``reason`` filter values), besides the rules it broke
# (``rule:<name>``).
LINKER_REASONS = ("several_candidates", "one_candidate", "no_candidate")
PERSON_COLUMNS = ("so_dinh_danh", "so_cmnd", "ho_ten", "ngay_sinh", "ngay_sinh_precision",
                  "gioi_tinh", "ma_tinh", "ma_huyen", "ma_xa", "admin_scheme", "dia_chi",
                  "so_dien_thoai", "ngay_mat")  # fmt: skip
_CANDIDATES = (
    "(SELECT count(*) FROM review_candidate c WHERE c.source = t.source "
    "AND c.delivery = t.delivery AND c.record_id = t.record_id)"
)
_REASON_SQL = {
    "several_candidates": f"{_CANDIDATES} > 1",
    "one_candidate": f"{_CANDIDATES} = 1",
    "no_candidate": f"{_CANDIDATES} = 0",
}


class ReviewQueue:
    def _queue_sources(self, source: str | None) -> list[str]:
        if source is None:
            return [spec.id for spec in self.catalog.extracts]
        self._table_of(source)
        return [source]

    def _queue_where(self, district, reason, run_id=None) -> tuple[str, tuple]:
        where, params = ["t.source = %s", "t.decision = 'review'"], []
        if run_id:
            where.append("t.run_id = %s")
            params.append(run_id)
        if district:
            where.append("t.district_code = %s")
            params.append(district)
        if reason:
            if reason in _REASON_SQL:
                where.append(_REASON_SQL[reason])
            elif reason.startswith("rule:"):
                where.append(
                    "EXISTS (SELECT 1 FROM quality_finding f WHERE f.source = t.source "
                    "AND f.delivery = t.delivery AND f.record_id = t.record_id AND f.rule = %s)"
                )
                params.append(reason.removeprefix("rule:"))
            else:
                raise UserError(
                    f"unknown review reason {reason!r}: one of {', '.join(LINKER_REASONS)} "
                    "or rule:<name>"
                )
        return " AND ".join(where), tuple(params)

    def review_count(self, source=None, *, district=None, reason=None, run_id=None) -> int:
        """How many rows wait for review (every page), with the same filters as a page."""
        where, params = self._queue_where(district, reason, run_id)
        total = 0
        with self._transaction() as cur:
            for name in self._queue_sources(source):
                total += self._scalar(
                    cur,
                    "SELECT count(*) FROM {table} t WHERE " + where,  # noqa: S608
                    (name, *params),
                    table=self._table_of(name),
                )
        return total

    def review_page(
        self, source=None, *, district=None, reason=None, run_id=None, offset=0, limit=20
    ) -> dict:
        """One page of the rows waiting for review, ordered by source, delivery and record id:
        ``total`` (every page), ``offset``, ``limit`` and ``rows``, each a dict with ``source``,
        ``delivery``, ``record_id``, ``run_id``, ``row`` (every stored column of the row),
        ``findings`` (rule, pillar, severity, observed) and ``candidates`` (rank,
        so_dinh_danh, score, explanation as a dict, ``person``: the register's columns).
        ``district``: a district code; ``reason``: one of ``LINKER_REASONS`` or
        ``rule:<name>`` (the row broke that rule); ``run_id``: the rows of one run."""
        if limit < 1 or offset < 0:
            raise UserError(f"a page needs limit >= 1 and offset >= 0, not {limit}, {offset}")
        where, params = self._queue_where(district, reason, run_id)
        sources = self._queue_sources(source)
        with self._transaction() as cur:
            keys, total = [], 0
            for name in sources:
                table = self._table_of(name)
                total += self._scalar(cur, "SELECT count(*) FROM {table} t WHERE " + where,  # noqa: S608
                                      (name, *params), table=table)  # fmt: skip
                keys += self._run(
                    cur,
                    "SELECT t.source, t.delivery, t.record_id FROM {table} t WHERE "  # noqa: S608
                    + where
                    + " ORDER BY t.delivery, t.record_id LIMIT %s",
                    (name, *params, offset + limit),
                    table=table,
                ).fetchall()
            keys = sorted(keys, key=lambda key: (sources.index(key[0]), key[1], key[2]))
            page = keys[offset : offset + limit]
            rows = [self._queue_row(cur, *key) for key in page]
        return {"total": total, "offset": offset, "limit": limit, "rows": rows}

    def review_item(self, source: str, delivery: str, record_id: str) -> dict | None:
        """One row waiting for review as ``review_page`` gives it (None when it does not)."""
        with self._transaction() as cur:
            found = self._run(cur, "SELECT decision FROM {table} WHERE source = %s "
                              "AND delivery = %s AND record_id = %s",
                              (source, delivery, record_id),
                              table=self._table_of(source)).fetchone()  # fmt: skip
            if found is None or found[0] != "review":
                return None
            return self._queue_row(cur, source, delivery, record_id)

    def _queue_row(self, cur, source: str, delivery: str, record_id: str) -> dict:
        table = self._table_of(source)
        cur = self._run(
            cur,
            "SELECT * FROM {table} WHERE source = %s AND delivery = %s AND record_id = %s",
            (source, delivery, record_id),
            table=table,
        )
        names = [column[0] for column in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
        findings = [
            dict(zip(("rule", "pillar", "severity", "observed", "stage"), found, strict=True))
            for found in self._run(
                cur,
                "SELECT rule, pillar, severity, observed, stage FROM quality_finding "
                "WHERE source = %s AND delivery = %s AND record_id = %s ORDER BY rule",
                (source, delivery, record_id),
            ).fetchall()
        ]
        candidates = []
        for rank, person_id, score, explanation in self._run(
            cur,
            "SELECT rank, so_dinh_danh, score, explanation FROM review_candidate "
            "WHERE source = %s AND delivery = %s AND record_id = %s ORDER BY rank",
            (source, delivery, record_id),
        ).fetchall():
            found = self._run(
                cur,
                f"SELECT {', '.join(PERSON_COLUMNS)} FROM person "  # noqa: S608
                "WHERE so_dinh_danh = %s",
                (person_id,),
            ).fetchone()
            candidates.append({
                "rank": rank,
                "so_dinh_danh": person_id,
                "score": score,
                "explanation": _as_dict(explanation),
                "person": dict(zip(PERSON_COLUMNS, found, strict=True)) if found else None,
            })  # fmt: skip
        row["explanation"] = _as_dict(row.get("explanation"))
        return {"source": source, "delivery": delivery, "record_id": record_id,
                "run_id": row["run_id"], "row": row, "findings": findings,
                "candidates": candidates}  # fmt: skip

    def review_filters(self, source: str | None = None) -> dict:
        """What the queue's filters offer, each with the rows waiting: ``sources``
        (source -> rows), ``districts`` (district code -> rows) and ``reasons`` (a linker
        reason or ``rule:<name>`` -> rows)."""
        out = {"sources": {}, "districts": {}, "reasons": {}}
        with self._transaction() as cur:
            for name in self._queue_sources(source):
                table = self._table_of(name)
                for district, count in self._run(
                    cur,
                    "SELECT district_code, count(*) FROM {table} t WHERE t.source = %s "
                    "AND t.decision = 'review' GROUP BY district_code",
                    (name,),
                    table=table,
                ).fetchall():
                    out["sources"][name] = out["sources"].get(name, 0) + count
                    key = district or ""
                    out["districts"][key] = out["districts"].get(key, 0) + count
                for reason, sql in _REASON_SQL.items():
                    count = self._scalar(cur, "SELECT count(*) FROM {table} t WHERE t.source = %s "  # noqa: S608
                                         "AND t.decision = 'review' AND " + sql, (name,),
                                         table=table)  # fmt: skip
                    if count:
                        out["reasons"][reason] = out["reasons"].get(reason, 0) + count
                for rule, count in self._run(
                    cur,
                    "SELECT f.rule, count(DISTINCT f.record_id) FROM quality_finding f "
                    "JOIN {table} t ON t.source = f.source AND t.delivery = f.delivery "
                    "AND t.record_id = f.record_id WHERE t.source = %s "
                    "AND t.decision = 'review' GROUP BY f.rule",
                    (name,),
                    table=table,
                ).fetchall():
                    key = f"rule:{rule}"
                    out["reasons"][key] = out["reasons"].get(key, 0) + count
        return out


def _as_dict(value) -> dict:
    """An explanation (JSON text on SQLite, a dict from PostgreSQL's jsonb) as a dict."""
    if value is None or isinstance(value, dict):
        return value or {}
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return {}
