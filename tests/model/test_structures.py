"""LRU queues and the XArray depth model."""

from __future__ import annotations

import numpy as np

from swaptui.model.lru import LruList, new_lru
from swaptui.model.memmap import new_memmap
from swaptui.model.xarray import XArrayForest, xa_height


def test_lru_is_fifo_with_removal_and_tail_rotation() -> None:
    mm = new_memmap(100)
    lru = LruList(0, mm, new_lru())
    lru.add(np.arange(10))
    lru.remove(np.array([0, 3]))
    assert len(lru) == 8
    assert lru.isolate_tail(3).tolist() == [1, 2, 4]
    lru.add(np.array([1]))  # back at the head
    lru.add_tail(np.array([50, 51]))  # rotated to the tail: reclaimed next
    assert lru.isolate_tail(2).tolist() == [50, 51]
    lru.add(np.arange(20, 60))
    assert lru.live_tail_to_head().tolist() == [5, 6, 7, 8, 9, 1, *list(range(20, 60))]
    assert len(lru) == 46


def test_xa_height() -> None:
    assert [xa_height(x) for x in (0, 1, 63, 64, 4095, 4096, 2**18 - 1, 2**18)] == [0, 1, 1, 2, 2, 3, 3, 4]


def test_swap_cache_trees_are_three_levels_once_an_index_passes_4096() -> None:
    xa = XArrayForest(1 << 16, 14, masked=True)
    xa.insert(np.array([5]))
    assert xa.lookup_hops(np.array([5])).tolist() == [1]
    xa.insert(np.array([100]))
    assert xa.lookup_hops(np.array([5])).tolist() == [2]
    xa.insert(np.array([5000, (1 << 14) + 7]))  # tree 0 grows to 3 levels; tree 1 holds index 7
    assert xa.lookup_hops(np.array([5, (1 << 14) + 7])).tolist() == [3, 1]
    xa.erase(np.array([5000]))
    assert xa.lookup_hops(np.array([5])).tolist() == [2]
    assert xa.node_count() >= 2
