"""A digest of every warehouse table after a run, for comparing two runs of the same inputs.

Values that differ between two identical runs (run ids, wall-clock times, timings, the work
directory's path) are left out, and so are nulls (a column added empty leaves the digests as
they were); every other column of every row is kept, as one digest per row.
Used by ``tests/test_golden_run.py``; ``python tests/golden/snapshot.py DB.sqlite3 OUT.json``
writes a new golden file (after a change that is meant to change the tables: say why in the
commit).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

# Columns whose value changes from one run of the same inputs to the next.
VOLATILE = {"run_id", "started_at", "finished_at", "timings", "src_file", "replaced_by",
            "input_file", "decided_at", "received_at", "origin", "pid", "host",
            "heartbeat_at"}  # fmt: skip
TABLES = (
    "run", "person", "person_history", "vaccination_dose", "f0_case", "social_insurance_period",
    "quality_finding", "quarantine", "review_candidate", "review_decision", "delivery",
)  # fmt: skip


def _canonical(column: str, value: object) -> object:
    """JSON text as sorted JSON without volatile keys; other values as they are."""
    if column in ("explanation", "row_data", "candidates") and isinstance(value, str):
        data = json.loads(value)
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in VOLATILE}
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    return value


def snapshot(database: str | Path) -> dict[str, dict]:
    """Table -> {"rows": count, "digests": sorted row digests}."""
    conn = sqlite3.connect(database)
    try:
        found = {}
        for table in TABLES:
            cursor = conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (fixed names)
            columns = [d[0] for d in cursor.description]
            digests = []
            for row in cursor:
                kept = {
                    c: _canonical(c, v)
                    for c, v in zip(columns, row, strict=True)
                    if c not in VOLATILE and v is not None
                }
                text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
                digests.append(hashlib.sha1(text.encode()).hexdigest()[:16])
            found[table] = {"rows": len(digests), "digests": sorted(digests)}
        return found
    finally:
        conn.close()


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(json.dumps(snapshot(sys.argv[1])) + "\n")
