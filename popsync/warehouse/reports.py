"""What reports read of the warehouse, counted from the tables as they are now (so a report is
never stale after a steward's decision): runs with where their rows are (linked, not linked,
review, quarantined), defects per pillar, findings per rule, counts per unit (district, ward or
a source's site) and the quarantined rows with the rules they broke."""

from __future__ import annotations

import json
import re

from popsync.core.contracts import PILLARS

# SQL is composed of fixed fragments of this module (values always as %s parameters): the
# ``noqa: S608`` lines below.
RUN_COLUMNS = ("run_id", "source", "delivery", "version", "input_file", "input_sha256",
               "run_date", "started_at", "finished_at", "rows_read", "rows_loaded",
               "rows_quarantined", "rows_review", "rows_moved", "rows_retired", "status",
               "replaced_by", "error")  # fmt: skip
# A row's unit in its table's columns; quarantined rows keep theirs in row_data (JSON).
UNIT_LEVELS = ("district", "ward", "site")
_UNIT_COLUMNS = {"district": "district_code", "ward": "ward_code"}
_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")
# The validation stages whose findings describe a batch's own rows.
_BATCH_STAGES = ("pre_link", "post_link")


class BatchReports:
    def _json_text(self, column: str, key: str) -> str:
        """SQL for ``column``'s JSON member ``key`` as text (``key``: a column name)."""
        if not _KEY.match(key):
            raise ValueError(f"not a column name: {key!r}")
        if self.backend == "postgresql":
            return f"({column} ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def batch_runs(self, *, source=None, since=None, until=None, district=None, run_id=None):
        """Every batch run of the extract sources (not a re-check run; ``source``: one; ``since`` / ``until``: run dates,
        ISO; ``run_id``: one run), oldest first, each a dict of the run record plus, counted in
        the tables now, ``linked``, ``not_linked``, ``review`` and ``quarantined``
        (``district``: only the rows of that district code; ``read`` is then their sum)."""
        where, params = ["source <> %s", "kind = 'batch'"], [self.catalog.register.id]
        for clause, value in (("source = %s", source), ("run_date >= %s", since),
                              ("run_date <= %s", until), ("run_id = %s", run_id)):  # fmt: skip
            if value:
                where.append(clause)
                params.append(str(value))
        rows = self.fetch(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM run WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY started_at, run_id",
            tuple(params),
        )
        runs = [dict(zip(RUN_COLUMNS, row, strict=True)) for row in rows]
        counts = self._where_rows_are([r["run_id"] for r in runs], [r["source"] for r in runs],
                                      district)  # fmt: skip
        for run in runs:
            found = counts.get(run["run_id"], {})
            run.update({name: found.get(name, 0) for name in
                        ("linked", "not_linked", "review", "quarantined")})  # fmt: skip
            run["read"] = (
                run["linked"] + run["not_linked"] + run["review"] + run["quarantined"]
                if district
                else run["rows_read"]
            )
        if district:
            runs = [run for run in runs if run["read"]]
        return runs

    def _where_rows_are(self, run_ids, sources, district) -> dict[str, dict[str, int]]:
        """Per run: rows linked (match), not linked (no_match), in review and quarantined."""
        out: dict[str, dict[str, int]] = {run_id: {} for run_id in run_ids}
        if not run_ids:
            return out
        names = {"match": "linked", "no_match": "not_linked", "review": "review"}
        extra, params = ("", ()) if not district else (" AND district_code = %s", (district,))
        quarantine_district = self._json_text("row_data", "district_code")
        with self._transaction() as cur:
            for source in sorted(set(sources) & {s.id for s in self.catalog.extracts}):
                for run_id, decision, count in self._run(
                    cur,
                    "SELECT run_id, decision, count(*) FROM {table} WHERE source = %s"  # noqa: S608
                    + extra
                    + " GROUP BY run_id, decision",
                    (source, *params),
                    table=self._table_of(source),
                ).fetchall():
                    if run_id in out:
                        out[run_id][names[decision]] = count
            q_extra = "" if not district else f" AND {quarantine_district} = %s"
            for run_id, count in self._run(
                cur, "SELECT run_id, count(*) FROM quarantine WHERE source <> %s" + q_extra  # noqa: S608
                + " GROUP BY run_id", (self.catalog.register.id, *params),
            ).fetchall():  # fmt: skip
                if run_id in out:
                    out[run_id]["quarantined"] = count
        return out

    def pillar_defects(self, run_ids, repairs=()) -> dict[str, dict]:
        """Per run: per pillar the rows with a defect of it (a finding not a repair; None when
        a batch-level rule of the pillar failed), and ``repaired``: rows with a repair."""
        out = {run_id: {pillar: 0 for pillar in PILLARS} | {"repaired": 0} for run_id in run_ids}
        if not run_ids:
            return out
        repairs = sorted(set(repairs)) or ["\x00"]
        marks = ", ".join(["%s"] * len(repairs))
        stages = ", ".join(["%s"] * len(_BATCH_STAGES))
        runs = ", ".join(["%s"] * len(run_ids))
        for run_id, pillar, batch_level, rows in self.fetch(
            "SELECT run_id, pillar, CASE WHEN record_id IS NULL THEN 1 ELSE 0 END, "  # noqa: S608
            "count(DISTINCT record_id) FROM quality_finding WHERE run_id IN (" + runs + ") "
            "AND stage IN (" + stages + ") AND rule NOT IN (" + marks + ") "
            "GROUP BY run_id, pillar, CASE WHEN record_id IS NULL THEN 1 ELSE 0 END",
            (*run_ids, *_BATCH_STAGES, *repairs),
        ):
            if run_id in out and pillar in PILLARS:
                if batch_level:
                    out[run_id][pillar] = None
                elif out[run_id][pillar] is not None:
                    out[run_id][pillar] = rows
        for run_id, rows in self.fetch(
            "SELECT run_id, count(DISTINCT record_id) FROM quality_finding WHERE run_id IN ("  # noqa: S608
            + runs
            + ") AND rule IN ("
            + marks
            + ") GROUP BY run_id",
            (*run_ids, *repairs),
        ):
            if run_id in out:
                out[run_id]["repaired"] = rows
        return out

    def rule_counts(self, run_ids) -> dict[str, list[dict]]:
        """Per run, its findings by rule (most rows first): rule, stage, pillar, severity,
        rows (distinct record ids; 0 for a batch-level rule) and one observed example."""
        out: dict[str, list[dict]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return out
        runs = ", ".join(["%s"] * len(run_ids))
        for run_id, rule, stage, pillar, severity, rows, findings in self.fetch(
            "SELECT run_id, rule, min(stage), min(pillar), min(severity), "  # noqa: S608
            "count(DISTINCT record_id), count(*) FROM quality_finding WHERE run_id IN ("
            + runs
            + ") GROUP BY run_id, rule ORDER BY count(DISTINCT record_id) DESC, rule",
            tuple(run_ids),
        ):
            if run_id in out:
                out[run_id].append({"rule": rule, "stage": stage, "pillar": pillar,
                                    "severity": severity, "rows": rows,
                                    "batch_level": rows == 0 and findings > 0})  # fmt: skip
        return out

    def unit_counts(self, run_id: str, source: str, level: str, site_field=None, within=None):
        """Per unit of ``level`` (``district``, ``ward``, or ``site``: the source's
        ``site_field``) the run's rows: linked, not_linked, review, quarantined, read.
        ``within``: {"district": code, "ward": code, "site": name} to drill into."""
        column = site_field if level == "site" else _UNIT_COLUMNS[level]
        if column is None:
            return []
        where, params = self._unit_where(within or {}, site_field, row_data=False)
        q_where, _ = self._unit_where(within or {}, site_field, row_data=True)
        units: dict[str | None, dict[str, int]] = {}
        names = {"match": "linked", "no_match": "not_linked", "review": "review"}
        with self._transaction() as cur:
            for unit, decision, count in self._run(
                cur,
                f"SELECT {column}, decision, count(*) FROM {{table}} WHERE run_id = %s{where} "  # noqa: S608
                f"GROUP BY {column}, decision",
                (run_id, *params),
                table=self._table_of(source),
            ).fetchall():
                units.setdefault(unit, {})[names[decision]] = count
            for unit, count in self._run(
                cur,
                f"SELECT {self._json_text('row_data', column)}, count(*) FROM quarantine "  # noqa: S608
                f"WHERE run_id = %s{q_where} GROUP BY {self._json_text('row_data', column)}",
                (run_id, *params),
            ).fetchall():
                units.setdefault(unit, {})["quarantined"] = count
        out = []
        for unit, found in units.items():
            row = {"unit": unit} | {n: found.get(n, 0) for n in
                                    ("linked", "not_linked", "review", "quarantined")}  # fmt: skip
            row["read"] = row["linked"] + row["not_linked"] + row["review"] + row["quarantined"]
            out.append(row)
        return sorted(out, key=lambda r: (-r["quarantined"], -r["read"], str(r["unit"])))

    def _unit_where(self, within: dict, site_field, row_data: bool) -> tuple[str, tuple]:
        clauses, params = [], []
        for level, value in within.items():
            if value in (None, ""):
                continue
            column = site_field if level == "site" else _UNIT_COLUMNS.get(level)
            if column is None:
                continue
            sql = self._json_text("row_data", column) if row_data else column
            clauses.append(f" AND {sql} = %s")
            params.append(value)
        return "".join(clauses), tuple(params)

    def quarantined_rows(self, run_id: str, site_field=None, within=None, limit=None, offset=0):
        """The run's quarantined rows (``within`` a unit), in file order: record_id, src_row,
        rules (a list) and row_data (every column, as a dict). Real values: callers mask."""
        where, params = self._unit_where(within or {}, site_field, row_data=True)
        page = "" if limit is None else " LIMIT %s OFFSET %s"
        extra = () if limit is None else (limit, offset)
        rows = self.fetch(
            "SELECT record_id, src_row, rules, row_data, delivery FROM quarantine "  # noqa: S608
            "WHERE run_id = %s" + where + " ORDER BY src_row, record_id" + page,
            (run_id, *params, *extra),
        )
        return [
            {"record_id": record_id, "src_row": src_row, "rules": rules.split(";"),
             "row_data": data if isinstance(data, dict) else json.loads(data),
             "delivery": delivery}
            for record_id, src_row, rules, data, delivery in rows
        ]  # fmt: skip

    def status_changes(self, run_id: str) -> dict | None:
        """What the run's batch changed in people's status (``status_refresh.summary`` of the
        refresh after it: counts only), or None when no refresh followed it."""
        found = self.fetch(
            "SELECT summary FROM status_refresh WHERE run_id = %s ORDER BY seq DESC LIMIT 1",
            (run_id,),
        )
        if not found or found[0][0] is None:
            return None
        summary = found[0][0]
        return summary if isinstance(summary, dict) else json.loads(summary)
