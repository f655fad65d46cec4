"""What is new, and bringing it into the work area: ``pending`` lists the landing files and the
source-table slice not processed yet (the ledger says which), ``fetch`` copies one into the work
area (``pulls/<source>/<sha256[:16]>/<name>``), where every worker finds it, and records its
arrival in the ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

from popsync.core.errors import UserError
from popsync.core.files import file_sha256
from popsync.pull import landing, table
from popsync.pull.item import PullItem
from popsync.pull.settings import PullSettings, without_password
from popsync.resources import Resources

BLOCK = 1 << 20


def item_key(source: str, sha256: str, delivery: str) -> str:
    """Where a fetched item lives in the work area (a function of what it is: a rerun finds
    it from its run record)."""
    name = (
        f"{delivery.removeprefix('table:')}.parquet" if delivery.startswith("table:") else delivery
    )
    return f"pulls/{source}/{sha256[:16]}/{name}"


def pending(
    res: Resources,
    settings: PullSettings,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sleep=None,
) -> list[PullItem]:
    """The source's items not processed yet: each settled landing file (dated within
    ``since``..``until`` when given) whose name and look the ledger does not know as processed,
    oldest date first; then (without a date range) the table's slice above its committed
    watermark."""
    if not settings.configured:
        raise UserError(
            f"{settings.source}: nothing to pull from: set POPSYNC_LANDING_"
            f"{settings.source.upper()} and/or POPSYNC_TABLE_{settings.source.upper()}"
        )
    items: list[PullItem] = []
    with res.warehouse() as store:
        store.migrate()
        if settings.landing:
            fs, root = landing.open_landing(settings)
            listed = {
                name: file
                for name, file in landing.list_files(fs, root, settings).items()
                if (since is None or file.date >= since.isoformat())
                and (until is None or file.date <= until.isoformat())
                and not store.seen_unchanged(settings.source, name, file.size, file.mtime)
            }
            base = without_password(settings.landing).rstrip("/")
            for file in sorted(landing.settled(fs, root, settings, listed, sleep).values(),
                               key=lambda f: (f.date, f.name)):  # fmt: skip
                rows, problem = landing.stated_rows(fs, file)
                items.append(PullItem(
                    source=settings.source, kind="file", delivery=file.name,
                    location=f"{base}/{file.name}", path=file.path, size=file.size,
                    mtime=file.mtime, date=file.date, stated_rows=rows, problem=problem,
                ))  # fmt: skip
        if settings.table and since is None and until is None:  # a date range names files
            name = table.delivery_name(settings)
            found = table.pending_slice(settings, store.committed_watermark(settings.source, name))
            if found is not None:
                items.append(found)
    return items


def _store(res: Resources, key: str, local: Path) -> None:
    """Put a finished local file at ``key`` (whole or not at all)."""
    area = res.workarea
    target = area.path(key)
    area.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
    if area.is_local:
        os.replace(local, target)
    else:
        area.fs.put_file(str(local), target)
        local.unlink()


def _incoming(res: Resources) -> Path:
    """A fresh local file to write into before the work area takes it whole."""
    area = res.workarea
    scratch = area.local_path("pulls/.incoming") if area.is_local else Path(tempfile.gettempdir())
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch / f"{uuid.uuid4().hex}.tmp"


def _keep(res: Resources, local: Path, source: str, delivery: str, sha: str) -> str:
    """Put the local file under its key (unless that content is there already)."""
    key = item_key(source, sha, delivery)
    try:
        if not res.workarea.exists(key):
            _store(res, key, local)
    finally:
        local.unlink(missing_ok=True)
    return key


def copy_in(res: Resources, fs, path: str, source: str, delivery: str) -> tuple[str, str]:
    """Copy a landing file into the work area, hashing it on the way: ``(key, sha256)``."""
    local = _incoming(res)
    digest = hashlib.sha256()
    try:
        with fs.open(path, "rb") as handle, open(local, "wb") as copy:
            while block := handle.read(BLOCK):
                digest.update(block)
                copy.write(block)
    except BaseException:
        local.unlink(missing_ok=True)
        raise
    sha = digest.hexdigest()
    return _keep(res, local, source, delivery, sha), sha


def fetch(res: Resources, item: PullItem | dict, settings: PullSettings) -> PullItem:
    """Copy the item into the work area and record its arrival in the ledger (a content
    already processed is only noted as seen again). Returns the item with its ``key`` and
    ``sha256``; the item's record is kept beside it (``<key>.pull.json``) for reruns."""
    item = PullItem.from_dict(item)
    if item.kind == "table":
        local = _incoming(res)
        try:
            table.read_slice(settings, item, local)
        except BaseException:
            local.unlink(missing_ok=True)
            raise
        sha = file_sha256(local)
        key = _keep(res, local, item.source, item.delivery, sha)
    else:
        fs, _ = landing.open_landing(settings)
        key, sha = copy_in(res, fs, item.path, item.source, item.delivery)
    fetched = item.fetched(key, sha)
    with res.warehouse() as store:
        store.receive_pulled(
            item.source, item.delivery, sha, origin=item.location,
            stated_rows=item.stated_rows, origin_size=item.size, origin_mtime=item.mtime,
            watermark_column=item.watermark_column, watermark=item.watermark_to,
        )  # fmt: skip
    res.workarea.write_json(key + ".pull.json", fetched.to_dict())
    return fetched
