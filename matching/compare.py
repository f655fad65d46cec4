"""Comparison levels of candidate pairs, vectorized: one level index per pair and comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from matching.blocking import POW10
from matching.config import Comparison, Level
from matching.prepare import Prepared

NULL = -1
# String level kinds: scorer and how its value is compared with the level's threshold.
_STRING_TESTS = {
    "jaro_winkler": (JaroWinkler.normalized_similarity, np.greater_equal),
    "edit_distance_le": (OSA.distance, np.less_equal),
}


# |a - b| of a one-digit substitution is k * 10^p, of an adjacent swap k * 9 * 10^p: a cheap
# necessary test before the digit-wise one.
_NEAR_DIFFS = np.unique(
    np.concatenate(
        [
            np.outer(np.arange(1, 10), POW10).ravel(),
            np.outer(np.arange(9, 82, 9), POW10[1:]).ravel(),
        ]
    )
)


def ids_near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """12-digit IDs one substituted digit or one adjacent swap apart."""
    result = (a >= 0) & (b >= 0) & np.isin(np.abs(a - b), _NEAR_DIFFS)
    at = np.nonzero(result)[0]
    da = (a[at, None] // POW10) % 10
    db = (b[at, None] // POW10) % 10
    differ = da != db
    count = differ.sum(axis=1)
    swapped = (da[:, :-1] == db[:, 1:]) & (da[:, 1:] == db[:, :-1]) & differ[:, :-1] & differ[:, 1:]
    result[at] = (count == 1) | ((count == 2) & swapped.any(axis=1))
    return result


def one_digit_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative numbers that differ in exactly one decimal digit (1988/1989, 1978/1988)."""
    diff = np.abs(a - b)
    result = (a >= 0) & (b >= 0) & (diff > 0)
    at = np.nonzero(result)[0]
    da = (a[at, None] // POW10) % 10
    db = (b[at, None] // POW10) % 10
    result[at] = (da != db).sum(axis=1) == 1
    return result


class Comparer:
    """Computes level indices for pairs; Jaro-Winkler runs once per distinct value pair."""

    def __init__(self, prep: Prepared, comparisons: tuple[Comparison, ...]):
        self.prep = prep
        self.comparisons = comparisons

    def _pairwise(self, column: str, a: np.ndarray, b: np.ndarray, scorer) -> np.ndarray:
        vocab = self.prep.vocab[column]
        width = len(vocab)
        inverse, unique = pd.factorize(a * width + b)  # hashing: faster than sorting
        scores = cpdist(
            vocab[unique // width].tolist(),
            vocab[unique % width].tolist(),
            scorer=scorer,
            dtype=np.float32,
        )
        return scores[inverse]

    def _test(self, level: Level, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        a = self.prep.left[level.left_column][li]
        b = self.prep.right[level.right_column][ri]
        both = (a >= 0) & (b >= 0)
        if level.kind == "exact":
            hit = both & (a == b)
        elif level.kind in _STRING_TESTS:
            scorer, better = _STRING_TESTS[level.kind]
            hit = both.copy()
            if both.any():
                value = self._pairwise(level.left_column, a[both], b[both], scorer)
                hit[both] = better(value, level.threshold)
        elif level.kind == "id_near":
            hit = ids_near(a, b)
        elif level.kind == "one_digit":
            hit = one_digit_apart(a, b)
        else:  # abs_diff_le
            hit = both & (np.abs(a - b) <= level.threshold)
        for column in level.also_equal:
            hit &= self.prep.left[column][li] == self.prep.right[column][ri]
            hit &= self.prep.left[column][li] >= 0
        if level.if_either:
            hit &= (self.prep.left[level.if_either][li] > 0) | (
                self.prep.right[level.if_either][ri] > 0
            )
        return hit

    def levels(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """(pairs x comparisons) int8: level index, ``len(levels)`` for else, -1 for null."""
        out = np.empty((len(li), len(self.comparisons)), dtype=np.int8)
        for column, comparison in enumerate(self.comparisons):
            out[:, column] = self._levels(comparison, li, ri)
        return out

    def _testable(self, comparison: Comparison, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Pairs for which at least one level has its values on both sides."""
        out = np.zeros(len(li), dtype=bool)
        for level in comparison.levels:
            out |= (self.prep.left[level.left_column][li] >= 0) & (
                self.prep.right[level.right_column][ri] >= 0
            )
        return out

    def _levels(self, comparison: Comparison, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        result = np.full(len(li), len(comparison.levels), dtype=np.int8)
        null = ~self._testable(comparison, li, ri)
        for column in comparison.null_if_missing:
            null |= (self.prep.left[column][li] < 0) | (self.prep.right[column][ri] < 0)
        for column in comparison.null_unless_equal:
            a, b = self.prep.left[column][li], self.prep.right[column][ri]
            null |= (a >= 0) & (b >= 0) & (a != b)
        pending = np.nonzero(~null)[0]
        # Levels are tested in order on the pairs no earlier level took: fuzzy tests only
        # run where the exact ones failed.
        for index, level in enumerate(comparison.levels):
            if len(pending) == 0:
                break
            hit = self._test(level, li[pending], ri[pending])
            result[pending[hit]] = index
            pending = pending[~hit]
        result[null] = NULL
        return result
