"""The register's cache in the work area, once per file content, under
``register/<sha256[:16]>.*``: its standardized rows (``.parquet``, kept only when nothing
blocked it), its findings and its scores (with the run date they were checked for and the rules
that blocked it). ``stages.prepare_register`` fills it checking the register whole,
``register_chunks.prepare_register_chunked`` a chunk at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from popsync.core.files import file_sha256
from popsync.pipeline.batch import require_file
from popsync.resources import Resources

# The register snapshot the register's DAG loaded last, in the work area: its key, sha256, date
# and run id (``scheduling.intake``); what extracts link to and a re-check on its own reads.
CURRENT_REGISTER = "register/current.json"


def register_keys(population: str | Path) -> tuple[Path, str, str, str, str]:
    """The register file (it must exist), its sha256 and the work-area keys of its rows,
    findings and scores."""
    population = require_file(population, "register file")
    sha = file_sha256(population)
    target, findings_key, scores_key = (f"register/{sha[:16]}{suffix}" for suffix in
                                        (".parquet", ".findings.parquet", ".scores.json"))  # fmt: skip
    return population, sha, target, findings_key, scores_key


def is_current(area, target: str, findings_key: str, stored: dict, run_date: str) -> bool:
    """Whether the cache holds the register's rows and findings checked for ``run_date``."""
    return area.exists(target) and area.exists(findings_key) and stored.get("run_date") == run_date


def checked_register(
    res: Resources, sha: str, target: str, findings_key: str, stored: dict
) -> dict[str, Any]:
    """The batch keys of a checked register: ``register``, ``register_sha256``,
    ``register_findings`` and ``register_scores``. Raises ``expectations.BatchBlocked`` when a
    rule blocked it (it cannot serve as the reference)."""
    import expectations

    if stored["blocked"]:
        what = "; ".join(f"{rule} ({count:,} rows)" for rule, count in stored["blocked"])
        raise expectations.BatchBlocked(
            f"{res.catalog.register.id} register: batch blocked by {what}; "
            f"findings in {res.workarea.path(findings_key)}"
        )
    return {
        "register_sha256": sha,
        "register_findings": findings_key,
        "register_scores": stored["scores"],
        "register": target,
    }
