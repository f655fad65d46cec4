"""The queue of people whose status must be recomputed (``status_dirty``): written by the
transactions that change their rows (a later version of a delivery, a steward's decision, a
re-check), taken off by the next refresh (``PersonStatus.refresh_status``)."""

from __future__ import annotations

import pandas as pd

from popsync.core.contracts import TEXT
from popsync.core.status import people_keys
from popsync.warehouse.batch import to_arrow
from popsync.warehouse.frames import read_frame


class StatusQueue:
    def _queue_status(self, cur, people, reason: str) -> None:
        """Queue people for the next refresh, in the caller's transaction (the one that changes
        their rows)."""
        ids = unique_ids(people)
        if len(ids):
            frame = pd.DataFrame({"so_dinh_danh": ids, "reason": reason})
            self._db.bulk_insert(
                cur, "status_dirty", to_arrow(frame, {"so_dinh_danh": TEXT, "reason": TEXT}, {},
                                              "status queue"),
            )  # fmt: skip

    def _queue_rechecked(self, cur, source: str, changed: pd.DataFrame, candidates) -> None:
        """Queue the people of re-checked rows whose link changed (``recheck_stage``): the
        person before and after, the review candidates the rows lose and the ones they get."""
        new = [] if candidates is None or not len(candidates) else candidates["so_dinh_danh"]
        self._queue_status(
            cur, pd.concat([changed["so_dinh_danh_old"], changed["so_dinh_danh"],
                            pd.Series(new, dtype=object)]), "recheck",
        )  # fmt: skip
        self._run(
            cur,
            "INSERT INTO status_dirty (so_dinh_danh, reason) SELECT c.so_dinh_danh, 'recheck' "
            "FROM review_candidate c WHERE c.source = %s AND EXISTS (SELECT 1 FROM "
            "recheck_stage s WHERE s.changed = 1 AND s.delivery = c.delivery "
            "AND s.record_id = c.record_id)",
            (source,),
        )

    def _queue_replaced(self, cur, source: str, delivery: str, mode: str, table: str) -> None:
        """Before a batch deletes the rows it replaces (its delivery's, or its record ids' in
        an incremental pull), queue the people those rows count for, or might: the linked
        person, the review candidates, the person an unlinked or quarantined row names."""
        scope = " AND record_id IN (SELECT record_id FROM batch_key)" if mode == "upsert" else ""
        person = quarantine_person(self._db.name)
        # Linked rows and candidates name register people; what an unlinked or quarantined row
        # declares may be anyone: queued as "declared", kept by the refresh for register people
        # only (a join here would cost the load a lookup per row).
        for person_of, target, condition, reason in (
            ("so_dinh_danh", "{table}", "decision = 'match'", "replaced"),
            ("id_number", "{table}", "decision = 'no_match' AND id_number IS NOT NULL",
             "declared"),
            ("so_dinh_danh", "review_candidate", "TRUE", "replaced"),
            (person, "quarantine", f"{person} IS NOT NULL", "declared"),
        ):  # fmt: skip
            self._run(
                cur,
                f"INSERT INTO status_dirty (so_dinh_danh, reason) SELECT {person_of}, "  # noqa: S608
                f"'{reason}' FROM {target} WHERE source = %s AND delivery = %s "
                f"AND {condition}{scope}",
                (source, delivery),
                table=table,
            )

    def _take_queue(self, cur) -> pd.Series:
        """The people queued for a refresh (``status_dirty``), taken off the queue in this
        transaction: on PostgreSQL by a DELETE ... RETURNING (rows a concurrent transaction
        queues meanwhile stay for the next refresh), on SQLite under its one write lock. IDs
        queued as "declared" (by unlinked or quarantined rows) count for register people only."""
        types = {"so_dinh_danh": TEXT, "reason": TEXT}
        if self._db.name == "postgresql":
            found = read_frame(self, cur, "DELETE FROM status_dirty RETURNING so_dinh_danh, "
                               "reason", (), types)  # fmt: skip
        else:
            found = read_frame(self, cur, "SELECT so_dinh_danh, reason FROM status_dirty", (),
                               types)  # fmt: skip
            self._run(cur, "DELETE FROM status_dirty")
        declared = found["reason"].eq("declared").to_numpy(dtype=bool)
        if declared.any():
            self._stage_people(cur, people_keys(found.loc[declared, "so_dinh_danh"].dropna()))
            known = read_frame(
                self, cur, "SELECT t.so_dinh_danh FROM status_touched t WHERE EXISTS "
                "(SELECT 1 FROM person p WHERE p.so_dinh_danh = t.so_dinh_danh)", (),
                {"so_dinh_danh": TEXT},
            )  # fmt: skip
            return pd.concat([found.loc[~declared, "so_dinh_danh"], known["so_dinh_danh"]])
        return found["so_dinh_danh"]


def unique_ids(values) -> pd.Index:
    series = pd.Series(values, dtype=object).dropna()
    return pd.Index(series[series.astype(str).str.len() > 0].unique(), name="so_dinh_danh")


def quarantine_person(backend: str, alias: str = "") -> str:
    """SQL for the person a quarantined row points at: the one the linker gave it, else the ID
    it declares (row_data is the row as JSON)."""
    if backend == "postgresql":
        return f"coalesce({alias}row_data->>'so_dinh_danh', {alias}row_data->>'id_number')"
    return (f"coalesce(json_extract({alias}row_data, '$.so_dinh_danh'), "
            f"json_extract({alias}row_data, '$.id_number'))")  # fmt: skip
