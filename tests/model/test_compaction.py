"""Migratetypes, fallback stealing, watermark boost, compaction and THP faults against the kernel's rules."""

from __future__ import annotations

import numpy as np
import pytest

from swaptui.model.compaction import (
    COMPACT_COMPLETE,
    COMPACT_MAX_DEFER_SHIFT,
    COMPACT_PRIO_SYNC_FULL,
    COMPACT_PRIO_SYNC_LIGHT,
    COMPACT_SKIPPED,
    COMPACT_SUCCESS,
    CompactControl,
    CompactionState,
    compact_node,
    compact_zone,
    compaction_suitable,
)
from swaptui.model.fragmentation import fragmentation_index, unusable_free_index
from swaptui.model.invariants import check_all
from swaptui.model.memmap import FRAME_ANON, FRAME_FREE
from swaptui.model.page_alloc import (
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_UNMOVABLE,
    PAGEBLOCK_NR_PAGES,
    PAGEBLOCK_ORDER,
    WMARK_HIGH,
    WMARK_MIN,
    BuddyAllocator,
    Zone,
)

# -- the buddy allocator's migratetype lists ----------------------------------------------------------------


def fresh_zone(pageblocks: int = 8, boost_factor: int = 15000, wmark: tuple[int, int, int] = (64, 80, 96)) -> Zone:
    """A zone of free movable pageblocks with made-up watermarks."""
    n = pageblocks * PAGEBLOCK_NR_PAGES
    state = np.full(n, FRAME_FREE, dtype=np.uint8)
    z = Zone("Normal", n, state, managed=n, wmark=wmark, ncpus=1, watermark_boost_factor=boost_factor)
    z.claim_boot_pages(np.arange(n))
    return z


def test_an_unmovable_request_claims_a_whole_free_pageblock() -> None:
    z = fresh_zone()
    assert z.buddy.nr_free_mt[10][MIGRATE_MOVABLE] == 4
    got = z.rmqueue_order0(1, MIGRATE_UNMOVABLE)
    # No unmovable free page: __rmqueue_claim takes the largest fallback block (order 10) and re-tags both of
    # its pageblocks, then the smallest fit splits it.
    assert len(got) == 1
    pb = int(got[0]) >> PAGEBLOCK_ORDER
    assert z.pageblock_type[pb] == MIGRATE_UNMOVABLE
    assert z.pageblock_type[pb ^ 1] == MIGRATE_UNMOVABLE
    assert (z.pageblock_type == MIGRATE_UNMOVABLE).sum() == 2
    assert z.pageblock_claims == 1
    assert z.watermark_boost == 0  # a pageblock-sized steal does not boost


def test_a_movable_request_below_order_4_steals_without_claiming() -> None:
    z = fresh_zone(pageblocks=2)
    b = z.buddy
    used = b.take_order0(2 * PAGEBLOCK_NR_PAGES, (MIGRATE_MOVABLE,))
    z.state[used] = FRAME_ANON
    hole = np.arange(8, 16)  # an order-3 hole in pageblock 0, which then becomes unmovable
    z.state[hole] = FRAME_FREE
    b.free_pages_batch(hole)
    b.move_pageblock(0, MIGRATE_UNMOVABLE)
    assert b.nr_free_mt[3] == [1, 0, 0]
    got = z.rmqueue_order0(4, MIGRATE_MOVABLE)
    assert sorted(got.tolist()) == [8, 9, 10, 11]
    # should_try_claim_block is false for a movable request below order 4: the pageblock keeps its type,
    # and the rest of the stolen block stays on the unmovable list.
    assert z.pageblock_type[0] == MIGRATE_UNMOVABLE
    assert b.nr_free_mt[2] == [1, 0, 0]
    assert z.extfrag_events == 1 and z.pageblock_claims == 0


