"""The register snapshot a pull links against: the newest file of the register's landing area
(``POPSYNC_LANDING_DAN_CU``, named as its declaration says), copied into the work area. Not a
delivery of the ledger: the load merges a register snapshot by its content
(``Warehouse.load_register``)."""

from __future__ import annotations

from popsync.core.errors import UserError
from popsync.pull import landing
from popsync.pull.fetch import copy_in
from popsync.pull.settings import PullSettings, without_password
from popsync.resources import Resources


def _newest(files: dict) -> landing.LandingFile | None:
    return max(files.values(), key=lambda f: (f.date, f.name), default=None)


def fetch_register(res: Resources, settings: PullSettings, sleep=None) -> str:
    """The work-area key of the newest settled register file (by the date in its name, then
    its name). A file already copied as it looks now is not read again (a register is large):
    ``pulls/<register>/newest.json`` remembers the last one."""
    if settings.spec.role != "register":
        raise UserError(f"{settings.source} is not the register")
    area = res.workarea
    remembered = f"pulls/{settings.source}/newest.json"
    fs, root = landing.open_landing(settings)
    files = landing.list_files(fs, root, settings)
    known = area.read_json(remembered, default={})
    newest = _newest(files)
    seen = newest is not None and known.get("look") == [newest.name, *newest.seen]
    if seen and area.exists(known["key"]):
        return known["key"]
    newest = _newest(landing.settled(fs, root, settings, files, sleep))
    if newest is None:
        raise UserError(f"{settings.source}: no register file in the landing area "
                        f"{without_password(settings.landing)}")  # fmt: skip
    key = copy_in(res, fs, newest.path, settings.source, newest.name)[0]
    area.write_json(remembered, {"look": [newest.name, *newest.seen], "key": key})
    return key
