"""CSV files: UTF-8 (with or without BOM) or Windows-1258 (or both, line by line), ``,`` or
``;``, the header found among the first lines; parsed by pyarrow, or line by line when rows are
ragged or a quote is left open (each row kept, with its read error: an unterminated quote never
swallows the records after it)."""

from __future__ import annotations

import csv
import io
import logging
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from transforms.legacy_encodings import from_cp1258_bytes
from transforms.readers.headers import HEADER_SCAN, ReadError, header_row, label_hits
from transforms.readers.lines import TextLines

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
# How much of the top of a CSV is searched for the header line.
_CSV_HEAD = 65536


def _decode(data: bytes) -> tuple[str, bytes]:
    """Text and UTF-8 bytes of a CSV: UTF-8 (BOM stripped), else Windows-1258 made NFC; a file
    that mixes them (lines appended by another program) is decoded line by line."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8 = [_utf8_text(line) is not None for line in lines]
    legacy = [i for i, ok in enumerate(utf8) if not ok]
    try:
        if any(ok and not line.isascii() for ok, line in zip(utf8, lines, strict=True)):
            log.warning("mixed encodings: %d of %d lines are not UTF-8; read as Windows-1258",
                        len(legacy), len(lines))  # fmt: skip
            text = "\n".join(
                line.decode("utf-8") if ok else from_cp1258_bytes(line)
                for ok, line in zip(utf8, lines, strict=True)
            )
        else:
            text = from_cp1258_bytes(data)  # cp1258 spells tones as combining marks: made NFC
    except UnicodeDecodeError as exc:
        line = 1 + data[: exc.start].count(b"\n") if exc.object is data else 1 + legacy[0]
        raise ReadError(f"line {line} is neither UTF-8 nor Windows-1258 text: the file is "
                        "damaged or in another encoding; save it as 'CSV UTF-8'") from exc  # fmt: skip
    return text, text.encode("utf-8")


def _utf8_text(data: bytes) -> str | None:
    """The bytes as UTF-8 text; None when they are not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def check_text(data: bytes) -> None:
    """A ``ReadError`` saying what the bytes are when they are not CSV text a person can fix by
    saving again: UTF-16 (Excel's "Unicode Text"), a workbook renamed ``.csv`` is read as one."""
    head = data[:512]
    odd, even = head[1::2].count(b"\x00"), head[0::2].count(b"\x00")
    # UTF-16 without a BOM: ASCII characters leave a NUL in every other byte.
    alternating = len(head) >= 8 and max(odd, even) > len(head) // 4 and min(odd, even) <= 2
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or alternating:
        raise ReadError("the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8 CSV: save "
                        "it as 'CSV UTF-8 (comma delimited)' and send it again")  # fmt: skip


def _sniff_separator(text: str) -> str:
    """``;`` or ``,``: whichever occurs more in the header line outside quotes."""
    header = re.sub(r'"[^"]*"', "", text[:_CSV_HEAD].split("\n", 1)[0])
    return ";" if header.count(";") > header.count(",") else ","


def read_csv(data: bytes, known: frozenset[str] = frozenset()) -> tuple[pa.Table, list | None]:
    """A CSV whose header is the first non-empty line, or a later one among the first lines when
    title lines sit above it (as :func:`header_row` decides for a sheet); ``src_row`` counts
    data rows from 1 either way."""
    check_text(data)
    skip = len(BOM) if data.startswith(BOM) else 0  # the body starts there: no copy of it
    head = data[skip : skip + _CSV_HEAD]
    try:  # UTF-8 (the usual case): parse the bytes as they are, no decoded copy of the file
        head_text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
    except UnicodeDecodeError:
        head_text = None
    if head_text is not None:
        header, sep, start = _locate_header(head_text, known)
        try:
            first_row = skip + len(head_text[:start].encode("utf-8"))
            table = _read_csv_fast(data, header, sep, first_row)
            # only a quoted value can hold a line break: no quote, no scan of every column
            if data.find(b'"', skip) < 0 or not (spans := _spans_lines(table)):
                return table, None
            # A value spans lines: when the whole file is UTF-8 (else _checked raises
            # ArrowInvalid) its text is what _decode gives and the table what the path below
            # parses again; check it as that path does, on the bytes (no decoded copy).
            # The first _CSV_HEAD characters are within 4 bytes each: complete.
            text_head = data[skip : skip + 4 * _CSV_HEAD].decode("utf-8", "ignore")[:_CSV_HEAD]
            if _locate_header(text_head, known) == (header, sep, start):
                rows = pa.py_buffer(data).slice(first_row)
                return _checked(table, rows, sep, header, spans)
        except pa.ArrowInvalid:  # invalid UTF-8 further on, or ragged rows
            # (not the error text: Arrow quotes the offending row, personal data included)
            log.debug("fast CSV path failed; decoding the whole file")
    text, utf8 = _decode(data)
    header, sep, start = _locate_header(text[:_CSV_HEAD], known)
    try:
        return _checked(_read_csv_fast(utf8, header, sep, len(text[:start].encode("utf-8"))),
                        text[start:], sep, header)  # fmt: skip
    except pa.ArrowInvalid:
        log.debug("fast CSV path failed; reading line by line")
        table, errors = read_csv_lines(text[start:], sep, len(header))
    return table.rename_columns(header), errors


