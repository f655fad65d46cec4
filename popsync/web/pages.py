"""What every page of the workspace uses: the templates (the report's and the workspace's),
route paths under whatever prefix the app is mounted, a warehouse connection per request,
rendering with the user, CSRF token and messages, and the journal."""

from __future__ import annotations

from contextlib import contextmanager

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from popsync.report import html as report_html
from popsync.resources import Resources
from popsync.web import security


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader("popsync.web", "templates"), report_html.template_loader()]
        ),  # fmt: skip
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    made = Jinja2Templates(env=report_html.add_filters(env))
    env.globals["url_for"] = _path_for
    return made


def path_for(request: Request, name: str, **params) -> str:
    """The path of a route (with the prefix the app is mounted under, e.g. in Airflow): links
    and redirects stay on whatever host and scheme the browser used."""
    return request.url_for(name, **params).path


@jinja2.pass_context
def _path_for(context, name: str, **params) -> str:
    return path_for(context["request"], name, **params)


@contextmanager
def warehouse(request: Request):
    """A connection to the warehouse for this request (closed after it)."""
    res: Resources = request.app.state.res
    if not res.database_url and not res.has_embedded_database:
        raise HTTPException(503, "Chưa có dữ liệu: hãy chạy 'popsync run' trước.")
    with res.warehouse() as store:
        yield store


def render(request: Request, name: str, status_code: int = 200, **context) -> Response:
    """A page with what every page needs: the user, the CSRF token, messages and the nav."""
    user = security.user_of(request)
    flash = request.session.pop("flash", [])
    return request.app.state.templates.TemplateResponse(
        request,
        name,
        {"user": user, "csrf": security.csrf_token(request), "flash": flash, **context},
        status_code=status_code,
    )


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append({"text": text, "kind": kind})


def audit(request: Request, action: str, **what) -> None:
    user = security.user_of(request)
    name = what.pop("actor", None) or (user.name if user else "?")
    role = what.pop("role", None) or (user.role if user else None)
    with warehouse(request) as store:
        store.audit(name, action, via="web", role=role, **what)
