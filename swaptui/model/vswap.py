"""Virtual swap space (Nhat Pham's vswap, v3-v6; kernel-model.md §10, §15): a virtual slot layer.

PTEs hold virtual slots. Virtual slots come from 512-slot virtual clusters kept in an XArray keyed
by cluster id (lowest free id first, so ids stay dense). Each virtual slot has a 24-byte
descriptor whose type says where the page is: FOLIO (only in the swap cache), ZERO (a zero page,
no physical slot), SWAPFILE (a physical slot on a device, allocated only at writeout), or ZSWAP.
The physical allocator (swapfile.py) is shared; its slots keep a reverse map to the virtual slot.

Every descriptor access goes through `vswap_iter`: an XArray walk of the cluster map plus the
virtual cluster's spinlock, reused while consecutive entries stay in one cluster. That walk is
charged on the swap cache, counts, backing queries, frees and the per-PTE memcg check, as in the
kernel. Switches from the v5 thread, each off by default:
- `cache_only_bit`: a bit in the reverse map marks swap-cache-only slots, so the physical
  allocator's reclaim scan needs no trip through the virtual layer;
- `batch_cgroup_check`: swap_pte_batch checks the memcg once per range instead of once per PTE;
- `lookup_cache`: a per-CPU MRU virtual cluster, TLB-like; hits skip the XArray walk.

This class stands where SwapSlots stands for the other designs: same entry API (alloc, duplicate,
put_ref, put_cache, swap_map, zeromap, owner), with device_of() naming the physical device only
for SWAPFILE-backed entries (-1 otherwise, as tryget_swap_entry finds no si for them).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from swaptui.model.costs import CostTable
from swaptui.model.swapfile import (
    CLUSTER_SHIFT,
    SWAP_HAS_CACHE,
    SWAP_MAP_BAD,
    SWAP_NR_ORDERS,
    SWAPFILE_CLUSTER,
    SwapSlots,
)
from swaptui.model.xarray import XArrayForest

VSWAP_FOLIO, VSWAP_ZERO, VSWAP_ZSWAP, VSWAP_SWAPFILE, VSWAP_FREE = 0, 1, 2, 3, 255
DESC_BYTES = 24
VSWAP_CLUSTER_BYTES = 64


class VSwapSpace:
    """Virtual slots, their descriptors, the virtual cluster allocator, and the physical backing."""

    def __init__(
        self,
        phys: SwapSlots,
        nr_virtual: int,
        ncpus: int,
        costs: CostTable,
        cache_only_bit: bool = False,
        batch_cgroup_check: bool = False,
        lookup_cache: bool = False,
    ) -> None:
        self.phys = phys
        self.costs = costs
        self.cache_only_bit = cache_only_bit
        self.batch_cgroup_check = batch_cgroup_check
        self.use_lookup_cache = lookup_cache
        nc = max(2, -(-nr_virtual // SWAPFILE_CLUSTER) + 1)
        self.nr_slots = nc * SWAPFILE_CLUSTER
        n = self.nr_slots
        self.swap_map = np.zeros(n, dtype=np.uint8)  # swap_count | in_swapcache (as SWAP_HAS_CACHE)
        self.zeromap = np.zeros(n, dtype=bool)  # type == VSWAP_ZERO
        self.dtype = np.full(n, VSWAP_FREE, dtype=np.uint8)
        self.backing = np.full(n, -1, dtype=np.int64)  # physical slot of a SWAPFILE descriptor
        self.owner = np.full(n, -1, dtype=np.int64)
        self.vc_count = np.zeros(nc, dtype=np.int32)
        self.vc_live = np.zeros(nc, dtype=bool)  # present in vswap_cluster_map
        self.vc_live[0] = True  # cluster 0 exists from the start; its first slot is never handed out
        self.swap_map[0] = SWAP_MAP_BAD
        self.vc_count[0] = 1
        self.partial: OrderedDict = OrderedDict()
        self.percpu_cluster = np.full(ncpus + 1, -1, dtype=np.int64)
        self.mru_cluster = np.full(ncpus + 1, -1, dtype=np.int64)  # lookup_cache
        # vswap_cluster_map as an XArray over cluster ids (one tree; ids are dense from 0).
        self.cluster_map = XArrayForest(nc, max(6, int(nc - 1).bit_length()), masked=True)
        self.cluster_map.insert(np.array([0]))
        self.pending_cost = 0
        self.iters = 0
        self.hops = 0
        self.depth_hist = np.zeros(8, dtype=np.int64)
        self.lookup_hits = 0
        self.lookup_misses = 0
        self.alloc_reject = 0
        self.physical_cache_checks = 0
        self.iters_by_kind: dict[str, int] = {}
        self.depth_by_kind: dict[str, np.ndarray] = {}  # vswap_iter calls by kind of access and XArray depth
        self.freed_physical: list[np.ndarray] = []
        # Large folios (v5 mTHP swapout): a virtual cluster's order is fixed for its lifetime; each order has
        # its own per-CPU cluster and partial list (order 0 keeps percpu_cluster and partial above).
        self.vc_order = np.zeros(nc, dtype=np.uint8)
        self.percpu_cluster_large = np.full((ncpus + 1, SWAP_NR_ORDERS), -1, dtype=np.int64)
        self.partial_large: list[OrderedDict] = [OrderedDict() for _ in range(SWAP_NR_ORDERS)]
        self.mthp_alloc = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)
        self.mthp_fallback = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)
        # The physical allocator's cache-only test goes through the reverse map.
        phys.cache_only = self._physical_cache_only
        self.reclaim_cache_only = phys.reclaim_cache_only

    # -- what SwapSlots offers, for virtual entries --------------------------------------------------
    @property
    def devices(self) -> list:
        return self.phys.devices

    @property
    def nr_swap_pages(self) -> int:
        """Free virtual capacity bounded by physical space (a page needs a physical slot unless zero)."""
        return self.phys.nr_swap_pages

    @property
    def total_swap_pages(self) -> int:
        return self.phys.total_swap_pages

    def vm_swap_full(self) -> bool:
        return self.phys.vm_swap_full()

    def used(self) -> int:
        return int(np.count_nonzero((self.swap_map != 0) & (self.swap_map != SWAP_MAP_BAD)))

    def device_of(self, entries: np.ndarray) -> np.ndarray:
        """tryget_swap_entry: the physical device of SWAPFILE-backed entries, -1 for the others."""
        back = self.backing[entries]
        out = np.full(len(entries), -1, dtype=np.int64)
        has = back >= 0
        if has.any():
            out[has] = self.phys.device_of(back[has])
        return out

    def take_cost(self) -> int:
        """Collect the ns charged by vswap_iter calls since the last call."""
        c, self.pending_cost = self.pending_cost, 0
        return c

    # -- vswap_iter ------------------------------------------------------------------------------
    def height(self) -> int:
        """Depth of vswap_cluster_map: ids are dense, so it follows the highest live id."""
        return self.cluster_map.tree_height(0)

    def vswap_iter(
        self,
        entries: np.ndarray,
        cpu: int = 0,
        times: int = 1,
        kind: str = "count",
        pending: bool = True,
        per_entry: bool = False,
    ) -> int:
        """`times` passes of vswap_iter over these entries (the lock is reused within a cluster, unless
        `per_entry`: then every entry is its own lookup). Returns the cost; with `pending` it is also
        queued for take_cost(). Counted by kind of access."""
        if len(entries) == 0:
            return 0
        clusters = entries >> CLUSTER_SHIFT
        if per_entry:
            run_clusters = clusters
        else:
            starts = np.flatnonzero(np.diff(clusters)) + 1
            run_clusters = clusters[np.concatenate(([0], starts))]
        runs = len(run_clusters)
        h = self.height()
        walks = runs
        if self.use_lookup_cache:
            mru = int(self.mru_cluster[cpu])
            hits = int(np.count_nonzero(run_clusters[1:] == run_clusters[:-1])) + (1 if run_clusters[0] == mru else 0)
            walks = runs - hits
            self.lookup_hits += hits * times
            self.lookup_misses += walks * times
            self.mru_cluster[cpu] = int(run_clusters[-1])
        c = self.costs
        cost = times * (walks * h * c.xa_hop + runs * c.cluster_lock + len(entries) * c.table_access)
        self.iters += times * runs
        self.hops += times * walks * h
        self.depth_hist[min(h, 7)] += times * walks
        self.iters_by_kind[kind] = self.iters_by_kind.get(kind, 0) + times * runs
        hist = self.depth_by_kind.get(kind)
        if hist is None:
            hist = self.depth_by_kind[kind] = np.zeros(8, dtype=np.int64)
        hist[min(h, 7)] += times * walks
        hist[0] += times * (runs - walks)  # lookup-cache hits walk nothing
        if pending:
            self.pending_cost += cost
        return cost

    # -- allocation --------------------------------------------------------------------------------
    def _new_cluster(self) -> int:
        """xa_alloc: the lowest free cluster id; kmem_cache_zalloc + vzalloc(12 KiB) of descriptors."""
        free = np.flatnonzero(~self.vc_live)
        if len(free) == 0:
            return -1
        cid = int(free[0])
        self.vc_live[cid] = True
        self.cluster_map.insert(np.array([cid]))
        self.pending_cost += self.costs.xa_node_alloc + 3 * self.costs.xa_lock
        return cid

    def alloc(self, n: int, cpu: int) -> tuple[np.ndarray, int]:
        """folio_alloc_swap, virtual only: descriptors start as FOLIO, in the swap cache, count 0."""
        parts: list[np.ndarray] = []
        need = n
        while need > 0:
            cid = int(self.percpu_cluster[cpu])
            if cid < 0 or self.vc_count[cid] >= SWAPFILE_CLUSTER:
                cid = -1
                while self.partial:
                    cand = next(iter(self.partial))
                    del self.partial[cand]
                    if self.vc_live[cand] and self.vc_count[cand] < SWAPFILE_CLUSTER:
                        cid = cand
                        break
                if cid < 0:
                    cid = self._new_cluster()
                if cid < 0:
                    self.alloc_reject += need
                    break
                self.percpu_cluster[cpu] = cid
                self.pending_cost += self.costs.xa_lock  # partial list walk under the global xa_lock
            lo = cid << CLUSTER_SHIFT
            free = np.flatnonzero(self.swap_map[lo : lo + SWAPFILE_CLUSTER] == 0)[:need] + lo
            if len(free) == 0:
                self.percpu_cluster[cpu] = -1
                continue
            self.swap_map[free] = SWAP_HAS_CACHE
            self.dtype[free] = VSWAP_FOLIO
            self.vc_count[cid] += len(free)
            self.pending_cost += self.costs.cluster_lock + len(free) * self.costs.slot_alloc
            parts.append(free)
            need -= len(free)
        if not parts:
            return np.zeros(0, dtype=np.int64), self.take_cost()
        out = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return out, self.take_cost()

    def _aligned_free(self, cid: int, order: int) -> int:
        """bitmap_find_next_zero_area with an alignment mask: the first free aligned 2^order run, or -1."""
        nr = 1 << order
        lo = cid << CLUSTER_SHIFT
        free = (self.swap_map[lo : lo + SWAPFILE_CLUSTER] == 0).reshape(-1, nr).all(axis=1)
        return lo + int(np.argmax(free)) * nr if free.any() else -1

    def alloc_folio(self, order: int, cpu: int) -> tuple[np.ndarray, int]:
        """folio_alloc_swap for one 2^order folio, virtual only: an aligned run in a virtual cluster of that order
        (this CPU's cached one, a partial one, else a new one), or (empty, cost) when the virtual id space is
        used up. No physical slot yet: alloc_backing gives those at writeout. Order 0 is exactly alloc(1, cpu)."""
        if order == 0:
            return self.alloc(1, cpu)
        if not 0 < order < SWAP_NR_ORDERS:
            raise ValueError(f"swap entries of order {order}: larger than a cluster")
        nr = 1 << order
        cid = int(self.percpu_cluster_large[cpu, order])
        start = -1
        if cid >= 0:
            self.pending_cost += self.costs.cluster_lock
            start = self._aligned_free(cid, order)
            if start < 0:
                self.percpu_cluster_large[cpu, order] = -1  # drop the cached cluster (and its refcount)
                if self.vc_count[cid] < SWAPFILE_CLUSTER:
                    self.partial_large[order][cid] = None
        if start < 0:
            self.pending_cost += self.costs.xa_lock  # partial list walk under the global xa_lock
            for cand in list(self.partial_large[order]):
                self.pending_cost += self.costs.cluster_lock
                start = self._aligned_free(cand, order)
                if start >= 0:
                    cid = cand
                    del self.partial_large[order][cand]
                    break
                if self.vc_count[cand] >= SWAPFILE_CLUSTER:
                    del self.partial_large[order][cand]
            if start < 0:
                cid = self._new_cluster()
                if cid < 0:
                    self.mthp_fallback[order] += 1
                    return np.zeros(0, dtype=np.int64), self.take_cost()
                self.vc_order[cid] = order
                start = cid << CLUSTER_SHIFT
            self.percpu_cluster_large[cpu, order] = cid
        out = np.arange(start, start + nr, dtype=np.int64)
        self.swap_map[out] = SWAP_HAS_CACHE
        self.dtype[out] = VSWAP_FOLIO
        self.vc_count[cid] += nr
        self.pending_cost += self.costs.cluster_lock + nr * self.costs.slot_alloc
        if self.vc_count[cid] >= SWAPFILE_CLUSTER:
            self.percpu_cluster_large[cpu, order] = -1
        self.mthp_alloc[order] += 1
        return out, self.take_cost()

    def alloc_backing(self, entries: np.ndarray, cpu: int) -> np.ndarray:
        """vswap_alloc_swap_slot: physical slots for entries being written to a device; -1 if none left."""
        out = self.backing[entries].copy()
        need = np.flatnonzero(out < 0)
        self.vswap_iter(entries, cpu, kind="backing", per_entry=True)  # check the backing and the memcg
        if len(need):
            phys, cost = self.phys.alloc(len(need), cpu)
            self.pending_cost += cost
            got = need[: len(phys)]
            out[got] = phys
            self.backing[entries[got]] = phys
            self.dtype[entries[got]] = VSWAP_SWAPFILE
            self.zeromap[entries[got]] = False
            # The physical slot's table holds the reverse map; its count is the backing itself.
            self.phys.swap_map[phys] = 1
            self.phys.owner[phys] = entries[got]
            self.pending_cost += len(phys) * self.costs.table_access
            self.vswap_iter(entries[got], cpu, kind="backing", per_entry=True)  # set the type to SWAPFILE
        return out

    def set_zero(self, entries: np.ndarray, cpu: int) -> None:
        """swap_zeromap_folio_set: VSWAP_ZERO, releasing any physical backing."""
        self._release_backing(entries)
        self.dtype[entries] = VSWAP_ZERO
        self.zeromap[entries] = True
        self.vswap_iter(entries, cpu, kind="backing", per_entry=True)

    def set_zswap(self, entries: np.ndarray, cpu: int) -> None:
        """zswap_entry_store: VSWAP_ZSWAP, no physical slot (any previous backing is released)."""
        self._release_backing(entries)
        self.dtype[entries] = VSWAP_ZSWAP
        self.zeromap[entries] = False
        self.vswap_iter(entries, cpu, kind="backing", per_entry=True)

    def clear_zswap(self, entries: np.ndarray) -> None:
        """zswap_load (exclusive): the page now lives only in its swap-cache folio."""
        self.dtype[entries] = VSWAP_FOLIO
        self.vswap_iter(entries, kind="backing", per_entry=True)

    def _release_backing(self, entries: np.ndarray) -> np.ndarray:
        back = self.backing[entries]
        phys = back[back >= 0]
        if len(phys):
            self.backing[entries[back >= 0]] = -1
            self.phys.swap_map[phys] = 1  # the backing's only reference
            freed = self.phys.put_ref(phys)  # swap_slot_free_nr: the physical cluster lock
            self.freed_physical.append(freed)
            self.pending_cost += self.costs.cluster_lock
        return phys

    def take_freed_physical(self) -> np.ndarray:
        """Physical slots released since the last call (zram drops their data)."""
        if not self.freed_physical:
            return np.zeros(0, dtype=np.int64)
        out = np.concatenate(self.freed_physical)
        self.freed_physical.clear()
        return out

    # -- references and freeing -----------------------------------------------------------------
    def duplicate(self, entries: np.ndarray) -> None:
        """swap_duplicate through vswap_iter."""
        self.swap_map[entries] += 1
        self.vswap_iter(entries)

    def put_ref(self, entries: np.ndarray, cpu: int = 0) -> np.ndarray:
        """swap_free_nr / vswap_free_nr_any_cache_only: drop a PTE reference, free what reaches zero."""
        if len(entries) == 0:
            return entries
        # swap_pte_batch's memcg check: per PTE, or once per range with batch_cgroup_check.
        if self.batch_cgroup_check:
            self.vswap_iter(entries[:1], cpu, kind="cgroup")
        else:
            self.vswap_iter(entries, cpu, kind="cgroup", per_entry=True)
        self.vswap_iter(entries, cpu, kind="free")
        self.swap_map[entries] -= 1
        freed = entries[self.swap_map[entries] == 0]
        self._free(freed)
        return freed

    def put_cache(self, entries: np.ndarray, cpu: int = 0) -> np.ndarray:
        """The swap cache lets go (in_swapcache = 0); free entries with no references left."""
        if len(entries) == 0:
            return entries
        self.vswap_iter(entries, cpu, kind="free", per_entry=True)  # per folio leaving the cache
        self.swap_map[entries] &= ~np.uint8(SWAP_HAS_CACHE)
        freed = entries[self.swap_map[entries] == 0]
        self._free(freed)
        return freed

    def _free(self, entries: np.ndarray) -> None:
        """vswap_free_nr: release backing, clear descriptors, free empty virtual clusters (RCU)."""
        if len(entries) == 0:
            return
        self._release_backing(entries)
        self.dtype[entries] = VSWAP_FREE
        self.zeromap[entries] = False
        self.owner[entries] = -1
        clusters, counts = np.unique(entries >> CLUSTER_SHIFT, return_counts=True)
        self.vc_count[clusters] -= counts.astype(np.int32)
        for c in clusters.tolist():
            order = int(self.vc_order[c])
            if self.vc_count[c] == 0 and c != 0 and c not in self.percpu_cluster and c not in self.percpu_cluster_large:
                self.vc_live[c] = False  # xa_erase + call_rcu
                self.cluster_map.erase(np.array([c]))
                self.partial.pop(c, None)
                self.partial_large[order].pop(c, None)
                self.vc_order[c] = 0
                self.pending_cost += self.costs.xa_lock
            elif self.vc_count[c] < SWAPFILE_CLUSTER:
                (self.partial_large[order] if order else self.partial)[c] = None

    def _physical_cache_only(self, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """For the physical allocator: which slots in [lo, hi) back a swap-cache-only virtual slot."""
        owners = self.phys.owner[lo:hi]
        used = owners >= 0
        mask = np.zeros(hi - lo, dtype=bool)
        if used.any():
            v = owners[used]
            mask[used] = self.swap_map[v] == SWAP_HAS_CACHE
        n = int(used.sum())
        self.physical_cache_checks += n
        if self.cache_only_bit:
            return mask, n * self.costs.table_access  # the bit lives in the reverse-map entry
        # Reverse map -> virtual descriptor: a vswap_iter per slot.
        cost = n * (self.height() * self.costs.xa_hop + self.costs.cluster_lock + self.costs.table_access)
        return mask, cost

    # -- the physical allocator's state, for the views and the tick ---------------------------------
    @property
    def cluster_flags(self) -> np.ndarray:
        return self.phys.cluster_flags

    @property
    def cluster_count(self) -> np.ndarray:
        return self.phys.cluster_count

    @property
    def cluster_order(self) -> np.ndarray:
        return self.phys.cluster_order

    @property
    def cluster_dev(self) -> np.ndarray:
        return self.phys.cluster_dev

    @property
    def percpu_offset(self) -> np.ndarray:
        return self.phys.percpu_offset

    @property
    def pending_discard(self) -> list:
        return self.phys.pending_discard

    @property
    def slow_path_allocs(self) -> int:
        return self.phys.slow_path_allocs

    @property
    def alloc_fail(self) -> int:
        return self.phys.alloc_fail

    def run_discards(self) -> None:
        self.phys.run_discards()

    def run_reclaim_work(self) -> int:
        return self.phys.run_reclaim_work()

    def cluster_list_counts(self) -> dict[str, int]:
        return self.phys.cluster_list_counts()

    def clusters_by_order(self) -> dict:
        return self.phys.clusters_by_order()

    # -- accounting ----------------------------------------------------------------------------------
    def virtual_clusters(self) -> int:
        return int(np.count_nonzero(self.vc_live))
