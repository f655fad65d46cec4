"""Each person's status after a batch, and the delta feed that takes it back to the register.

- ``stage_status``: the last stage of a batch (after the load and the re-check): recomputes the
  status of the people the batch touched (``Warehouse.refresh_status``) and puts what changed,
  in counts, in ``batch["status"]`` for the summary, the report and the stewards' workspace.
- ``publish_status``: ``popsync publish``, and the last task of the source DAGs. It writes the
  people whose status changed since the last publication (or since a run or a day) to a new
  folder of ``out_dir``: ``person_status.parquet``, ``person_status.csv`` (the ID and the status
  fields only: no name, phone or address) and ``manifest.json`` (counts, the files' sha256, the
  window of refreshes, the rules' digests). The folder is written under a temporary name and
  renamed when whole; the publication is recorded in the warehouse only after that, so an
  interrupted publication leaves nothing half-written and is simply done again by the next one
  (at least once: a crash between the rename and the record gives a folder the next delta
  repeats); the hidden ``.<id>.partial`` folder of a process killed half way is removed by the
  next publication, and publications into one folder take turns (a lock file,
  ``.publish.lock``). Publishing with nothing new writes an empty delta.

Airflow: call ``publish_status(resources, out_dir)`` in a task with
``outlets=[Asset(STATUS_ASSET)]`` (``popsync_person_status``) and pass its return value's
``counts`` as the event's ``extra``; the return value holds no personal data.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popsync.core.errors import UserError
from popsync.core.files import file_sha256
from popsync.pipeline.stages import _timed
from popsync.resources import Resources

STATUS_ASSET = "popsync_person_status"
FEED_NAME = "person_status"
LOCK_NAME = ".publish.lock"
RULE_FILES = ("status_rules.yaml", "vaccine_mixing.csv", "vaccines.csv")


@_timed("status")
def stage_status(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Recompute the status of the people the batch touched (its linked rows, its review
    candidates, the people its unlinked or quarantined rows name, the people whose rows it
    replaced) and of those queued by re-checks and decisions, as of the batch's run date.
    ``batch["status"]``: ``seq``, ``people``, ``changed``, ``new``,
    ``became_fully_vaccinated``, ``no_longer_fully_vaccinated``, ``got_booster``,
    ``new_f0_episode``, ``became_insured``, ``no_longer_insured``, ``with_pending_rows``."""
    with res.warehouse() as store:
        done = store.refresh_status(run_id=batch["run_id"], as_of=batch["run_date"])
    return batch | {"status": done}


def publish_status(
    res: Resources, out_dir: str | Path, since: str | dt.date | None = None
) -> dict[str, Any]:
    """Write the delta of people whose status changed (see the module) to a new folder of
    ``out_dir`` and record it. ``since``: None (since the last publication), a run id (that
    run's changes and every later one) or a date ``YYYY-MM-DD`` (changes made on or after it).
    Returns ``publication_id``, ``path``, ``people``, ``since_seq``, ``through_seq``,
    ``counts`` and ``files`` (names, rows, sha256): no personal data."""
    with res.warehouse() as store:
        store.migrate()
        return write_delta(store, out_dir, since)


def write_delta(store, out_dir: str | Path, since: str | dt.date | None = None) -> dict[str, Any]:
    """``publish_status`` on an open warehouse (migrated)."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = open(out_dir / LOCK_NAME, "a")  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise UserError(f"--out {out_dir}: cannot write the delta there "
                        f"({error.strerror or error})") from error  # fmt: skip
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one publication at a time into a folder
        # What a publication killed half way left (no exception ran to remove it).
        for stale in out_dir.glob(".*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            return _write_delta(store, out_dir, since)
        except OSError as error:  # disk full, no permission: nothing was published
            raise UserError(f"--out {out_dir}: cannot write the delta there "
                            f"({error.strerror or error}); nothing was published") from error  # fmt: skip


def _write_delta(store, out_dir: Path, since) -> dict[str, Any]:
    from popsync.warehouse.publication import FEED_COLUMNS

    delta, window = store.status_delta(since)
    published_at = dt.datetime.now(dt.UTC)
    publication_id = f"{window['number']:06d}-{published_at:%Y%m%dT%H%M%SZ}"
    final = out_dir / publication_id
    if final.exists():  # a delta written but never recorded, the same second
        publication_id += f"-{uuid.uuid4().hex[:6]}"
        final = out_dir / publication_id
    partial = out_dir / f".{publication_id}.partial"
    try:
        partial.mkdir()
        pq.write_table(delta, partial / f"{FEED_NAME}.parquet")
        pacsv.write_csv(delta, partial / f"{FEED_NAME}.csv")
        files = {
            path.name: {"rows": len(delta), "bytes": path.stat().st_size,
                        "sha256": file_sha256(path)}
            for path in sorted(partial.iterdir())
        }  # fmt: skip
        manifest = {
            "feed": STATUS_ASSET,
            "publication_id": publication_id,
            "published_at": published_at.isoformat(),
            "since": window["since_asked"],
            "since_seq": window["since_seq"],
            "through_seq": window["through_seq"],
            "people": len(delta),
            "counts": _counts(delta),
            "columns": FEED_COLUMNS,
            "files": files,
            "rules": _rule_digests(),
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (partial / "manifest.json").write_text(text, encoding="utf-8")
        _sync(partial)
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    manifest_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    store.record_publication(publication_id, window, str(final), len(delta), manifest_sha)
    return {
        "publication_id": publication_id,
        "path": str(final),
        "people": len(delta),
        "since_seq": window["since_seq"],
        "through_seq": window["through_seq"],
        "counts": manifest["counts"],
        "files": files,
    }


def _counts(delta: pa.Table) -> dict[str, Any]:
    """What the delta says, in numbers: people by vaccination status, fully vaccinated,
    boosted, with an F0 episode, insured, with rows that may be theirs but do not count."""

    def count(mask) -> int:
        return int(pc.sum(pc.fill_null(mask, False).cast(pa.int64())).as_py() or 0)

    pending = pc.add(pc.add(delta["rows_in_review"], delta["rows_unlinked"]),
                     delta["rows_quarantined"])  # fmt: skip
    states = pc.value_counts(delta["vaccination_status"]).to_pylist()
    return {
        "people": delta.num_rows,
        "vaccination_status": {str(s["values"]): int(s["counts"]) for s in states},
        "primary_complete": count(delta["primary_complete"]),
        "boosted": count(pc.greater(delta["boosters"], 0)),
        "with_f0_episode": count(pc.greater(delta["f0_episodes"], 0)),
        "insured": count(delta["insured"]),
        "with_pending_rows": count(pc.greater(pending, 0)),
    }


def _rule_digests() -> dict[str, str]:
    """The sha256 of each rule file the statuses were computed with (as shipped now)."""
    from importlib import resources

    folder = resources.files("popsync.reference")
    return {name: hashlib.sha256(folder.joinpath(name).read_bytes()).hexdigest()
            for name in RULE_FILES}  # fmt: skip


def _sync(folder: Path) -> None:
    """Flush the folder's files to disk before it is renamed into place."""
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
