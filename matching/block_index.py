"""The register side of a blocking rule, keyed and sorted once per register.

Linking a chunk of extract rows used to key and sort the whole register for every rule
(11 sorts of every register row per chunk): the cost of a chunk grew with the register, and
the cost of a run with rows x register. A ``RuleIndex`` holds one rule's register keys in
sorted order; an extract row's key is built with the register's radices (a value the
register never holds cannot match and becomes null), so one index serves every chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Combined keys stay below this (int64 with room to spare).
_LIMIT = 2**62


@dataclass
class _Step:
    """How one key part is folded in: the accumulated key is re-coded densely (``recode``:
    the register's sorted distinct values) before it when the product would overflow."""

    width: int
    recode_key: np.ndarray | None
    recode_part: np.ndarray | None


@dataclass
class RuleIndex:
    steps: list[_Step]
    sorted_keys: np.ndarray  # int64, register rows with a key, ascending
    sorted_rows: np.ndarray  # their row numbers, int32 (stable: ascending within a key)

    def left_key(self, parts: list[np.ndarray]) -> np.ndarray:
        """The extract rows' keys on the register's scale (-1: null or no register match)."""
        key = parts[0].copy()
        key[key >= self.steps[0].width] = -1
        for step, part in zip(self.steps[1:], parts[1:], strict=True):
            if step.recode_key is not None:
                key = _codes_in(key, step.recode_key)
            if step.recode_part is not None:
                part = _codes_in(part, step.recode_part)
            ok = (key >= 0) & (part >= 0) & (part < step.width)
            key = np.where(ok, key * step.width + part, -1)
        return key


def _codes_in(values: np.ndarray, uniques: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted ``uniques``; -1 where absent or null."""
    if len(uniques) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    position = np.minimum(np.searchsorted(uniques, values), len(uniques) - 1)
    return np.where((values >= 0) & (uniques[position] == values), position, -1)


def build_index(parts: list[np.ndarray]) -> RuleIndex:
    """Key the register rows on ``parts`` (one int64 column per key part, -1 null) and sort."""
    key = parts[0]
    steps = [_Step(int(key.max(initial=-1)) + 1, None, None)]
    for part in parts[1:]:
        width = int(part.max(initial=-1)) + 1
        top = int(key.max(initial=-1)) + 1
        recode_key = recode_part = None
        if top * width >= _LIMIT:
            recode_key = np.unique(key[key >= 0])
            recode_part = np.unique(part[part >= 0])
            key, part = _codes_in(key, recode_key), _codes_in(part, recode_part)
            width = len(recode_part)
        key = np.where((key >= 0) & (part >= 0), key * width + part, -1)
        steps.append(_Step(width, recode_key, recode_part))
    rows = np.nonzero(key >= 0)[0]
    order = np.argsort(key[rows], kind="stable")
    return RuleIndex(steps, key[rows][order], _compact(rows[order]))


def _compact(rows: np.ndarray) -> np.ndarray:
    """Row numbers in 4 bytes when they fit (the index is held for the process's life)."""
    return rows.astype(np.int32) if len(rows) and rows.max() < 2**31 else rows


@dataclass
class NearIdIndex:
    """Register 12-digit IDs sorted, and a bitmap of their hashes (rules most variants out)."""

    sorted_ids: np.ndarray
    sorted_rows: np.ndarray
    bits: np.ndarray


def build_near_id_index(ids: np.ndarray, bitmap_size: int) -> NearIdIndex:
    rows = np.nonzero(ids >= 0)[0]
    order = np.argsort(ids[rows])
    sorted_ids = ids[rows][order]
    bits = np.zeros(bitmap_size, dtype=bool)
    bits[sorted_ids & (bitmap_size - 1)] = True
    return NearIdIndex(sorted_ids, _compact(rows[order]), bits)
