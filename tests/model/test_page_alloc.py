"""Known answers for the page allocator: watermark formulas, batch sizes, and buddy split/merge."""

from __future__ import annotations

import math

import numpy as np
import pytest

from swaptui.model.page_alloc import (
    MAX_ORDER,
    BuddyAllocator,
    calculate_min_free_kbytes,
    recommended_min_free_kbytes,
    setup_per_zone_wmarks,
    zone_batchsize,
    zone_split,
)


def test_watermarks_match_the_real_kernel_trace() -> None:
    """The 1 GiB qemu guest of shared/traces: DMA 175/218/261 and DMA32 11088/13860/16632 pages."""
    zones = [("DMA", 3840), ("DMA32", 242028)]
    mfk = max(calculate_min_free_kbytes(983472), recommended_min_free_kbytes(2, 245868))
    assert mfk == 45056  # raised by THP, as the trace's sysctl shows
    dma, dma32 = setup_per_zone_wmarks(zones, mfk, 10)
    assert (dma.wmark_min, dma.wmark_low, dma.wmark_high) == (175, 218, 261)
    assert (dma32.wmark_min, dma32.wmark_low, dma32.wmark_high) == (11088, 13860, 16632)


@pytest.mark.parametrize(
    "lowmem_kb, expected",
    [
        (983472, 3966),  # int_sqrt(983472 * 16)
        (4 << 20, 8192),  # 4 GiB -> sqrt(67108864) = 8192
        (16 << 20, 16384),
        (64 << 20, 32768),
        (1024, 128),  # clamped up to 128
        (8 << 30, 262144),  # clamped down to 256 MiB
    ],
)
def test_min_free_kbytes_formula(lowmem_kb: int, expected: int) -> None:
    assert calculate_min_free_kbytes(lowmem_kb) == expected


