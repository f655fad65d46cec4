"""The register snapshot in chunks (a city's 8M people do not fit in memory as one frame):
read as a stream and standardized a chunk at a time into one Parquet file (a row group per
chunk), its row rules checked per row group and its batch rules (unique IDs, the share of valid
IDs, its age) once over the compact columns they read. Same cache keys, findings and scores as
``stages.prepare_register``, which checks the register whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from popsync.pipeline.batch import as_date
from popsync.pipeline.register_cache import checked_register, is_current, register_keys
from popsync.resources import Resources

# What the register's batch rules read besides their own columns and observed fields.
REGISTER_BATCH_COLUMNS = ("record_id", "source_record_id", "person_id", "src_row", "updated_at")


def prepare_register_chunked(
    res: Resources, population: str | Path, run_date: str, chunk_rows: int
) -> dict[str, Any]:
    """``stages.prepare_register`` a chunk at a time. Raises ``expectations.BatchBlocked`` when
    the register cannot serve as the reference."""
    import expectations

    area = res.workarea
    population, sha, target, findings_key, scores_key = register_keys(population)
    stored = area.read_json(scores_key, default={})
    run_date = str(as_date(run_date))
    if not is_current(area, target, findings_key, stored, run_date):
        path = area.local_path(target)
        fresh = not path.is_file()
        if fresh:
            path = _standardize(population, sha, res, path.with_name(path.name + ".partial"),
                                chunk_rows)  # fmt: skip
        results = _validate(path, res, as_date(run_date))
        findings = pd.concat([r.findings for r in results], ignore_index=True)
        area.write_parquet(findings, findings_key)
        repairs = expectations.repair_rules(res.catalog.register)
        scores = expectations.pillar_scores(findings, row_count(path), repairs)
        blocked = [[rule, count] for r in results for rule, count in r.blocked]
        scores |= {"source": res.catalog.register.id, "stage": "register"}
        stored = {"run_date": run_date, "scores": scores, "blocked": blocked}
        area.write_json(scores_key, stored)
        if fresh and not blocked:
            os.replace(path, area.local_path(target))
        elif fresh:
            path.unlink()
    return checked_register(res, sha, target, findings_key, stored)


def _standardize(population: Path, sha: str, res: Resources, path: Path, chunk_rows: int
                 ) -> Path:  # fmt: skip
    """Read and standardize the register (of sha256 ``sha``) a chunk at a time into one
    Parquet file."""
    from transforms.readers.stream import read_source_chunks, read_whole_chunks
    from transforms.standardize import standardize

    spec = res.catalog.register
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write_parts(path, (standardize(part, spec) for part in
                                   read_source_chunks(population, spec, chunk_rows, sha).frames))  # fmt: skip
    except pa.ArrowInvalid:  # not a streamable CSV after all: read whole, then cut
        frames = read_whole_chunks(population, spec, chunk_rows).frames
        return _write_parts(path, (standardize(part, spec) for part in frames))


def _write_parts(path: Path, frames) -> Path:
    writer, schema = None, None
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                schema = pa.schema([f.with_type(pa.large_string()) if pa.types.is_null(f.type)
                                    else f for f in table.schema], metadata=table.schema.metadata)  # fmt: skip
                writer = pq.ParquetWriter(str(path), schema)
            writer.write_table(table.cast(schema))
    finally:
        if writer is not None:
            writer.close()
    return path


def register_parts(path: str | Path, columns: list[str] | None = None):
    """The standardized register's row groups as frames, in order (``columns``: only these)."""
    parquet = pq.ParquetFile(str(path))
    for index in range(parquet.num_row_groups):
        yield parquet.read_row_group(index, columns=columns).to_pandas()


def _validate(path: Path, res: Resources, run_date) -> list:
    """The register suite's row rules per row group, then its batch rules over the compact
    columns they read (record ids made unique over the whole snapshot first)."""
    import expectations
    from expectations.scope import is_batch_rule
    from transforms.row_keys import with_unique_record_ids

    spec = res.catalog.register
    keys = _clash_keys(path)
    newest = newest_update(path)
    age = None if newest is None else (run_date - as_date(newest)).days
    rules = expectations.load_rules(spec, "register")
    wanted = [*REGISTER_BATCH_COLUMNS, *(c for r in rules if is_batch_rule(r)
                                         for c in (r.column, *r.observed) if c)]  # fmt: skip
    carried = expectations.carried_rule_columns
    results, compact, start = [], [], 0
    for part in register_parts(path):
        mine = keys[(keys.index >= start) & (keys.index < start + len(part))]
        part = with_unique_record_ids(part, mine.set_axis(part.index[mine.index - start]))
        start += len(part)
        results.append(expectations.validate_register(part, run_date, source=spec, scope="row",
                                                      register_age=age))  # fmt: skip
        part = part.join(carried(part, spec, "register", run_date).set_axis(part.index))
        compact.append(part[[c for c in dict.fromkeys(wanted) if c in part.columns]])
    frame = pd.concat(compact, ignore_index=True) if compact else pd.DataFrame()
    del compact
    results.append(expectations.validate_register(frame, run_date, source=spec, scope="batch",
                                                  register_age=age))  # fmt: skip
    return results


def _clash_keys(path: Path) -> pd.Series:
    """The keys (``transforms.row_keys``) of the snapshot's rows whose record id is missing or
    repeats an earlier row's, by row number: decided over the whole snapshot, reading the
    contents of the row groups that hold such rows only."""
    from transforms.row_keys import clash_bases, told_apart

    parquet = pq.ParquetFile(str(path))
    ids = parquet.read(columns=["record_id"]).column("record_id").to_pandas().astype("string")
    clash = (ids.isna() | ids.duplicated(keep="first")).to_numpy()
    raw = [name for name in parquet.schema_arrow.names if name.startswith("raw_")]
    bases, start = [pd.Series([], dtype="string")], 0
    for index in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(index).num_rows
        mine = clash[start : start + size]
        if mine.any():
            part = parquet.read_row_group(index, columns=["record_id", *raw]).to_pandas()
            part = part[mine].astype("string").set_axis(np.flatnonzero(mine) + start)
            contents = part[raw].rename(columns=lambda c: c.removeprefix("raw_"))
            bases.append(clash_bases(part["record_id"], contents))
        start += size
    return told_apart(pd.concat(bases))


def newest_update(path: str | Path) -> str | None:
    column = pq.read_table(str(path), columns=["updated_at"]).column("updated_at")
    newest = pd.Series(column.to_pandas()).max()
    return None if pd.isna(newest) else str(newest.date())


def row_count(path: str | Path) -> int:
    return int(pq.ParquetFile(str(path)).metadata.num_rows)