def _spans_lines(table: pa.Table) -> bool:
    """Whether a value of the table holds a line break."""
    return any(pc.any(pc.match_substring(column, "\n")).as_py() for column in table.columns)


def _checked(
    table: pa.Table, rows: str | pa.Buffer, sep: str, header: list[str], spans: bool | None = None
) -> tuple[pa.Table, list | None]:
    """The fast path's table, unless a value spans lines because a quote was left open: then
    the file read line by line (``read_csv_lines``), where that row is flagged and the records
    it would have swallowed are rows of their own. ``rows``: the text from the first data row,
    or its UTF-8 bytes (``pa.ArrowInvalid`` when they are not UTF-8); ``spans``: whether a
    value holds a line break, when already known."""
    if spans is None:
        spans = _spans_lines(table)
    if not spans or not _unterminated_quote(rows, sep, len(header)):
        return table, None
    text = rows if isinstance(rows, str) else rows.to_pybytes().decode("utf-8")
    lines, errors = read_csv_lines(text, sep, len(header))
    return lines.rename_columns(header), errors


def _unterminated_quote(text: str | pa.Buffer, sep: str, width: int) -> bool:
    """Whether :func:`read_csv_lines` would give a row the ``unterminated quote`` error, without
    splitting every line into fields: only a line whose quotes do not balance can get it, and
    every balanced line it meets on the way is a row of its own, so it goes from one unbalanced
    line to the next (a file with quoted line breaks is read at pyarrow's speed). The lines'
    quotes are counted from one scan of the bytes (``TextLines``); only the lines the walk
    visits become Python text."""
    lines = TextLines(text)
    at = 0
    for i in lines.unbalanced():
        if i < at:  # taken into the value of the record before it
            continue
        joined, at = _joined(lines, i + 1, lines[i], sep, width)
        if joined is None:
            return True
    return False


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
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8).slice(start)), **arrow_csv_options(len(header), sep)
    )
    return table.rename_columns(header)


def arrow_csv_options(width: int, sep: str) -> dict:
    """pyarrow's CSV options for the data rows under a header of ``width`` cells: columns
    ``c0``, ``c1``, ... (renamed to the header after), every value a string, an empty one null,
    line breaks allowed in quoted values."""
    names = [f"c{i}" for i in range(width)]
    return {
        "read_options": pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        "parse_options": pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


UNTERMINATED = "unterminated quote"


def read_csv_lines(text: str, sep: str, width: int) -> tuple[pa.Table, list]:
    """Line by line: a quoted value may go on over the next lines until its quote closes,
    unless one of those lines is a whole record on its own: then the quote was left open, the
    row is kept as its line reads with ``unterminated quote`` as its read error, and the next
    lines are rows of their own. Rows with too many or too few fields are cut or padded and
    get a read error. Blank lines are not rows."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    fixed, errors = [], []
    at = 0
    while at < len(lines):
        line = lines[at]
        at += 1
        if not line.strip():
            continue
        error = None
        if _balanced(line):
            row = _fields(line, sep)
        else:
            joined, end = _joined(lines, at, line, sep, width)
            if joined is not None:
                row, at = _fields(joined, sep), end
            else:
                row, error = _fields(line, sep), f"{UNTERMINATED}: the next lines were read as rows"
        if len(row) != width:
            error = error or f"{len(row)} fields, expected {width}"
            row = (row + [""] * width)[:width]
        fixed.append(row)
        errors.append(error)
    columns = list(zip(*fixed, strict=True)) if fixed else [()] * width
    arrays = [pa.array(col, pa.string()) for col in columns]
    return pa.table(arrays, names=[f"c{i}" for i in range(width)]), errors


def _balanced(text: str) -> bool:
    return text.count('"') % 2 == 0


# Stands in for a carriage return while one line is split into fields (Python's csv reader
# refuses one outside quotes): a noncharacter, never in text.
_CR = "\U0010fffe"


def _fields(line: str, sep: str) -> list[str]:
    fields = next(csv.reader([line.replace("\r", _CR)], delimiter=sep), [])
    return [field.replace(_CR, "\r") for field in fields]


def _joined(lines: list[str], at: int, line: str, sep: str, width: int):
    """``line`` and the lines after it up to where its quote closes, and the index after them;
    None when ``line`` and a line on the way are each a whole record by themselves (the quote
    was never closed). A short ``line`` is the start of a record whose value spans lines: the
    line after it may then hold a record's count of fields by chance (the value goes on past the
    line break, and a later value of the same record opens another quoted line break)."""
    joined = line
    opens_whole_record = len(_fields(line, sep)) == width
    while at < len(lines) and not _balanced(joined):
        following = lines[at]
        whole = _balanced(following) and len(_fields(following, sep)) == width
        if opens_whole_record and whole:
            return None, at
        joined += "\n" + following
        at += 1
    if not _balanced(joined):
        return None, at
    fields = _fields(joined, sep)
    spanning = [value.split("\n", 1)[1] for value in fields if "\n" in value]
    # A value whose later lines hold half a record's separators is records swallowed whole.
    swallowed = any(part.count(sep) >= max(2, (width - 1) // 2) for part in spanning)
    if len(fields) == width and not swallowed:
        return joined, at
    return None, at
