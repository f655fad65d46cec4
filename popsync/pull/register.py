"""The register snapshot a pull links against: the newest file of the register's landing area
(``POPSYNC_LANDING_DAN_CU``, named as its declaration says), copied into the work area. Not a
delivery of the ledger: the load merges a register snapshot by its content
(``Warehouse.load_register``)."""

from __future__ import annotations

from popsync.core.errors import UserError
from popsync.pull import landing
from popsync.pull.fetch import copy_in
from popsync.pull.settings import PullSettings
from popsync.resources import Resources


def fetch_register(res: Resources, settings: PullSettings, sleep=None) -> str:
    """The work-area key of the newest settled register file (by the date in its name, then
    its name)."""
    if settings.spec.role != "register":
        raise UserError(f"{settings.source} is not the register")
    fs, root = landing.open_landing(settings)
    files = landing.list_files(fs, root, settings)
    ready = landing.settled(fs, root, settings, files, sleep)
    if not ready:
        raise UserError(f"{settings.source}: no register file in the landing area "
                        f"{settings.landing}")  # fmt: skip
    newest = max(ready.values(), key=lambda f: (f.date, f.name))
    return copy_in(res, fs, newest.path, settings.source, newest.name)[0]
