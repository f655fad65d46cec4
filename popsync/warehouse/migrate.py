"""Schema migrations: the versioned SQL files of ``migrations/`` for the shared tables, then
the source tables as the sources' declarations say (``schema``)."""

from __future__ import annotations

from importlib import resources

from popsync.core.errors import UserError
from popsync.warehouse import schema
from popsync.warehouse.db import now


class Migrations:
    def migrate(self) -> list[str]:
        """Bring the schema up to date in one transaction, safe from concurrent processes:
        the versioned migrations not applied yet (``migrations/NNNN_name[.backend].sql``, in
        order), then every declared extract's table (created, or given its new columns) and the
        ``link`` view. Returns what was done: migration names, then ``table <name>`` for each
        table created or changed."""
        done = []
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
                          (version, name, now()))  # fmt: skip
                done.append(name)
            extracts = self.catalog.extracts
            for spec in extracts:
                existing = self._db.columns(cur, spec.table)
                if existing and "delivery" not in existing:
                    raise UserError(
                        f"table {spec.table} was made by a popsync older than deliveries "
                        "(record ids scoped to their file): load this warehouse into a new one"
                    )
                statements = (
                    schema.add_columns(spec, existing)
                    if existing
                    else schema.create_table(spec, self._db.name)
                )
                for statement in statements:
                    cur.execute(statement)
                if statements:
                    done.append(f"table {spec.table}")
            for statement in schema.link_view(extracts, self._db.name):
                cur.execute(statement)
        return done


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
