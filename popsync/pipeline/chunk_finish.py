"""The end of a chunked batch (``pipeline.chunks``): the rules that need the whole batch, run
once over a verdict frame of every row, worked out a partition at a time (``batch_partitions``),
then the load of every chunk in one transaction (``Warehouse.load_batch_chunks``) and the
register's, if the warehouse lacks it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from popsync.core.members import text_isin
from popsync.core.timing import Steps
from popsync.pipeline.batch import as_date, in_folder
from popsync.pipeline.chunks import (
    DEFAULT_CHUNK_ROWS,
    LINK_COLUMNS,
    _read_columns,
    chunk_key,
)
from popsync.pipeline.register_chunks import register_parts, row_count
from popsync.pipeline.stages import load_meta, load_result, raise_if_stale_register, register_run
from popsync.resources import Resources


def finish_chunks(
    batch: dict[str, Any],
    res: Resources,
    parts: list[dict[str, Any]],
    bucket_rows: int | None = None,
) -> dict[str, Any]:
    """The batch rules, the scores of both stages, then the load. ``parts``: what ``run_chunk``
    returned for every chunk; ``bucket_rows``: the rows of a partition of the batch rules (by
    default the largest chunk's). Raises ``expectations.BatchBlocked`` (after writing the findings,
    for the report) when a block-severity rule failed anywhere in the batch."""
    import expectations

    parts = sorted(parts, key=lambda part: part["index"])
    if [part["index"] for part in parts] != [entry["index"] for entry in batch["chunks"]]:
        raise ValueError(f"{batch['source']} batch: finished with chunks "
                         f"{[p['index'] for p in parts]} of {len(batch['chunks'])}")  # fmt: skip
    steps = Steps()
    timings: dict[str, float] = {}
    for part in parts:
        for stage, seconds in part["timings"].items():
            timings[stage] = round(timings.get(stage, 0.0) + seconds, 3)
    spec, area = res.catalog.extract(batch["source"]), res.workarea
    with steps.step("validate_batch"):
        batch_level = _batch_rules(batch, res, bucket_rows or _chunk_rows(batch))
        findings = {}
        for stage in ("pre_link", "post_link"):
            chunked = [_stage_findings(res, chunk_key(batch, "findings", p["index"], False), stage)
                       for p in parts]  # fmt: skip
            findings[stage] = pd.concat([*chunked, batch_level[stage].findings], ignore_index=True)
            name = "findings_pre.parquet" if stage == "pre_link" else "findings_post.parquet"
            area.write_parquet(findings[stage], in_folder(batch, name))
        repairs = expectations.repair_rules(spec)
        for stage, key in (("pre_link", "scores_pre"), ("post_link", "scores_post")):
            scores = expectations.pillar_scores(findings[stage], batch["rows_read"], repairs)
            batch[key] = scores | {"source": spec.id, "stage": stage}
        everything = pd.concat(findings.values(), ignore_index=True)
        batch["scores"] = expectations.pillar_scores(everything, batch["rows_read"], repairs)
        del everything, findings
        for result in batch_level.values():
            expectations.raise_if_blocked(result)
    batch["link_stats"] = _link_stats([part["link_stats"] for part in parts])
    timings.update(steps.seconds)
    batch["timings"] = {**batch.get("timings", {}), **timings}
    with steps.step("load"):
        batch = _load(batch, res, parts, batch_level)
    batch["timings"]["load"] = steps.seconds["load"]
    return batch


def _chunk_rows(batch: dict[str, Any]) -> int:
    return max((int(entry["rows"]) for entry in batch["chunks"]), default=DEFAULT_CHUNK_ROWS)


def _stage_findings(res: Resources, key: str, stage: str) -> pd.DataFrame:
    found = res.workarea.read_parquet(key)
    return found[found["stage"].eq(stage)]


def _batch_rules(
    batch: dict[str, Any], res: Resources, bucket_rows: int = DEFAULT_CHUNK_ROWS
) -> dict[str, Any]:
    """Both stages' batch rules (their Data Docs too) over the verdict frame of the whole batch
    (``batch_partitions``: the cross-row rules worked out a partition of ``bucket_rows`` rows
    at a time), the failing rows' record ids and observed fields read back from the chunks."""
    import expectations
    from expectations.batch_pass import plan
    from popsync.pipeline.batch_partitions import rows_at, verdict_frame

    spec, run_date = res.catalog.extract(batch["source"]), as_date(batch["run_date"])
    stages = ("pre_link", "post_link")
    rules = [rule for stage in stages for rule in expectations.batch_rules(spec, stage)]
    first = batch["chunks"][0]["index"] if batch["chunks"] else 0
    columns = _column_names(res, chunk_key(batch, "linked", first))
    carried = [c for stage in stages for c in expectations.carried_columns(spec, stage)]
    frame = verdict_frame(batch, res, spec, run_date, plan(spec, rules, columns, carried),
                          bucket_rows)  # fmt: skip
    docs = res.workarea.local_path(in_folder(batch, "data_docs"))
    found = {}
    for stage in stages:
        found[stage] = expectations.validate_batch_rules(
            frame, spec, stage, run_date, lambda at, cols: rows_at(batch, res, at, cols),
            docs_dir=docs, register_age=_register_age(batch, res, run_date) if
            stage == "post_link" else None,
        )  # fmt: skip
    return found


