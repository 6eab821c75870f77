"""The classic swap cache (mm/swap_state.c up to 6.17): slot -> folio or shadow, an XArray per 64 MiB.

The swap cache's contents are kept per slot (`folio` frame or -1, `shadow` eviction stamp or -1);
an `XArrayForest` with 2^14-slot trees, indexed by the masked offset as since 6.11, gives the depth
of every lookup and the node count. Every lookup or store is charged xa hops through `costs.py`.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.costs import CostTable
from swaptui.model.xarray import XArrayForest

SWAP_ADDRESS_SPACE_SHIFT = 14


class ClassicSwapCache:
    """swapper_spaces: the folio (frame) or shadow each swap slot maps to."""

    design = "classic"

    def __init__(self, nr_slots: int, costs: CostTable) -> None:
        self.costs = costs
        self.folio = np.full(nr_slots, -1, dtype=np.int64)
        self.shadow = np.full(nr_slots, -1, dtype=np.int64)
        self.xa = XArrayForest(nr_slots, SWAP_ADDRESS_SPACE_SHIFT, masked=True)
        self.nr_pages = 0  # folios in the cache (nr_swapcached)
        self.lookups = 0
        self.hops = 0
        self.depth_hist = np.zeros(8, dtype=np.int64)

    def _charge_lookup(self, slots: np.ndarray, store: bool) -> int:
        hops = self.xa.lookup_hops(slots)
        n = len(slots)
        total = int(hops.sum())
        self.lookups += n
        self.hops += total
        self.depth_hist += np.bincount(np.minimum(hops, 7), minlength=8)
        cost = total * self.costs.xa_hop
        if store:
            cost += n * self.costs.xa_lock
        return cost

    def lookup(self, slots: np.ndarray) -> tuple[np.ndarray, int]:
        """swap_cache_get_folio: frames (or -1) for these slots, and the cost."""
        return self.folio[slots], self._charge_lookup(slots, False)

    def add(self, slots: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, int]:
        """add_to_swap_cache: store folios; returns the shadows they replace, and the cost."""
        empty = (self.folio[slots] < 0) & (self.shadow[slots] < 0)
        self.xa.insert(slots[empty])
        old_shadow = self.shadow[slots].copy()
        self.shadow[slots] = -1
        self.folio[slots] = frames
        self.nr_pages += len(slots)
        cost = self._charge_lookup(slots, True)
        return old_shadow, cost

    def delete(self, slots: np.ndarray, shadows: np.ndarray | None) -> int:
        """__delete_from_swap_cache: replace folios by shadows (or nothing); returns the cost."""
        self.folio[slots] = -1
        self.nr_pages -= len(slots)
        if shadows is None:
            self.xa.erase(slots)
        else:
            self.shadow[slots] = shadows
        return self._charge_lookup(slots, True)

    def clear_shadows(self, slots: np.ndarray) -> int:
        """clear_shadow_from_swap_cache: the slots were freed; drop any shadow left in them."""
        had = slots[self.shadow[slots] >= 0]
        if len(had) == 0:
            return 0
        self.shadow[had] = -1
        self.xa.erase(had)
        return self._charge_lookup(had, True)

    def take_shadow(self, slots: np.ndarray) -> np.ndarray:
        """Read the shadows at these slots (for workingset_refault on a cache-bypassing swap-in)."""
        return self.shadow[slots].copy()

    def metadata_bytes(self) -> int:
        """Dynamic swap-cache metadata: XArray nodes."""
        return self.xa.metadata_bytes()