def test_claiming_needs_half_a_pageblock_free_or_alike_and_boosts_the_watermark() -> None:
    z = fresh_zone(pageblocks=8)
    b = z.buddy
    # Fill pageblock 0 with movable user pages, then free 100 of them (less than half the block).
    pages = b.take_order0(PAGEBLOCK_NR_PAGES, (MIGRATE_MOVABLE,))
    assert (pages >> PAGEBLOCK_ORDER == pages[0] >> PAGEBLOCK_ORDER).all()
    pb = int(pages[0]) >> PAGEBLOCK_ORDER
    z.state[pages] = FRAME_ANON
    # Use up every other pageblock's free pages too, so only this block's holes are left.
    rest = b.take_order0(b.free_pages, (MIGRATE_MOVABLE,))
    z.state[rest] = FRAME_ANON
    holes = pages[::5][:100]
    z.state[holes] = FRAME_FREE
    b.free_pages_batch(holes)
    got = z.rmqueue_order0(1, MIGRATE_UNMOVABLE)
    assert len(got) == 1
    # free (99 after this page) + alike (unmovable request in a movable block: non-free non-movable = 0) < 256.
    assert z.pageblock_type[pb] == MIGRATE_MOVABLE
    high = z.wmark[WMARK_HIGH]
    assert z.watermark_boost == min(PAGEBLOCK_NR_PAGES, max(PAGEBLOCK_NR_PAGES, high * 15000 // 10000))
    assert z.boosted_flag


def test_a_movable_order_4_request_claims_a_block_whose_movable_pages_make_half() -> None:
    z = fresh_zone(pageblocks=8)
    b = z.buddy
    # Pageblock 0 unmovable; 300 movable user pages in it (alike for a movable request) and 16 free pages.
    z.pageblock_type[0] = MIGRATE_UNMOVABLE
    b.move_pageblock(0, MIGRATE_UNMOVABLE)
    every = b.take_order0(b.free_pages, (MIGRATE_MOVABLE, MIGRATE_UNMOVABLE))
    z.state[every] = 2
    z.state[np.arange(300)] = FRAME_ANON
    hole = np.arange(496, 512)
    z.state[hole] = FRAME_FREE
    b.free_pages_batch(hole)
    assert b.nr_free_mt[4][MIGRATE_UNMOVABLE] == 1
    head = z.rmqueue_block(4, MIGRATE_MOVABLE)
    assert head == 496
    assert z.pageblock_type[0] == MIGRATE_MOVABLE  # 16 free + 300 movable >= 256: claimed
    assert z.pageblock_claims == 1


def test_merging_above_pageblock_order_retags_the_buddy_pageblock() -> None:
    n = 4 * PAGEBLOCK_NR_PAGES
    state = np.full(n, 2, dtype=np.uint8)
    types = np.array([MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE, MIGRATE_MOVABLE], dtype=np.uint8)
    b = BuddyAllocator(n, state, types)
    first = np.arange(PAGEBLOCK_NR_PAGES)
    state[first] = FRAME_FREE
    b.free_pages_batch(first)
    assert b.nr_free_mt[PAGEBLOCK_ORDER][MIGRATE_MOVABLE] == 1
    second = np.arange(PAGEBLOCK_NR_PAGES, 2 * PAGEBLOCK_NR_PAGES)
    state[second] = FRAME_FREE
    b.free_pages_batch(second)
    # change_pageblock_range: the listed buddy (pageblock 0) takes the freed block's type.
    assert b.nr_free[PAGEBLOCK_ORDER + 1] == 1
    assert types[0] == types[1] == MIGRATE_RECLAIMABLE
    assert b.nr_free_mt[PAGEBLOCK_ORDER + 1][MIGRATE_RECLAIMABLE] == 1


def test_boost_is_capped_by_watermark_boost_factor() -> None:
    z = fresh_zone(pageblocks=64, boost_factor=100, wmark=(6400, 8000, 9600))
    for _ in range(5):  # max_boost = max(pageblock, 9600 * 1 %) = one pageblock
        assert z.boost_watermark()
    assert z.watermark_boost == PAGEBLOCK_NR_PAGES
    big = fresh_zone(pageblocks=64, wmark=(6400, 8000, 9600))  # default 150 % of high = 14400
    for _ in range(40):
        big.boost_watermark()
    assert big.watermark_boost == 14400
    tiny = fresh_zone(pageblocks=64, boost_factor=100)  # high 96 x 1 % rounds to 0: no boost at all
    assert not tiny.boost_watermark()
    z0 = fresh_zone(pageblocks=64, boost_factor=0)
    assert not z0.boost_watermark() and z0.watermark_boost == 0
    small = fresh_zone(pageblocks=3)  # 4 pageblocks > managed: no boosting
    assert not small.boost_watermark()


# -- deferral and suitability -----------------------------------------------------------------------------


def test_deferral_skips_up_to_two_to_the_shift_attempts_and_resets_on_success() -> None:
    st = CompactionState(8)
    st.compact_order_failed = 10
    st.defer(9)
    assert (st.compact_defer_shift, st.compact_considered, st.compact_order_failed) == (1, 0, 9)
    assert st.deferred(9)  # considered 1 < 2
    assert not st.deferred(9)  # considered reaches 2
    assert not st.deferred(8)  # lower orders than the failed one are never deferred
    for _ in range(10):
        st.defer(9)
    assert st.compact_defer_shift == COMPACT_MAX_DEFER_SHIFT
    skipped = sum(st.deferred(9) for _ in range(100))
    assert skipped == (1 << COMPACT_MAX_DEFER_SHIFT) - 1
    assert st.restarting(9)
    st.defer_reset(9, True)
    assert (st.compact_defer_shift, st.compact_considered, st.compact_order_failed) == (0, 0, 10)


def fragmented_machine(make_machine, slab: bool = False, **kw):
    """A 64 MiB machine whose workload filled most of memory and then freed every other page."""
    if slab:
        wl = "- {name: s, kind: slab, size: 30MiB, free_every: 2}"
    else:
        wl = "- {name: f, kind: usemem, size: 36MiB, free_every: 2, free_after: false}"
    m = make_machine(memory="64MiB", workloads=wl, **kw)
    for _ in range(40):
        m.step(25)
        if all(p.exited or p.finished_accessing() for p in m.procs) and not any(
            p.kind == "slab" and not p.exited for p in m.procs
        ):
            break
    m.step(5)
    return m


def use_up_free_pageblocks(m) -> None:
    """Hand every free block of pageblock order or more to the kernel, so only fragmented free memory is left."""
    while sum(m.zone.buddy.nr_free[PAGEBLOCK_ORDER:]):
        head = m.zone.alloc_block(PAGEBLOCK_ORDER)
        m.memmap.state[head : head + PAGEBLOCK_NR_PAGES] = 2
        m.kernel_pages += PAGEBLOCK_NR_PAGES


def test_free_every_other_page_leaves_no_free_pageblock(make_machine) -> None:
    m = fragmented_machine(make_machine)
    fa = m.zone.buddy.nr_free
    assert sum(fa[PAGEBLOCK_ORDER:]) <= 2  # almost no free 2 MiB block survives
    assert unusable_free_index(fa, PAGEBLOCK_ORDER) > 500
    assert fragmentation_index(fa, PAGEBLOCK_ORDER) in (-1000,) or fragmentation_index(fa, PAGEBLOCK_ORDER) > 500


def test_compaction_succeeds_with_enough_free_movable_space(make_machine) -> None:
    m = fragmented_machine(make_machine)
    use_up_free_pageblocks(m)
    before_blocks = sum(m.zone.buddy.nr_free[PAGEBLOCK_ORDER:])
    assert before_blocks == 0
    st = m.compaction
    cc = CompactControl(
        order=PAGEBLOCK_ORDER, priority=COMPACT_PRIO_SYNC_LIGHT, alloc_mark=m.zone.wmark_pages(WMARK_MIN) + 10**9
    )  # never "already fine"
    result = compact_zone(m, cc, st)
    assert result == COMPACT_SUCCESS
    assert sum(m.zone.buddy.nr_free[PAGEBLOCK_ORDER:]) > before_blocks
    assert cc.migrated > 0 and m.vm["pgmigrate_success"] == cc.migrated
    assert m.vm["compact_migrate_scanned"] == cc.migrate_scanned > 0
    assert m.vm["compact_free_scanned"] == cc.free_scanned > 0
    check_all(m)  # every page still in exactly one place after migration
    m.step(20)


def test_compaction_fails_with_unmovable_pages_scattered(make_machine) -> None:
    m = fragmented_machine(make_machine, slab=True)
    kernel_blocks = np.unique(np.flatnonzero(m.memmap.state == 2) >> PAGEBLOCK_ORDER)
    assert (m.zone.pageblock_type[kernel_blocks] != MIGRATE_MOVABLE).sum() >= len(kernel_blocks) - 1
    order_free = sum(m.zone.buddy.nr_free[PAGEBLOCK_ORDER:])
    cc = CompactControl(order=-1, priority=COMPACT_PRIO_SYNC_FULL, whole_zone=True, ignore_skip_hint=True)
    result = compact_zone(m, cc, m.compaction)
    assert result == COMPACT_COMPLETE  # the scanners met
    # Slab pages cannot move: no new free pageblock appears where they sit.
    free_after = sum(m.zone.buddy.nr_free[PAGEBLOCK_ORDER:])
    holey = [pb for pb in kernel_blocks if (m.memmap.state[pb << 9 : (pb + 1) << 9] == 2).any()]
    assert len(holey) >= 4
    for pb in holey:
        assert not m.zone.buddy.listed[PAGEBLOCK_ORDER][pb]
    assert free_after <= order_free + (m.zone.managed // PAGEBLOCK_NR_PAGES)
    check_all(m)


def test_the_scanners_meet_and_stop(make_machine) -> None:
    m = fragmented_machine(make_machine)
    compact_node(m, m.now)
    mig, free = m.compaction.last_scanners
    assert free >> PAGEBLOCK_ORDER <= mig >> PAGEBLOCK_ORDER or m.compaction.last_result in ("contended",)
    assert m.compaction.last_result in ("complete", "contended")
    check_all(m)


def test_compaction_suitable_follows_the_fragmentation_index_gate(make_machine) -> None:
    m = make_machine(memory="64MiB", workloads="- {name: u, kind: usemem, size: 8MiB}")
    # Plenty of free memory in large blocks: the index is -1000 (a block exists), so compaction is suitable.
    assert fragmentation_index(m.zone.buddy.nr_free, PAGEBLOCK_ORDER) == -1000
    assert compaction_suitable(m, PAGEBLOCK_ORDER)
    frag = fragmented_machine(make_machine)
    fi = fragmentation_index(frag.zone.buddy.nr_free, PAGEBLOCK_ORDER)
    thr = frag.scenario.machine.extfrag_threshold
    assert compaction_suitable(frag, PAGEBLOCK_ORDER) == (not (0 <= fi <= thr))
    # Watermark part: compaction needs low + compact_gap free; take that away and it is skipped.
    z = frag.zone
    z.wmark[1] = z.nr_free_pages  # low watermark = all free pages
    assert not compaction_suitable(frag, PAGEBLOCK_ORDER)
    cc = CompactControl(order=PAGEBLOCK_ORDER, priority=COMPACT_PRIO_SYNC_LIGHT, alloc_mark=10**9)
    assert compact_zone(frag, cc, frag.compaction) == COMPACT_SKIPPED


# -- THP faults and the scenario ----------------------------------------------------------------------------


def test_thp_faults_map_order_9_folios_and_fall_back_without_a_free_block(make_machine) -> None:
    m = make_machine(
        memory="64MiB",
        extra_machine=", thp: always",
        workloads="- {name: h, kind: usemem, size: 16MiB, free_after: false}",
    )
    m.step(100)
    assert m.vm["thp_fault_alloc"] >= 4
    heads = np.flatnonzero(m.memmap.folio_order == PAGEBLOCK_ORDER)
    assert len(heads) == m.vm["thp_fault_alloc"] * PAGEBLOCK_NR_PAGES - 0 or len(heads) % PAGEBLOCK_NR_PAGES == 0
    assert (heads[::PAGEBLOCK_NR_PAGES] % PAGEBLOCK_NR_PAGES == 0).all()
    # thp=madvise without MADV_HUGEPAGE: base pages only.
    m2 = make_machine(
        memory="64MiB",
        extra_machine=", thp: madvise",
        workloads="- {name: h, kind: usemem, size: 16MiB, free_after: false}",
    )
    m2.step(100)
    assert m2.vm["thp_fault_alloc"] == 0 and not m2.memmap.folio_order.any()


def test_thp_faults_on_fragmented_memory_stall_in_direct_compaction(make_machine) -> None:
    wl = (
        "- {name: f, kind: usemem, size: 36MiB, free_every: 2, free_after: false}\n"
        "- {name: h, kind: usemem, size: 8MiB, huge: true, start: 0.4s, free_after: false}"
    )
    m = make_machine(memory="64MiB", workloads=wl, duration="1s", extra_machine=", thp: madvise")
    m.step(1000)
    vm = m.vm
    assert vm["compact_stall"] > 0
    assert vm["compact_stall"] == vm["compact_success"] + vm["compact_fail"]
    assert vm["compact_success"] > 0
    assert vm["thp_fault_alloc"] > 0
    assert vm["pgmigrate_success"] > 0


def test_defrag_never_falls_back_instead_of_compacting(make_machine) -> None:
    wl = (
        "- {name: f, kind: usemem, size: 36MiB, free_every: 2, free_after: false}\n"
        "- {name: h, kind: usemem, size: 8MiB, huge: true, start: 0.4s, free_after: false}"
    )
    m = make_machine(memory="64MiB", workloads=wl, duration="1s", extra_machine=", thp: madvise, thp_defrag: never")
    m.step(1000)
    assert m.vm["compact_stall"] == 0
    assert m.vm["thp_fault_fallback"] > 0


def test_thp_swapout_needs_a_free_cluster_and_splits_without_one(make_machine) -> None:
    # 4 MiB of swap: two clusters. Two huge pages can go out whole; the rest are split.
    m = make_machine(
        memory="48MiB",
        devices="- {name: d0, kind: zram, size: 4MiB}",
        extra_machine=", thp: always",
        workloads="- {name: h, kind: usemem, size: 40MiB, free_after: false, passes: 2}",
    )
    m.step(600)
    vm = m.vm
    assert vm["thp_swpout"] >= 1
    assert vm["thp_swpout"] <= 2 + vm["pswpin"] // PAGEBLOCK_NR_PAGES + 2
    assert vm["thp_swpout_fallback"] >= 1
    assert vm["thp_split_page"] >= vm["thp_swpout_fallback"]


def test_the_thp_compaction_scenario_shows_stalls_failing_and_faults_falling_back() -> None:
    """Every other page freed leaves holes on one parity: the async free scanner's 32-pfn stride never lands
    on one (v6.1 isolate_freepages), so direct compaction fails and THP faults fall back to base pages."""
    from swaptui.model.machine import Machine
    from swaptui.scenario import load_scenario

    m = Machine(load_scenario("scenarios/thp-compaction.yaml"))
    m.step(1500)
    stalls0, unusable0 = m.vm["compact_stall"], unusable_free_index(m.zone.buddy.nr_free, PAGEBLOCK_ORDER)
    m.step(1500)
    assert m.vm["compact_stall"] > stalls0
    assert m.vm["compact_fail"] > m.vm["compact_success"]
    assert m.vm["thp_fault_fallback"] > 0 and m.vm["thp_fault_alloc"] > 50
    assert unusable_free_index(m.zone.buddy.nr_free, PAGEBLOCK_ORDER) != unusable0  # the index moves with the lists


@pytest.mark.parametrize("design", ["classic", "swap_table", "vswap"])
def test_invariants_hold_every_tick_with_thp_mthp_slab_and_compaction(make_machine, design: str) -> None:
    wl = (
        "- {name: f, kind: usemem, size: 20MiB, free_every: 2, free_after: false}\n"
        "- {name: s, kind: slab, size: 4MiB, free_every: 2}\n"
        "- {name: h, kind: usemem, size: 24MiB, huge: true, start: 0.1s, passes: 2, random: true}"
    )
    m = make_machine(
        memory="48MiB",
        workloads=wl,
        duration="1s",
        devices="- {name: d0, kind: zram, size: 24MiB}",
        extra_machine=", thp: madvise, mthp: [64KiB], thp_defrag: always, compaction_proactiveness: 50",
        extra_swap=f"design: {design}",
    )
    m.step(400)  # check_invariants=True: every tick
    assert m.vm["pgmigrate_success"] + m.vm["thp_fault_alloc"] + m.vm["swaptui_mthp_fault_alloc"] > 0


def test_reclaim_runs_the_zsmalloc_shrinker_and_returns_compacted_zspages(make_machine) -> None:
    m = make_machine(
        memory="48MiB",
        devices="- {name: d0, kind: ssd, size: 64MiB}",
        extra_swap="zswap: {enabled: true, max_pool_percent: 20}",
        workloads="- {name: u, kind: usemem, size: 56MiB, passes: 2, random: true}",
    )
    m.step(700)  # invariants every tick: zsmalloc frames follow the pool as it shrinks
    pool = m.zswap.pool
    assert m.vm["swaptui_zs_pages_compacted"] == pool.pages_compacted > 0
    assert pool.objs_compacted > 0
    stats = pool.class_stats()
    assert (stats[:, 4] >= stats[:, 5]).all()  # objects allocated >= used in every class


@pytest.mark.parametrize(
    "defrag, madvised, expected",
    [
        ("always", True, (True, False, False)),
        ("always", False, (True, False, True)),
        ("defer", True, (False, True, False)),
        ("defer", False, (False, True, False)),
        ("defer+madvise", True, (True, False, False)),
        ("defer+madvise", False, (False, True, False)),
        ("madvise", True, (True, False, False)),
        ("madvise", False, (False, False, False)),
        ("never", True, (False, False, False)),
    ],
)
def test_thp_gfp_follows_vma_thp_gfp_mask(make_machine, defrag: str, madvised: bool, expected) -> None:
    from swaptui.model.memory import thp_gfp

    m = make_machine(check_invariants=False, extra_machine=f", thp: always, thp_defrag: {defrag}")
    p = m.procs[0]
    p.huge_madvised = madvised
    assert thp_gfp(m, p) == expected  # (direct reclaim/compaction, wake kswapd/kcompactd, __GFP_NORETRY)