def _register_age(batch: dict[str, Any], res: Resources, run_date: dt.date) -> int | None:
    """``LinkageRegister.age_days`` from the prepared register's ``snapshot.json`` alone: opening
    the register maps its linker (~0.15 GB of RSS at 2M people) for one date."""
    folder = res.workarea.local_path(batch["linkage_register"])
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    newest = snapshot["newest_update"]
    return None if newest is None else (run_date - dt.date.fromisoformat(newest)).days


def _column_names(res: Resources, key: str) -> list[str]:
    import pyarrow.parquet as pq

    with res.workarea.fs.open(res.workarea.path(key), "rb") as handle:
        return list(pq.ParquetFile(handle).schema_arrow.names)


def _link_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """The chunks' linkage statistics added up (counts), the first chunk's model."""
    total: dict[str, Any] = {"chunks": len(stats)}
    for key in ("register_rows",):
        total[key] = stats[0].get(key) if stats else 0
    for key in ("extract_rows", "pairs_scored", "id_pass_settled"):
        total[key] = sum(int(s.get(key, 0)) for s in stats)
    for key in ("decisions", "timings"):
        merged: dict[str, float] = {}
        for s in stats:
            for name, value in s.get(key, {}).items():
                merged[name] = round(merged.get(name, 0) + value, 3)
        total[key] = merged
    blocking: dict[str, dict[str, int]] = {}
    for s in stats:
        for rule, counts in s.get("blocking", {}).items():
            mine = blocking.setdefault(rule, {})
            for name, value in counts.items():
                mine[name] = mine.get(name, 0) + int(value)
    total["blocking"] = blocking
    total["model"] = stats[0].get("model", {}) if stats else {}
    return total


def _load(batch, res: Resources, parts, batch_level) -> dict[str, Any]:
    """The register (unless the warehouse has this snapshot) and every chunk, one transaction."""
    from popsync import warehouse

    area = res.workarea
    later = [r.findings for r in batch_level.values()]
    later = pd.concat(later, ignore_index=True)
    per_row, batch_wide = later[later["record_id"].notna()], later[later["record_id"].isna()]
    meta = load_meta(batch)

    def chunk(index: int, keys_only: bool):
        key = chunk_key(batch, "linked", index)
        rows = (_read_columns(res, key, ["record_id", *LINK_COLUMNS[:2]]) if keys_only
                else area.read_parquet(key))  # fmt: skip
        found = area.read_parquet(chunk_key(batch, "findings", index, personal=False))
        found = pd.concat([found, per_row[text_isin(per_row["record_id"], rows["record_id"])]])
        candidates = None if keys_only else area.read_parquet(chunk_key(batch, "candidates", index))
        return warehouse.build_batch(**meta, rows=rows, findings=found, candidates=candidates)

    def chunks(keys_only: bool):
        return (chunk(part["index"], keys_only) for part in parts)

    header = warehouse.Batch(**meta, rows=pd.DataFrame(), rows_read=batch["rows_read"],
                             findings=batch_wide, timings=batch.get("timings", {}))  # fmt: skip
    with res.warehouse() as store:
        store.migrate()
        register = area.local_path(batch["register"])
        register_load = store.load_register_snapshot(
            lambda: register_parts(register), row_count(register), register_run(batch),
            findings=lambda: area.read_parquet(batch["register_findings"]),
        )  # fmt: skip
        raise_if_stale_register(batch, register_load)
        loaded = store.load_batch_chunks(header, chunks)
    return batch | load_result(meta["run_id"], loaded, register_load)
