"""The end of a chunked batch (``pipeline.chunks``): the rules that need the whole batch, run
once over the compact key columns of every chunk, then the load of every chunk in one
transaction (``Warehouse.load_batch_chunks``) and the register's, if the warehouse lacks it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from popsync.core.members import text_isin
from popsync.core.timing import Steps
from popsync.pipeline.batch import as_date, in_folder
from popsync.pipeline.chunks import LINK_COLUMNS, _linkage, _read_columns, chunk_key
from popsync.pipeline.register_chunks import register_parts, row_count
from popsync.pipeline.stages import load_meta, load_result, raise_if_stale_register, register_run
from popsync.resources import Resources

# What the batch rules read (``expectations.rules``: duplicates, a person's doses, one ID claimed
# by several people, the aggregates), besides each rule's own column and observed fields.
BATCH_COLUMNS = ("record_id", "source_record_id", "src_row", "flags", "name_key", "birth_date",
                 "birth_date_precision", "sex", "id_number", "id_kind", *LINK_COLUMNS[:3])  # fmt: skip


def finish_chunks(
    batch: dict[str, Any], res: Resources, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The batch rules, the scores of both stages, then the load. ``parts``: what ``run_chunk``
    returned for every chunk. Raises ``expectations.BatchBlocked`` (after writing the findings,
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
        batch_level = _batch_rules(batch, res)
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


def _stage_findings(res: Resources, key: str, stage: str) -> pd.DataFrame:
    found = res.workarea.read_parquet(key)
    return found[found["stage"].eq(stage)]


def batch_frame(batch: dict[str, Any], res: Resources) -> pd.DataFrame:
    """The columns the batch rules read, of every chunk's linked rows, in file order."""
    import expectations
    from expectations.scope import is_batch_rule

    spec = res.catalog.extract(batch["source"])
    wanted = [*BATCH_COLUMNS, *spec.duplicate_keys, *spec.fields_of("date")]
    for stage in ("pre_link", "post_link"):
        for rule in expectations.load_rules(spec, stage):
            if is_batch_rule(rule):
                wanted += [rule.column or "record_id", *rule.observed]
    wanted = list(dict.fromkeys(c.removeprefix("reg_") for c in wanted if c != "event_date"))
    frames = []
    for entry in batch["chunks"]:
        rows = _read_columns(res, chunk_key(batch, "linked", entry["index"]), wanted)
        carried = res.workarea.read_parquet(chunk_key(batch, "rules", entry["index"], False))
        frames.append(rows.join(carried.set_axis(rows.index).drop(columns=rows.columns,
                                                                   errors="ignore")))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _batch_rules(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Both stages' batch rules over the whole batch's key columns (their Data Docs too)."""
    import expectations

    spec, run_date = res.catalog.extract(batch["source"]), as_date(batch["run_date"])
    frame = batch_frame(batch, res)
    docs = res.workarea.local_path(in_folder(batch, "data_docs"))
    pre = expectations.validate_pre_link(frame, spec, run_date, docs_dir=docs, scope="batch")
    no_people = pd.DataFrame({"person_id": pd.Series(dtype="string")})
    post = expectations.validate_post_link(
        frame, frame[["record_id", *LINK_COLUMNS[:3]]], no_people, spec, run_date,
        docs_dir=docs, scope="batch", register_age=_linkage(batch, res).age_days(run_date),
    )  # fmt: skip
    return {"pre_link": pre, "post_link": post}


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
