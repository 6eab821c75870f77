"""Swap devices, 512-slot clusters and the slot allocator (mm/swapfile.c, 6.18 allocator).

All devices share global slot numbering: device d owns slots [base_d, base_d + nr_slots_d), each base
aligned to a cluster, so a global cluster id is `slot >> 9`. `swap_map` keeps the kernel's byte
encoding: the low 6 bits count PTE references, 0x40 is SWAP_HAS_CACHE, 0x3f marks a bad slot (slot 0
of each device holds the swap header).

Order-0 allocation is batched: the fast path takes as many free slots as it needs from this CPU's
cached cluster, from the cached offset onward, exactly as that many one-by-one calls would; the slow
path follows the 6.18 search order one cluster at a time.

Large folios (mTHP/THP, order 1..9) take one naturally aligned run of 2^order slots (`alloc_folio`),
as folio_alloc_swap -> cluster_alloc_swap_entry(si, order) does: this CPU's cached offset for the
order, then free clusters, nonfull[order], frag[order]; a cluster takes a non-zero order only while
empty and keeps it until it empties again, so an order-k request can use only empty or order-k
clusters. On failure the caller splits the folio and swaps out its pages at order 0.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from swaptui.model.costs import BackendProfile, CostTable
from swaptui.model.jit import kernel

SWAPFILE_CLUSTER = 512
CLUSTER_SHIFT = 9
SWAP_HAS_CACHE = 0x40
SWAP_MAP_BAD = 0x3F
SWAP_MAP_MAX = 0x3E
SWAP_COUNT_MASK = SWAP_HAS_CACHE - 1  # the low 6 bits: the reference count (SWAP_MAP_BAD is all of them)
SWAP_NR_ORDERS = 10  # PMD_ORDER + 1
PMD_ORDER = SWAP_NR_ORDERS - 1  # a THP: one whole cluster

# Cluster flags, ordered as in the kernel so that "usable" is flag <= FRAG.
CLUSTER_FLAG_NONE = 0
CLUSTER_FLAG_FREE = 1
CLUSTER_FLAG_NONFULL = 2
CLUSTER_FLAG_FRAG = 3
CLUSTER_FLAG_FULL = 4
CLUSTER_FLAG_DISCARD = 5
CLUSTER_FLAG_NAMES = ("none", "free", "nonfull", "frag", "full", "discard")


@kernel
def swap_map_drop(swap_map: np.ndarray, slots: np.ndarray, refs: int, flag: int) -> np.ndarray:
    """__swap_entry_free_locked for each slot: drop `refs` PTE references and clear `flag` (SWAP_HAS_CACHE,
    when the swap cache lets go). Returns the slots left with nothing (their map entry 0), in order. As the
    numpy form `swap_map[slots] -= refs` did, a slot given twice is dropped once and listed twice."""
    new = np.empty(len(slots), dtype=np.int64)
    for i in range(len(slots)):
        new[i] = (swap_map[slots[i]] - refs) & ~flag
    for i in range(len(slots)):
        swap_map[slots[i]] = new[i]
    freed = np.empty(len(slots), dtype=np.int64)
    k = 0
    for sl in slots:
        if swap_map[sl] == 0:
            freed[k] = sl
            k += 1
    return freed[:k].copy()


@kernel
def swap_entries_clear(
    zeromap: np.ndarray,
    owner: np.ndarray,
    cluster_count: np.ndarray,
    cluster_dev: np.ndarray,
    slots: np.ndarray,
    nr_devices: int,
) -> tuple[np.ndarray, np.ndarray]:
    """swap_entries_free's per-slot part: clear the zeromap bit and owner, drop each cluster's count. Returns
    the clusters touched (ascending) and the slots freed per device."""
    dev_counts = np.zeros(nr_devices, dtype=np.int64)
    cl = np.empty(len(slots), dtype=np.int64)
    for i in range(len(slots)):
        sl = slots[i]
        zeromap[sl] = False
        owner[sl] = -1
        c = sl >> CLUSTER_SHIFT
        cl[i] = c
        cluster_count[c] -= 1
        dev_counts[cluster_dev[c]] += 1
    return np.unique(cl), dev_counts


@dataclass
class SwapDevice:
    """A swap_info_struct: one device's slots, clusters and lists."""

    name: str
    kind: str
    profile: BackendProfile
    prio: int
    base: int  # first global slot
    nr_slots: int  # including the header slot
    discard: bool
    inuse: int = 0
    free_clusters: OrderedDict = field(default_factory=OrderedDict)
    nonfull_clusters: list = field(default_factory=lambda: [OrderedDict() for _ in range(SWAP_NR_ORDERS)])
    frag_clusters: list = field(default_factory=lambda: [OrderedDict() for _ in range(SWAP_NR_ORDERS)])
    full_clusters: OrderedDict = field(default_factory=OrderedDict)
    discard_clusters: OrderedDict = field(default_factory=OrderedDict)
    global_next: list = field(default_factory=lambda: [-1] * SWAP_NR_ORDERS)  # HDD: global_cluster->next
    reclaim_pending: bool = False  # reclaim_work scheduled (the device filled while swap was over half full)
    blkdev: bool = True  # SWP_BLKDEV; a swap file on a filesystem cannot give large (order > 0) entries

    @property
    def pages(self) -> int:
        """Usable slots (the header slot is bad)."""
        return self.nr_slots - 1

    @property
    def first_cluster(self) -> int:
        return self.base >> CLUSTER_SHIFT

    @property
    def nr_clusters(self) -> int:
        return -(-self.nr_slots // SWAPFILE_CLUSTER)

    @property
    def synchronous(self) -> bool:
        return self.profile.synchronous

    def is_full(self) -> bool:
        return self.inuse >= self.pages

    def list_of(self, flag: int, order: int) -> OrderedDict:
        """The list a cluster with this flag and order lives on."""
        if flag == CLUSTER_FLAG_FREE:
            return self.free_clusters
        if flag == CLUSTER_FLAG_NONFULL:
            return self.nonfull_clusters[order]
        if flag == CLUSTER_FLAG_FRAG:
            return self.frag_clusters[order]
        if flag == CLUSTER_FLAG_FULL:
            return self.full_clusters
        return self.discard_clusters


class SwapSlots:
    """All swap devices, the global slot arrays and the allocator."""

    def __init__(
        self, devices: Sequence[tuple[str, str, BackendProfile, int, int, bool]], ncpus: int, costs: CostTable
    ) -> None:
        self.costs = costs
        self.devices: list[SwapDevice] = []
        base = 0
        auto_prio = -2
        for name, kind, profile, asked_prio, nr_slots, discard in devices:
            prio = asked_prio
            if prio == -1:
                prio, auto_prio = auto_prio, auto_prio - 1
            self.devices.append(SwapDevice(name, kind, profile, prio, base, nr_slots, discard))
            base += -(-nr_slots // SWAPFILE_CLUSTER) * SWAPFILE_CLUSTER
        self.nr_slots = base
        nc = max(1, base >> CLUSTER_SHIFT)
        self.swap_map = np.zeros(base, dtype=np.uint8)
        self.zeromap = np.zeros(base, dtype=bool)
        self.owner = np.full(base, -1, dtype=np.int64)  # model-only reverse map: the vpage swapped here
        self.cluster_count = np.zeros(nc, dtype=np.int32)
        self.cluster_flags = np.zeros(nc, dtype=np.uint8)
        self.cluster_order = np.zeros(nc, dtype=np.uint8)
        self.cluster_dev = np.zeros(nc, dtype=np.int32)
        self.plist = list(range(len(self.devices)))  # device order for rotation among equal priorities
        self.bases = np.array([d.base for d in self.devices] + [base], dtype=np.int64)
        self.total_swap_pages = 0
        for i, d in enumerate(self.devices):
            first, n = d.first_cluster, d.nr_clusters
            self.cluster_dev[first : first + n] = i
            # Slots past the device end in its last cluster, and the header, are bad.
            pad_end = (first + n) * SWAPFILE_CLUSTER
            self.swap_map[d.base + d.nr_slots : pad_end] = SWAP_MAP_BAD
            self.swap_map[d.base] = SWAP_MAP_BAD
            bad = np.bincount(
                (np.flatnonzero(self.swap_map[d.base : pad_end] == SWAP_MAP_BAD) + d.base) >> CLUSTER_SHIFT,
                minlength=nc,
            )
            self.cluster_count += bad.astype(np.int32)
            for c in range(first, first + n):
                cnt = self.cluster_count[c]
                flag = CLUSTER_FLAG_FREE if cnt == 0 else CLUSTER_FLAG_NONFULL
                self.cluster_flags[c] = flag
                d.list_of(flag, 0)[c] = None
            self.total_swap_pages += d.pages
        self.nr_swap_pages = self.total_swap_pages
        self.percpu_offset = np.full((ncpus + 1, SWAP_NR_ORDERS), -1, dtype=np.int64)
        # Called with slots whose only user is the swap cache, to drop them (set by the swap design).
        self.reclaim_cache_only: Callable[[np.ndarray], int] = lambda slots: 0
        # Which slots of [lo, hi) only the swap cache holds, and the cost of asking (vswap asks its reverse map).
        self.cache_only: Callable[[int, int], tuple[np.ndarray, int]] = self.cache_only_by_swap_map
        self.pending_discard: list[int] = []
        self.slow_path_allocs = 0
        self.alloc_fail = 0
        # Large-folio allocations that succeeded / failed, by order (hugepages-<size>kB/stats/swpout and
        # swpout_fallback; order 0 stays 0, as count_mthp_stat ignores it).
        self.mthp_alloc = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)
        self.mthp_fallback = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)
        # 6.14+ serves large folios from HDD clusters too (global_cluster->next[order]); False restores the
        # <= 6.13 rule, where only SSD-style (non-rotational) devices had clusters and so large entries.
        self.large_on_rotational = True

    # -- helpers ------------------------------------------------------------------------------------
    def device_of(self, slots: np.ndarray) -> np.ndarray:
        """Device index of each global slot."""
        if len(self.devices) == 1:
            return np.zeros(len(slots), dtype=np.int64)
        return np.searchsorted(self.bases, slots, side="right") - 1

    def vm_swap_full(self) -> bool:
        """vm_swap_full(): more than half of all swap is in use."""
        return self.nr_swap_pages * 2 < self.total_swap_pages

    def avail_devices(self) -> list[SwapDevice]:
        """swap_avail_head: writable devices that are not full, by priority (highest first)."""
        return sorted((self.devices[i] for i in self.plist if not self.devices[i].is_full()), key=lambda d: -d.prio)

    def used(self) -> int:
        return self.total_swap_pages - self.nr_swap_pages

    def _move(self, c: int, flag: int) -> None:
        dev = self.devices[self.cluster_dev[c]]
        old = int(self.cluster_flags[c])
        if old != CLUSTER_FLAG_NONE:
            dev.list_of(old, int(self.cluster_order[c])).pop(c, None)
        self.cluster_flags[c] = flag
        if flag != CLUSTER_FLAG_NONE:
            dev.list_of(flag, int(self.cluster_order[c]))[c] = None

    def relocate_cluster(self, c: int) -> None:
        """relocate_cluster: free, frag or full by count after an allocation."""
        cnt = int(self.cluster_count[c])
        flag = int(self.cluster_flags[c])
        if cnt == 0:
            if flag != CLUSTER_FLAG_FREE:
                self._free_cluster(c)
        elif cnt < SWAPFILE_CLUSTER:
            if flag != CLUSTER_FLAG_FRAG:
                self._move(c, CLUSTER_FLAG_FRAG)
        elif flag != CLUSTER_FLAG_FULL:
            self._move(c, CLUSTER_FLAG_FULL)

    def _free_cluster(self, c: int) -> None:
        dev = self.devices[self.cluster_dev[c]]
        if dev.discard:
            self._move(c, CLUSTER_FLAG_DISCARD)
            self.pending_discard.append(c)
        else:
            self._move(c, CLUSTER_FLAG_FREE)

    def run_discards(self) -> None:
        """swap_do_scheduled_discard: discarded clusters become free."""
        for c in self.pending_discard:
            if self.cluster_flags[c] == CLUSTER_FLAG_DISCARD and self.cluster_count[c] == 0:
                self._move(c, CLUSTER_FLAG_FREE)
        self.pending_discard.clear()

    def cluster_usable(self, c: int, order: int) -> bool:
        """cluster_is_usable: on an allocatable list and of the right order (or empty)."""
        if self.cluster_flags[c] > CLUSTER_FLAG_FRAG:
            return False
        return order == 0 or self.cluster_count[c] == 0 or self.cluster_order[c] == order

    def cache_only_by_swap_map(self, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """Which slots in [lo, hi) only the swap cache holds (swap_map == SWAP_HAS_CACHE), and the cost."""
        return self.swap_map[lo:hi] == SWAP_HAS_CACHE, 0

    def take_cost(self) -> int:
        """Costs charged outside a returned figure (none for the physical allocator itself)."""
        return 0

    # -- allocation ---------------------------------------------------------------------------------
    def _scan_cluster(self, c: int, offset: int, n: int) -> tuple[np.ndarray, int]:
        """alloc_swap_scan_cluster for up to n order-0 slots from a global offset; returns (slots, cost)."""
        lo = max(offset, c << CLUSTER_SHIFT)
        hi = (c + 1) << CLUSTER_SHIFT
        window = self.swap_map[lo:hi]
        free = window == 0
        cost = self.costs.cluster_lock
        if self.vm_swap_full():
            cache_only, c2 = self.cache_only(lo, hi)
            cost += c2
            if cache_only.any():
                # cluster_reclaim_range: drop slots only the swap cache holds, then recheck.
                cand = np.flatnonzero(cache_only)
                cand = cand[cand < (np.flatnonzero(free)[n - 1] if free.sum() >= n else len(window))]
                if len(cand):
                    cost += self.reclaim_cache_only(cand + lo)
                    free = self.swap_map[lo:hi] == 0
        idx = np.flatnonzero(free)[:n]
        scanned = int(idx[-1]) + 1 if len(idx) == n else len(window)
        cost += scanned * self.costs.swap_map_scan_slot
        if len(idx) == 0:
            return idx, cost
        slots = idx + lo
        if self.cluster_count[c] == 0:
            self.cluster_order[c] = 0
        self.swap_map[slots] = SWAP_HAS_CACHE
        self.cluster_count[c] += len(slots)
        dev = self.devices[self.cluster_dev[c]]
        dev.inuse += len(slots)
        self.nr_swap_pages -= len(slots)
        if dev.is_full() and self.vm_swap_full():
            # swap_range_alloc: the device leaves the avail list; schedule reclaim_work.
            dev.reclaim_pending = True
        cost += len(slots) * self.costs.slot_alloc
        return slots, cost

    def _set_next(self, cpu: int, dev: SwapDevice, c: int, last: int) -> None:
        nxt = last + 1
        ok = self.cluster_count[c] < SWAPFILE_CLUSTER and nxt < ((c + 1) << CLUSTER_SHIFT)
        value = nxt if ok else -1
        if dev.profile.solidstate:
            self.percpu_offset[cpu, 0] = value
        else:
            dev.global_next[0] = value

    def _alloc_from(self, cpu: int, dev: SwapDevice, c: int, offset: int, n: int) -> tuple[np.ndarray, int]:
        slots, cost = self._scan_cluster(c, offset, n)
        if len(slots):
            self._set_next(cpu, dev, c, int(slots[-1]))
        self.relocate_cluster(c)
        cost += self.costs.si_lock
        return slots, cost

    def _alloc_fast(self, cpu: int, n: int) -> tuple[np.ndarray, int]:
        """swap_alloc_fast: this CPU's cached cluster, from the cached offset."""
        off = int(self.percpu_offset[cpu, 0])
        if off < 0:
            return np.zeros(0, dtype=np.int64), 0
        c = off >> CLUSTER_SHIFT
        dev = self.devices[self.cluster_dev[c]]
        if dev.is_full() or not self.cluster_usable(c, 0):
            self.percpu_offset[cpu, 0] = -1
            return np.zeros(0, dtype=np.int64), self.costs.cluster_lock
        slots, cost = self._scan_cluster(c, off, n)
        if len(slots):
            self._set_next(cpu, dev, c, int(slots[-1]))
            self.relocate_cluster(c)
        else:
            self.percpu_offset[cpu, 0] = -1
        return slots, cost

    def _isolate_and_scan(
        self, cpu: int, dev: SwapDevice, lst: OrderedDict, n: int, all_of_them: bool
    ) -> tuple[np.ndarray, int]:
        cost = 0
        tried = 0
        while lst and (all_of_them or tried == 0):
            c = next(iter(lst))
            tried += 1
            self._move(c, CLUSTER_FLAG_NONE)  # isolate_lock_cluster: off the list while it is scanned
            cost += self.costs.si_lock
            slots, c2 = self._alloc_from(cpu, dev, c, c << CLUSTER_SHIFT, n)
            cost += c2
            if len(slots):
                return slots, cost
        return np.zeros(0, dtype=np.int64), cost

    def _cluster_alloc_swap_entry(self, cpu: int, dev: SwapDevice, n: int) -> tuple[np.ndarray, int]:
        """cluster_alloc_swap_entry for order 0 (6.18 search order)."""
        cost = 0
        if not dev.profile.solidstate and dev.global_next[0] >= 0:
            c = dev.global_next[0] >> CLUSTER_SHIFT
            if self.cluster_usable(c, 0):
                slots, c2 = self._alloc_from(cpu, dev, c, dev.global_next[0], n)
                cost += c2
                if len(slots):
                    return slots, cost
        for attempt in range(2):
            if dev.discard:
                slots, c2 = self._isolate_and_scan(cpu, dev, dev.free_clusters, n, False)
                cost += c2
                if len(slots):
                    return slots, cost
            slots, c2 = self._isolate_and_scan(cpu, dev, dev.nonfull_clusters[0], n, True)
            cost += c2
            if len(slots):
                return slots, cost
            if not dev.discard:
                slots, c2 = self._isolate_and_scan(cpu, dev, dev.free_clusters, n, False)
                cost += c2
                if len(slots):
                    return slots, cost
            if self.vm_swap_full():
                cost += self.swap_reclaim_full_clusters(dev, force=False)
            slots, c2 = self._isolate_and_scan(cpu, dev, dev.frag_clusters[0], n, False)
            cost += c2
            if len(slots):
                return slots, cost
            if attempt == 0 and self.pending_discard:
                self.run_discards()
                continue
            break
        for o in range(1, SWAP_NR_ORDERS):
            for lst in (dev.frag_clusters[o], dev.nonfull_clusters[o]):
                slots, c2 = self._isolate_and_scan(cpu, dev, lst, n, False)
                cost += c2
                if len(slots):
                    return slots, cost
        return np.zeros(0, dtype=np.int64), cost

    def run_reclaim_work(self) -> int:
        """swap_reclaim_work: for each device that filled up, reclaim cache-only slots of all full clusters."""
        cost = 0
        for dev in self.devices:
            if dev.reclaim_pending:
                dev.reclaim_pending = False
                cost += self.swap_reclaim_full_clusters(dev, force=True)
        return cost

    def swap_reclaim_full_clusters(self, dev: SwapDevice, force: bool) -> int:
        """swap_reclaim_full_clusters: drop cache-only slots of full clusters (1 cluster, or inuse/512 if forced)."""
        cost = 0
        todo = dev.inuse // SWAPFILE_CLUSTER if force else 1
        for c in list(dev.full_clusters.keys())[:todo]:
            lo = c << CLUSTER_SHIFT
            cost += SWAPFILE_CLUSTER * self.costs.swap_map_scan_slot
            mask, c2 = self.cache_only(lo, lo + SWAPFILE_CLUSTER)
            cost += c2
            cand = np.flatnonzero(mask)
            if len(cand):
                cost += self.reclaim_cache_only(cand + lo)
        return cost

    def alloc(self, n: int, cpu: int) -> tuple[np.ndarray, int]:
        """folio_alloc_swap for n order-0 folios: returns the slots (SWAP_HAS_CACHE set) and the cost in ns."""
        parts: list[np.ndarray] = []
        cost = 0
        need = n
        while need > 0:
            slots, c = self._alloc_fast(cpu, need)
            cost += c
            if not len(slots):
                slots, c = self._alloc_slow(cpu, need)
                cost += c
                if not len(slots):
                    self.alloc_fail += need
                    break
            parts.append(slots)
            need -= len(slots)
        if not parts:
            return np.zeros(0, dtype=np.int64), cost
        return (np.concatenate(parts) if len(parts) > 1 else parts[0]), cost

    def _alloc_slow(self, cpu: int, n: int) -> tuple[np.ndarray, int]:
        """swap_alloc_slow: devices by priority; equal priorities rotate (plist_requeue)."""
        cost = 0
        self.slow_path_allocs += 1
        for dev in self.avail_devices():
            slots, c = self._cluster_alloc_swap_entry(cpu, dev, n)
            cost += c
            i = self.devices.index(dev)
            if sum(1 for d in self.devices if d.prio == dev.prio) > 1:  # plist_requeue behind its equals
                self.plist.remove(i)
                last = max(k for k, j in enumerate(self.plist) if self.devices[j].prio == dev.prio)
                self.plist.insert(last + 1, i)
            if len(slots):
                return slots, cost
        return np.zeros(0, dtype=np.int64), cost

    # -- large folios (mTHP / THP) ------------------------------------------------------------------
    def large_allowed(self, dev: SwapDevice) -> bool:
        """cluster_alloc_swap_entry's gate on order > 0: a block device (and, before 6.14, an SSD-style one)."""
        return dev.blkdev and (self.large_on_rotational or dev.profile.solidstate)

    def _scan_cluster_order(self, c: int, offset: int, order: int) -> tuple[int, int]:
        """alloc_swap_scan_cluster for one 2^order folio from an aligned global offset: (first slot or -1, cost).

        Steps through naturally aligned windows; cluster_scan_range passes a window whose slots are all free
        (or, past vm_swap_full, only swap-cache-held: cluster_reclaim_range drops those and rechecks)."""
        nr = 1 << order
        lo = c << CLUSTER_SHIFT
        hi = lo + SWAPFILE_CLUSTER
        cost = self.costs.cluster_lock
        if self.cluster_count[c] + nr > SWAPFILE_CLUSTER:
            return -1, cost
        found = -1
        while offset + nr <= hi:
            if self.cluster_count[c] == 0:  # an empty cluster passes without looking at the map
                found = offset
                break
            n_win = (hi - offset) >> order
            used = (self.swap_map[offset : offset + n_win * nr] != 0).reshape(n_win, nr)
            bad = used
            if self.vm_swap_full():
                cache_only, c2 = self.cache_only(offset, offset + n_win * nr)
                cost += c2
                bad = used & ~cache_only.reshape(n_win, nr)
            bad_any = bad.any(axis=1)
            # cluster_scan_range stops at a window's first slot it cannot use.
            inspected = np.where(bad_any, bad.argmax(axis=1) + 1, nr)
            if bad_any.all():
                cost += int(inspected.sum()) * self.costs.swap_map_scan_slot
                break
            w = int(np.argmin(bad_any))
            cost += int(inspected[: w + 1].sum()) * self.costs.swap_map_scan_slot
            cand = offset + w * nr
            if not used[w].any():
                found = cand
                break
            # cluster_reclaim_range: unlock, reclaim the cache-only slots, relock, recheck.
            cost += self.reclaim_cache_only(cand + np.flatnonzero(used[w])) + self.costs.cluster_lock
            if not self.cluster_usable(c, order):
                break
            if self.cluster_count[c] == 0:
                found = lo
                break
            if not self.swap_map[cand : cand + nr].any():
                found = cand
                break
            offset = cand + nr
        if found < 0:
            return -1, cost
        if self.cluster_count[c] == 0:
            self.cluster_order[c] = order  # the first allocation makes the cluster exclusive to this order
        self.swap_map[found : found + nr] = SWAP_HAS_CACHE
        self.cluster_count[c] += nr
        dev = self.devices[self.cluster_dev[c]]
        dev.inuse += nr
        self.nr_swap_pages -= nr
        if dev.is_full() and self.vm_swap_full():
            dev.reclaim_pending = True
        cost += nr * self.costs.slot_alloc
        return found, cost

    def _alloc_from_order(
        self, cpu: int, dev: SwapDevice, c: int, offset: int, order: int, list_move: bool = True
    ) -> tuple[int, int]:
        """Scan one cluster for an order-`order` folio, then (as alloc_swap_scan_cluster's `out:` does, whether
        it found one or not) relocate the cluster and store the next offset to try for this order."""
        found, cost = self._scan_cluster_order(c, offset, order)
        nr = 1 << order
        nxt = found + nr
        ok = found >= 0 and self.cluster_count[c] < SWAPFILE_CLUSTER and nxt + nr <= (c + 1) << CLUSTER_SHIFT
        if dev.profile.solidstate:
            self.percpu_offset[cpu, order] = nxt if ok else -1
        else:
            dev.global_next[order] = nxt if ok else -1
        if self.cluster_flags[c] != CLUSTER_FLAG_DISCARD:  # emptied by a reclaim in the scan: left to discard
            self.relocate_cluster(c)
        if list_move:
            cost += self.costs.si_lock
        return found, cost

    def _alloc_fast_order(self, cpu: int, order: int) -> tuple[int, int]:
        """swap_alloc_fast for a large folio: this CPU's cached offset for the order, if the cluster is usable."""
        off = int(self.percpu_offset[cpu, order])
        if off < 0:
            return -1, 0
        c = off >> CLUSTER_SHIFT
        dev = self.devices[self.cluster_dev[c]]
        if dev.is_full() or not self.cluster_usable(c, order):
            return -1, self.costs.cluster_lock  # the cache stays; the slow path overwrites it
        if self.cluster_count[c] == 0:
            off = c << CLUSTER_SHIFT
        return self._alloc_from_order(cpu, dev, c, off, order, list_move=False)

    def _isolate_and_scan_order(
        self, cpu: int, dev: SwapDevice, lst: OrderedDict, order: int, all_of_them: bool
    ) -> tuple[int, int]:
        """isolate_lock_cluster + alloc_swap_scan_cluster over the head of a list (or all of it)."""
        cost = 0
        tried = 0
        while lst and (all_of_them or tried == 0):
            c = next(iter(lst))
            tried += 1
            self._move(c, CLUSTER_FLAG_NONE)
            cost += self.costs.si_lock
            found, c2 = self._alloc_from_order(cpu, dev, c, c << CLUSTER_SHIFT, order)
            cost += c2
            if found >= 0:
                return found, cost
        return -1, cost

    def _cluster_alloc_order(self, cpu: int, dev: SwapDevice, order: int) -> tuple[int, int]:
        """cluster_alloc_swap_entry(si, order) for order > 0 (6.18 search order; no stealing, so it may fail)."""
        if not self.large_allowed(dev):
            return -1, 0
        cost = 0
        nxt = dev.global_next[order]
        if not dev.profile.solidstate and nxt >= 0:
            c = nxt >> CLUSTER_SHIFT
            if self.cluster_usable(c, order):
                found, c2 = self._alloc_from_order(
                    cpu, dev, c, c << CLUSTER_SHIFT if self.cluster_count[c] == 0 else nxt, order
                )
                cost += c2
                if found >= 0:
                    return found, cost
            else:
                cost += self.costs.cluster_lock
        steps: list[tuple[OrderedDict, bool]] = []
        if dev.discard:
            steps.append((dev.free_clusters, False))
        if order < PMD_ORDER:
            steps.append((dev.nonfull_clusters[order], True))
        if not dev.discard:
            steps.append((dev.free_clusters, False))
        for attempt in range(2):
            for lst, all_of_them in steps:
                found, c2 = self._isolate_and_scan_order(cpu, dev, lst, order, all_of_them)
                cost += c2
                if found >= 0:
                    return found, cost
            if self.vm_swap_full():
                cost += self.swap_reclaim_full_clusters(dev, force=False)
            if order < PMD_ORDER:
                # One frag cluster: a large allocation failing is not critical, and it keeps the list rotating.
                found, c2 = self._isolate_and_scan_order(cpu, dev, dev.frag_clusters[order], order, False)
                cost += c2
                if found >= 0:
                    return found, cost
            if attempt == 0 and self.pending_discard:
                self.run_discards()
                continue
            break
        return -1, cost

    def _alloc_slow_order(self, cpu: int, order: int) -> tuple[int, int]:
        """swap_alloc_slow for a large folio: only the first available device is tried (then rotated)."""
        self.slow_path_allocs += 1
        avail = self.avail_devices()
        if not avail:
            return -1, 0
        dev = avail[0]
        i = self.devices.index(dev)
        if sum(1 for d in self.devices if d.prio == dev.prio) > 1:  # plist_requeue behind its equals
            self.plist.remove(i)
            last = max(k for k, j in enumerate(self.plist) if self.devices[j].prio == dev.prio)
            self.plist.insert(last + 1, i)
        return self._cluster_alloc_order(cpu, dev, order)

    def alloc_folio(self, order: int, cpu: int) -> tuple[np.ndarray, int]:
        """folio_alloc_swap for one folio of 2^order pages: (its 2^order contiguous, naturally aligned slots with
        SWAP_HAS_CACHE set, cost in ns), or (empty, cost) when no cluster can give that order (split and retry
        at order 0). Order 0 is exactly alloc(1, cpu)."""
        if order == 0:
            return self.alloc(1, cpu)
        if not 0 < order < SWAP_NR_ORDERS:
            raise ValueError(f"swap entries of order {order}: larger than a cluster")
        found, cost = self._alloc_fast_order(cpu, order)
        if found < 0:
            found, c2 = self._alloc_slow_order(cpu, order)
            cost += c2
        if found < 0:
            self.mthp_fallback[order] += 1
            return np.zeros(0, dtype=np.int64), cost
        self.mthp_alloc[order] += 1
        return np.arange(found, found + (1 << order), dtype=np.int64), cost

    def clusters_by_order(self) -> dict:
        """Swap-space fragmentation, all devices: clusters on nonfull[order] and frag[order], free and full."""
        nonfull = [0] * SWAP_NR_ORDERS
        frag = [0] * SWAP_NR_ORDERS
        free = full = 0
        for dev in self.devices:
            for o in range(SWAP_NR_ORDERS):
                nonfull[o] += len(dev.nonfull_clusters[o])
                frag[o] += len(dev.frag_clusters[o])
            free += len(dev.free_clusters)
            full += len(dev.full_clusters)
        return {"nonfull": nonfull, "frag": frag, "free": free, "full": full}

    # -- references and freeing --------------------------------------------------------------------
    def duplicate(self, slots: np.ndarray) -> None:
        """swap_duplicate: one more PTE references each slot."""
        self.swap_map[slots] += 1

    def put_ref(self, slots: np.ndarray) -> np.ndarray:
        """swap_free_nr: drop one PTE reference; returns the slots that became entirely free."""
        if len(slots) == 0:
            return slots
        freed = swap_map_drop(self.swap_map, slots, 1, 0)
        self._entries_free(freed)
        return freed

    def put_cache(self, slots: np.ndarray) -> np.ndarray:
        """put_swap_folio: the swap cache lets go; returns the slots that became entirely free."""
        if len(slots) == 0:
            return slots
        freed = swap_map_drop(self.swap_map, slots, 0, SWAP_HAS_CACHE)
        self._entries_free(freed)
        return freed

    def _entries_free(self, slots: np.ndarray) -> None:
        """swap_entries_free: clear the slots, fix cluster counts and lists, give the pages back."""
        if len(slots) == 0:
            return
        clusters, dev_counts = swap_entries_clear(
            self.zeromap, self.owner, self.cluster_count, self.cluster_dev, slots, len(self.devices)
        )
        for i, cnt in enumerate(dev_counts.tolist()):
            self.devices[i].inuse -= cnt
        self.nr_swap_pages += len(slots)
        for c in clusters.tolist():
            if self.cluster_count[c] == 0:
                self._free_cluster(c)
            elif self.cluster_flags[c] not in (CLUSTER_FLAG_NONFULL, CLUSTER_FLAG_NONE):
                self._move(c, CLUSTER_FLAG_NONFULL)

    def cluster_list_counts(self) -> dict[str, int]:
        """Clusters on each list, all devices (for the clusters pane)."""
        counts = np.bincount(self.cluster_flags, minlength=len(CLUSTER_FLAG_NAMES))
        return {name: int(counts[i]) for i, name in enumerate(CLUSTER_FLAG_NAMES)}
