"""popsync.core.collector: fewer collector passes inside, the collector as it was after."""

from __future__ import annotations

import gc

import pytest

from popsync.core.collector import YOUNG_THRESHOLD, fewer_collections


def test_objects_made_before_are_left_out_and_everything_is_restored():
    before = gc.get_threshold()
    kept = [[i] for i in range(1000)]
    with fewer_collections():
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_restored_when_the_command_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_cycles_made_inside_are_still_collected_after():
    class Node:
        pass

    with fewer_collections():
        node = Node()
        node.self = node
        count = sum(isinstance(o, Node) for o in gc.get_objects())
        del node
    gc.collect()
    assert sum(isinstance(o, Node) for o in gc.get_objects()) == count - 1
