"""The workspace's FastAPI app: made from the resources the edge made (``Resources``) and the
web settings; pages in ``pages_batches`` and ``pages_review``, log in and out here.

Every request opens its own connection to the warehouse and closes it. The app writes no log
line of its own; uvicorn's access log shows methods, paths and filters (source, district code,
rule name, page), never personal data: rows travel in form bodies as signed keys."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from popsync.core.errors import UserError
from popsync.report import html as report_html
from popsync.resources import Resources
from popsync.web import accounts, pages_batches, pages_review, security
from popsync.web.pages import audit, path_for, render, templates, warehouse
from popsync.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 8


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
    app.state.templates = templates()
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

    app.include_router(pages_batches.router)
    app.include_router(pages_review.router)
    return app


def _static_prefix(request: Request) -> str:
    return request.scope.get("root_path", "") + "/static/"
