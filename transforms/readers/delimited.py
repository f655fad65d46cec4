"""CSV files: UTF-8 (with or without BOM) or Windows-1258, ``,`` or ``;``, the header found
among the first lines; parsed by pyarrow, or row by row when rows are ragged (each kept, with
its read error)."""

from __future__ import annotations

import csv
import io
import logging
import re

import pyarrow as pa
import pyarrow.csv as pacsv

from transforms.legacy_encodings import from_cp1258_bytes
from transforms.readers.headers import HEADER_SCAN, ReadError, header_row, label_hits

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
# How much of the top of a CSV is searched for the header line.
_CSV_HEAD = 65536


def _decode(data: bytes) -> tuple[str, bytes]:
    """Text and UTF-8 bytes of a CSV: UTF-8 (BOM stripped), else Windows-1258 made NFC."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    try:
        text = from_cp1258_bytes(data)  # cp1258 spells tones as combining marks: made NFC
    except UnicodeDecodeError as exc:
        raise ReadError("text is neither UTF-8 nor Windows-1258") from exc
    return text, text.encode("utf-8")


def _sniff_separator(text: str) -> str:
    """``;`` or ``,``: whichever occurs more in the header line outside quotes."""
    header = re.sub(r'"[^"]*"', "", text[:_CSV_HEAD].split("\n", 1)[0])
    return ";" if header.count(";") > header.count(",") else ","


def read_csv(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list | None]:
    """A CSV whose header is the first non-empty line, or a later one among the first lines when
    title lines sit above it (as :func:`header_row` decides for a sheet); ``src_row`` counts
    data rows from 1 either way."""
    body = data.removeprefix(BOM)
    head = body[:_CSV_HEAD]
    try:  # UTF-8 (the usual case): parse the bytes as they are, no decoded copy of the file
        head_text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
    except UnicodeDecodeError:
        head_text = None
    if head_text is not None:
        header, sep, start = _locate_header(head_text, known)
        try:
            return _read_csv_fast(body, header, sep, len(head_text[:start].encode("utf-8"))), None
        except pa.ArrowInvalid:  # invalid UTF-8 further on, or ragged rows
            # (not the error text: Arrow quotes the offending row, personal data included)
            log.debug("fast CSV path failed; decoding the whole file")
    text, utf8 = _decode(data)
    header, sep, start = _locate_header(text[:_CSV_HEAD], known)
    try:
        return _read_csv_fast(utf8, header, sep, len(text[:start].encode("utf-8"))), None
    except pa.ArrowInvalid:
        log.debug("fast CSV path failed; reading row by row")
        table, errors = _read_csv_tolerant(text[start:], sep, len(header))
    return table.rename_columns(header), errors


def _head_rows(text: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """The first rows of ``text`` (up to the header scan limit of non-empty ones) and the
    character offset where each ends."""
    end = 0

    def lines():
        nonlocal end
        for line in io.StringIO(text, newline=""):
            end += len(line)
            yield line

    rows: list[list[str]] = []
    ends: list[int] = []
    filled = 0
    try:
        for row in csv.reader(lines(), delimiter=sep):
            rows.append(row)
            ends.append(end)
            filled += any(c != "" for c in row)
            if filled >= HEADER_SCAN:
                break
    except csv.Error:  # the head ends inside a quoted field: what was read is enough
        pass
    return rows, ends


def _locate_header(text: str, known: frozenset[str]) -> tuple[list[str], str, int]:
    """Header cells, separator and the character offset of the first data row.

    The separator is the one under which the header carries the most known labels (the
    first line's own count of ``;`` and ``,`` decides a tie).
    """
    found = {}
    for sep in (",", ";"):
        rows, ends = _head_rows(text, sep)
        at = header_row(rows, known)
        if at is not None:
            found[sep] = (label_hits(rows[at], known), rows[at], ends[at])
    if not found:
        raise ReadError("empty file (no header line)")
    hits = {sep: entry[0] for sep, entry in found.items()}
    if len(set(hits.values())) > 1:
        sep = max(hits, key=hits.get)
    else:
        sep = _sniff_separator(text)
        sep = sep if sep in found else next(iter(found))
    _, header, start = found[sep]
    return header, sep, start


def _read_csv_fast(utf8: bytes, header: list[str], sep: str, start: int) -> pa.Table:
    """Parse from byte ``start`` (the first data row) with pyarrow; no copy of the bytes."""
    names = [f"c{i}" for i in range(len(header))]
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8).slice(start)),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table.rename_columns(header)


def _read_csv_tolerant(text: str, sep: str, width: int) -> tuple[pa.Table, list]:
    """Python csv reader: rows with too many/few fields are cut or padded and get a read error."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)  # the data rows only
    fixed, errors = [], []
    for row in rows:
        if not row:  # blank line: not a data row (as in the fast path)
            continue
        if len(row) == width:
            errors.append(None)
        else:
            errors.append(f"{len(row)} fields, expected {width}")
            row = (row + [""] * width)[:width]
        fixed.append(row)
    columns = list(zip(*fixed, strict=True)) if fixed else [()] * width
    arrays = [pa.array(col, pa.string()) for col in columns]
    names = [f"c{i}" for i in range(width)]
    return pa.table(arrays, names=names), errors
