"""``popsync serve``: the workspace under uvicorn.

uvicorn's access log shows the method, the path and the query (filters: a source, a district
code, a rule name, a page), never personal data; nothing else is logged per request."""

from __future__ import annotations

from popsync.core.errors import UserError
from popsync.resources import Resources
from popsync.web import accounts
from popsync.web.app import create_app
from popsync.web.settings import WebSettings


def run_server(res: Resources, host: str = "127.0.0.1", port: int = 8765, users_file=None):
    import uvicorn

    settings = WebSettings.from_environment(users_file=users_file, workdir=res.workarea.url)
    if not accounts.load_users(settings.users_file):
        raise UserError(
            f"no user in {settings.users_file}: add one first, e.g. "
            "'popsync users add lan --role steward'"
        )
    if not res.database_url and not res.has_embedded_database:
        raise UserError(f"no warehouse in {res.workarea.url}: run 'popsync run' (or 'make run') "
                        "first, or give --database-url")  # fmt: skip
    print(f"popsync stewards' workspace on http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    uvicorn.run(create_app(res, settings), host=host, port=port, log_level="info",
                server_header=False)  # fmt: skip
