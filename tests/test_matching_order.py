"""The candidate order of ``matching.scoring``: by extract row, best score first, ties by
register row, as ``np.lexsort((ri, -score, li))`` gives it."""

import numpy as np

from matching.scoring import _best_first


def test_best_first_is_the_lexsort_order_with_ties_and_duplicates():
    rng = np.random.default_rng(5)
    n, n_right = 20_000, 300
    li = rng.integers(0, 2_000, n)
    ri = rng.integers(0, n_right, n)  # some (li, ri) pairs repeat: kept in input order
    score = rng.integers(-30, 30, n).astype(np.float64) / 2  # many ties within a row
    score[:50] = -0.0
    score[50:100] = 0.0
    by_row = np.argsort(li * n_right + ri, kind="stable")
    expected = np.lexsort((ri, -score, li))
    np.testing.assert_array_equal(_best_first(by_row, li, score), expected)


def test_best_first_of_no_pairs():
    empty = np.empty(0, np.int64)
    assert len(_best_first(empty, empty, np.empty(0))) == 0
