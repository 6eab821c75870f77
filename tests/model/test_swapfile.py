"""Cluster list transitions and allocation order of the swap slot allocator (6.18 rules)."""

from __future__ import annotations

import numpy as np

from swaptui.model.costs import DEFAULT_COSTS, backend_profile
from swaptui.model.swapfile import (
    CLUSTER_FLAG_FRAG,
    CLUSTER_FLAG_FREE,
    CLUSTER_FLAG_FULL,
    CLUSTER_FLAG_NONFULL,
    SWAP_HAS_CACHE,
    SWAP_MAP_BAD,
    SwapSlots,
)


def _slots(nr_clusters: int = 4, kind: str = "ssd", discard: bool = False, devices: int = 1) -> SwapSlots:
    devs = [(f"d{i}", kind, backend_profile(kind), 5, nr_clusters * 512, discard) for i in range(devices)]
    return SwapSlots(devs, ncpus=2, costs=DEFAULT_COSTS)


def _flags(s: SwapSlots) -> list[int]:
    return s.cluster_flags.tolist()


def test_initial_lists_header_slot_is_bad() -> None:
    s = _slots()
    assert s.swap_map[0] == SWAP_MAP_BAD
    assert s.total_swap_pages == 4 * 512 - 1
    # Cluster 0 holds the header, so it starts partially used (nonfull); the rest are free.
    assert _flags(s) == [CLUSTER_FLAG_NONFULL, CLUSTER_FLAG_FREE, CLUSTER_FLAG_FREE, CLUSTER_FLAG_FREE]


def test_scripted_allocations_and_frees_move_clusters_between_lists() -> None:
    s = _slots()
    # 1. First allocation: nonfull[0] is searched before the free list -> cluster 0, then frag.
    got, _ = s.alloc(1, cpu=0)
    assert got.tolist() == [1]
    assert s.swap_map[1] == SWAP_HAS_CACHE
    assert _flags(s)[0] == CLUSTER_FLAG_FRAG
    # 2. The per-CPU fast path keeps filling cluster 0 until it is full.
    got, _ = s.alloc(510, cpu=0)
    assert got.tolist() == list(range(2, 512))
    assert _flags(s)[0] == CLUSTER_FLAG_FULL and s.cluster_count[0] == 512
    # 3. Next allocation takes the slow path: no nonfull clusters, so one from the free list.
    got, _ = s.alloc(1, cpu=0)
    assert got.tolist() == [512]
    assert _flags(s)[1] == CLUSTER_FLAG_FRAG
    # 4. Another CPU does not share CPU 0's cluster: it takes the next free cluster.
    got, _ = s.alloc(1, cpu=1)
    assert got.tolist() == [1024]
    assert _flags(s)[2] == CLUSTER_FLAG_FRAG
    # 5. Freeing slots of the full cluster puts it on nonfull (it regained space).
    s.put_cache(np.array([10, 11]))
    assert _flags(s)[0] == CLUSTER_FLAG_NONFULL and s.cluster_count[0] == 510
    # 6. Freeing the only slot of cluster 2 makes it free again.
    s.put_cache(np.array([1024]))
    assert _flags(s)[2] == CLUSTER_FLAG_FREE and s.cluster_count[2] == 0
    # 7. CPU 1's cached cluster is now free, not frag: its fast path still uses it (usable: flag <= FRAG).
    got, _ = s.alloc(1, cpu=1)
    assert got.tolist() == [1025]
    # 8. A new CPU-0 slow path prefers nonfull clusters (cluster 0's holes) over free ones.
    s.percpu_offset[0, 0] = -1
    got, _ = s.alloc(2, cpu=0)
    assert got.tolist() == [10, 11]
    assert _flags(s)[0] == CLUSTER_FLAG_FULL
    assert s.nr_swap_pages == s.total_swap_pages - int(((s.swap_map != 0) & (s.swap_map != SWAP_MAP_BAD)).sum())


