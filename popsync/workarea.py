"""The work area: where a batch's intermediate files, reports and Data Docs live, addressed by
keys relative to one root URL (a local folder by default; any fsspec URL such as
``s3://bucket/popsync`` or ``sftp://host/path`` in production), so that tasks on different
hosts share it and nothing depends on a worker's working directory.

Batches carry keys (``batches/tiem_chung/90ad…/standardized.parquet``), never local paths.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from popsync.core.errors import UserError


class WorkArea:
    """Files under one root. Writes are atomic (a temporary name, then a rename, on a local
    disk; object stores write an object whole), so parallel tasks can race safely."""

    def __init__(self, url: str | os.PathLike):
        text = os.fspath(url)
        if "://" not in text:
            text = str(Path(text).expanduser().resolve())
        self.fs, root = fsspec.core.url_to_fs(text)
        self.root = root.rstrip("/") or "/"
        self.url = text

    def __repr__(self) -> str:
        return f"WorkArea({self.url!r})"

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, key: str) -> str:
        """The full path of ``key`` in the area's file system."""
        return f"{self.root}/{key.lstrip('/')}"

    def local_path(self, key: str) -> Path:
        """``key`` as a local path: for what needs a real folder (Data Docs, the embedded
        database). A ``UserError`` when the area is not on this machine's disk."""
        if not self.is_local:
            raise UserError(f"{key} must be on a local disk, but the work area is {self.url}")
        return Path(self.path(key))

    def local_copy(self, key: str) -> Path:
        """A file of the area as a local path (readers need one): in place in a local area,
        else downloaded once into this machine's temporary folder."""
        if self.is_local:
            return self.local_path(key)
        local = Path(tempfile.gettempdir()) / "popsync-pulls" / key
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
            self.fs.get_file(self.path(key), str(partial))
            os.replace(partial, local)
        return local

    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def _write_bytes(self, key: str, data: bytes) -> str:
        target = self.path(key)
        parent = target.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        if self.is_local:
            tmp = f"{parent}/.{target.rsplit('/', 1)[1]}.{uuid.uuid4().hex}.tmp"
            with self.fs.open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        else:
            with self.fs.open(target, "wb") as handle:
                handle.write(data)
        return key

    def write_parquet(self, frame, key: str) -> str:
        """Write a DataFrame as Parquet; returns the key."""
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return self._write_bytes(key, buffer.getvalue())

    def read_parquet(self, key: str):
        import pandas as pd

        with self.fs.open(self.path(key), "rb") as handle:
            return pd.read_parquet(handle)

    def write_text(self, key: str, text: str) -> str:
        return self._write_bytes(key, text.encode("utf-8"))

    def read_text(self, key: str) -> str:
        with self.fs.open(self.path(key), "rb") as handle:
            return handle.read().decode("utf-8")

    def write_json(self, key: str, data: Any) -> str:
        return self.write_text(key, json.dumps(data, indent=1, ensure_ascii=False, default=str))

    def read_json(self, key: str, default: Any = None) -> Any:
        """The JSON at ``key``; ``default`` when it is missing or unreadable."""
        try:
            return json.loads(self.read_text(key))
        except (OSError, ValueError):
            return default
