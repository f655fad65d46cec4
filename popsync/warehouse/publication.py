"""What a publication of the status feed reads and records: the people whose status changed in a
window of refreshes, and the ledger of the deltas written (``publication``)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pyarrow as pa

from popsync.core.contracts import DATE, TEXT
from popsync.core.errors import UserError
from popsync.core.status import STATUS_FIELDS
from popsync.warehouse.db import now
from popsync.warehouse.frames import read_arrow
from popsync.warehouse.id_keys import sort_indices
from popsync.warehouse.status import STATUS_LOCK

# What leaves the warehouse for the register: the person's ID and the status fields only.
FEED_COLUMNS = {"so_dinh_danh": TEXT, **STATUS_FIELDS, "as_of": DATE}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Publications:
    def status_delta(self, since: str | dt.date | None = None) -> tuple[pa.Table, dict]:
        """The people whose status changed in the window, with ``FEED_COLUMNS`` (sorted by
        so_dinh_danh; an Arrow table: it goes to the files as it is read), and the window: ``since_seq`` < change_seq <= ``through_seq`` (the last
        refresh committed), ``since_asked``, ``number`` (this publication's, from 1).

        ``since``: None for every change since the last publication; a run id for the changes
        of that run's refresh and every later one; a date (``YYYY-MM-DD``) for the changes of
        the refreshes made on or after that day (UTC). A person changed twice in the window is
        in it once, as they are now. Read under the refreshes' lock: no refresh is half seen."""
        with self._transaction() as cur:
            self._db.lock(cur, STATUS_LOCK)
            through = self._scalar(cur, "SELECT coalesce(max(seq), 0) FROM status_refresh")
            since_seq = self._since_seq(cur, since)
            table = read_arrow(
                self, cur,
                "SELECT {columns} FROM person_status WHERE change_seq > %s AND change_seq <= %s",
                (since_seq, through), FEED_COLUMNS, columns=list(FEED_COLUMNS),
            )  # fmt: skip
            number = 1 + self._scalar(cur, "SELECT count(*) FROM publication")
        table = table.take(sort_indices(table.column("so_dinh_danh").combine_chunks()))
        since_asked = None if since is None else str(since)
        window = {"since_seq": int(since_seq), "through_seq": int(through),
                  "since_asked": since_asked, "number": int(number)}  # fmt: skip
        return table, window

    def record_publication(
        self, publication_id: str, window: dict, location: str, people: int, manifest_sha256: str
    ) -> None:
        """Record a delta once it is written whole: the next publication starts after its
        ``through_seq``."""
        with self._transaction() as cur:
            self._run(
                cur,
                "INSERT INTO publication (publication_id, since_seq, through_seq, since_asked, "
                "people, location, manifest_sha256, published_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (publication_id, window["since_seq"], window["through_seq"],
                 window["since_asked"], people, location, manifest_sha256, now()),
            )  # fmt: skip

    def publications(self) -> pd.DataFrame:
        """The ledger of publications, oldest first."""
        rows = self.fetch(
            "SELECT publication_id, since_seq, through_seq, since_asked, people, location, "
            "manifest_sha256, published_at FROM publication ORDER BY through_seq, published_at"
        )
        columns = ["publication_id", "since_seq", "through_seq", "since_asked", "people",
                   "location", "manifest_sha256", "published_at"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def _since_seq(self, cur, since) -> int:
        if since is None:
            return self._scalar(cur, "SELECT coalesce(max(through_seq), 0) FROM publication")
        text = str(since).strip()
        if isinstance(since, dt.date) or _DATE.match(text):
            try:
                day = dt.date.fromisoformat(text[:10])
            except ValueError as error:
                raise UserError(f"--since {text}: not a date ({error})") from error
            return self._scalar(
                cur,
                "SELECT coalesce(max(seq), 0) FROM status_refresh WHERE started_at < %s",
                (day.isoformat(),),
            )
        first = self._scalar(cur, "SELECT min(seq) FROM status_refresh WHERE run_id = %s",
                             (text,))  # fmt: skip
        if first is None:
            raise UserError(f"--since {text}: no run of that id recomputed any status "
                            "(give a run id from a batch summary, or a date YYYY-MM-DD)")  # fmt: skip
        return first - 1
