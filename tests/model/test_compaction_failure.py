"""Compaction that fails as the kernel's does (v6.1 mm/compaction.c, mm/migrate.c, mm/page_alloc.c).

Each failure path is checked on one pageblock of a small fragmented machine: the migrate scanner may only
visit block A (every other block is skip-marked), the free scanner only block T, a movable block holding
one used page and 511 free pages in aligned buddy blocks (offsets 1, 2, 4, ... 256), so the counts are exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaptui.model import memory as memory_mod
from swaptui.model.compaction import (
    COMPACT_DEFERRED,
    COMPACT_PARTIAL_SKIPPED,
    COMPACT_PRIO_ASYNC,
    COMPACT_PRIO_SYNC_FULL,
    COMPACT_PRIO_SYNC_LIGHT,
    COMPACT_SUCCESS,
    CompactControl,
    compact_zone,
    compaction_suitable,
    direct_compact,
    try_to_compact_pages,
)
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FREE,
    FRAME_KERNEL,
    LRU_NONE,
    PG_DIRTY,
    PG_LOCKED,
    PG_PINNED,
    PG_WRITEBACK,
)
from swaptui.model.page_alloc import PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER

ORDER = PAGEBLOCK_ORDER


def _fragmented(make_machine):
    """64 MiB, 36 MiB of base pages written and every other page freed; per-CPU lists drained."""
    m = make_machine(
        memory="64MiB", workloads="- {name: f, kind: usemem, size: 36MiB, free_every: 2, free_after: false}"
    )
    for _ in range(40):
        m.step(25)
        if all(p.exited or p.finished_accessing() for p in m.procs):
            break
    m.step(5)
    m.zone.drain()
    return m


def setup_blocks(make_machine):
    """(machine, A, T): A the lowest pageblock holding only anonymous LRU pages and free holes, T a movable
    block above it made of one kernel page and 511 free pages; every other block skip-marked."""
    m = _fragmented(make_machine)
    mem = m.memmap
    heads = []
    while sum(m.zone.buddy.nr_free[ORDER:]):  # no free pageblock left: only compaction can make one
        h = m.zone.alloc_block(ORDER)
        mem.state[h : h + PAGEBLOCK_NR_PAGES] = FRAME_KERNEL
        m.kernel_pages += PAGEBLOCK_NR_PAGES
        heads.append(h)
    head = max(heads)  # T: the highest of them, one kernel page and 511 free pages
    t = head >> PAGEBLOCK_ORDER
    rest = np.arange(head + 1, head + PAGEBLOCK_NR_PAGES, dtype=np.int64)
    mem.state[rest] = FRAME_FREE
    m.kernel_pages -= len(rest)
    m.zone.buddy.free_pages_batch(rest)
    a = -1
    for pb in range(t - 1):  # not next to T: the free scanner stops below the migrate scanner's next block
        lo, hi = pb << PAGEBLOCK_ORDER, (pb + 1) << PAGEBLOCK_ORDER
        st = mem.state[lo:hi]
        anon = st == FRAME_ANON
        if anon.sum() >= 200 and ((st == FRAME_FREE) | anon).all() and (mem.lru[lo:hi][anon] != LRU_NONE).all():
            a = pb
            break
    assert a >= 0
    st = m.compaction
    st.skip[:] = True
    st.skip[a] = st.skip[t] = False
    st.cached_migrate_pfn = [a << PAGEBLOCK_ORDER, a << PAGEBLOCK_ORDER]
    st.cached_free_pfn = t << PAGEBLOCK_ORDER
    assert compaction_suitable(m, ORDER)
    return m, a, t


def anon_pages(m, a: int) -> np.ndarray:
    lo = a << PAGEBLOCK_ORDER
    return np.flatnonzero(m.memmap.state[lo : lo + PAGEBLOCK_NR_PAGES] == FRAME_ANON) + lo


def run(m, priority: int, order: int = ORDER, direct: bool = True) -> tuple[int, CompactControl]:
    cc = CompactControl(order=order, priority=priority, direct_compaction=direct, alloc_mark=10**9)
    return compact_zone(m, cc, m.compaction), cc


def used_in(m, a: int) -> int:
    lo = a << PAGEBLOCK_ORDER
    return int((m.memmap.state[lo : lo + PAGEBLOCK_NR_PAGES] != FRAME_FREE).sum())


def test_a_clean_block_is_emptied_and_captured(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    n = len(anon_pages(m, a))
    # Sync-light: the free scanner takes every buddy block of T (async's stride would miss some, see below).
    result, captured, _ = try_to_compact_pages(m, ORDER, COMPACT_PRIO_SYNC_LIGHT, m.now)
    assert (result, captured) == (COMPACT_SUCCESS, a << PAGEBLOCK_ORDER)
    assert m.vm["pgmigrate_success"] == n and m.vm["pgmigrate_fail"] == 0
    assert m.vm["swaptui_compact_capture"] == 1
    # The captured block went to the requester, not to the free lists.
    assert not m.zone.buddy.is_listed(ORDER, a) and (m.memmap.state[captured : captured + 512] == FRAME_FREE).all()


def test_a_pinned_anon_page_fails_isolation_and_async_gives_up_the_block(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    m.memmap.flags[pages[0]] |= PG_PINNED  # page_count > page_mapcount, no mapping
    result, cc = run(m, COMPACT_PRIO_ASYNC)
    assert result == COMPACT_PARTIAL_SKIPPED  # the scanners met with nothing done
    assert (cc.migrated, cc.migrate_failed) == (0, 0)  # not isolated: no pgmigrate_fail
    assert m.compaction.skip[a]  # scanned to its end with nothing isolated
    assert used_in(m, a) == len(pages)


def test_a_pinned_anon_page_stays_behind_in_sync_light(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    m.memmap.flags[pages[0]] |= PG_PINNED
    _, cc = run(m, COMPACT_PRIO_SYNC_LIGHT)
    assert (cc.migrated, cc.migrate_failed) == (len(pages) - 1, 0)
    assert used_in(m, a) == 1 and m.memmap.state[pages[0]] == FRAME_ANON


def test_a_pinned_page_after_the_first_step_keeps_the_first_32_migrated(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    m.memmap.flags[pages[40]] |= PG_PINNED  # in the second 32-page step
    _, cc = run(m, COMPACT_PRIO_ASYNC)
    assert (cc.migrated, cc.migrate_failed) == (32, 0)  # pages 33..40 were put back with the block
    assert used_in(m, a) == len(pages) - 32


def test_a_locked_clean_page_is_isolated_then_fails_migration(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    f = pages[0]
    m.memmap.flags[f] = (m.memmap.flags[f] & ~np.uint16(PG_DIRTY)) | np.uint16(PG_LOCKED)
    _, cc = run(m, COMPACT_PRIO_ASYNC)
    # -EAGAIN on all 10 passes: one pgmigrate_fail; async direct compaction then skips the rest of the block.
    assert (cc.migrated, cc.migrate_failed) == (31, 1)
    assert m.vm["pgmigrate_fail"] == 1
    assert used_in(m, a) == len(pages) - 31


def test_a_locked_dirty_page_fails_isolation(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    m.memmap.flags[pages[0]] |= PG_LOCKED | PG_DIRTY  # trylock_page fails under ISOLATE_ASYNC_MIGRATE
    _, cc = run(m, COMPACT_PRIO_ASYNC)
    assert (cc.migrated, cc.migrate_failed) == (0, 0)


def test_a_page_under_writeback_is_skipped_by_async_and_sync_light(make_machine) -> None:
    for priority, migrated in ((COMPACT_PRIO_ASYNC, 0), (COMPACT_PRIO_SYNC_LIGHT, None)):
        m, a, _ = setup_blocks(make_machine)
        pages = anon_pages(m, a)
        m.memmap.flags[pages[0]] |= PG_WRITEBACK
        _, cc = run(m, priority)
        assert cc.migrate_failed == 0
        assert cc.migrated == (len(pages) - 1 if migrated is None else migrated)


def test_a_page_under_writeback_fails_migration_in_migrate_sync(make_machine) -> None:
    m, a, _ = setup_blocks(make_machine)
    pages = anon_pages(m, a)
    m.memmap.flags[pages[0]] |= PG_WRITEBACK
    # order -1 at COMPACT_PRIO_SYNC_FULL: compact_memory's MIGRATE_SYNC, which isolates it; -EBUSY.
    _, cc = run(m, COMPACT_PRIO_SYNC_FULL, order=-1, direct=False)
    assert (cc.migrated, cc.migrate_failed) == (len(pages) - 1, 1)
    assert m.vm["pgmigrate_fail"] == 1


def test_async_free_scanner_strides_past_single_page_holes(make_machine) -> None:
    """isolate_freepages: MIGRATE_ASYNC looks at every 32nd pfn, so a block whose holes are all odd pfns gives
    nothing and is skip-marked; the sync modes look at every pfn."""
    m, a, t = setup_blocks(make_machine)
    lo = t << PAGEBLOCK_ORDER
    # Rebuild T as alternating used/free pages: used at even offsets, free at odd ones.
    assert m.zone.buddy.isolate_free_range(lo, lo + PAGEBLOCK_NR_PAGES).size == PAGEBLOCK_NR_PAGES - 1
    odd = np.arange(lo + 1, lo + PAGEBLOCK_NR_PAGES, 2, dtype=np.int64)
    m.memmap.state[lo : lo + PAGEBLOCK_NR_PAGES] = FRAME_KERNEL
    m.memmap.state[odd] = FRAME_FREE
    m.zone.buddy.free_pages_batch(odd)
    _, cc = run(m, COMPACT_PRIO_ASYNC)
    assert cc.migrated == 0 and cc.free_scanned == PAGEBLOCK_NR_PAGES // 32
    assert m.compaction.skip[t]
    m.compaction.skip[t] = m.compaction.skip[a] = False
    m.compaction.cached_migrate_pfn = [a << PAGEBLOCK_ORDER] * 2
    m.compaction.cached_free_pfn = lo
    _, cc = run(m, COMPACT_PRIO_SYNC_LIGHT)
    assert cc.migrated == len(odd)  # every hole became a target


def test_skip_bits_are_kept_until_a_flush_and_then_cleared() -> None:
    from swaptui.model.compaction import CompactionState

    st = CompactionState(8)
    st.skip[3] = True
    st.cached_free_pfn = 1024
    st.reset_isolation_suitable()  # no direct compaction's scanners met since: nothing happens (v6.1)
    assert st.skip[3] and st.cached_free_pfn == 1024
    st.blockskip_flush = True
    st.reset_isolation_suitable()
    assert not st.skip.any() and st.cached_free_pfn == 7 * PAGEBLOCK_NR_PAGES and not st.blockskip_flush


def test_a_deferred_zone_still_counts_a_stall_and_a_failure(make_machine) -> None:
    m, _, _ = setup_blocks(make_machine)
    st = m.compaction
    st.compact_defer_shift, st.compact_considered, st.compact_order_failed = 2, 0, ORDER
    for considered in (1, 2, 3):
        head, result, _ = direct_compact(m, ORDER, COMPACT_PRIO_ASYNC, m.now, lambda: -1)
        assert (head, result, st.compact_considered) == (-1, COMPACT_DEFERRED, considered)
    assert m.vm["compact_stall"] == m.vm["compact_fail"] == 3 and m.vm["compact_success"] == 0
    # The fourth attempt reaches 2^2 and runs.
    _, result, _ = direct_compact(m, ORDER, COMPACT_PRIO_ASYNC, m.now, lambda: -1)
    assert result != COMPACT_DEFERRED and st.compact_considered == 4


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        # Nothing works: NORETRY attempt (async, reclaim, async), then the full one (async, reclaim, sync-light).
        ([COMPACT_PARTIAL_SKIPPED] * 4, [COMPACT_PRIO_ASYNC] * 3 + [COMPACT_PRIO_SYNC_LIGHT]),
        # Deferred: the NORETRY attempt gives up at once, the full one still reclaims and compacts twice.
        ([COMPACT_DEFERRED] * 3, [COMPACT_PRIO_ASYNC, COMPACT_PRIO_ASYNC, COMPACT_PRIO_SYNC_LIGHT]),
    ],
)
def test_a_madvised_thp_fault_tries_noretry_first_then_the_full_slowpath(
    make_machine, monkeypatch, results, expected
) -> None:
    wl = "- {name: h, kind: usemem, size: 8MiB, huge: true, start: 10s, free_after: false}"
    m = make_machine(memory="64MiB", workloads=wl, duration="20s", extra_machine=", thp: madvise")
    while sum(m.zone.buddy.nr_free[ORDER:]):
        h = m.zone.alloc_block(ORDER)
        m.memmap.state[h : h + PAGEBLOCK_NR_PAGES] = FRAME_KERNEL
        m.kernel_pages += PAGEBLOCK_NR_PAGES
    seen: list[int] = []
    reclaims: list[int] = []

    def fake_compact(m_, order, priority, now, alloc):
        seen.append(priority)
        return -1, results[len(seen) - 1], 0

    real_reclaim = memory_mod.try_to_free_pages

    def counting_reclaim(*args, **kw):
        reclaims.append(kw.get("order", 0))
        return real_reclaim(*args, **kw)

    monkeypatch.setattr(memory_mod, "direct_compact", fake_compact)
    monkeypatch.setattr(memory_mod, "try_to_free_pages", counting_reclaim)
    p = m.procs[0]
    head, _ = memory_mod.alloc_folio_task(m, p, ORDER, m.now)
    assert head == -1
    assert seen == expected
    assert reclaims == [ORDER] * (2 if len(expected) == 4 else 1)


@pytest.mark.slow
def test_memlab_frag_fails_compaction_falls_back_and_reclaims_like_the_kernel() -> None:
    """The issue's targets for the 6.1 frag trace machine: success rate below 0.6, a THP fallback, direct
    reclaim during THP faults (the kernel's three runs: 1/132, 19/33, 1/357 successes, 41 fallbacks)."""
    from swaptui.model.machine import Machine
    from swaptui.scenario import load_scenario

    m = Machine(load_scenario("scenarios/memlab-frag-disk.yaml"))
    m.step(int(m.scenario.duration // m.scenario.tick))
    vm = m.vm
    assert vm["compact_stall"] > 0
    assert vm["compact_success"] < 0.6 * vm["compact_stall"]
    assert vm["thp_fault_fallback"] >= 1
    assert vm["allocstall_movable"] > 0 and vm["pgscan_direct"] > 0