@pytest.mark.parametrize("gib", [1, 2, 4, 16, 64])
def test_watermark_delta_is_the_larger_of_quarter_min_and_scale_factor(gib: int) -> None:
    """Independent computation of __setup_per_zone_wmarks for a single zone."""
    managed = gib * 262144 - 16384
    mfk = calculate_min_free_kbytes(managed * 4)
    for wsf in (10, 100, 1000):
        (z,) = setup_per_zone_wmarks([("Normal", managed)], mfk, wsf)
        pages_min = mfk // 4
        delta = max(pages_min // 4, managed * wsf // 10000)
        assert (z.wmark_min, z.wmark_low, z.wmark_high) == (pages_min, pages_min + delta, pages_min + 2 * delta)


def test_scale_factor_dominates_on_large_machines() -> None:
    managed = 64 * 262144
    mfk = calculate_min_free_kbytes(managed * 4)
    (z,) = setup_per_zone_wmarks([("Normal", managed)], mfk, 10)
    assert z.wmark_low - z.wmark_min == managed * 10 // 10000 > (mfk // 4) // 4


def test_zone_split_puts_the_rest_above_4gib_in_normal() -> None:
    small = dict(zone_split(245760, 262144))
    assert set(small) == {"DMA", "DMA32"}
    big = dict(zone_split(16 * 262144 - 60000, 16 * 262144))
    assert big["Normal"] > big["DMA32"] > big["DMA"]
    assert sum(big.values()) == 16 * 262144 - 60000


def test_zone_batchsize() -> None:
    assert zone_batchsize(245868) == 63  # 1 GiB: min(240, 256)/4 = 60 -> rounddown_pow2(90) - 1
    assert zone_batchsize(16 << 18) == 63
    assert zone_batchsize(65536) == 15  # 256 MiB: 64/4 = 16 -> rounddown_pow2(24) - 1
    assert zone_batchsize(8192) == 1  # 32 MiB: 8/4 = 2 -> rounddown_pow2(3) - 1
    assert zone_batchsize(100) == 1


def _fresh(nr: int) -> BuddyAllocator:
    state = np.zeros(nr, dtype=np.uint8)
    b = BuddyAllocator(nr, state)
    b.free_pages_batch(np.arange(nr))
    return b


def test_free_memory_merges_into_max_order_blocks() -> None:
    b = _fresh(1 << 14)
    assert b.nr_free[MAX_ORDER] == (1 << 14) >> MAX_ORDER
    assert sum(b.nr_free[:MAX_ORDER]) == 0


def test_allocation_splits_the_smallest_block_like_expand() -> None:
    b = _fresh(1 << 11)
    got = b.alloc_order0(1)
    assert got.tolist() == [1024]  # the top of the stack is the last freed block; its lowest page
    # expand() leaves one free block at each order 0..9 inside the split 1024-page block.
    assert b.nr_free[:MAX_ORDER] == [1] * MAX_ORDER
    assert b.nr_free[MAX_ORDER] == 1
    more = b.alloc_order0(3)  # smallest first: the order-0 block, then the order-1 block
    assert sorted(more.tolist()) == [1025, 1026, 1027]


def test_random_alloc_free_keeps_buddy_accounting_exact() -> None:
    rng = np.random.default_rng(7)
    n = 1 << 13
    b = _fresh(n)
    held: set[int] = set()
    for _ in range(150):
        got = b.alloc_order0(int(rng.integers(1, 700)))
        assert not (set(got.tolist()) & held)
        held |= set(got.tolist())
        if held:
            arr = np.array(sorted(held))
            freed = rng.choice(arr, size=int(rng.integers(0, len(arr) + 1)), replace=False)
            held -= set(freed.tolist())
            b.free_pages_batch(freed)
        assert b.free_pages == n - len(held)
        assert sum(b.nr_free[o] << o for o in range(MAX_ORDER + 1)) == b.free_pages
        # Buddy invariant: no two free buddies of the same order are both listed.
        for o in range(MAX_ORDER):
            listed = np.flatnonzero(b.listed[o][: n >> o])
            assert not np.isin(listed ^ 1, listed).any()
    b.free_pages_batch(np.array(sorted(held)))
    assert b.nr_free[MAX_ORDER] == n >> MAX_ORDER


def test_int_sqrt_matches_math() -> None:
    for x in (0, 1, 15, 16, 983472 * 16):
        assert calculate_min_free_kbytes(x // 16) == max(128, min(math.isqrt(x // 16 * 16), 262144))


def test_pageblocks_of_kernel_allocations_are_unmovable_and_pagetypeinfo_adds_up(make_machine) -> None:
    from swaptui.model.page_alloc import MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, PAGEBLOCK_ORDER

    m = make_machine(check_invariants=False)
    kernel = np.flatnonzero(m.memmap.state == 2)
    assert (m.zone.pageblock_type[np.unique(kernel >> PAGEBLOCK_ORDER)] == MIGRATE_UNMOVABLE).all()
    assert (m.zone.pageblock_type == MIGRATE_MOVABLE).any()
    m.step(100)
    by_type = m.zone.buddy.free_area_by_migratetype()
    assert by_type.sum(axis=1).tolist() == m.zone.buddy.nr_free


def test_every_allocation_below_the_low_watermark_pays_the_slow_path(make_machine) -> None:
    """__alloc_pages_slowpath runs once per allocation that fails the low watermark, not once per batch: a task
    faulting n pages while free memory sits between min and low pays it n times (and only the per-CPU list
    cost above low)."""
    from swaptui.model.memory import alloc_pages_task
    from swaptui.model.page_alloc import MIGRATE_MOVABLE, WMARK_LOW, WMARK_MIN

    m = make_machine(check_invariants=False)
    z, c, p = m.zone, m.costs, m.procs[0]
    frames, spent = alloc_pages_task(m, p, 10, m.now, 10**9)
    assert len(frames) == 10 and spent == 10 * c.pcp_page  # plenty free: the fast path
    low, mn = z.wmark_pages(WMARK_LOW), z.wmark_pages(WMARK_MIN)
    z.alloc(z.buddy.free_pages - (low + mn) // 2, MIGRATE_MOVABLE)
    assert z.allowance(low) == 0 and z.allowance(mn) > 10
    frames, spent = alloc_pages_task(m, p, 10, m.now, 10**9)
    assert len(frames) == 10 and spent == 10 * (c.pcp_page + c.alloc_slowpath)
    assert m.kswapd.state == "running"  # and the slow path woke kswapd
