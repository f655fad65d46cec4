"""Candidate pairs from blocking rules: sorted-key equi-joins and near-ID lookups (numpy only)."""

from __future__ import annotations

import numpy as np

from matching.config import BlockingRule
from matching.prepare import Prepared

_POW10 = 10 ** np.arange(11, -1, -1, dtype=np.int64)  # place value of each of the 12 digits
_CHUNK = 50_000


def _dense(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes for two key columns over their union; -1 stays null."""
    both = np.concatenate([left, right])
    valid = both >= 0
    codes = np.full(len(both), -1, dtype=np.int64)
    codes[valid] = np.unique(both[valid], return_inverse=True)[1]
    return codes[: len(left)], codes[len(left) :]


def rule_keys(prep: Prepared, rule: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per row and side for a rule (-1 when any part is null).

    Parts are combined as mixed-radix numbers; the key is re-coded densely only when the next
    part could overflow int64 (factorized string codes and years are small already).
    """
    left_key = right_key = None
    for left_column, right_column in rule.keys:
        lk, rk = prep.left[left_column], prep.right[right_column]
        if left_key is None:
            left_key, right_key = lk, rk
            continue
        width = max(int(lk.max(initial=-1)), int(rk.max(initial=-1))) + 1
        top = max(int(left_key.max(initial=-1)), int(right_key.max(initial=-1))) + 1
        if top * width >= 2**62:
            left_key, right_key = _dense(left_key, right_key)
            lk, rk = _dense(lk, rk)
            width = max(int(lk.max(initial=-1)), int(rk.max(initial=-1))) + 1
        left_key = np.where((left_key >= 0) & (lk >= 0), left_key * width + lk, -1)
        right_key = np.where((right_key >= 0) & (rk >= 0), right_key * width + rk, -1)
    return left_key, right_key


def equi_join(
    left_key: np.ndarray, right_key: np.ndarray, rows: np.ndarray, max_block_size: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs (left row, right row) with equal keys, for the left ``rows`` given.

    Returns the pairs and the number of left rows whose block exceeded ``max_block_size``.
    """
    right_rows = np.nonzero(right_key >= 0)[0]
    order = np.argsort(right_key[right_rows], kind="stable")
    sorted_keys = right_key[right_rows][order]
    sorted_rows = right_rows[order]
    rows = rows[left_key[rows] >= 0]
    keys = left_key[rows]
    start = np.searchsorted(sorted_keys, keys, side="left")
    count = np.searchsorted(sorted_keys, keys, side="right") - start
    skipped = 0
    if max_block_size is not None:
        too_big = count > max_block_size
        skipped = int(too_big.sum())
        count[too_big] = 0
    total = int(count.sum())
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    pointer = np.repeat(start, count) + offsets
    return np.repeat(rows, count), sorted_rows[pointer], skipped


def _id_variants(ids: np.ndarray) -> np.ndarray:
    """Every 12-digit number one substituted digit or one adjacent swap away (n x 119)."""
    digits = (ids[:, None] // _POW10) % 10
    substitutions = []
    for position in range(12):
        shift = (np.arange(10)[None, :] - digits[:, position : position + 1]) * _POW10[position]
        substitutions.append(ids[:, None] + shift)
    subs = np.concatenate(substitutions, axis=1)  # includes the ID itself (shift 0): harmless
    a, b = digits[:, :-1], digits[:, 1:]
    swaps = ids[:, None] + (b - a) * _POW10[:-1] + (a - b) * _POW10[1:]
    return np.concatenate([subs, swaps], axis=1)


def near_id_join(
    left_ids: np.ndarray, right_ids: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose 12-digit IDs differ by one digit or one adjacent swap (not equal ones)."""
    right_rows = np.nonzero(right_ids >= 0)[0]
    order = np.argsort(right_ids[right_rows])
    sorted_ids = right_ids[right_rows][order]
    sorted_rows = right_rows[order]
    rows = rows[left_ids[rows] >= 0]
    out_left, out_right = [], []
    if len(sorted_ids) == 0:
        rows = rows[:0]
    for begin in range(0, len(rows), _CHUNK):
        chunk = rows[begin : begin + _CHUNK]
        ids = left_ids[chunk]
        variants = _id_variants(ids)
        position = np.minimum(np.searchsorted(sorted_ids, variants), len(sorted_ids) - 1)
        hit = (sorted_ids[position] == variants) & (variants != ids[:, None])
        which, _ = np.nonzero(hit)
        out_left.append(chunk[which])
        out_right.append(sorted_rows[position[hit]])
    if not out_left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left, right = np.concatenate(out_left), np.concatenate(out_right)
    unique = np.unique(left * len(right_ids) + right)  # a swap can also be a substitution
    return unique // len(right_ids), unique % len(right_ids)


def block(
    prep: Prepared, rule: BlockingRule, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Candidate pairs of one rule for the given extract rows, and the rows skipped."""
    if len(rows) == 0 or prep.n_right == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    if rule.kind == "near_id":
        ((left_column, right_column),) = rule.keys
        left, right = near_id_join(prep.left[left_column], prep.right[right_column], rows)
        return left, right, 0
    left_key, right_key = rule_keys(prep, rule)
    return equi_join(left_key, right_key, rows, rule.max_block_size)
