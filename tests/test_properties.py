"""Properties of the readers and standardizers on generated hostile input (issue 11): no
crash (only a ``ReadError`` naming the problem), and no row lost: a valid CSV gives back every
record with its values; a damaged one gives every row it reads a standardized row, those it
could not parse flagged ``row:parse_error`` (quarantined by the pre-link rules). The slow
variants cover 100,000 generated rows and files together; the default suite runs a smaller
share of the same properties."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popsync.core.sources import spec_of
from transforms.readers import ReadError, read_source
from transforms.readers.delimited import UNTERMINATED, _unterminated_quote, read_csv_lines
from transforms.standardize import standardize

SPEC = spec_of("tiem_chung")
HEADER = [labels[0] for labels in SPEC.columns.values()]
# What extracts hold, and what hostile ones add: quotes, separators, line breaks of every
# kind, NUL, BOM, formulas, minus signs, long digit runs, mojibake, emoji.
HOSTILE = ['"', ",", ";", "\n", "\r", "\r\n", "\x00", "\x85", "\u2028", "\u2029", "\ufeff",
           "=", "+", "-", "@", "−", "\t", "'", " ", "Mũi ", "1", "0", "9", "/", "SA", "CH",
           "Nguyễn", "Đ", "ữ", "Ã", "Â©", "🙂", "001", "1988", "31/02/2021", "AstraZeneca",
           "Hà Nội", "Phường", "=HYPERLINK(\"x\")", "9" * 40]  # fmt: skip
FAST = {"max_examples": 40, "deadline": None, "suppress_health_check": list(HealthCheck)}
SLOW = {"max_examples": 2000, "deadline": None, "suppress_health_check": list(HealthCheck)}

cell = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=6), max_size=6).map("".join)
record = st.lists(cell, min_size=len(HEADER), max_size=len(HEADER))


def _valid_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def _read(data: bytes, suffix=".csv") -> pd.DataFrame | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"tiem_chung{suffix}"
        path.write_bytes(data)
        try:
            return read_source(path, SPEC)
        except ReadError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error).strip()
            return None


def _standardized_every_row(frame: pd.DataFrame) -> None:
    std = standardize(frame, SPEC)
    assert len(std) == len(frame) and list(std["src_row"]) == list(frame["src_row"])
    unreadable = frame["read_error"].notna().to_numpy()
    assert std["flags"][unreadable].str.contains("row:parse_error").all()
    assert std["record_id"].isna().sum() == frame["record_id"].isna().sum()


def _kept(value: str) -> str | None:
    """A cell as the readers give it back: NUL removed, blank (whitespace only) is null."""
    value = value.replace("\x00", "")
    return None if not value.strip() else value


def check_valid_file(rows: list[list[str]]) -> None:
    """A valid CSV (every value quoted as needed) gives back every record and value."""
    rows = [row for row in rows if any(_kept(v) for v in row)]  # blank lines are not rows
    frame = _read(_valid_csv(rows))
    if frame is None:  # only a file the reader can name as wrong: a header it cannot find
        return
    assert len(frame) == len(rows)
    for column, field in enumerate(SPEC.columns):
        if field == "record_id":
            continue
        got = [None if pd.isna(v) else v for v in frame[field]]
        assert got == [_kept(row[column]) for row in rows], field
    _standardized_every_row(frame)


def check_damaged_file(rows: list[list[str]], cut: int, junk: bytes) -> None:
    """A file damaged anywhere (bytes cut and spliced): a ``ReadError`` or every row it reads
    standardized, the unreadable ones flagged."""
    data = _valid_csv(rows)
    at = cut % (len(data) + 1)
    frame = _read(data[:at] + junk + data[at:])
    if frame is not None:
        _standardized_every_row(frame)


def check_quote_verdict(rows: list[list[str]], cut: int, junk: bytes) -> None:
    """The reader's shortcut for a file with quoted line breaks finds an unterminated quote
    exactly when reading it line by line does (a quote or line break spliced in anywhere).
    Where the line reader fails (``csv.Error``, named by ``read_source``), the shortcut fails
    too or says True, which has the file read line by line, failing the same way."""
    data = _valid_csv(rows)
    at = cut % (len(data) + 1)
    text = (data[:at] + junk + data[at:]).decode("utf-8", "replace")
    try:
        _, errors = read_csv_lines(text, ",", len(HEADER))
        expected = any(error and error.startswith(UNTERMINATED) for error in errors)
    except csv.Error:
        expected = "fails"
    try:
        got = _unterminated_quote(text, ",", len(HEADER))
    except csv.Error:
        got = "fails"
    assert got in ("fails", True) if expected == "fails" else got == expected


def check_rows(rows: list[list[str]]) -> None:
    """The standardizers alone on hostile values: one standardized row per row, no crash."""
    frame = pd.DataFrame(rows, columns=list(SPEC.columns), dtype="string")
    frame = frame.mask(frame.apply(lambda c: c.str.strip().eq("")))
    frame.insert(0, "read_error", pd.array([None] * len(frame), dtype="string"))
    for name, value in (("source", "tiem_chung"), ("src_file", "x.csv"), ("src_sha256", "0")):
        frame.insert(0, name, value)
    frame.insert(0, "src_row", range(1, len(frame) + 1))
    _standardized_every_row(frame)


files = st.lists(record, min_size=1, max_size=50)
damage = st.binary(max_size=8) | st.sampled_from([b'"', b'\n"', b"\x00", b"\xff\xfe", b";;"])
batches = st.lists(record, min_size=1, max_size=1000)


@settings(**FAST)
@given(files)
def test_a_valid_hostile_csv_gives_back_every_record(rows):
    check_valid_file(rows)


@settings(**FAST)
@given(files, st.integers(min_value=0), damage)
def test_a_damaged_csv_is_read_or_named_never_a_crash(rows, cut, junk):
    check_damaged_file(rows, cut, junk)


@settings(**{**FAST, "max_examples": 150})
@given(files, st.integers(min_value=0), damage | st.sampled_from([b'"\n', b'\n"\n', b',"']))
def test_the_unterminated_quote_shortcut_agrees_with_the_line_reader(rows, cut, junk):
    check_quote_verdict(rows, cut, junk)


@settings(**FAST)
@given(st.lists(record, min_size=1, max_size=200))
def test_hostile_values_are_standardized_row_for_row(rows):
    check_rows(rows)


@pytest.mark.slow
@settings(**SLOW)
@given(files)
def test_slow_valid_hostile_files(rows):
    check_valid_file(rows)


@pytest.mark.slow
@settings(**SLOW)
@given(files, st.integers(min_value=0), damage)
def test_slow_damaged_files(rows, cut, junk):
    check_damaged_file(rows, cut, junk)


@pytest.mark.slow
@settings(**{**SLOW, "max_examples": int(os.environ.get("POPSYNC_PROPERTY_BATCHES", "100"))})
@given(batches)
def test_slow_hostile_rows(rows):
    check_rows(rows)
