"""The workspace's FastAPI app: made from the resources the edge made (``Resources``) and the
web settings; pages in ``pages_batches`` and ``pages_review``, log in and out here.

Every request opens its own connection to the warehouse and closes it. The app writes no log
line of its own; uvicorn's access log shows methods, paths and filters (source, district code,
rule name, page), never personal data: rows travel in form bodies as signed keys."""

from __future__ import annotations

from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from popsync.core.errors import UserError
from popsync.report import html as report_html
from popsync.resources import Resources
from popsync.web import accounts, security
from popsync.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 8


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader("popsync.web", "templates"), report_html.template_loader()]
        ),  # fmt: skip
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates = Jinja2Templates(env=report_html.add_filters(env))
    env.globals["url_for"] = _path_for
    return templates


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


def create_app(res: Resources, settings: WebSettings) -> FastAPI:
    """The workspace over ``res``'s warehouse; users from ``settings.users_file``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if res.database_url or res.has_embedded_database:
            with res.warehouse() as store:
                store.migrate()
        yield

    app = FastAPI(title="popsync stewards", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    secret = settings.session_key()
    app.state.res, app.state.settings = res, settings
    app.state.templates = _templates()
    app.state.keys = security.RowKeys(secret)
    app.state.brake = security.LoginBrake()
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="popsync_session",
                       max_age=SESSION_HOURS * 3600, same_site="strict")  # fmt: skip

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in security.HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith(_static_prefix(request)):
                continue
            response.headers.setdefault(name, value)
        return response

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(security.LoginRequired)
    async def login_first(request: Request, _):
        return RedirectResponse(path_for(request, "login_page"), status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return render(request, "error.html.j2", status_code=error.status_code,
                      message=error.detail)  # fmt: skip

    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError):
        return render(request, "error.html.j2", status_code=400, message=str(error))

    @app.get("/report.css", name="report_css", include_in_schema=False)
    def report_css():
        text = report_html.environment().get_template("report.css.j2").render()
        return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", include_in_schema=False)
    def home(request: Request):
        return RedirectResponse(path_for(request, "batches"), status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request):
        return render(request, "login.html.j2", error=None)

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf: str = Form("")):  # fmt: skip
        security.check_csrf(request, csrf)
        client = request.client.host if request.client else "?"
        brake: security.LoginBrake = request.app.state.brake
        if brake.blocked(client, username):
            return render(request, "login.html.j2", status_code=429,
                          error="Quá nhiều lần đăng nhập sai: hãy đợi vài phút.")  # fmt: skip
        role = accounts.authenticate(settings.users_file, username, password)
        if role is None:
            brake.failed(client, username)
            audit(request, "login_failed", actor=username[:64] or "?")
            return render(request, "login.html.j2", status_code=401,
                          error="Sai tên đăng nhập hoặc mật khẩu.")  # fmt: skip
        brake.succeeded(client, username)
        security.log_in(request, security.User(username, role))
        audit(request, "login")
        return RedirectResponse(path_for(request, "batches"), status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        security.check_csrf(request, csrf)
        if security.user_of(request):
            audit(request, "logout")
        request.session.clear()
        return RedirectResponse(path_for(request, "login_page"), status_code=303)

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, page: int = 0):
        security.require_steward(request)
        with warehouse(request) as store:
            lines = store.audit_log(limit=100, offset=max(page, 0) * 100)
        return render(request, "audit.html.j2", lines=lines, page=max(page, 0))

    from popsync.web import pages_batches, pages_review

    app.include_router(pages_batches.router)
    app.include_router(pages_review.router)
    return app


def _static_prefix(request: Request) -> str:
    return request.scope.get("root_path", "") + "/static/"
