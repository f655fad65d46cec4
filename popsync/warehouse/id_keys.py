"""Person IDs made unique, sorted and looked up in Arrow, as 64-bit integers when they are all
the register's 12-digit numbers: a status refresh hashes millions of IDs, and an integer hashes
and sorts several times faster than a string (at 1M, ``bench/status.py``). Every 12-digit string
is one integer and back (zero-padded), and sorts as its integer does, so the answers are the
strings' own; any other ID set takes the string path."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

WIDTH = 12  # digits of a so_dinh_danh (the 12-digit personal ID number)


def sorted_unique(values) -> pa.Array:
    """The distinct non-null IDs of ``values``, sorted (as strings sort)."""
    values = _combined(values).drop_null()
    numbers = _numbers(values)
    if numbers is None:
        found = pc.unique(values)
        return found.take(pc.sort_indices(found))
    found = pc.unique(numbers)
    return _strings(found.take(pc.sort_indices(found)))


def sort_indices(values: pa.Array) -> pa.Array:
    """The order that sorts ``values`` (IDs, no null) as strings sort."""
    numbers = _numbers(values)
    return pc.sort_indices(values if numbers is None else numbers)


def positions(values, keys: pa.Array):
    """The position of each of ``values`` among ``keys`` (distinct IDs), null when absent (an
    Arrow array, chunked as ``values`` are)."""
    values = _combined(values)
    numbers = _numbers(keys)
    if numbers is None:
        return pc.index_in(values, value_set=keys)
    taken = pc.if_else(_twelve_digits(values), values, pa.scalar(None, pa.string()))
    return pc.index_in(pc.cast(taken, pa.int64()), value_set=numbers)


def _numbers(values):
    """``values`` (no null) as int64 when every one is 12 ASCII digits, else None."""
    if values.null_count or not pc.all(_twelve_digits(values)).as_py():
        return None
    return pc.cast(values, pa.int64())


def _twelve_digits(values):
    return pc.and_(pc.equal(pc.binary_length(values), WIDTH), pc.ascii_is_decimal(values))


def _strings(numbers: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(numbers, pa.string()), WIDTH, "0")


def _combined(values):
    """``values`` as Arrow strings, in their chunks (joining them would copy every ID)."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, pa.string())
    return values.cast(pa.string()) if values.type != pa.string() else values
