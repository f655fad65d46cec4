"""A digest of each person's status (``status_hash``): the warehouse stores it, and a person whose
digest changes goes into the next delta. It covers ``STATUS_FIELDS`` (not ``as_of``) and does not
depend on the dtypes the values come in, so a frame (``compute_status``) and the arrays the
warehouse writes (``status_arrays``) give the same digests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popsync.core.contracts import BOOL, DATE, INT, TEXT
from popsync.core.status import STATUS_FIELDS, days


def status_hash(frame: pd.DataFrame) -> pd.Series:
    """A signed 64-bit digest of each row's ``STATUS_FIELDS``, the same whatever the dtypes the
    values come in (int32 or int64, datetime64 of any unit, nullable or not)."""
    canonical = []
    for field, kind in STATUS_FIELDS.items():
        values = frame[field]
        if kind == DATE:
            canonical.append(days(values))
        elif kind == BOOL:
            canonical.append(values.astype("Int8").fillna(-1).to_numpy(dtype=np.int64))
        elif kind == INT:
            canonical.append(values.to_numpy(dtype=np.int64))
        else:
            canonical.append(_text_codes(values))
    return pd.Series(_fold(canonical), index=frame.index, name="status_hash")


def status_hash_arrays(out: dict[str, np.ndarray]) -> np.ndarray:
    """``status_hash`` of ``status_arrays``' output, without a frame: the same digests."""
    canonical = []
    for field, kind in STATUS_FIELDS.items():
        values = out[field]
        if kind == BOOL:
            canonical.append(pd.array(values, dtype="Int8").fillna(-1).to_numpy(dtype=np.int64))
        elif kind == TEXT:
            canonical.append(_text_codes(values))
        else:  # dates are int64 days already, NONE being NaT's own value
            canonical.append(np.asarray(values, dtype=np.int64))
    return _fold(canonical)


def _text_codes(values) -> np.ndarray:
    """Few distinct values: each hashed once, by its text (null -> -1)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hashed = pd.util.hash_array(np.asarray(uniques, dtype=object)).astype(np.int64)
    return np.append(hashed, -1)[codes]


def _fold(canonical: list[np.ndarray]) -> np.ndarray:
    """Each field's values hashed, then folded in order (FNV-style multiply and xor)."""
    n = len(canonical[0]) if canonical else 0
    digest = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for values in canonical:
        column = pd.util.hash_array(values.astype(np.int64))
        digest = (digest * np.uint64(0x100000001B3)) ^ column
    return digest.view(np.int64)