def test_counts_drive_freeing() -> None:
    s = _slots()
    got, _ = s.alloc(3, cpu=0)
    s.duplicate(got)  # a PTE now references each slot
    assert (s.put_cache(got)).size == 0  # swap cache lets go, PTE references remain
    assert s.cluster_count[0] == 4
    freed = s.put_ref(got)
    assert sorted(freed.tolist()) == got.tolist()
    assert s.cluster_count[0] == 1  # only the header


def test_device_full_moves_to_next_priority_and_fails_when_all_full() -> None:
    devs = [
        ("hi", "ssd", backend_profile("ssd"), 10, 1024, False),
        ("lo", "ssd", backend_profile("ssd"), 1, 1024, False),
    ]
    s = SwapSlots(devs, ncpus=1, costs=DEFAULT_COSTS)
    got, _ = s.alloc(1023, cpu=0)
    assert (s.device_of(got) == 0).all() and s.devices[0].is_full()
    got, _ = s.alloc(10, cpu=0)
    assert (s.device_of(got) == 1).all()
    got, _ = s.alloc(5000, cpu=0)
    assert len(got) == 1013 and s.nr_swap_pages == 0
    none, _ = s.alloc(1, cpu=0)
    assert len(none) == 0 and s.alloc_fail == (5000 - 1013) + 1  # pages that could not get a slot


def test_equal_priority_devices_rotate() -> None:
    devs = [("a", "ssd", backend_profile("ssd"), 5, 4096, False), ("b", "ssd", backend_profile("ssd"), 5, 4096, False)]
    s = SwapSlots(devs, ncpus=2, costs=DEFAULT_COSTS)
    a, _ = s.alloc(1, cpu=0)
    b, _ = s.alloc(1, cpu=1)
    assert {int(s.device_of(a)[0]), int(s.device_of(b)[0])} == {0, 1}


def _with_recorder(s: SwapSlots) -> list[int]:
    reclaimed: list[int] = []

    def reclaim(slots: np.ndarray) -> int:
        reclaimed.extend(slots.tolist())
        s.put_cache(slots)  # what the swap cache does: drop the folio, freeing count-0 slots
        return 0

    s.reclaim_cache_only = reclaim
    return reclaimed


def test_slow_path_reclaims_a_full_cluster_before_scanning_frag_when_swap_is_over_half_full() -> None:
    s = _slots(nr_clusters=2)
    reclaimed = _with_recorder(s)
    got, _ = s.alloc(s.total_swap_pages - 200, cpu=0)  # cluster 0 full, cluster 1 on frag
    s.duplicate(got[100:])  # the first 100 slots are cache-only (HAS_CACHE, count 0)
    assert s.vm_swap_full()
    s.percpu_offset[0, 0] = -1
    more, _ = s.alloc(200, cpu=0)
    # 6.18 order: nonfull, free, then swap_reclaim_full_clusters (one full cluster), then frag.
    assert sorted(reclaimed) == got[:100].tolist()
    assert more.tolist() == list(range(824, 1024))
    assert s.cluster_flags[0] == CLUSTER_FLAG_NONFULL


def test_full_device_leaves_avail_list_until_reclaim_work_runs() -> None:
    s = _slots(nr_clusters=2)
    reclaimed = _with_recorder(s)
    got, _ = s.alloc(s.total_swap_pages, cpu=0)
    s.duplicate(got[50:])
    assert s.devices[0].is_full() and s.devices[0].reclaim_pending
    none, _ = s.alloc(1, cpu=0)
    assert len(none) == 0
    s.run_reclaim_work()
    assert sorted(reclaimed) == got[:50].tolist()
    s.percpu_offset[0, 0] = -1
    again, _ = s.alloc(1, cpu=0)
    assert len(again) == 1 and int(again[0]) in got[:50].tolist()


def test_discard_clusters_become_free_after_discard_runs() -> None:
    s = _slots(nr_clusters=2, discard=True)
    got, _ = s.alloc(5, cpu=0)
    c = int(got[0]) >> 9
    s.put_cache(got)
    if s.cluster_count[c] == 0:
        assert s.cluster_flags[c] == 5  # discard
        s.run_discards()
        assert s.cluster_flags[c] == CLUSTER_FLAG_FREE
