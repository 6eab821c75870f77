"""Large-folio (mTHP/THP) swap slot allocation: order-exclusive clusters, aligned runs, fallback (6.18 rules)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.costs import DEFAULT_COSTS, backend_profile
from swaptui.model.invariants import InvariantError, check_large_folios, check_swap_clusters
from swaptui.model.swapfile import (
    CLUSTER_FLAG_FRAG,
    CLUSTER_FLAG_FREE,
    CLUSTER_FLAG_FULL,
    CLUSTER_FLAG_NONFULL,
    SWAP_COUNT_MASK,
    SWAP_HAS_CACHE,
    SWAP_MAP_BAD,
    SWAP_NR_ORDERS,
    SwapSlots,
)
from swaptui.model.vswap import VSwapSpace


def _slots(nr_clusters: int = 8, kind: str = "ssd", ncpus: int = 8, discard: bool = False) -> SwapSlots:
    return SwapSlots(
        [("d0", kind, backend_profile(kind), 5, nr_clusters * 512, discard)], ncpus=ncpus, costs=DEFAULT_COSTS
    )


def _cluster(slots: np.ndarray) -> int:
    return int(slots[0]) >> 9


def test_order_4_fills_a_cluster_in_32_aligned_chunks_then_takes_a_free_cluster() -> None:
    s = _slots()
    chunks = [s.alloc_folio(4, cpu=0)[0] for _ in range(32)]
    # Slow path: nonfull[4] is empty, so the first free cluster (1; cluster 0 holds the header, order 0).
    assert [int(c[0]) for c in chunks] == list(range(512, 1024, 16))
    assert all(len(c) == 16 and (np.diff(c) == 1).all() and c[0] % 16 == 0 for c in chunks)
    assert (s.swap_map[512:1024] == SWAP_HAS_CACHE).all()
    assert s.cluster_order[1] == 4 and s.cluster_flags[1] == CLUSTER_FLAG_FULL and s.cluster_count[1] == 512
    assert s.percpu_offset[0, 4] == -1  # the cluster filled: nothing cached for order 4
    nxt, _ = s.alloc_folio(4, cpu=0)
    assert nxt.tolist() == list(range(1024, 1040))
    assert s.cluster_flags[2] == CLUSTER_FLAG_FRAG and 2 in s.devices[0].frag_clusters[4]
    assert s.mthp_alloc[4] == 33 and s.mthp_fallback.sum() == 0
    assert s.nr_swap_pages == s.total_swap_pages - 33 * 16
    check_swap_clusters(s)


def test_the_fast_path_goes_on_from_the_cached_offset_per_cpu_and_order() -> None:
    s = _slots()
    a, _ = s.alloc_folio(4, cpu=0)
    b, _ = s.alloc_folio(2, cpu=0)  # another order: its own per-CPU offset, and its own cluster
    c, _ = s.alloc_folio(4, cpu=1)  # another CPU: its own cluster
    d, _ = s.alloc_folio(4, cpu=0)
    assert (_cluster(a), _cluster(b), _cluster(c), _cluster(d)) == (1, 2, 3, 1)
    assert int(d[0]) == int(a[0]) + 16
    assert s.percpu_offset[0, 4] == int(d[0]) + 16 and s.percpu_offset[0, 2] == int(b[0]) + 4


def test_a_cached_offset_into_a_cluster_since_taken_by_another_order_is_not_used() -> None:
    s = _slots(nr_clusters=2)  # cluster 1 is the only one that can ever be empty
    a, _ = s.alloc_folio(4, cpu=0)
    assert s.percpu_offset[0, 4] == int(a[0]) + 16
    s.put_cache(a)  # cluster 1 is empty again (free list); CPU 0 still caches an offset in it
    assert s.cluster_flags[1] == CLUSTER_FLAG_FREE
    b, _ = s.alloc_folio(2, cpu=1)  # the free list hands cluster 1 to order 2
    assert _cluster(b) == 1 and s.cluster_order[1] == 2
    c, _ = s.alloc_folio(4, cpu=0)  # fast path: cluster 1 is not usable for order 4 any more; nothing else is
    assert len(c) == 0 and s.mthp_fallback[4] == 1
    d, _ = s.alloc_folio(2, cpu=0)  # order 2 shares it
    assert _cluster(d) == 1
    check_large_folios(s, np.array([int(b[0]), int(d[0])]), np.array([2, 2]))


def test_a_cluster_holding_order_4_entries_is_never_used_by_order_2() -> None:
    s = _slots(nr_clusters=8)
    for cpu in range(7):  # one order-4 folio in each of clusters 1..7: no free cluster left
        got, _ = s.alloc_folio(4, cpu=cpu)
        assert _cluster(got) == cpu + 1
    assert s.clusters_by_order()["free"] == 0
    none, _ = s.alloc_folio(2, cpu=7)
    assert len(none) == 0 and s.mthp_fallback[2] == 1 and s.mthp_alloc[2] == 0
    assert s.cluster_order[1:].tolist() == [4] * 7 and (s.cluster_count[1:] == 16).all()
    # Order 4 itself still fits, from this CPU's cluster or the frag list.
    got, _ = s.alloc_folio(4, cpu=7)
    assert len(got) == 16 and s.cluster_order[_cluster(got)] == 4


def test_freeing_an_aligned_chunk_makes_the_cluster_nonfull_for_its_order_and_it_is_reused() -> None:
    s = _slots()
    chunks = [s.alloc_folio(4, cpu=0)[0] for _ in range(32)]
    assert s.cluster_flags[1] == CLUSTER_FLAG_FULL
    freed = s.put_cache(chunks[5])
    assert sorted(freed.tolist()) == chunks[5].tolist()
    assert s.cluster_flags[1] == CLUSTER_FLAG_NONFULL and 1 in s.devices[0].nonfull_clusters[4]
    assert s.clusters_by_order()["nonfull"][4] == 1
    again, _ = s.alloc_folio(4, cpu=3)  # slow path: nonfull[4] before the free list
    assert again.tolist() == chunks[5].tolist()
    assert s.cluster_flags[1] == CLUSTER_FLAG_FULL
    check_swap_clusters(s)


def test_a_failed_scan_marks_the_cluster_frag_for_its_order() -> None:
    s = _slots()
    chunks = [s.alloc_folio(4, cpu=0)[0] for _ in range(32)]
    s.put_cache(chunks[3][:8])  # half a chunk: 8 free slots, no aligned run of 16
    assert s.cluster_flags[1] == CLUSTER_FLAG_NONFULL and 1 in s.devices[0].nonfull_clusters[4]
    got, _ = s.alloc_folio(4, cpu=1)
    # nonfull[4] is scanned first, fails (count + 16 > 512) and goes to frag[4]; then the free list.
    assert _cluster(got) == 2
    assert s.cluster_flags[1] == CLUSTER_FLAG_FRAG and 1 in s.devices[0].frag_clusters[4]
    s.put_cache(chunks[4])  # a whole aligned chunk frees up: any free moves it back to nonfull
    assert s.cluster_flags[1] == CLUSTER_FLAG_NONFULL
    got, _ = s.alloc_folio(4, cpu=2)
    assert got.tolist() == chunks[4].tolist()


def test_with_no_free_cluster_and_full_order_clusters_order_k_falls_back_while_order_0_still_succeeds() -> None:
    s = _slots(nr_clusters=4)
    for _ in range(3 * 32):  # clusters 1..3 full of order-4 folios
        assert len(s.alloc_folio(4, cpu=0)[0]) == 16
    s.alloc(511, cpu=0)  # cluster 0 (the header's) full of order-0 slots
    assert s.nr_swap_pages == 0
    # Free one slot in each of two order-4 chunks: clusters 1 and 2 are nonfull[4] but no aligned run is free.
    s.put_cache(np.array([512 + 5]))
    s.put_cache(np.array([1024 + 100]))
    s.put_cache(np.array([1024 + 300]))
    assert s.clusters_by_order()["nonfull"][4] == 2 and s.clusters_by_order()["free"] == 0
    none, _ = s.alloc_folio(4, cpu=1)
    assert len(none) == 0 and s.mthp_fallback[4] == 1
    # Both were scanned and failed: they moved to frag[4].
    assert s.clusters_by_order()["frag"][4] == 2 and s.clusters_by_order()["nonfull"][4] == 0
    # Order 0 steals from the order-4 frag list (nonfull[0] and frag[0] are empty, no free cluster).
    got, _ = s.alloc(3, cpu=1)
    assert sorted(got.tolist()) == [517, 1124, 1324]
    assert s.cluster_order[1] == 4 and s.cluster_order[2] == 4  # order 0 does not change a cluster's order
    check_swap_clusters(s)


def test_order_9_needs_a_whole_free_cluster() -> None:
    s = _slots(nr_clusters=4)
    thp = [s.alloc_folio(9, cpu=c)[0] for c in range(3)]
    assert [int(t[0]) for t in thp] == [512, 1024, 1536] and all(len(t) == 512 for t in thp)
    assert (s.cluster_flags[1:] == CLUSTER_FLAG_FULL).all() and (s.cluster_order[1:] == 9).all()
    assert len(s.alloc_folio(9, cpu=0)[0]) == 0  # cluster 0 holds the header: never empty
    s.put_cache(thp[1][:1])  # one free slot: nonfull[9], but order 9 never scans nonfull/frag lists
    assert s.cluster_flags[2] == CLUSTER_FLAG_NONFULL
    assert len(s.alloc_folio(9, cpu=0)[0]) == 0
    s.put_cache(thp[1][1:])
    assert s.cluster_flags[2] == CLUSTER_FLAG_FREE
    again, _ = s.alloc_folio(9, cpu=0)
    assert again.tolist() == thp[1].tolist()
    assert s.mthp_alloc[9] == 4 and s.mthp_fallback[9] == 2


def test_an_order_0_slot_in_a_free_cluster_keeps_order_9_out() -> None:
    s = _slots(nr_clusters=3)
    s.alloc(511, cpu=0)  # cluster 0 full
    s.alloc(1, cpu=0)  # cluster 1 takes one order-0 slot
    assert s.cluster_order[1] == 0 and s.cluster_count[1] == 1
    got, _ = s.alloc_folio(9, cpu=0)
    assert int(got[0]) == 1024
    assert len(s.alloc_folio(9, cpu=1)[0]) == 0 and s.mthp_fallback[9] == 1


def test_order_0_through_alloc_folio_is_alloc_of_one() -> None:
    a, b = _slots(), _slots()
    for i in range(600):
        got_a, cost_a = a.alloc_folio(0, cpu=i % 3)
        got_b, cost_b = b.alloc(1, cpu=i % 3)
        assert got_a.tolist() == got_b.tolist() and cost_a == cost_b
    assert (a.swap_map == b.swap_map).all() and (a.cluster_flags == b.cluster_flags).all()
    assert a.mthp_alloc.sum() == 0 and a.mthp_fallback.sum() == 0
    with pytest.raises(ValueError):
        a.alloc_folio(SWAP_NR_ORDERS, cpu=0)


def test_hdd_large_folios_come_from_the_global_cluster_in_6_18_and_not_before_6_14() -> None:
    s = _slots(kind="hdd")
    a, _ = s.alloc_folio(4, cpu=0)
    b, _ = s.alloc_folio(4, cpu=1)  # no per-CPU clusters on HDD: global_cluster->next[4] is shared
    assert int(b[0]) == int(a[0]) + 16 and _cluster(a) == 1
    assert (s.percpu_offset == -1).all() and s.devices[0].global_next[4] == int(b[0]) + 16
    old = _slots(kind="hdd")
    old.large_on_rotational = False  # <= 6.13: only non-rotational devices had clusters for large entries
    none, _ = old.alloc_folio(4, cpu=0)
    assert len(none) == 0 and old.mthp_fallback[4] == 1
    assert len(old.alloc_folio(0, cpu=0)[0]) == 1
    ssd = _slots()
    ssd.large_on_rotational = False
    assert len(ssd.alloc_folio(4, cpu=0)[0]) == 16


def test_a_swap_file_that_is_not_a_block_device_gives_no_large_entries() -> None:
    s = _slots()
    s.devices[0].blkdev = False
    assert len(s.alloc_folio(2, cpu=0)[0]) == 0 and s.mthp_fallback[2] == 1
    assert len(s.alloc_folio(0, cpu=0)[0]) == 1


def test_over_half_full_a_window_held_only_by_the_swap_cache_is_reclaimed() -> None:
    s = _slots(nr_clusters=2)
    s.duplicate(s.alloc(511, cpu=0)[0])  # cluster 0 full of mapped order-0 slots
    chunks = [s.alloc_folio(4, cpu=0)[0] for _ in range(32)]
    for c in chunks[2:]:
        s.duplicate(c)  # mapped by a PTE: not reclaimable; chunks 0 and 1 stay swap-cache-only
    s.put_cache(chunks[5])
    s.put_ref(chunks[5])  # a free aligned chunk: cluster 1 is nonfull[4]
    reclaimed: list[int] = []

    def reclaim(slots: np.ndarray) -> int:
        reclaimed.extend(slots.tolist())
        s.put_cache(slots)
        return 0

    s.reclaim_cache_only = reclaim
    assert s.vm_swap_full() and 1 in s.devices[0].nonfull_clusters[4]
    got, _ = s.alloc_folio(4, cpu=1)
    # The scan from the cluster start meets chunk 0 first: cache-only, so cluster_reclaim_range frees it.
    assert got.tolist() == chunks[0].tolist() and reclaimed == chunks[0].tolist()
    assert (s.swap_map[chunks[1]] == SWAP_HAS_CACHE).all() and (s.swap_map[chunks[5]] == 0).all()
    check_swap_clusters(s)


def test_vswap_virtual_large_folios_are_aligned_and_order_exclusive() -> None:
    phys = _slots()
    vs = VSwapSpace(phys, 8 * 512, ncpus=2, costs=DEFAULT_COSTS)
    a, _ = vs.alloc_folio(4, cpu=0)
    b, _ = vs.alloc_folio(4, cpu=0)
    c, _ = vs.alloc_folio(2, cpu=0)
    z, _ = vs.alloc(3, cpu=0)
    assert int(a[0]) % 16 == 0 and int(b[0]) == int(a[0]) + 16 and int(c[0]) % 4 == 0
    assert len({_cluster(a), _cluster(c), _cluster(z)}) == 3  # one virtual cluster per order
    assert vs.vc_order[_cluster(a)] == 4 and vs.vc_order[_cluster(c)] == 2 and vs.vc_order[_cluster(z)] == 0
    assert (vs.swap_map[a] == SWAP_HAS_CACHE).all() and vs.mthp_alloc[4] == 2 and vs.mthp_alloc[2] == 1
    assert phys.used() == 0  # no physical slot until writeout
    # Freed entries of an order-4 cluster go back to its own partial list, never the order-0 one.
    vs.percpu_cluster_large[0, 4] = -1
    vs.put_cache(a)
    assert _cluster(a) in vs.partial_large[4] and _cluster(a) not in vs.partial
    again, _ = vs.alloc_folio(4, cpu=1)
    assert again.tolist() == a.tolist()
    # Emptied and uncached: the cluster leaves the map and its id may come back at another order.
    vs.percpu_cluster_large[1, 4] = -1
    vs.put_cache(np.concatenate([again, b]))
    assert not vs.vc_live[_cluster(a)] and vs.vc_order[_cluster(a)] == 0


def test_vswap_large_virtual_allocation_fails_only_when_the_virtual_id_space_is_used_up() -> None:
    phys = _slots(nr_clusters=2)
    vs = VSwapSpace(phys, 512, ncpus=1, costs=DEFAULT_COSTS)  # cluster 0 (reserved slot) + one more
    thp, _ = vs.alloc_folio(9, cpu=0)
    assert thp.tolist() == list(range(512, 1024))
    none, _ = vs.alloc_folio(9, cpu=0)
    assert len(none) == 0 and vs.mthp_fallback[9] == 1 and vs.mthp_alloc[9] == 1
    vs.put_cache(thp)  # emptied and not cached (it filled up): erased from the map, its id free again
    assert not vs.vc_live[1]
    again, _ = vs.alloc_folio(9, cpu=0)
    assert again.tolist() == thp.tolist() and vs.vc_order[1] == 9


def test_the_checker_catches_a_cluster_on_the_wrong_order_list() -> None:
    s = _slots()
    s.alloc_folio(4, cpu=0)
    check_swap_clusters(s)
    s.cluster_order[1] = 2  # as if the order changed while the cluster is on frag[4]
    with pytest.raises(InvariantError):
        check_swap_clusters(s)


# -- property: random interleavings keep every invariant and the counts --------------------------------
ops = st.lists(
    st.tuples(
        st.sampled_from(["alloc", "alloc", "alloc", "batch", "free", "free", "free_part", "dup"]),
        st.sampled_from([0, 1, 2, 4, 4, 9]),
        st.integers(0, 3),
        st.integers(0, 10**6),
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=80, deadline=None)
@given(script=ops, nr_clusters=st.integers(2, 5), discard=st.booleans())
def test_random_interleavings_keep_the_invariants_and_the_counts(script: list, nr_clusters: int, discard: bool) -> None:
    s = _slots(nr_clusters=nr_clusters, ncpus=4, discard=discard)
    live: dict[int, int] = {}  # first slot -> order, for folios allocated whole (until any slot is freed)
    used: set[int] = set()  # every slot in use, by the reference
    allocs = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)
    fallbacks = np.zeros(SWAP_NR_ORDERS, dtype=np.int64)

    def reclaim(slots: np.ndarray) -> int:
        # As swap_ops does: only folios already in the swap cache (not the ones this very call handed out).
        forget(s.put_cache(slots[np.isin(slots, list(used))]))
        return 0

    def forget(freed: np.ndarray) -> None:
        for x in freed.tolist():
            used.discard(x)
            for first, o in list(live.items()):
                if first <= x < first + (1 << o):
                    del live[first]

    s.reclaim_cache_only = reclaim
    for op, drawn_order, cpu, pick in script:
        order = 0 if op == "batch" else drawn_order
        if op in ("alloc", "batch"):
            if op == "batch":
                got, cost = s.alloc(1 + pick % 300, cpu)
            else:
                got, cost = s.alloc_folio(order, cpu)
            assert cost >= 0
            if got.size:
                assert op == "batch" or (len(got) == 1 << order and int(got[0]) % (1 << order) == 0)
                assert (op == "batch" or (np.diff(got) == 1).all()) and not used.intersection(got.tolist())
                used.update(got.tolist())
                if order:
                    live[int(got[0])] = order
                    allocs[order] += 1
            elif order:
                fallbacks[order] += 1
        elif used:
            ordered = sorted(used)
            x = ordered[pick % len(ordered)]
            first = next((f for f, o in live.items() if f <= x < f + (1 << o)), x)
            group = np.arange(first, first + (1 << live.get(first, 0))) if op != "free_part" else np.array([x])
            if op == "dup":
                s.duplicate(group)  # a PTE maps them too: reclaim of cache-only slots leaves them alone
            else:
                mapped = (s.swap_map[group] & SWAP_COUNT_MASK) > 0
                forget(s.put_ref(group[mapped]))
                cached = (s.swap_map[group] & SWAP_HAS_CACHE) > 0
                forget(s.put_cache(group[cached]))
        if s.pending_discard and pick % 3 == 0:
            s.run_discards()
        check_swap_clusters(s)
        if live:
            check_large_folios(s, np.array(list(live)), np.array(list(live.values())))
        in_use = (s.swap_map != 0) & (s.swap_map != SWAP_MAP_BAD)
        assert set(np.flatnonzero(in_use).tolist()) == used
        bad = np.bincount(np.flatnonzero(s.swap_map == SWAP_MAP_BAD) >> 9, minlength=len(s.cluster_count))
        ref = np.bincount(np.array(sorted(used), dtype=np.int64) >> 9, minlength=len(s.cluster_count))
        assert (s.cluster_count == ref + bad).all()
        assert s.nr_swap_pages == s.total_swap_pages - len(used) == s.total_swap_pages - s.devices[0].inuse
        assert (s.mthp_alloc == allocs).all() and (s.mthp_fallback == fallbacks).all()


# -- the selftest's shape: thp_swap_allocator_test ---------------------------------------------------------
def _fallback_series(
    aligned: bool, iterations: int = 16, nr_folios: int = 800, swapin: float = 0.2, refresh: float = 0.1, seed: int = 3
) -> list[float]:
    """thp_swap_allocator_test's loop over 64 KiB folios filling ~78 % of a 32-cluster device: every round pages
    out all resident memory (a folio that cannot get an order-4 run splits and goes out page by page), then
    swaps a fifth of it back in, either as single random pages (plain run: each leaves a hole in an order-4
    run and a split folio) or as whole aligned folios (-a), and drops and refaults a tenth of the folios as
    fresh 64 KiB ones. Returns each round's order-4 fallback rate."""
    rng = np.random.default_rng(seed)
    s = _slots(nr_clusters=32, ncpus=2)
    slot = np.full(nr_folios * 16, -1, dtype=np.int64)  # each page's swap slot, -1 while resident
    large = np.ones(nr_folios, dtype=bool)  # still one 64 KiB folio (never split)
    rates = []
    for _ in range(iterations):
        ok, failed = int(s.mthp_alloc[4]), int(s.mthp_fallback[4])
        for f in range(nr_folios):  # MADV_PAGEOUT
            pages = np.arange(f * 16, f * 16 + 16)
            resident = pages[slot[pages] < 0]
            if not len(resident):
                continue
            if large[f]:
                got, _ = s.alloc_folio(4, cpu=f & 1)
                if got.size:
                    slot[pages] = got
                    continue
                large[f] = False  # split_folio_to_list, then order 0
            got, _ = s.alloc(len(resident), cpu=f & 1)
            slot[resident[: len(got)]] = got
        tried = int(s.mthp_alloc[4]) - ok + int(s.mthp_fallback[4]) - failed
        rates.append((int(s.mthp_fallback[4]) - failed) / max(tried, 1))
        if aligned:
            back = np.flatnonzero(rng.random(nr_folios) < swapin)
            back = (back[:, None] * 16 + np.arange(16)).ravel()
        else:
            back = np.flatnonzero(rng.random(len(slot)) < swapin)
            large[np.unique(back // 16)] = False  # an order-0 page faulted in: the folio is split
        back = back[slot[back] >= 0]
        s.put_cache(slot[back])  # swap-in, then the swap cache lets go
        slot[back] = -1
        fresh = np.flatnonzero(rng.random(nr_folios) < refresh)  # MADV_DONTNEED + refault as 64 KiB folios
        pages = (fresh[:, None] * 16 + np.arange(16)).ravel()
        s.put_cache(slot[pages[slot[pages] >= 0]])
        slot[pages] = -1
        large[fresh] = True
        check_swap_clusters(s)
    return rates


def test_the_order_4_fallback_rate_climbs_as_random_swapins_fragment_swap() -> None:
    rates = _fallback_series(aligned=False)
    print("\nrandom swap-in, order-4 fallback per round: ", " ".join(f"{r:.0%}" for r in rates))
    assert max(rates[:3]) < 0.05  # free clusters last a while
    assert np.mean(rates[-4:]) > 0.5  # then order-0 pages take them and order-4 runs are holed
    assert rates[-1] > rates[4] > rates[2]


def test_aligned_swapins_keep_the_order_4_fallback_rate_near_zero() -> None:
    rates = _fallback_series(aligned=True)
    print("\naligned swap-in, order-4 fallback per round:", " ".join(f"{r:.0%}" for r in rates))
    assert max(rates) < 0.05
