"""What the pull tests share: small extracts cut from data_samples/ (the BHXH periods, UTF-8 CSV),
a landing folder, the register, and reading the warehouse."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from popsync import pull
from popsync.resources import Resources

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
REGISTER = SAMPLES / "dan_cu.csv"


def bhxh_rows() -> tuple[list[str], list[list[str]]]:
    """The header and rows of the sample BHXH extract."""
    with open(SAMPLES / "bhxh.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_extract(path: Path, rows: list[list[str]], count: int | None = None) -> Path:
    """A CSV extract of these rows (the sample's header), with a ``.count`` sidecar when
    ``count`` is given."""
    header, _ = bhxh_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    if count is not None:
        Path(f"{path}.count").write_text(f"{count}\n")
    return path


def age(path: Path, seconds: float = 60) -> None:
    """Make a file look older (settled), as a landing area's files usually are."""
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def settings(res: Resources, landing, source: str = "bhxh", **more) -> pull.PullSettings:
    return pull.PullSettings(spec=res.catalog[source], landing=str(landing),
                             settle_seconds=more.pop("settle_seconds", 0.05), **more)  # fmt: skip


def resources(tmp_path: Path, database_url: str | None) -> Resources:
    return Resources.from_environment(database_url=database_url, workdir=tmp_path / "work")


def table_rows(res: Resources, table: str = "social_insurance_period") -> dict[tuple, tuple]:
    """(delivery, record_id) -> (so_dinh_danh, decision) of every stored row."""
    with res.warehouse() as store:
        found = store.fetch("SELECT delivery, record_id, so_dinh_danh, decision FROM {t}", t=table)
    return {(d, r): (p, dec) for d, r, p, dec in found}


def quarantined(res: Resources) -> set[tuple]:
    with res.warehouse() as store:
        return set(store.fetch("SELECT delivery, record_id FROM quarantine"))


def ledger(res: Resources, source: str = "bhxh") -> list[tuple]:
    with res.warehouse() as store:
        return store.fetch(
            "SELECT delivery, version, status FROM delivery WHERE source = %s "
            "ORDER BY delivery, version",
            (source,),
        )
