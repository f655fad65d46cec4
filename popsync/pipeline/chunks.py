"""A batch in chunks, in bounded memory: ``plan_chunks`` (the register prepared once, the
extract streamed into raw chunks, the model trained once), ``run_chunk`` for each chunk (on any
worker: standardize, the row rules before and after linking, link) and ``finish_chunks`` (the
rules that need the whole batch, a partition of rows at a time, then one load). Each step reads
and writes the work area only, so an Airflow DAG can fan ``run_chunk`` out as mapped tasks.

A row's outcome does not depend on the chunk it travels in: the register and the model are the
batch's, record ids are made unique over the whole file, and the rules that compare rows
(duplicates, dose order and intervals, one ID claimed by several people, the batch's aggregates)
run once over all of them, a hash partition of each rule's key at a time
(``pipeline.batch_partitions``). ``tests/test_chunks.py`` holds a batch in 1,000-row chunks to the
tables of one chunk.

Files, in the batch folder: ``chunks/raw_<i>.personal.parquet`` (rows as read),
``chunks/clashes.parquet`` (rows whose record id is missing or repeats an earlier one, and
the key each gets: ``transforms.row_keys``),
``chunks/linked_<i>.personal.parquet``, ``chunks/candidates_<i>.personal.parquet``,
``chunks/findings_<i>.parquet``, ``chunks/rules_<i>.parquet`` (the row rule columns the batch
rules check, e.g. an event's age); then ``findings_pre.parquet`` and ``findings_post.parquet``
(every chunk's and the batch rules' findings) as the unchunked stages write them.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from popsync.core.files import file_sha256
from popsync.core.timing import Steps
from popsync.pipeline.batch import as_date, batch_folder, in_folder, require_file
from popsync.pipeline.linkage_register import ensure_linkage_register, open_linkage_register
from popsync.pipeline.register_chunks import prepare_register_chunked
from popsync.resources import Resources

DEFAULT_CHUNK_ROWS = 250_000
# A model not yet trained for the snapshot and source is learnt from the batch's first rows,
# whatever the chunk size.
TRAIN_ROWS = 250_000
LINK_COLUMNS = ["so_dinh_danh", "decision", "score", "explanation"]


def chunk_key(batch: dict[str, Any], kind: str, index: int, personal: bool = True) -> str:
    suffix = ".personal.parquet" if personal else ".parquet"
    return in_folder(batch, f"chunks/{kind}_{index:05d}{suffix}")


def plan_chunks(
    batch: dict[str, Any], res: Resources, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> dict[str, Any]:
    """The register (validated, prepared for linkage: cached per snapshot), the extract read
    as a stream into raw chunks of ``chunk_rows`` rows, and the model of the register snapshot
    and source (``pipeline.linkage``). Adds
    ``chunks`` (one entry per chunk: ``index``, ``rows``), ``rows_read`` and ``link_model``."""
    if chunk_rows < 1:
        from popsync.core.errors import UserError

        raise UserError(f"--chunk-rows must be at least 1 (got {chunk_rows})")
    steps = Steps()
    with steps.step("register"):
        batch |= prepare_register_chunked(res, batch["population"], batch["run_date"], chunk_rows)
        batch = ensure_linkage_register(batch, res)
    with steps.step("read"):
        batch = split_extract(batch, res, chunk_rows)
    with steps.step("train"):
        batch = train_batch_model(batch, res)
    batch["timings"] = {**batch.get("timings", {}), **steps.seconds}
    return batch


def split_extract(batch: dict[str, Any], res: Resources, chunk_rows: int) -> dict[str, Any]:
    """Stream the extract into raw chunk files; a file that cannot be streamed (a ragged row
    further on) is read whole and cut instead."""
    import pyarrow as pa

    from transforms.readers.stream import read_source_chunks, read_whole_chunks

    spec = res.catalog.extract(batch["source"])
    path = require_file(batch["input_path"], f"{spec.id} extract")
    sha = batch.get("input_sha256") or file_sha256(path)  # known once its run is open
    batch = batch | {"input_sha256": sha, "folder": batch_folder(spec.id, sha)}
    try:
        chunks = _write_chunks(batch, res, read_source_chunks(path, spec, chunk_rows, sha))
    except pa.ArrowInvalid:
        chunks = _write_chunks(batch, res, read_whole_chunks(path, spec, chunk_rows))
    batch["chunks"] = [{"index": i, "rows": rows} for i, (rows, _) in enumerate(chunks["rows"])]
    batch["rows_read"] = sum(entry["rows"] for entry in batch["chunks"])
    batch["streamed"] = chunks["streamed"]
    _write_clashes(batch, res, chunks["rows"])
    return batch


def _write_chunks(batch, res: Resources, chunks) -> dict[str, Any]:
    """Each chunk to the work area; per chunk its row count and the hashes of its record ids
    (null ids hash to 0 and are marked)."""
    sizes = []
    for index, frame in enumerate(chunks.frames):
        res.workarea.write_parquet(frame, chunk_key(batch, "raw", index))
        ids = frame["record_id"].astype("string")
        hashes = pd.util.hash_array(ids.fillna("").to_numpy(dtype=object))
        sizes.append((len(frame), (hashes, ids.isna().to_numpy(bool))))
    return {"rows": sizes, "streamed": chunks.streamed}


def _write_clashes(batch: dict[str, Any], res: Resources, chunks: list) -> None:
    """The rows (chunk, position) whose record id is missing or repeats an earlier row's, over
    the whole file, with their keys (``transforms.row_keys``: from their contents, the n-th of
    identical ones told apart in file order, as on the whole file). Hashes find the candidates;
    their ids are then compared as text."""
    from transforms.row_keys import clash_bases, told_apart

    counts = [rows for rows, _ in chunks]
    hashes = np.concatenate([h for _, (h, _) in chunks]) if chunks else np.zeros(0, np.uint64)
    missing = np.concatenate([m for _, (_, m) in chunks]) if chunks else np.zeros(0, bool)
    maybe = pd.Series(hashes).duplicated(keep=False).to_numpy() & ~missing
    clash = missing.copy()
    if maybe.any():
        where = np.flatnonzero(maybe)
        ids = _rows_at(batch, res, where, counts, ["record_id"])["record_id"]
        clash[where[ids.duplicated(keep="first").to_numpy()]] = True
    starts = np.cumsum([0, *counts])
    rows = np.flatnonzero(clash)
    chunk = np.searchsorted(starts, rows, side="right") - 1
    position = rows - starts[chunk]
    fields = list(res.catalog.extract(batch["source"]).fields)
    columns = list(dict.fromkeys(["record_id", *fields]))
    bases = [pd.Series([], dtype="string")]
    for index in np.unique(chunk):  # a chunk at a time: memory stays bounded
        raw = _read_columns(res, chunk_key(batch, "raw", int(index)), columns)
        held = raw.iloc[position[chunk == index]].astype("string")
        bases.append(clash_bases(held["record_id"], held[[f for f in fields if f in held]]))
    keys = told_apart(pd.concat(bases, ignore_index=True))
    frame = pd.DataFrame({"chunk": chunk.astype(np.int64), "position": position,
                          "key": keys.to_numpy()})  # fmt: skip
    res.workarea.write_parquet(frame, in_folder(batch, "chunks/clashes.parquet"))


def _rows_at(batch, res: Resources, rows: np.ndarray, counts: list[int], columns: list[str]):
    """The given columns (text) of the given global rows (in order), read back from the raw
    chunks."""
    starts = np.cumsum([0, *counts])
    chunk = np.searchsorted(starts, rows, side="right") - 1
    parts = []
    for index in np.unique(chunk):
        raw = _read_columns(res, chunk_key(batch, "raw", int(index)), columns)
        parts.append(raw.iloc[rows[chunk == index] - starts[index]])
    return pd.concat(parts, ignore_index=True).astype("string")


def _read_columns(res: Resources, key: str, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with res.workarea.fs.open(res.workarea.path(key), "rb") as handle:
        names = pq.ParquetFile(handle).schema_arrow.names
        handle.seek(0)
        return pd.read_parquet(handle, columns=[c for c in columns if c in names])


def train_batch_model(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """The model of the batch's register snapshot, source and settings
    (``pipeline.linkage.model_key``): loaded when the work area has it, else trained from the
    batch's first ``TRAIN_ROWS`` rows (standardized) against the prepared register. Every
    chunk links with it (``batch["link_model"]``)."""
    import matching
    from popsync.pipeline.linkage import batch_settings, model_key
    from transforms.standardize import standardize

    settings = batch_settings(batch, res)
    key = model_key(batch, settings)
    if not res.workarea.exists(key):
        spec = res.catalog.extract(batch["source"])
        frames, held = [], 0
        for entry in batch["chunks"]:
            if held >= TRAIN_ROWS:
                break
            raw = res.workarea.read_parquet(chunk_key(batch, "raw", entry["index"]))
            frames.append(raw.iloc[: TRAIN_ROWS - held])
            held += len(frames[-1])
        sample = standardize(pd.concat(frames, ignore_index=True), spec)
        model = matching.train(
            _linkage(batch, res).linker, sample, settings,
            about={"source": batch["source"], "register_sha256": batch["register_sha256"],
                   "trained_on": batch.get("delivery"), "rows": len(sample)},
        )  # fmt: skip
        res.workarea.write_json(key, model.to_dict())
    return batch | {"link_model": key}


def _linkage(batch: dict[str, Any], res: Resources):
    return open_linkage_register(str(res.workarea.local_path(batch["linkage_register"])))


def run_chunk(batch: dict[str, Any], res: Resources, index: int) -> dict[str, Any]:
    """One chunk: standardize, the row rules before linking, link (the batch's register and
    model), the row rules after linking. Writes the chunk's linked rows, review candidates and
    findings; returns what ``finish_chunks`` needs of it (JSON: an Airflow XCom)."""
    import expectations
    import matching
    from popsync.pipeline.linkage import batch_settings
    from transforms.row_keys import with_unique_record_ids
    from transforms.standardize import standardize

    area, spec = res.workarea, res.catalog.extract(batch["source"])
    run_date = as_date(batch["run_date"])
    steps = Steps()
    with steps.step("standardize"):
        raw = area.read_parquet(chunk_key(batch, "raw", index))
        clashes = area.read_parquet(in_folder(batch, "chunks/clashes.parquet"))
        mine = clashes[clashes["chunk"] == index]
        keys = pd.Series(mine["key"].to_numpy(), raw.index[mine["position"].to_numpy()])
        std = with_unique_record_ids(standardize(raw, spec), keys)
        del raw
    with steps.step("validate_pre"):
        pre = expectations.validate_pre_link(std, spec, run_date, scope="row")
        expectations.raise_if_blocked(pre)
    with steps.step("link"):
        register = _linkage(batch, res)
        settings = batch_settings(batch, res)
        model = matching.Model.from_dict(area.read_json(batch["link_model"]), settings)
        result = matching.link(register.linker, std, settings, model=model)
        decisions = result.decisions[LINK_COLUMNS].set_axis(std.index)
        linked = std.join(decisions)
        del std
    with steps.step("validate_post"):
        post = expectations.validate_post_link(
            linked, linked[["record_id", *LINK_COLUMNS[:3]]],
            register.people(linked["so_dinh_danh"]), spec, run_date,
            scope="row", register_age=register.age_days(run_date),
        )  # fmt: skip
        expectations.raise_if_blocked(post)
    carried = [expectations.carried_rule_columns(linked, spec, stage, run_date)
               for stage in ("pre_link", "post_link")]  # fmt: skip
    findings = pd.concat([pre.findings, post.findings], ignore_index=True)
    area.write_parquet(pd.concat(carried, axis=1), chunk_key(batch, "rules", index, False))
    area.write_parquet(linked, chunk_key(batch, "linked", index))
    area.write_parquet(result.candidates, chunk_key(batch, "candidates", index))
    area.write_parquet(findings, chunk_key(batch, "findings", index, personal=False))
    stats = json.loads(json.dumps(result.stats, default=str))
    return {"index": index, "rows": len(linked), "timings": steps.seconds, "link_stats": stats}
