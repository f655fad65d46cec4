"""Users and roles of the workspace: a JSON file of ``{name: {role, password}}`` written by
``popsync users add``. Passwords are stored as scrypt hashes (Python's standard library: no
dependency), ``scrypt$n$r$p$salt$hash`` in base64; the file is readable by its owner only.

Roles: ``steward`` decides review rows and may reveal one field's unmasked value (each reveal
audited); ``viewer`` sees masked data only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from popsync.core.errors import UserError

ROLES = ("steward", "viewer")
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p), dklen=len(base64.b64decode(digest)))  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def load_users(path: Path) -> dict[str, dict]:
    """The users file's content (empty when there is no file yet)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        users = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise UserError(f"{path} is not a users file: {error}") from error
    return {name: user for name, user in users.items() if user.get("role") in ROLES}


def _write(path: Path, users: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(users, handle, indent=1, sort_keys=True)
    os.replace(temporary, path)


def add_user(path: Path, name: str, role: str, password: str) -> None:
    """Add ``name`` with ``role`` (or set its role and password)."""
    if not _NAME.match(name or ""):
        raise UserError(f"a user name is 1-64 letters, digits, '.', '@', '_' or '-', not {name!r}")
    if role not in ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    users = load_users(path)
    users[name] = {"role": role, "password": hash_password(password)}
    _write(Path(path), users)


def remove_user(path: Path, name: str) -> None:
    users = load_users(path)
    if name not in users:
        raise UserError(f"no user {name!r} in {path}")
    del users[name]
    _write(Path(path), users)


def authenticate(path: Path, name: str, password: str) -> str | None:
    """The user's role when the password is theirs, else None (the same work either way)."""
    user = load_users(path).get(name)
    stored = user["password"] if user else hash_password("not a user")
    if check_password(password, stored) and user:
        return user["role"]
    return None
