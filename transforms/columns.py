"""Column helpers shared by the standardizers: work once per unique value, build flag/repair codes.

Flags and repairs are strings of ``;``-joined codes ``<field>:<reason>``, sorted and unique, ``""``
when there are none (DESIGN.md, standardized frame).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pd.StringDtype("pyarrow")


def arrow(values: pd.Series) -> pa.Array:
    """A string column as one contiguous Arrow array (no copy when it is one chunk already)."""
    array = pa.array(values.astype(STRING).array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    return array


def by_unique(values: pd.Series, func: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """Run ``func`` on the distinct values of ``values`` (null included) and spread it back to rows.

    An extract has far fewer distinct dates, phones or product names than rows, so this is the
    cheap way to apply a per-value rule; ``func`` gets a Series with a fresh RangeIndex and must
    return a frame with one row per value, in order.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    result = func(pd.Series(uniques, dtype=values.dtype))
    out = result.take(codes)
    out.index = values.index
    return out


def codes_from_masks(masks: Mapping[str, object], index: pd.Index) -> pd.Series:
    """One ``;``-joined code string per row from ``{code: boolean mask}`` (nulls count as False)."""
    names = sorted(masks)
    bits = np.zeros(len(index), np.int64)
    for i, name in enumerate(names):
        mask = pd.Series(masks[name], index=index).fillna(False).to_numpy(bool)
        bits |= mask.astype(np.int64) << i
    codes, uniques = pd.factorize(bits)
    labels = pa.array(
        [";".join(n for i, n in enumerate(names) if b >> i & 1) for b in uniques],
        pa.large_string(),
    )
    return pd.Series(pd.array(labels.take(codes), dtype=STRING), index=index)


def merge_codes(*parts: pd.Series) -> pd.Series:
    """Merge several code columns (same index) into one: sorted, unique, ``""`` when empty."""
    index = parts[0].index
    arrays = [pa.array(p.fillna("").astype(STRING).array).cast(pa.large_string()) for p in parts]
    joined = pd.Series(
        pd.array(
            pc.binary_join_element_wise(*arrays, pa.scalar(";", pa.large_string())), dtype=STRING
        ),
        index=index,
    )

    def normalize(unique: pd.Series) -> pd.DataFrame:
        return pd.DataFrame(
            {"codes": [";".join(sorted({c for c in text.split(";") if c})) for text in unique]},
            dtype=STRING,
        )

    return by_unique(joined, normalize)["codes"]
