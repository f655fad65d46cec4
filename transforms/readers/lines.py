"""The lines of a CSV's text as ``read_csv_lines`` splits them (at ``\\n``, a trailing ``\\r``
removed), found without splitting the text: the byte offsets of the line breaks and of the
quotes come from one numpy scan, and a line becomes Python text only when asked for."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# Bytes scanned at once: the scan's temporary arrays stay small for a file of any size.
_SCAN_BLOCK = 1 << 26


def byte_positions(data: memoryview, byte: int) -> np.ndarray:
    """Offsets of every ``byte`` in ``data``, ascending (int64)."""
    array = np.frombuffer(data, np.uint8)
    found = [
        np.flatnonzero(array[start : start + _SCAN_BLOCK] == byte) + start
        for start in range(0, len(array), _SCAN_BLOCK)
    ]
    return np.concatenate(found) if found else np.zeros(0, np.int64)


class TextLines:
    """Lines of a text (``str``, or UTF-8 bytes as a ``pa.Buffer``: checked, ``pa.ArrowInvalid``
    when they are not UTF-8, but not copied)."""

    def __init__(self, text: str | pa.Buffer):
        if isinstance(text, str):
            data = memoryview(text.encode("utf-8", "surrogatepass"))
        else:
            offsets = pa.array([0, text.size], pa.int64()).buffers()[1]
            pa.LargeStringArray.from_buffers(1, offsets, text).validate(full=True)
            data = memoryview(text)
        self._data = data
        self._breaks = byte_positions(data, ord("\n"))

    def __len__(self) -> int:
        return len(self._breaks) + 1

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = int(self._breaks[index - 1]) + 1 if index else 0
        end = int(self._breaks[index]) if index < len(self._breaks) else len(self._data)
        return bytes(self._data[start:end]).decode("utf-8", "surrogatepass").removesuffix("\r")

    def unbalanced(self) -> list[int]:
        """Indices of the lines with an odd number of quotes, ascending."""
        line_of_quote = np.searchsorted(self._breaks, byte_positions(self._data, ord('"')))
        lines, quotes = np.unique(line_of_quote, return_counts=True)
        return lines[quotes % 2 == 1].tolist()
