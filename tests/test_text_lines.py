"""readers.lines.TextLines: the lines read_csv_lines splits, and those with odd quotes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from transforms.readers import lines as lines_module
from transforms.readers.lines import TextLines

TEXT = 'a;"b\r\nc";d\r\n\n"x""y";é"\n"đ\n"'


def _expected(text: str) -> tuple[list[str], list[int]]:
    split = [line.removesuffix("\r") for line in text.split("\n")]
    return split, [i for i, line in enumerate(split) if line.count('"') % 2]


@pytest.mark.parametrize("text", [TEXT, "", "no quotes\nat all", '"', "\n\n"])
def test_lines_and_unbalanced_match_a_split(text, monkeypatch):
    monkeypatch.setattr(lines_module, "_SCAN_BLOCK", 3)  # the scan crosses blocks
    split, odd = _expected(text)
    for source in (text, pa.py_buffer(text.encode("utf-8"))):
        lines = TextLines(source)
        assert [lines[i] for i in range(len(lines))] == split
        assert lines.unbalanced() == odd
        with pytest.raises(IndexError):
            lines[len(lines)]


def test_bytes_that_are_not_utf8_raise_arrow_invalid():
    with pytest.raises(pa.ArrowInvalid):
        TextLines(pa.py_buffer(b'ok\n"\xff"\n'))
