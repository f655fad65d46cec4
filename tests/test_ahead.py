"""``one_ahead``: the results in order, the next item worked on while the caller holds the
current one (no more than one item ahead), errors raised where their result would come."""

from __future__ import annotations

import threading

import pytest

from popsync.core.ahead import one_ahead


def test_results_come_in_order_with_the_next_one_made_while_the_caller_holds_this_one():
    taken: list[int] = []
    next_started = threading.Event()

    def items():
        for item in range(5):
            taken.append(item)
            if item == 2:
                next_started.set()
            yield item

    seen = []
    for result in one_ahead(items(), lambda item: item * 10):
        if result == 10:  # item 2 is taken while the caller still holds item 1's result
            assert next_started.wait(timeout=10)
        assert len(taken) <= len(seen) + 2  # never more than one item ahead
        seen.append(result)
    assert seen == [0, 10, 20, 30, 40]


def test_an_error_is_raised_where_its_result_would_come():
    def work(item: int) -> int:
        if item == 2:
            raise ValueError("item 2")
        return item

    results = one_ahead(range(4), work)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="item 2"):
        next(results)
