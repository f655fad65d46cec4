"""Candidate pairs from blocking rules: sorted-key equi-joins and near-ID lookups (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.block_index import NearIdIndex, RuleIndex, build_index, build_near_id_index
from matching.config import BlockingRule
from matching.prepare import Prepared

POW10 = 10 ** np.arange(11, -1, -1, dtype=np.int64)  # place value of each of the 12 digits
_CHUNK = 50_000
_DIGITS = np.arange(10, dtype=np.int64)
_BITMAP = 1 << 26  # 64 MB of bools: ~1.5% false positives for 1M IDs


@dataclass
class Blocked:
    """A rule's candidate pairs; rows whose block was over the cap and split, or skipped."""

    left: np.ndarray
    right: np.ndarray
    skipped_rows: int = 0
    split_rows: int = 0


def _index(prep: Prepared, right_columns: tuple[str, ...]) -> RuleIndex:
    """The register side of a key, built once per register (``prep.register_cache``); rules
    keyed alike on the register's side share it."""
    key = ("equi", right_columns)
    if key not in prep.register_cache:
        prep.register_cache[key] = build_index([prep.right[right] for right in right_columns])
    return prep.register_cache[key]


def equi_join(
    left_key: np.ndarray, index: RuleIndex, rows: np.ndarray, max_block_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (left row, register row) with equal keys, for the left ``rows`` given.

    Returns the pairs and the left rows whose block exceeded ``max_block_size`` (no pairs).
    """
    rows = rows[left_key[rows] >= 0]
    keys = left_key[rows]
    start = np.searchsorted(index.sorted_keys, keys, side="left")
    count = np.searchsorted(index.sorted_keys, keys, side="right") - start
    over = rows[:0]
    if max_block_size is not None:
        too_big = count > max_block_size
        over = rows[too_big]
        count[too_big] = 0
    total = int(count.sum())
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    pointer = np.repeat(start, count) + offsets
    return np.repeat(rows, count), index.sorted_rows[pointer].astype(np.int64), over


def _split_join(prep: Prepared, rule: BlockingRule, rows: np.ndarray) -> Blocked:
    """The rule's pairs; rows over the cap tried again with each further ``split_on`` key."""
    keys = list(rule.keys)
    lefts, rights, split_rows = [], [], 0
    for extra in (None, *(rule.split_on or ())):
        if extra is not None:
            keys.append((extra, extra))
            split_rows = split_rows or len(rows)  # the rows over the cap before any split
        index = _index(prep, tuple(right for _, right in keys))
        left_key = index.left_key([prep.left[left] for left, _ in keys])
        left, right, rows = equi_join(left_key, index, rows, rule.max_block_size)
        lefts.append(left)
        rights.append(right)
        if len(rows) == 0:
            break
    if len(lefts) == 1:
        return Blocked(lefts[0], rights[0], len(rows), 0)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    order = np.argsort(left, kind="stable")  # row by row, as one join gives them
    return Blocked(left[order], right[order], len(rows), split_rows)


def _id_variants(ids: np.ndarray) -> np.ndarray:
    """Every 12-digit number one substituted digit or one adjacent swap away (n x 131)."""
    digits = (ids[:, None] // POW10) % 10
    out = np.empty((len(ids), 12 * 10 + 11), dtype=np.int64)
    # Every digit position set to every value (includes the ID itself: harmless).
    subs = out[:, :120]
    subs.shape = (len(ids), 12, 10)  # a view of ``out`` (raises rather than copy)
    np.subtract(_DIGITS[None, None, :], digits[:, :, None], out=subs)
    subs *= POW10[None, :, None]
    subs += ids[:, None, None]
    a, b = digits[:, :-1], digits[:, 1:]
    out[:, 120:] = ids[:, None] + (b - a) * (POW10[:-1] - POW10[1:])
    return out


def near_id_join(
    left_ids: np.ndarray, index: NearIdIndex, n_right: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose 12-digit IDs differ by one digit or one adjacent swap (not equal ones)."""
    sorted_ids, sorted_rows, bits = index.sorted_ids, index.sorted_rows, index.bits
    rows = rows[left_ids[rows] >= 0]
    out_left, out_right = [], []
    if len(sorted_ids) == 0:
        rows = rows[:0]
    # A bitmap of the register IDs' hashes rules out most variants with one gather: only the
    # few that pass are looked up (binary search) in the sorted IDs.
    for begin in range(0, len(rows), _CHUNK):
        chunk = rows[begin : begin + _CHUNK]
        ids = left_ids[chunk]
        variants = _id_variants(ids)
        maybe = bits[variants & (_BITMAP - 1)] & (variants != ids[:, None])
        which, column = np.nonzero(maybe)
        found = variants[which, column]
        position = np.minimum(np.searchsorted(sorted_ids, found), len(sorted_ids) - 1)
        hit = sorted_ids[position] == found
        out_left.append(chunk[which[hit]])
        out_right.append(sorted_rows[position[hit]].astype(np.int64))
    if not out_left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left, right = np.concatenate(out_left), np.concatenate(out_right)
    unique = np.unique(left * n_right + right)  # a swap can also be a substitution
    return unique // n_right, unique % n_right


def block(prep: Prepared, rule: BlockingRule, rows: np.ndarray) -> Blocked:
    """Candidate pairs of one rule for the given extract rows, and the rows split or skipped."""
    if len(rows) == 0 or prep.n_right == 0:
        return Blocked(np.empty(0, np.int64), np.empty(0, np.int64))
    if rule.kind == "near_id":
        ((left_column, right_column),) = rule.keys
        key = ("near_id", right_column)
        if key not in prep.register_cache:
            prep.register_cache[key] = build_near_id_index(prep.right[right_column], _BITMAP)
        index = prep.register_cache[key]
        return Blocked(*near_id_join(prep.left[left_column], index, prep.n_right, rows))
    return _split_join(prep, rule, rows)
