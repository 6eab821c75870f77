"""The swap table (Kairui Song; 6.18 phase I, phase II semantics): the swap cache as per-cluster arrays.

Each cluster in use has a 512-entry table (8 bytes per entry = one page): lookup is the cluster
array index plus the table slot, two dependent loads and no tree walk; stores happen under the
cluster lock the allocator already holds, so no xa_lock. A table is allocated when a free cluster
is isolated for its first allocation and freed when the cluster empties (kernel-model.md §9).

Phase II: the swap cache is the only swap-in path. SYNC_IO devices (zram, pmem) no longer bypass
it: their folios are inserted into the cache (no readahead) and removed right after mapping, so
the slot is freed as before but each swap-in pays a table insert and delete.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.costs import CostTable
from swaptui.model.swap_state import SwapCacheBase
from swaptui.model.swapfile import SWAPFILE_CLUSTER
from swaptui.model.xarray import XArrayForest


class SwapTableCache(SwapCacheBase):
    """Per-cluster swap tables: depth-0 lookups, no XArray."""

    design = "swap_table"
    bypass_sync_io = False  # phase II: every swap-in goes through the swap cache

    def __init__(self, nr_slots: int, costs: CostTable) -> None:
        super().__init__(nr_slots, costs)
        self.nr_clusters = max(1, -(-nr_slots // SWAPFILE_CLUSTER))
        self.xa = XArrayForest(0, 14)  # the design's XArrays: none (views show an empty forest)

    def _hops(self, slots: np.ndarray) -> np.ndarray:
        return np.zeros(len(slots), dtype=np.int64)

    def _walk_cost(self, n: int, hops: int) -> int:
        return n * 2 * self.costs.table_access  # cluster_info[offset / 512], then table[offset % 512]

    def _store_cost(self, n: int) -> int:
        return 0  # under ci->lock, already held

    def _index_insert(self, slots: np.ndarray) -> None:
        return None  # the table exists while its cluster has slots in use

    def _index_erase(self, slots: np.ndarray) -> None:
        return None

    def tables(self, cluster_count: np.ndarray) -> int:
        """Swap tables allocated: one per cluster with slots in use."""
        return int(np.count_nonzero(cluster_count[: self.nr_clusters]))

    def index_nodes(self) -> int:
        return 0
