"""Access to the workspace: the logged-in user (in a signed session cookie), roles, CSRF tokens
for every form and script call, the headers every response carries, and a brake on password
guessing. No personal data goes into a URL: rows are named in form bodies by signed keys."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
# Content-Security-Policy: only this app's own scripts, styles and images; forms post here.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def steward(self) -> bool:
        return self.role == "steward"


class LoginRequired(Exception):
    """Raised by a page that needs a user: the app answers with the login page."""


def user_of(request: Request) -> User | None:
    found = request.session.get("user")
    return User(found["name"], found["role"]) if found else None


def require_user(request: Request) -> User:
    user = user_of(request)
    if user is None:
        raise LoginRequired
    return user


def require_steward(request: Request) -> User:
    user = require_user(request)
    if not user.steward:
        raise HTTPException(403, "Chỉ cán bộ duyệt (steward) được làm việc này.")
    return user


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), expected):
        raise HTTPException(403, "Phiên làm việc không hợp lệ (CSRF): hãy tải lại trang.")


def log_in(request: Request, user: User) -> None:
    """A new session for the user (a fresh CSRF token: no fixation of the anonymous one)."""
    request.session.clear()
    request.session["user"] = {"name": user.name, "role": user.role}
    csrf_token(request)


class RowKeys:
    """A stored row (source, delivery, record id) as an opaque, signed key for forms."""

    def __init__(self, secret: str):
        self._serializer = URLSafeSerializer(secret, salt="popsync-row")

    def dumps(self, source: str, delivery: str, record_id: str) -> str:
        return self._serializer.dumps([source, delivery, record_id])

    def loads(self, key: str) -> tuple[str, str, str]:
        try:
            source, delivery, record_id = self._serializer.loads(key)
        except (BadSignature, ValueError, TypeError) as error:
            raise HTTPException(400, "Khóa dòng không hợp lệ.") from error
        return source, delivery, record_id


class LoginBrake:
    """At most ``attempts`` failed logins per client and user name in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0):
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], deque] = defaultdict(deque)

    def _recent(self, key) -> deque:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def blocked(self, client: str, name: str) -> bool:
        return len(self._recent((client, name))) >= self.attempts

    def failed(self, client: str, name: str) -> None:
        self._recent((client, name)).append(time.monotonic())

    def succeeded(self, client: str, name: str) -> None:
        self._failures.pop((client, name), None)
