"""The source tables, made from the sources' declarations (``popsync.core.sources``): one
``CREATE TABLE`` per extract with its indexes, and the ``link`` view over all of them.

The shared tables (runs, the register, findings, quarantine, review) are versioned migrations
(``migrations/``); a source's table follows its declaration, so a new source needs no migration
and a new field of a source becomes a new column. ``tests/test_schema.py`` holds both to the
declarations."""

from __future__ import annotations

from popsync.core.contracts import BOOL, DATE, FLOAT, INT, JSON, SMALLINT, TEXT, TIMESTAMP
from popsync.core.sources import SourceSpec

SQL_TYPES = {
    TEXT: "text", INT: "bigint", SMALLINT: "smallint", FLOAT: "double precision", DATE: "date",
    TIMESTAMP: "timestamp", JSON: "jsonb", BOOL: "boolean",
}  # fmt: skip
_NOT_NULL = ("source", "delivery", "record_id", "decision", "run_id")
# Beyond the declared columns: set by a register load, cleared by the re-check.
EXTRA_COLUMNS = {"needs_recheck": BOOL}


def table_columns(spec: SourceSpec) -> dict[str, str]:
    """Every column of an extract's table with its type: what a load writes, then the flag."""
    return {**spec.table_columns(), **EXTRA_COLUMNS}


def _definition(name: str, kind: str) -> str:
    if name == "needs_recheck":
        return "needs_recheck boolean NOT NULL DEFAULT FALSE"
    if name == "decision":
        return "decision text NOT NULL CHECK (decision IN ('match', 'no_match', 'review'))"
    return f"{name} {SQL_TYPES[kind]}" + (" NOT NULL" if name in _NOT_NULL else "")


def create_table(spec: SourceSpec, backend: str) -> list[str]:
    """The statements that make an extract's table and its indexes (idempotent).

    The rows of one run are written together, so they sit in adjacent pages: on PostgreSQL a
    BRIN index finds them (reconciliation, reports) at almost no cost per row loaded (a B-tree
    on run_id made the 1M-row COPY about 25% slower). Rows waiting for a re-check or for review
    are few: partial indexes hold only them, so the COPY of a batch barely pays for them.
    ``so_dinh_danh`` is not a foreign key to ``person``: the per-row trigger made a 1M-row load
    2-3x slower; the load checks the reference for the whole batch in one query instead."""
    table = spec.table
    columns = ",\n    ".join(_definition(n, k) for n, k in table_columns(spec).items())
    run_index = "USING brin (run_id)" if backend == "postgresql" else "(run_id)"
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (\n    {columns},\n"
        "    PRIMARY KEY (source, delivery, record_id),\n"
        "    CHECK ((decision = 'match') = (so_dinh_danh IS NOT NULL))\n)",
        f"CREATE INDEX IF NOT EXISTS {table}_run ON {table} {run_index}",
        f"CREATE INDEX IF NOT EXISTS {table}_recheck ON {table} (source, delivery, record_id) "
        "WHERE needs_recheck = TRUE",
        f"CREATE INDEX IF NOT EXISTS {table}_review ON {table} (source, delivery, record_id) "
        "WHERE decision = 'review'",
    ]


def add_columns(spec: SourceSpec, existing: set[str]) -> list[str]:
    """``ALTER TABLE`` statements for the declared columns a table does not have yet."""
    return [
        f"ALTER TABLE {spec.table} ADD COLUMN {_definition(name, kind)}"
        for name, kind in table_columns(spec).items()
        if name not in existing and name not in _NOT_NULL
    ]


LINK_VIEW_COLUMNS = ("source", "delivery", "record_id", "decision", "score", "explanation", "so_dinh_danh",
                     "needs_recheck", "run_id")  # fmt: skip


def link_view(specs: tuple[SourceSpec, ...], backend: str) -> list[str]:
    """The linkage decision of every loaded or review row: a view over the source tables, so a
    row and its link can never disagree and a batch is written once."""
    select = ", ".join(LINK_VIEW_COLUMNS)
    # Table names come from the validated declarations (``SourceSpec.table``).
    union = "\nUNION ALL\n".join(f"SELECT {select} FROM {spec.table}" for spec in specs)  # noqa: S608
    if backend == "postgresql":
        return [f"CREATE OR REPLACE VIEW link AS\n{union}"]
    return ["DROP VIEW IF EXISTS link", f"CREATE VIEW link AS\n{union}"]
