"""The verdict frame of a chunked batch's batch rules (``expectations.batch_pass``), in memory
bounded by a partition, not the batch.

One pass over the chunks reads the columns the rules need; each partitioning's columns go, row
by row, to one of N buckets by a hash of its key (N from the row count: ``bucket_rows`` rows a
bucket), into an Arrow IPC file per chunk and partitioning with one record batch per bucket.
Then each bucket is read back (its rows of every chunk, in file order), its verdicts worked out
and put at the rows' places in the batch. Rows a rule compares share the key, so they share a
bucket; what each bucket gives is what the whole batch gives. ``rows_at`` reads the record ids
and observed fields of the failing rows back from the chunks.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from popsync.pipeline.chunks import _read_columns, chunk_key
from popsync.resources import Resources

_POS = "_pos"  # a row's position in the batch (file order over the chunks)


def bucket_count(rows: int, bucket_rows: int) -> int:
    return max(1, -(-rows // max(1, bucket_rows)))


def key_buckets(rows: pd.DataFrame, key, keyless_alone: bool, buckets: int) -> np.ndarray:
    """Each row's bucket: a hash of its key's values (the same for equal values whatever the
    chunk; null parts hash alike whatever their dtype). With ``keyless_alone``, a row with a null
    key part goes to a bucket by its position (it is compared with no other row)."""
    combined = np.zeros(len(rows), dtype=np.uint64)
    keyless = np.zeros(len(rows), dtype=bool)
    for name in key:
        values = rows[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.astype("datetime64[ns]")
        hashed = pd.util.hash_pandas_object(values, index=False).to_numpy(
            dtype=np.uint64, copy=True
        )
        null = values.isna().to_numpy(dtype=bool)
        hashed[null] = np.uint64(0x9E3779B97F4A7C15)
        keyless |= null
        combined = combined * np.uint64(1_000_003) ^ hashed
    out = (combined % np.uint64(buckets)).astype(np.int64)
    if keyless_alone:
        out[keyless] = rows[_POS].to_numpy()[keyless] % buckets
    return out


class _Spill:
    """One partitioning's rows, per chunk one IPC file sorted by bucket (a record batch each)."""

    def __init__(self, folder: Path, name: str, buckets: int):
        self.folder, self.name, self.buckets, self.files = folder, name, buckets, []

    def add(self, rows: pd.DataFrame, bucket: np.ndarray) -> None:
        import pyarrow as pa

        order = np.argsort(bucket, kind="stable")
        table = pa.Table.from_pandas(rows.iloc[order], preserve_index=False)
        bounds = np.searchsorted(bucket[order], np.arange(self.buckets + 1))
        path = self.folder / f"{self.name}_{len(self.files):05d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            for b in range(self.buckets):
                part = table.slice(bounds[b], bounds[b + 1] - bounds[b])
                writer.write_batch(pa.RecordBatch.from_arrays(
                    [col.combine_chunks() for col in part.columns], schema=table.schema))  # fmt: skip
        self.files.append(path)

    def bucket(self, b: int) -> pd.DataFrame:
        import pyarrow as pa

        frames = []
        for path in self.files:
            with pa.memory_map(str(path)) as source:
                batch = pa.ipc.open_file(source).get_batch(b)
                frames.append(pa.Table.from_batches([batch]).to_pandas())
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def verdict_frame(
    batch: dict[str, Any], res: Resources, spec, run_date: dt.date, plan, bucket_rows: int
) -> pd.DataFrame:
    """A row per batch row: the columns ``plan`` (``expectations.batch_pass.BatchPass``) says,
    the cross-row ones worked out a bucket of about ``bucket_rows`` rows at a time."""
    total = int(batch["rows_read"])
    buckets = bucket_count(total, bucket_rows)
    with tempfile.TemporaryDirectory(prefix="popsync_batch_rules_") as tmp:
        spills = [_Spill(Path(tmp), f"p{i}", buckets) for i in range(len(plan.partitionings))]
        masks, values = _spill_chunks(batch, res, plan, spills, total)
        out: dict[str, Any] = {}
        for part, spill in zip(plan.partitionings, spills, strict=True):
            out |= _bucket_verdicts(part, spill, spec, run_date, total)
    return _assemble(out, masks, values, total)


