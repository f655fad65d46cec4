"""The workspace's settings, read at the edge (``popsync serve``, the Airflow plugin) from
arguments first, then ``POPSYNC_*`` environment variables:

- ``POPSYNC_USERS_FILE``: the users file (default ``users.json`` in the work area, which must
  then be a local folder);
- ``POPSYNC_SECRET_KEY``: signs the session cookie (default: a random key kept beside the users
  file in ``web_secret.key``, readable by its owner only, so sessions survive a restart).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE = "web_secret.key"


class _Environment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POPSYNC_", extra="ignore")

    users_file: str | None = None
    secret_key: str | None = None
    workdir: str = ".popsync"


@dataclass(frozen=True)
class WebSettings:
    users_file: Path
    secret_key: str | None = None

    @classmethod
    def from_environment(cls, *, users_file=None, workdir=None, secret_key=None) -> WebSettings:
        env = _Environment()
        path = users_file or env.users_file
        if path is None:
            path = Path(workdir if workdir is not None else env.workdir) / "users.json"
        return cls(users_file=Path(path), secret_key=secret_key or env.secret_key)

    def session_key(self) -> str:
        """The configured key, else the one kept beside the users file (made once)."""
        if self.secret_key:
            return self.secret_key
        path = self.users_file.parent / SECRET_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
