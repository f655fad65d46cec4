"""Candidate pairs from blocking rules: sorted-key equi-joins and near-ID lookups (numpy only)."""

from __future__ import annotations

import numpy as np

from matching.config import BlockingRule
from matching.prepare import Prepared

POW10 = 10 ** np.arange(11, -1, -1, dtype=np.int64)  # place value of each of the 12 digits
_CHUNK = 50_000
_DIGITS = np.arange(10, dtype=np.int64)
_BITMAP = 1 << 26  # 64 MB of bools: ~1.5% false positives for 1M IDs


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
    # A bitmap of the register IDs' hashes rules out most variants with one gather: only the
    # few that pass are looked up (binary search) in the sorted IDs.
    bits = np.zeros(_BITMAP, dtype=bool)
    bits[sorted_ids & (_BITMAP - 1)] = True
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