def _spill_chunks(batch, res: Resources, plan, spills: list[_Spill], total: int):
    """One pass over the chunks: each partitioning's rows to its buckets; the null masks and
    per-row values kept (small)."""
    masks: dict[str, list] = {name: [] for name in plan.non_null}
    values: dict[str, list] = {name: [] for name in [*plan.carried, *plan.plain]}
    start = 0
    for entry in batch["chunks"]:
        rows = _read_columns(res, chunk_key(batch, "linked", entry["index"]), plan.columns_read())
        rows[_POS] = np.arange(start, start + len(rows), dtype=np.int64)
        start += len(rows)
        for part, spill in zip(plan.partitionings, spills, strict=True):
            held = rows[[*part.key.reads, _POS]]
            key = part.key
            spill.add(held, key_buckets(held, key.hashed(), key.keyless_alone, spill.buckets))
        for name in plan.non_null:
            masks[name].append(_null_mask(rows, name))
        for name in plan.plain:
            values[name].append(_column(rows, name))
        if plan.carried:
            carried = res.workarea.read_parquet(chunk_key(batch, "rules", entry["index"], False))
            for name in plan.carried:
                values[name].append(_column(carried.set_axis(rows.index), name))
        del rows
    if start != total:
        raise ValueError(f"{batch['source']} batch: {start} rows in its chunks, {total} read")
    return masks, values


def _bucket_verdicts(part, spill: _Spill, spec, run_date, total: int) -> dict[str, Any]:
    """A partitioning's rule columns (booleans) and codes (``Int64``, null for a null key) over
    the whole batch, a bucket at a time; each bucket's codes follow the last bucket's."""
    from expectations.batch_pass import partition_verdicts

    out: dict[str, Any] = {name: np.ones(total, dtype=bool) for name in part.rule_columns}
    out |= {name: np.full(total, -1, dtype=np.int64) for name in part.codes}
    offset = dict.fromkeys(part.codes, 0)
    for b in range(spill.buckets):
        rows = spill.bucket(b)
        if not len(rows):
            continue
        at = rows.pop(_POS).to_numpy()
        verdicts, codes = partition_verdicts(rows, part, spec, run_date)
        for name in part.rule_columns:
            out[name][at] = np.asarray(verdicts[name], dtype=bool)
        for name, code in codes.items():
            out[name][at] = np.where(code >= 0, code + offset[name], -1)
            offset[name] += int(code.max()) + 1 if len(code) else 0
    for name in part.codes:
        out[name] = pd.arrays.IntegerArray(out[name], mask=out[name] < 0)
    return out


def _assemble(out, masks, values, total) -> pd.DataFrame:
    import pyarrow as pa

    columns = dict(out)
    for name, parts in masks.items():
        null = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        columns[name] = pd.arrays.ArrowExtensionArray(pa.array(~null, mask=null))
    for name, parts in values.items():
        columns[name] = pd.concat(parts, ignore_index=True).array
    return pd.DataFrame(columns, index=pd.RangeIndex(total))


def _null_mask(rows: pd.DataFrame, name: str) -> np.ndarray:
    if name not in rows.columns:
        return np.ones(len(rows), dtype=bool)
    return rows[name].isna().to_numpy(dtype=bool)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name].reset_index(drop=True)
    return pd.Series(pd.NA, index=range(len(rows)), dtype="object")


def rows_at(batch: dict[str, Any], res: Resources, positions: np.ndarray, columns) -> pd.DataFrame:
    """The ``columns`` of the batch rows at ``positions`` (in that order), read back from the
    chunks' rows and rule files one chunk at a time."""
    positions = np.asarray(positions, dtype=np.int64)
    counts = [int(entry["rows"]) for entry in batch["chunks"]]
    starts = np.cumsum([0, *counts])
    chunk = np.searchsorted(starts, positions, side="right") - 1
    wanted = list(dict.fromkeys(columns))
    pieces = []
    for i in np.unique(chunk):
        entry = batch["chunks"][int(i)]
        rows = _read_columns(res, chunk_key(batch, "linked", entry["index"]), wanted)
        missing = [c for c in wanted if c not in rows.columns]
        if missing:
            carried = _read_columns(res, chunk_key(batch, "rules", entry["index"], False), missing)
            rows = rows.join(carried.set_axis(rows.index))
        sel = np.flatnonzero(chunk == i)
        pieces.append(rows.iloc[positions[sel] - starts[i]].set_axis(sel))
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in ("record_id",)})
    return pd.concat(pieces).sort_index().reset_index(drop=True)
