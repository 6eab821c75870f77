"""Fragmentation as the kernel measures it: known answers for mm/vmstat.c's indices, this machine's
/proc/buddyinfo checked against an independent computation, the proactive compaction watermarks,
properties of the indices, and zsmalloc's per-class fragmentation and compaction."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.fragmentation import (
    COMPACTION_HPAGE_ORDER,
    NR_PAGE_ORDERS,
    extfrag_for_order,
    extfrag_per_order,
    fill_contig_page_info,
    fragmentation_index,
    fragmentation_index_per_order,
    fragmentation_score_node,
    fragmentation_score_wmark,
    fragmentation_score_zone,
    free_area_by_migratetype,
    parse_buddyinfo,
    parse_pagetypeinfo,
    should_proactive_compact,
    unusable_free_index,
    unusable_free_index_per_order,
)
from swaptui.model.zsmalloc import CLASS_STATS_COLUMNS, ZsPool

# 10 single pages, 4 order-1 blocks, 1 order-3 block: 26 free pages in 15 blocks.
SMALL = (10, 4, 0, 1)
COL = {name: i for i, name in enumerate(CLASS_STATS_COLUMNS)}


# -- known answers, worked by hand -------------------------------------------------------------------


def test_contig_page_info_counts_suitable_blocks_in_units_of_the_order() -> None:
    # Order 2: the order-3 block is two order-2 blocks; the order-1 blocks are too small.
    info = fill_contig_page_info(SMALL, 2)
    assert (info.free_pages, info.free_blocks_total, info.free_blocks_suitable) == (26, 15, 2)
    # Order 0: every free page is a suitable order-0 block.
    assert fill_contig_page_info(SMALL, 0).free_blocks_suitable == 26


@pytest.mark.parametrize(
    ("free_area", "order", "expected"),
    [
        # A block of the order exists: the allocation would succeed.
        (SMALL, 3, -1000),
        # 1000 - (1000 + 26*1000/16) / 15 = 1000 - (1000 + 1625) / 15 = 1000 - 175 = 825.
        (SMALL, 4, 825),
        # 1000 - (1000 + 26000/512) / 15 = 1000 - 1050 / 15 = 1000 - 70 = 930.
        (SMALL, 9, 930),
        # 512 single pages, order 9: 1000 - (1000 + 512000/512) / 512 = 1000 - 2000 / 512 = 1000 - 3 = 997,
        # as fragmented as it gets.
        ((512,), 9, 997),
        # Two order-8 halves, order 9: 1000 - (1000 + 1000) / 2 = 0: "lack of memory", though 512 pages are free.
        ((0,) * 8 + (2,), 9, 0),
        # One free page, order 10: 1000 - (1000 + 1000/1024) / 1 = 1000 - 1000 = 0.
        ((1,), 10, 0),
        # Truncation: 3 pages + one order-2 block, order 3: 7000/8 = 875; (1000 + 875) / 4 = 468 (468.75);
        # 1000 - 468 = 532, where exact arithmetic gives 531.25.
        ((3, 0, 1), 3, 532),
        # One block of half the order: 1000 - (1000 + 256000/512) / 1 = -500, a negative index that is not
        # -1000 (compaction_suitable's 0 <= index <= threshold test lets it through).
        ((0,) * 8 + (1,), 9, -500),
        # Very many single pages at order 10: 100000*1000/1024 = 97656; (1000 + 97656) / 100000 = 0; 1000 - 0
        # = 1000, the top of the scale (reachable at order 10 only, where 2^order > 1000).
        ((100_000,), 10, 1000),
        # No free memory at all.
        ((0,) * 11, 5, 0),
    ],
)
def test_fragmentation_index_by_hand(free_area: tuple[int, ...], order: int, expected: int) -> None:
    assert fragmentation_index(free_area, order) == expected
    assert fragmentation_index_per_order(free_area)[order] == expected


@pytest.mark.parametrize(
    ("order", "unusable", "extfrag"),
    [
        (0, 0, 0),  # every free page is usable for order 0
        (1, 384, 38),  # (26 - 8*2) = 10 unusable pages: 10000/26 = 384; 1000/26 = 38
        (2, 692, 69),  # (26 - 2*4) = 18: 18000/26 = 692; 1800/26 = 69
        (3, 692, 69),  # (26 - 1*8) = 18
        (4, 1000, 100),  # nothing of order 4: all free memory is unusable
    ],
)
def test_unusable_free_index_and_extfrag_for_order_by_hand(order: int, unusable: int, extfrag: int) -> None:
    assert unusable_free_index(SMALL, order) == unusable
    assert extfrag_for_order(SMALL, order) == extfrag
    assert unusable_free_index_per_order(SMALL)[order] == unusable
    assert extfrag_per_order(SMALL)[order] == extfrag


def test_empty_free_lists() -> None:
    empty = (0,) * NR_PAGE_ORDERS
    assert unusable_free_index(empty, 3) == 1000  # the kernel's convention: nothing free, nothing usable
    assert extfrag_for_order(empty, 3) == 0  # ... but a score of 0: nothing to compact
    assert (unusable_free_index_per_order(empty) == 1000).all()
    assert (extfrag_per_order(empty) == 0).all() and (fragmentation_index_per_order(empty) == 0).all()


def test_an_order_above_max_page_order_warns_and_gives_zero() -> None:
    assert fragmentation_index(SMALL, 11) == 0
    # A longer list is a kernel with a larger MAX_PAGE_ORDER (64 KiB pages): its orders are all computed.
    long = (0,) * 13 + (1,)
    assert len(fragmentation_index_per_order(long)) == 14 and fragmentation_index(long, 13) == -1000


def test_proactive_score_is_extfrag_at_the_thp_order_and_weighted_by_present_pages() -> None:
    # 10 single pages and one pageblock: (522 - 512) * 100 / 522 = 1 % of free memory below order 9.
    free_area = (10,) + (0,) * 8 + (1,)
    assert COMPACTION_HPAGE_ORDER == 9
    assert fragmentation_score_zone(free_area) == 1
    # 1000 single pages: all unusable for a THP.
    assert fragmentation_score_zone((1000,)) == 100
    # One zone: present * score / (present + 1) truncates to score - 1 for any score above 0.
    assert fragmentation_score_node([((1000,), 262_144)]) == 99
    # Two zones, weighted by present pages: 100 * 1000 / 4001 + 0 = 24.
    assert fragmentation_score_node([((1000,), 1000), ((0,) * 10 + (5,), 3000)]) == 24


@pytest.mark.parametrize(
    ("proactiveness", "v66", "mm"),
    [
        # 6.6: low = max(100 - p, 5), high = min(low + 10, 100).
        # mm:  low = 100 - p, high = min(low + min(10, low / 2), 100).
        (0, (100, 100), (100, 100)),
        (20, (80, 90), (80, 90)),  # the default
        (95, (5, 15), (5, 7)),  # leeway 5 / 2 = 2
        (100, (5, 15), (0, 0)),
    ],
)
def test_proactive_compaction_watermarks_in_both_formulas(
    proactiveness: int, v66: tuple[int, int], mm: tuple[int, int]
) -> None:
    assert (fragmentation_score_wmark(True, proactiveness), fragmentation_score_wmark(False, proactiveness)) == v66
    assert (
        fragmentation_score_wmark(True, proactiveness, "6.6"),
        fragmentation_score_wmark(False, proactiveness, "6.6"),
    ) == v66
    assert (
        fragmentation_score_wmark(True, proactiveness, "mm"),
        fragmentation_score_wmark(False, proactiveness, "mm"),
    ) == mm


def test_proactive_compaction_triggers_above_the_high_mark_only_when_on_and_kswapd_idle() -> None:
    assert should_proactive_compact(91, 20) and not should_proactive_compact(90, 20)
    assert not should_proactive_compact(100, 0)  # proactiveness 0: off
    assert not should_proactive_compact(91, 20, kswapd_running=True)
    assert should_proactive_compact(8, 95, formula="mm") and not should_proactive_compact(8, 95)
    with pytest.raises(ValueError):
        fragmentation_score_wmark(True, 101)
    with pytest.raises(ValueError):
        fragmentation_score_wmark(True, 20, "5.9")


# -- properties ------------------------------------------------------------------------------------

FREE_AREAS = st.lists(st.integers(0, 10**6), min_size=0, max_size=NR_PAGE_ORDERS)


@settings(max_examples=300, deadline=None)
@given(FREE_AREAS, st.integers(0, NR_PAGE_ORDERS - 1))
def test_indices_stay_in_their_ranges(free_area: list[int], order: int) -> None:
    fi = fragmentation_index(free_area, order)
    # [-1000, 1000]: 1000 itself is reached at order 10 (see the known answers), and negative values
    # other than -1000 when a few blocks are each at least half the order.
    assert -1000 <= fi <= 1000
    assert fi == -1000 or fill_contig_page_info(free_area, order).free_blocks_suitable == 0
    assert 0 <= unusable_free_index(free_area, order) <= 1000
    assert 0 <= extfrag_for_order(free_area, order) <= 100


@settings(max_examples=200, deadline=None)
@given(FREE_AREAS)
def test_the_per_order_arrays_are_the_scalar_functions(free_area: list[int]) -> None:
    orders = range(NR_PAGE_ORDERS)
    assert fragmentation_index_per_order(free_area).tolist() == [fragmentation_index(free_area, o) for o in orders]
    assert unusable_free_index_per_order(free_area).tolist() == [unusable_free_index(free_area, o) for o in orders]
    assert extfrag_per_order(free_area).tolist() == [extfrag_for_order(free_area, o) for o in orders]
    # Unusable memory only grows with the order.
    assert (np.diff(unusable_free_index_per_order(free_area)) >= 0).all()


# -- this machine's /proc/buddyinfo -------------------------------------------------------------------


def independent_indices(free_area: list[int], order: int) -> tuple[int, int, int]:
    """(fragmentation index, unusable index, extfrag %) from the list of free block sizes, in exact
    fractions, truncated where the kernel's unsigned division truncates."""
    sizes = [1 << o for o, n in enumerate(free_area) for _ in range(n)]
    requested = 1 << order
    free = sum(sizes)
    fits = sum(size // requested for size in sizes)  # blocks of the order that the free blocks split into
    if not sizes:
        fi = 0
    elif fits:
        fi = -1000
    else:
        per_request = math.floor(Fraction(free * 1000, requested))
        fi = 1000 - math.floor(Fraction(1000 + per_request, len(sizes)))
    unusable_share = Fraction(free - fits * requested, free) if free else None
    unusable = 1000 if unusable_share is None else math.floor(unusable_share * 1000)
    extfrag = 0 if unusable_share is None else math.floor(unusable_share * 100)
    return fi, unusable, extfrag


def test_this_machines_buddyinfo_matches_an_independent_computation() -> None:
    path = Path("/proc/buddyinfo")
    try:
        text = path.read_text()
    except OSError as e:
        pytest.skip(f"/proc/buddyinfo is unreadable here ({e.__class__.__name__}): not Linux, or /proc not mounted")
    zones = parse_buddyinfo(text)
    assert zones, "no zone lines parsed from /proc/buddyinfo"
    for (node, zone), free_area in zones.items():
        assert node >= 0 and zone and len(free_area) >= NR_PAGE_ORDERS
        fi = fragmentation_index_per_order(free_area)
        un = unusable_free_index_per_order(free_area)
        ef = extfrag_per_order(free_area)
        for order in range(len(free_area)):
            assert (fi[order], un[order], ef[order]) == independent_indices(free_area, order), (node, zone, order)


def test_parse_buddyinfo_and_pagetypeinfo() -> None:
    buddy = (
        "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
        "Node 0, zone   Normal   2352   1400    937    582   1585   1482    927    620    315    167    753 \n"
        "Node 1, zone   Normal      1      0      0      0      0      0      0      0      0      0      0 \n"
    )
    zones = parse_buddyinfo(buddy)
    assert list(zones) == [(0, "DMA"), (0, "Normal"), (1, "Normal")]
    assert zones[(0, "Normal")][0] == 2352 and zones[(0, "DMA")][10] == 3 and len(zones[(1, "Normal")]) == 11
    pagetype = """Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10
Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      1      0      0
Node    0, zone   Normal, type    Unmovable    357    565    569    381    152     88     38     13      4      0      0
Node    0, zone   Normal, type      Movable >100000    154     73     71   1365   1351    876    600    309    166    753
Node    0, zone   Normal, type  Reclaimable   1482    681    295    130     68     43     13      7      2      1      0
Node    0, zone   Normal, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0

Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate
Node 0, zone      DMA            1            7            0            0            0
Node 0, zone   Normal           59         2315           58            0            0
"""
    types = parse_pagetypeinfo(pagetype)
    assert list(types) == [(0, "DMA"), (0, "Normal")]
    normal = types[(0, "Normal")]
    assert list(normal) == ["Unmovable", "Movable", "Reclaimable", "HighAtomic"]
    assert normal["Movable"][:2] == [100000, 154]  # the kernel stops counting at 100000 and prints '>'
    mt = free_area_by_migratetype(normal)
    assert mt.shape == (NR_PAGE_ORDERS, 3) and mt[0].tolist() == [357, 100000, 1482] and mt[10, 1] == 753
    assert parse_pagetypeinfo("") == {} and parse_buddyinfo("") == {}


# -- zsmalloc: fragmentation per size class -----------------------------------------------------------


def fragmented_pool(seed: int = 3) -> tuple[ZsPool, dict[int, int]]:
    """A pool filled with mixed sizes, then 60 % of its objects freed at random: (pool, live handle -> size)."""
    rng = np.random.default_rng(seed)
    pool = ZsPool()
    sizes = rng.integers(100, 4097, 4000)
    handles = pool.malloc(sizes)
    gone = rng.random(len(handles)) < 0.6
    pool.free(handles[gone])
    return pool, dict(zip(handles[~gone].tolist(), sizes[~gone].tolist()))


def test_class_stats_has_the_debugfs_columns_for_the_classes_in_use() -> None:
    pool, live = fragmented_pool()
    stats = pool.class_stats()
    assert stats.dtype == np.int64 and stats.shape[1] == len(CLASS_STATS_COLUMNS) == 7
    assert (stats[:, COL["zspages"]] > 0).all() and (np.diff(stats[:, COL["size"]]) > 0).all()
    alloc, used = stats[:, COL["objs_allocated"]], stats[:, COL["objs_used"]]
    objs, pages = stats[:, COL["objs_per_zspage"]], stats[:, COL["pages_per_zspage"]]
    assert (alloc == stats[:, COL["zspages"]] * objs).all()
    assert (alloc >= used).all() and int(used.sum()) == len(live)
    # zs_can_compact: whole zspages' worth of unused objects, in pages.
    assert (stats[:, COL["freeable"]] == (alloc - used) // objs * pages).all()
    assert int(stats[:, COL["freeable"]].sum()) == pool.can_compact() > 0
    assert int((stats[:, COL["zspages"]] * pages).sum()) == pool.pages()
    assert ZsPool().class_stats().shape == (0, 7)


def test_compaction_frees_what_class_stats_promised_and_keeps_every_object() -> None:
    pool, live = fragmented_pool()
    before = pool.class_stats()
    pages_before = pool.pages()
    promised = int(before[:, COL["freeable"]].sum())
    freed = pool.compact()
    assert freed == promised == pages_before - pool.pages() == pool.pages_compacted
    after = pool.class_stats()
    assert (after[:, COL["freeable"]] == 0).all()
    # Per class: the zspages freed are the freeable pages over the pages per zspage.
    by_size = {int(r[COL["size"]]): r for r in after}
    for r in before:
        expect = int(r[COL["zspages"]] - r[COL["freeable"]] // r[COL["pages_per_zspage"]])
        got = by_size.get(int(r[COL["size"]]))
        assert (0 if got is None else int(got[COL["zspages"]])) == expect
        assert got is None or got[COL["objs_used"]] == r[COL["objs_used"]]
    # Every object is still where its handle says, once, with its size.
    handles = np.array(list(live), dtype=np.int64)
    assert pool.obj_size(handles).tolist() == list(live.values())
    idx, rows, objs = pool.location(handles)
    assert len(set(zip(idx.tolist(), rows.tolist(), objs.tolist()))) == len(live)
    slots = pool.table.index_to_slot[idx]
    ids = handles & ((1 << 32) - 1)
    assert all(pool.classes[s].objs[r, o] == i for s, r, o, i in zip(slots, rows, objs, ids))
    assert pool.compact() == 0  # nothing left to gain


def test_the_snapshot_carries_the_zswap_pools_classes_and_none_without_zswap() -> None:
    from swaptui.model.machine import Machine
    from swaptui.model.snapshot import build_snapshot
    from swaptui.scenario import load_scenario_text

    yaml = """name: tiny
seed: 1
tick: 1ms
duration: 1s
machine: {memory: 64MiB, cpus: 1}
swap:
  design: classic
  devices: [{name: ssd0, kind: ssd, size: 128MiB, priority: 10}]
  zswap: {enabled: %s, max_pool_percent: 20, compressor: lz4}
workloads:
  - {name: usemem, kind: usemem, size: 96MiB, passes: 1, compress_ratio: 3.0}
"""
    with_zswap = Machine(load_scenario_text(yaml % "true"))
    while not (with_zswap.vm["swaptui_zswap_stored"] > 1000 or with_zswap.tick > 200):
        with_zswap.step(5)  # until usemem has overcommitted into zswap (it has not exited yet)
    s = build_snapshot(with_zswap)
    assert s.zs_classes is not None and s.zs_classes.shape[1] == 7 and len(s.zs_classes) > 0
    assert (s.zs_classes == with_zswap.zswap.pool.class_stats()).all()
    assert int(s.zs_classes[:, COL["objs_used"]].sum()) == with_zswap.zswap.entries()
    assert build_snapshot(Machine(load_scenario_text(yaml % "false"))).zs_classes is None
