"""``read_source`` a chunk at a time: a UTF-8 CSV is parsed as a stream (pyarrow's incremental
reader), so memory holds one chunk whatever the file's size; the frames are the ones
``read_source`` gives for the same rows (same columns, provenance, ``src_row`` numbering).

Other files (Windows-1258 CSV, a CSV whose rows are ragged, XLSX, Parquet) are read whole by
``read_source`` and then cut into chunks: correct, but not bounded by the chunk size
(``Chunks.streamed`` says which way a file went).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from popsync.core.files import file_sha256
from popsync.core.sources import SourceSpec, spec_of
from transforms.readers import _map_columns, _with_provenance, read_source
from transforms.readers.delimited import _CSV_HEAD, BOM, _locate_header, arrow_csv_options
from transforms.readers.headers import ReadError, label_keys


@dataclass
class Chunks:
    """The chunks of one file and whether they were streamed (else read whole, then cut)."""

    frames: Iterator[pd.DataFrame]
    streamed: bool


def read_source_chunks(
    path: str | Path, source: str | SourceSpec, chunk_rows: int, sha256: str | None = None
) -> Chunks:
    """``read_source(path, source)`` as frames of at most ``chunk_rows`` rows, in file order.
    ``sha256``: the file's, when the caller has it (else a streamed file is read once more to
    compute it).

    A streamed file that turns out not to parse as a stream (a ragged row further on) raises
    ``pa.ArrowInvalid`` from the iterator: the caller starts again with ``read_whole_chunks``."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    cfg = spec_of(source)
    start = _utf8_csv_start(Path(path), cfg)
    if start is None:
        return read_whole_chunks(path, cfg, chunk_rows)
    return Chunks(_stream(Path(path), cfg, chunk_rows, sha256, *start), streamed=True)


def read_whole_chunks(path: str | Path, source: str | SourceSpec, chunk_rows: int) -> Chunks:
    frame = read_source(path, source)

    def cut() -> Iterator[pd.DataFrame]:
        for begin in range(0, len(frame), chunk_rows):
            yield frame.iloc[begin : begin + chunk_rows].reset_index(drop=True)

    return Chunks(cut(), streamed=False)


def _utf8_csv_start(path: Path, cfg: SourceSpec) -> tuple[list[str], str, int] | None:
    """Header, separator and byte offset of the first data row of a UTF-8 CSV; None for
    anything else (other formats, another encoding)."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return None
    with open(path, "rb") as handle:
        head = handle.read(_CSV_HEAD + len(BOM))
    bom = len(BOM) if head.startswith(BOM) else 0
    head = head[bom:]
    try:
        text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        header, sep, start = _locate_header(text, label_keys(cfg))
    except ReadError as exc:
        raise ReadError(f"{path}: {exc}") from exc
    return header, sep, bom + len(text[:start].encode("utf-8"))


def _stream(
    path: Path,
    cfg: SourceSpec,
    chunk_rows: int,
    sha256: str | None,
    header: list[str],
    sep: str,
    start: int,
) -> Iterator[pd.DataFrame]:
    sha256 = sha256 or file_sha256(path)
    with open(path, "rb") as handle:
        handle.seek(start)
        reader = pacsv.open_csv(handle, **arrow_csv_options(len(header), sep))
        pending: list[pa.RecordBatch] = []
        held = done = 0
        for record_batch in reader:
            pending.append(record_batch)
            held += record_batch.num_rows
            while held >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield _frame(table.slice(0, chunk_rows), header, cfg, path, sha256, done)
                done += chunk_rows
                rest = table.slice(chunk_rows)
                pending, held = rest.to_batches(), rest.num_rows
        if held or not done:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield _frame(table, header, cfg, path, sha256, done)


def _frame(
    table: pa.Table, header: list[str], cfg: SourceSpec, path: Path, sha256: str, before: int
) -> pd.DataFrame:
    rows = pa.chunked_array([np.arange(before + 1, before + table.num_rows + 1, dtype=np.int64)])
    table = table.rename_columns(header).append_column("__row", rows)
    return _with_provenance(_map_columns(table, cfg, path), cfg, path, sha256, None)
