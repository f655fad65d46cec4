"""Person IDs hashed as integers (``id_keys``) give the strings' own answers: the same distinct
IDs in the same order, the same positions, with leading zeros, IDs of other shapes among the
values looked up, nulls, and a key set that is not all 12-digit (the string path)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from popsync.warehouse import id_keys


def _as_strings_do(values, keys):
    unique = pc.unique(pa.chunked_array(values, pa.string()).combine_chunks().drop_null())
    return unique.take(pc.sort_indices(unique)), pc.index_in(
        pa.chunked_array(values, pa.string()).combine_chunks(), value_set=keys
    )


@pytest.mark.parametrize("odd_key", [None, "P-17", "12345678901", "٣12345678901"])
def test_the_integer_path_answers_as_the_strings_do(odd_key):
    rng = np.random.default_rng(5)
    ids = [f"{n:012d}" for n in rng.integers(0, 2 * 10**9, 3000)]  # leading zeros
    ids += ["000000000000", "999999999999"]
    keys_list = sorted(set(ids[:2000]) | ({odd_key} if odd_key else set()))
    keys = pa.array(keys_list, pa.string())
    # Values to look up: known IDs, unknown 12-digit ones, other shapes, nulls; in chunks.
    others = ["12345678901", "1234567890123", "٣12345678901", "12345678901a", "", None, "P-17"]
    values = [ids[1000:], others, ids[:1500]]
    expected_unique, expected_at = _as_strings_do(values, keys)
    chunked = pa.chunked_array(values, pa.string())
    assert id_keys.sorted_unique(chunked).equals(expected_unique)
    assert _whole(id_keys.positions(chunked, keys)).equals(expected_at)
    numeric = id_keys.sorted_unique(pa.array(ids))
    assert numeric.to_pylist() == sorted(set(ids))


def test_empty_and_all_null():
    empty = pa.chunked_array([], pa.string())
    assert id_keys.sorted_unique(empty).to_pylist() == []
    assert id_keys.sorted_unique(pa.array([None, None], pa.string())).to_pylist() == []
    keys = pa.array(["001090000001"])
    found = id_keys.positions(pa.array([None, "001090000001"], pa.string()), keys)
    assert found.to_pylist() == [None, 0]


def _whole(values):
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


@pytest.mark.parametrize("odd_key", [None, "P-17"])
def test_sort_indices_sort_as_the_strings_sort(odd_key):
    rng = np.random.default_rng(6)
    ids = [f"{n:012d}" for n in rng.permutation(2 * 10**6)[:2000] * 499_999] + (
        [odd_key] if odd_key else []
    )
    values = pa.array(ids, pa.string())
    assert values.take(id_keys.sort_indices(values)).to_pylist() == sorted(ids)
