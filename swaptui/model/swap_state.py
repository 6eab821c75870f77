"""The swap cache (mm/swap_state.c): which folio or shadow each swap slot maps to, per swap design.

Every design keeps the same contents per slot (`folio` frame or -1, `shadow` eviction stamp or -1),
so the paths in swap_ops and memory stay one; designs differ in what a lookup or store costs and in
the metadata they keep, as the kernel's do (kernel-model.md §15):

- classic (<= 6.17): an XArray per 64 MiB of swap (indexed by the masked offset since 6.11), whose
  depth every lookup pays, with `xa_lock` on stores;
- swap_table (6.18+, phase II semantics): see swap_table.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.costs import CostTable
from swaptui.model.jit import kernel
from swaptui.model.xarray import XArrayForest

if TYPE_CHECKING:
    from swaptui.model.vswap import VSwapSpace

SWAP_ADDRESS_SPACE_SHIFT = 14
MAX_DEPTH = 8


@kernel
def depth_account(hops: np.ndarray, depth_hist: np.ndarray) -> int:
    """Add lookups of these hop counts to the depth histogram (the last bin takes the deeper ones); total hops."""
    total = 0
    top = len(depth_hist) - 1
    for h in hops:
        total += h
        depth_hist[min(h, top)] += 1
    return total


@kernel
def swap_cache_store(
    folio: np.ndarray, shadow: np.ndarray, slots: np.ndarray, frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """swap_cache_add_folio's stores: each slot takes its folio, replacing any shadow. Returns (the shadows
    replaced, -1 where none; the slots that held nothing before, which the index must insert)."""
    n = len(slots)
    old = np.empty(n, dtype=np.int64)
    new = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        sl = slots[i]
        if folio[sl] < 0 and shadow[sl] < 0:
            new[k] = sl
            k += 1
    for i in range(n):
        sl = slots[i]
        old[i] = shadow[sl]
        shadow[sl] = -1
        folio[sl] = frames[i]
    return old, new[:k].copy()


class SwapCacheBase:
    """Contents of the swap cache and the bookkeeping all designs share."""

    design = "base"
    bypass_sync_io = True  # pre-phase-II: SYNC_IO devices with count 1 skip the swap cache on swap-in

    xa: XArrayForest  # the design's XArrays (what the views show of its index)

    def __init__(self, nr_slots: int, costs: CostTable) -> None:
        self.costs = costs
        self.folio = np.full(nr_slots, -1, dtype=np.int64)
        self.shadow = np.full(nr_slots, -1, dtype=np.int64)
        self.nr_pages = 0  # folios in the cache (nr_swapcached)
        self.lookups = 0
        self.hops = 0
        self.depth_hist = np.zeros(MAX_DEPTH, dtype=np.int64)

    # -- costs, per design ---------------------------------------------------------------------------
    def _hops(self, slots: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _walk_cost(self, n: int, hops: int) -> int:
        """ns for n lookups walking `hops` index nodes in all."""
        raise NotImplementedError

    def _store_cost(self, n: int) -> int:
        raise NotImplementedError

    def _index_insert(self, slots: np.ndarray) -> None:
        raise NotImplementedError

    def _index_erase(self, slots: np.ndarray) -> None:
        raise NotImplementedError

    def _charge_lookup(self, slots: np.ndarray, store: bool) -> int:
        hops = self._hops(slots)
        total = depth_account(hops, self.depth_hist)
        self.lookups += len(slots)
        self.hops += total
        cost = self._walk_cost(len(slots), total)
        if store:
            cost += self._store_cost(len(slots))
        return cost

    # -- operations ---------------------------------------------------------------------------------
    def lookup(self, slots: np.ndarray) -> tuple[np.ndarray, int]:
        """swap_cache_get_folio: frames (or -1) for these slots, and the cost."""
        return self.folio[slots], self._charge_lookup(slots, False)

    def add(self, slots: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, int]:
        """swap_cache_add_folio: store folios; returns the shadows they replace, and the cost."""
        old_shadow, new = swap_cache_store(self.folio, self.shadow, slots, frames)
        self._index_insert(new)
        self.nr_pages += len(slots)
        return old_shadow, self._charge_lookup(slots, True)

    def delete(self, slots: np.ndarray, shadows: np.ndarray | None) -> int:
        """swap_cache_del_folio: replace folios by shadows (or nothing); returns the cost."""
        self.folio[slots] = -1
        self.nr_pages -= len(slots)
        if shadows is None:
            self._index_erase(slots)
        else:
            self.shadow[slots] = shadows
        return self._charge_lookup(slots, True)

    def clear_shadows(self, slots: np.ndarray) -> int:
        """clear_shadow_from_swap_cache: the slots were freed; drop any shadow left in them."""
        had = slots[self.shadow[slots] >= 0]
        if len(had) == 0:
            return 0
        self.shadow[had] = -1
        self._index_erase(had)
        return self._charge_lookup(had, True)

    def take_shadow(self, slots: np.ndarray) -> np.ndarray:
        """Read the shadows at these slots (for workingset_refault on a cache-bypassing swap-in)."""
        return self.shadow[slots].copy()

    def entries(self) -> int:
        """Slots holding a folio or a shadow."""
        return int(np.count_nonzero((self.folio >= 0) | (self.shadow >= 0)))


class ClassicSwapCache(SwapCacheBase):
    """swapper_spaces: an XArray per 64 MiB of swap, xa_lock on stores."""

    design = "classic"

    def __init__(self, nr_slots: int, costs: CostTable) -> None:
        super().__init__(nr_slots, costs)
        self.xa = XArrayForest(nr_slots, SWAP_ADDRESS_SPACE_SHIFT, masked=True)

    def _hops(self, slots: np.ndarray) -> np.ndarray:
        return self.xa.lookup_hops(slots)

    def _walk_cost(self, n: int, hops: int) -> int:
        return hops * self.costs.xa_hop

    def _store_cost(self, n: int) -> int:
        return n * self.costs.xa_lock

    def _index_insert(self, slots: np.ndarray) -> None:
        self.xa.insert(slots)

    def _index_erase(self, slots: np.ndarray) -> None:
        self.xa.erase(slots)

    def index_nodes(self) -> int:
        """xa_nodes allocated for the swap cache."""
        return self.xa.node_count()

    def metadata_bytes(self) -> int:
        """Dynamic swap-cache metadata: XArray nodes actually allocated (576 B each)."""
        return self.xa.metadata_bytes()


class VSwapCache(SwapCacheBase):
    """vswap: the swap cache lives in the descriptors; each access is a vswap_iter (XArray + cluster lock)."""

    design = "vswap"

    def __init__(self, nr_slots: int, costs: CostTable, vswap: VSwapSpace) -> None:
        super().__init__(nr_slots, costs)
        self.vswap = vswap
        self.xa = vswap.cluster_map  # the design's XArray: vswap_cluster_map, keyed by virtual cluster id

    def _charge_lookup(self, slots: np.ndarray, store: bool) -> int:
        before = self.vswap.hops
        cost = self.vswap.vswap_iter(slots, kind="cache", pending=False, per_entry=True)  # one per folio
        hops = self.vswap.hops - before
        self.lookups += len(slots)
        self.hops += hops
        self.depth_hist[min(self.vswap.height(), MAX_DEPTH - 1)] += len(slots)
        return cost

    def _index_insert(self, slots: np.ndarray) -> None:
        return None  # the descriptor already points at the folio

    def _index_erase(self, slots: np.ndarray) -> None:
        return None

    def index_nodes(self) -> int:
        return -(-self.vswap.virtual_clusters() // 64)
