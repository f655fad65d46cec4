"""The stewards' journal (``steward_audit``): who logged in, decided, undid, revealed a field
or exported a unit's rows, when, and from where. Never a revealed value."""

from __future__ import annotations

import json

from popsync.core.errors import UserError
from popsync.warehouse.db import now

AUDIT_ACTIONS = ("login", "login_failed", "logout", "decide", "undo", "reveal", "export")
AUDIT_COLUMNS = ("at", "actor", "role", "via", "action", "source", "delivery", "record_id",
                 "field", "detail")  # fmt: skip


class StewardAudit:
    def audit(self, actor: str, action: str, **what) -> None:
        """One journal line in a transaction of its own (``_audit`` for its arguments)."""
        with self._transaction() as cur:
            self._audit(cur, actor, action, **what)

    def _audit(
        self,
        cur,
        actor: str,
        action: str,
        *,
        via: str,
        role: str | None = None,
        source: str | None = None,
        delivery: str | None = None,
        record_id: str | None = None,
        field: str | None = None,
        detail: dict | None = None,
    ) -> None:
        """One journal line in the caller's transaction: ``actor`` did ``action``
        (``AUDIT_ACTIONS``) ``via`` ``web`` or ``cli`` on a row (source, delivery, record id)
        or one of its ``field``s; ``detail``: what else tells the story (masked values only)."""
        if action not in AUDIT_ACTIONS:
            raise UserError(f"unknown audit action {action!r}")
        self._run(
            cur,
            "INSERT INTO steward_audit (at, actor, role, via, action, source, delivery, "
            "record_id, field, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (now(), actor, role, via, action, source, delivery, record_id, field,
             None if detail is None else json.dumps(detail, ensure_ascii=False)),
        )  # fmt: skip

    def audit_log(self, limit: int = 100, offset: int = 0, action: str | None = None) -> list[dict]:
        """The newest journal lines first (``action``: only those)."""
        where, params = ("WHERE action = %s", (action,)) if action else ("", ())
        rows = self.fetch(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM steward_audit {where} "  # noqa: S608
            "ORDER BY at DESC LIMIT %s OFFSET %s",
            (*params, limit, offset),
        )
        out = []
        for row in rows:
            line = dict(zip(AUDIT_COLUMNS, row, strict=True))
            if isinstance(line["detail"], str):
                line["detail"] = json.loads(line["detail"])
            out.append(line)
        return out
