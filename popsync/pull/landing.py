"""A landing area: a folder of dated extract files (``tiem_chung_2022-01-17.xlsx``), on a local
disk, an SFTP server or any fsspec URL, each with an optional sidecar stating its row count
(``<file>.count`` holding a number, or ``<file>.json`` holding ``{"rows": N}``).

A file still being written is not taken: temporary names (``.part``, ``.tmp``, ``.filepart``,
dot-files) never match, a file beside its own temporary twin is left, and a new file is taken
only when its size and modification time stayed the same over the settle time."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import fsspec

from popsync.core.errors import UserError
from popsync.pull.settings import PullSettings, without_password

TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart", ".partial", ".crdownload")
SIDECAR_SUFFIXES = (".count", ".json")


@dataclass(frozen=True)
class LandingFile:
    """A file as the listing shows it. ``mtime``: its modification time, followed by its
    sidecar's name, size and time when it has one (a sidecar written after its file, or
    corrected, makes the file look changed)."""

    name: str
    path: str
    size: int
    mtime: str
    date: str

    @property
    def seen(self) -> tuple[int, str]:
        return self.size, self.mtime


def open_landing(settings: PullSettings):
    """``(file system, root path)`` of the source's landing area."""
    url = settings.landing
    if url is None:
        raise UserError(f"{settings.source}: no landing area configured")
    if "://" not in url:
        url = str(Path(url).expanduser().resolve())
    try:
        fs, root = fsspec.core.url_to_fs(url, **settings.landing_options)
    except (ImportError, ValueError) as error:
        raise UserError(f"{without_password(url)}: {error}") from error
    return fs, root.rstrip("/") or "/"


def name_pattern(settings: PullSettings) -> re.Pattern:
    """The declaration's file names (``{date}`` a ``YYYY-MM-DD``, ``*`` any text) with one of
    its formats' suffixes."""
    declared = settings.spec.pull
    parts = [
        r"(?P<date>\d{4}-\d{2}-\d{2})" if token == "{date}" else ".*?" if token == "*"
        else re.escape(token.replace("{id}", settings.source))
        for token in re.split(r"(\{date\}|\*)", declared.files)
    ]  # fmt: skip
    suffixes = "|".join(re.escape(s) for s in declared.formats)
    return re.compile("".join(parts) + rf"\.(?:{suffixes})", re.IGNORECASE)


def _mtime(info: dict) -> str:
    """The modification time as the file system reports it, as an ISO text (UTC)."""
    value = next((info[k] for k in ("mtime", "LastModified", "last_modified", "updated",
                                    "created") if info.get(k) is not None), None)  # fmt: skip
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def list_files(fs, root: str, settings: PullSettings) -> dict[str, LandingFile]:
    """The landing files whose names the source declares, by name (sidecars and files still
    being written left out)."""
    pattern = name_pattern(settings)
    try:
        entries = fs.ls(root, detail=True)
    except FileNotFoundError:
        raise UserError(f"{settings.source}: landing area {root} does not exist") from None
    by_name = {entry["name"].rsplit("/", 1)[-1]: entry for entry in entries}
    names = set(by_name)
    found = {}
    for entry in entries:
        name = entry["name"].rsplit("/", 1)[-1]
        match = pattern.fullmatch(name)
        if entry.get("type") != "file" or name.startswith(".") or not match:
            continue
        if any(name + suffix in names for suffix in TEMPORARY_SUFFIXES):
            continue  # a copy of it still being written beside it
        try:
            dt.date.fromisoformat(match["date"])
        except ValueError:
            continue  # 2022-02-30 is no date: not one of the source's files
        look = _mtime(entry)
        for sidecar in (name + suffix for suffix in SIDECAR_SUFFIXES if name + suffix in names):
            look += f" {sidecar} {by_name[sidecar]['size']} {_mtime(by_name[sidecar])}"
        found[name] = LandingFile(name, f"{root}/{name}", int(entry["size"]), look, match["date"])
    return found


def settled(fs, root: str, settings: PullSettings, wanted: dict[str, LandingFile], sleep=None):
    """Of the files ``wanted`` (as first listed), those whose size and modification time are
    the same after the settle time."""
    if not wanted or settings.settle_seconds == 0:
        return dict(wanted)
    (sleep or time.sleep)(settings.settle_seconds)
    fs.invalidate_cache(root)
    again = list_files(fs, root, settings)
    return {
        name: file
        for name, file in wanted.items()
        if name in again and again[name].seen == file.seen
    }


def stated_rows(fs, file: LandingFile) -> tuple[int | None, str | None]:
    """``(rows, problem)``: the row count the file's sidecar states (None without a sidecar),
    or why the sidecar cannot be read (then the file is blocked, not guessed at)."""
    for suffix in SIDECAR_SUFFIXES:
        sidecar = file.path + suffix
        if not fs.exists(sidecar):
            continue
        with fs.open(sidecar, "rb") as handle:
            text = handle.read(4096).decode("utf-8", errors="replace").strip()
        try:
            rows = json.loads(text)["rows"] if suffix == ".json" else int(text)
            if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
                raise ValueError(rows)
        except (ValueError, KeyError, TypeError):
            shown = text[:40].replace("\n", " ")
            return None, f"sidecar {file.name}{suffix} states no row count: {shown!r}"
        return rows, None
    return None, None
