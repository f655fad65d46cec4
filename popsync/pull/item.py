"""What a pull found to do: one landing file or one slice of a source table, as a small JSON-able
record that can travel between Airflow tasks (XCom). It names locations (URLs without
credentials, work-area keys), never a worker's local path."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

Kind = Literal["file", "table"]


@dataclass(frozen=True)
class PullItem:
    """``delivery`` is what the item is a version of in the ledger: the file's name, or
    ``table:<schema>.<table>`` for a source table (pulled in ``upsert`` mode: updated rows replace
    their earlier version, the other rows stay).

    Before ``fetch``: ``path`` (in the landing area's file system), ``size`` and ``mtime`` of a
    file, its ``date`` (from its name) and the row count its sidecar states (``problem``: why the
    sidecar cannot be read, which blocks the file); or a table's
    ``watermark_column`` and the range ``(watermark_from, watermark_to]`` to read. After
    ``fetch``: ``key`` (the copy in the work area) and its ``sha256``."""

    source: str
    kind: Kind
    delivery: str
    location: str
    mode: str = "replace"
    path: str | None = None
    size: int | None = None
    mtime: str | None = None
    date: str | None = None
    stated_rows: int | None = None
    problem: str | None = None
    watermark_column: str | None = None
    watermark_from: str | None = None
    watermark_to: str | None = None
    key: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | PullItem) -> PullItem:
        """From ``to_dict``'s output (what XCom gives back); unknown keys are refused."""
        if isinstance(data, PullItem):
            return data
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"not a pull item: unknown keys {unknown}")
        return cls(**data)

    def fetched(self, key: str, sha256: str, **more: Any) -> PullItem:
        return replace(self, key=key, sha256=sha256, **more)

    @property
    def run_date(self) -> dt.date | None:
        """The extract's date, from the file's name (None for a table slice)."""
        return dt.date.fromisoformat(self.date) if self.date else None

    def describe(self) -> str:
        """How the terminal and logs name it."""
        if self.kind == "table":
            return f"{self.delivery} ({self.watermark_column} > {self.watermark_from or '-'})"
        return self.delivery
