"""Memory compaction (mm/compaction.c, mm/migrate.c): the two scanners, migration, compaction_suitable, deferral,
capture, kcompactd.

The migrate scanner walks pageblocks up from the zone start (or from where fast_find_migrateblock points),
isolating COMPACT_CLUSTER_MAX pages a step; the free scanner walks down from the zone end isolating free
pages (MIGRATE_ASYNC at a stride of 32 pfns); each isolated page is migrated (its contents and every
reverse map move to the free page) unless migrate_pages fails it, and the old page goes back to the buddy
lists, where a block that reaches the request's order is captured for a direct compactor. A run ends when
the scanners meet, when the order has a free block (checked at pageblock boundaries, `__compact_finished`),
on a capture, or when the free scanner runs dry first (COMPACT_CONTENDED). The rules are v6.1's (the
kernel the recorded traces ran), unchanged in v6.18 unless a comment says otherwise.

Simplifications (said in the README too):
- No lock is ever contended (cc->contended is never set); fast_isolate_freepages is not modelled, nor
  fast_find_migrateblock's reordering of the free lists.
- A run does not wait: MIGRATE_SYNC fails a page under writeback (-EBUSY) where the kernel waits for it,
  and a locked page fails in every mode (-EAGAIN on all 10 passes).
- Large folios and zsmalloc's movable pages are not migrated; dirty page-cache pages count as a mapping
  without migrate_folio. Migrated pages are freed straight to the buddy lists, as compaction's drain
  leaves them; clearing the skip bits clears all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.fragmentation import fragmentation_index, fragmentation_score_node, fragmentation_score_wmark
from swaptui.model.lru import lru_migrate
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_FREE,
    FRAME_SWAPCACHE,
    LRU_NONE,
    PG_DIRTY,
    PG_LOCKED,
    PG_LOCKED_IO,
    PG_PINNED,
    PG_WRITEBACK,
)
from swaptui.model.page_alloc import (
    DMA32_LIMIT_PAGES,
    DMA_PAGES,
    FALLBACKS,
    MIGRATE_MOVABLE,
    MIGRATE_PCPTYPES,
    NR_ORDERS,
    PAGEBLOCK_NR_PAGES,
    PAGEBLOCK_ORDER,
    WMARK_LOW,
    WMARK_MIN,
    ZoneInfo,
    buddy_free_range_split,
    buddy_unlist,
    should_try_claim_block,
)

if TYPE_CHECKING:
    from swaptui.model.machine import Machine

# enum compact_result, in the kernel's order.
(
    COMPACT_NOT_SUITABLE_ZONE,
    COMPACT_SKIPPED,
    COMPACT_DEFERRED,
    COMPACT_NO_SUITABLE_PAGE,
    COMPACT_CONTINUE,
    COMPACT_COMPLETE,
    COMPACT_PARTIAL_SKIPPED,
    COMPACT_CONTENDED,
    COMPACT_SUCCESS,
) = range(9)
RESULT_NAMES = (
    "not_suitable_zone",
    "skipped",
    "deferred",
    "no_suitable_page",
    "continue",
    "complete",
    "partial_skipped",
    "contended",
    "success",
)
# enum compact_priority: lower is more thorough.
COMPACT_PRIO_SYNC_FULL, COMPACT_PRIO_SYNC_LIGHT, COMPACT_PRIO_ASYNC = 0, 1, 2
MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL
DEF_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_LIGHT
INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC
MODE_NAMES = {COMPACT_PRIO_SYNC_FULL: "sync", COMPACT_PRIO_SYNC_LIGHT: "sync_light", COMPACT_PRIO_ASYNC: "async"}

COMPACT_MAX_DEFER_SHIFT = 6
HPAGE_FRAG_CHECK_INTERVAL_NS = 500_000_000  # HPAGE_FRAG_CHECK_INTERVAL_MSEC
KCOMPACTD_SLEEPING, KCOMPACTD_RUNNING = "sleeping", "running"


def compact_gap(order: int) -> int:
    """compact_gap: free pages compaction wants as headroom (2 << order)."""
    return 2 << order


@dataclass
class CompactionState:
    """Per-zone compaction state (struct zone's compact_* fields) and kcompactd's (pg_data_t's)."""

    nr_pageblocks: int
    cached_migrate_pfn: list[int] = field(default_factory=lambda: [0, 0])  # [async, sync]
    cached_free_pfn: int = 0
    compact_considered: int = 0
    compact_defer_shift: int = 0
    compact_order_failed: int = 0
    init_migrate_pfn: int = 0  # compact_init_migrate_pfn: a run starting at or below it counts as whole_zone
    blockskip_flush: bool = False
    skip: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # kcompactd
    kcompactd_state: str = KCOMPACTD_SLEEPING
    kcompactd_max_order: int = 0
    kcompactd_clock: int = 0
    kcompactd_timer: int = HPAGE_FRAG_CHECK_INTERVAL_NS
    proactive_defer: int = 0
    kcompactd_cpu_ns: int = 0
    last_result: str = "-"
    last_scanners: tuple[int, int] = (0, 0)  # where the last run's scanners stopped (migrate, free)

    def __post_init__(self) -> None:
        self.skip = np.zeros(self.nr_pageblocks, dtype=bool)
        self.reset_positions()

    def reset_positions(self) -> None:
        """reset_cached_positions: migrate scanner at the zone start, free scanner at the last pageblock."""
        self.cached_migrate_pfn = [0, 0]
        self.cached_free_pfn = (self.nr_pageblocks - 1) * PAGEBLOCK_NR_PAGES

    # -- deferral (compaction_deferred and friends) -----------------------------------------------------
    def defer(self, order: int) -> None:
        """defer_compaction."""
        self.compact_considered = 0
        self.compact_defer_shift = min(self.compact_defer_shift + 1, COMPACT_MAX_DEFER_SHIFT)
        self.compact_order_failed = min(self.compact_order_failed, order)

    def deferred(self, order: int) -> bool:
        """compaction_deferred: skip this attempt while fewer than 2^shift were considered since the failure."""
        if order < self.compact_order_failed:
            return False
        self.compact_considered += 1
        if self.compact_considered >= (1 << self.compact_defer_shift):
            self.compact_considered = 1 << self.compact_defer_shift
            return False
        return True

    def defer_reset(self, order: int, alloc_success: bool) -> None:
        """compaction_defer_reset."""
        if alloc_success:
            self.compact_considered = 0
            self.compact_defer_shift = 0
        if order >= self.compact_order_failed:
            self.compact_order_failed = order + 1

    def restarting(self, order: int) -> bool:
        """compaction_restarting: deferred to the maximum and the count ran out, so start afresh."""
        if order < self.compact_order_failed:
            return False
        return (
            self.compact_defer_shift == COMPACT_MAX_DEFER_SHIFT
            and self.compact_considered >= 1 << self.compact_defer_shift
        )

    def reset_isolation_suitable(self) -> None:
        """__reset_isolation_suitable (v6.1): only when a direct compaction's scanners met since the last reset
        (compact_blockskip_flush), clear the skip bits and restart the scanners from the ends. [model] the
        kernel re-marks blocks it finds nothing to do in (__reset_isolation_pfn); all are cleared here."""
        if not self.blockskip_flush:
            return
        self.skip[:] = False
        self.reset_positions()
        self.blockskip_flush = False


@dataclass
class CompactControl:
    """struct compact_control for one compact_zone run, plus what it cost."""

    order: int  # -1: manual compaction of the whole zone
    priority: int
    migratetype: int = MIGRATE_MOVABLE
    whole_zone: bool = False
    ignore_skip_hint: bool = False
    ignore_block_suitable: bool = False
    direct_compaction: bool = False
    proactive_compaction: bool = False
    kcompactd: bool = False
    alloc_mark: int = 0  # the allocation's own watermark (WMARK_MIN for direct and kcompactd)
    migrate_pfn: int = 0
    free_pfn: int = 0
    migrate_scanned: int = 0
    free_scanned: int = 0
    isolated: int = 0
    migrated: int = 0
    migrate_failed: int = 0  # pages migrate_pages gave up on (pgmigrate_fail)
    fast_search_fail: int = 0
    fast_block: bool = False  # the block being scanned came from fast_find_migrateblock
    rescan: bool = False  # the migrate scanner is back in the block it last migrated from
    contended: bool = False  # [model] never set: no lock is ever contended (spin_trylock always succeeds)
    enomem: bool = False  # the last migrate step ran out of free targets
    capture: int = -1  # the block compaction_capture handed over, or -1
    cost: int = 0


# -- the kernel's tests -------------------------------------------------------------------------------


def compaction_suitable(m: Machine, order: int) -> bool:
    """compaction_suitable (6.6): enough free pages for the migration targets, and (order > 3) a fragmentation
    index above extfrag_threshold, meaning the failure is fragmentation, not lack of memory."""
    z = m.zone
    mark = (z.wmark_pages(WMARK_LOW) if order > 3 else z.wmark_pages(WMARK_MIN)) + compact_gap(order)
    if not z.watermark_ok(0, mark):
        return False
    if order > 3:
        fi = fragmentation_index(z.buddy.nr_free, order)
        if 0 <= fi <= m.scenario.machine.extfrag_threshold:
            return False
    return True


def zone_spans(m: Machine) -> list[tuple[ZoneInfo, int, int]]:
    """Each kernel zone of the merged zone with its pfn span: DMA below 16 MiB, DMA32 below 4 GiB, Normal above
    (the model's frames are pfns, so a zone's free pages are the free frames in its span)."""
    out = []
    pages = len(m.memmap.state)
    bounds = {"DMA": (0, DMA_PAGES), "DMA32": (DMA_PAGES, DMA32_LIMIT_PAGES), "Normal": (DMA32_LIMIT_PAGES, pages)}
    for zi in m.zone_infos:
        lo, hi = bounds.get(zi.name, (0, pages))
        out.append((zi, min(lo, pages), min(hi, pages)))
    return out


def _span_watermark_ok(m: Machine, lo: int, hi: int, order: int, mark: int) -> bool:
    """__zone_watermark_ok over the free blocks inside [lo, hi): free pages minus 2^order - 1 above the mark,
    and (order > 0) a free block of at least the order. [model] lowmem_reserve is not held back."""
    bo = m.zone.z.buddy_order[lo:hi]
    heads = bo[bo >= 0].astype(np.int64)
    free = int((np.int64(1) << heads).sum()) if len(heads) else 0
    if free - ((1 << order) - 1) <= mark:
        return False
    return order == 0 or bool((heads >= order).any())


def compaction_ready_zone(m: Machine, zi: ZoneInfo, lo: int, hi: int, order: int) -> bool:
    """compaction_ready (v6.1 mm/vmscan.c) for one kernel zone: the order is free at its min watermark, or
    compaction can run there (its order-0 watermark at low + compact_gap, and a fragmentation index above
    extfrag_threshold) and its free pages are above its high watermark plus compact_gap(order)."""
    if _span_watermark_ok(m, lo, hi, order, zi.wmark_min):
        return True
    if not _span_watermark_ok(m, lo, hi, 0, zi.wmark_low + compact_gap(order)):
        return False  # COMPACT_SKIPPED: do reclaim
    bo = m.zone.z.buddy_order[lo:hi]
    free_area = np.bincount(bo[bo >= 0].astype(np.int64), minlength=NR_ORDERS)
    fi = fragmentation_index(free_area.tolist(), order)
    if 0 <= fi <= m.scenario.machine.extfrag_threshold:
        return False  # COMPACT_NOT_SUITABLE_ZONE, reported as COMPACT_SKIPPED
    return _span_watermark_ok(m, lo, hi, 0, zi.wmark_high + compact_gap(order))


def compaction_ready(m: Machine, order: int) -> list[bool]:
    """shrink_zones (v6.1): for a costly order, which kernel zones are compaction_ready (skipped by reclaim).
    The node's LRUs are shrunk once if any zone is not; do_try_to_free_pages stops after that pass if any
    zone was (sc->compaction_ready)."""
    return [compaction_ready_zone(m, zi, lo, hi, order) for zi, lo, hi in zone_spans(m)]


def free_block_available(m: Machine, order: int, migratetype: int) -> bool:
    """__compact_finished's success test: a free block of the order on the request's lists, or a fallback
    block the request could claim whole."""
    b = m.zone.buddy
    for o in range(max(order, 0), NR_ORDERS):
        if b.nr_free_mt[o][migratetype]:
            return True
        if should_try_claim_block(o, migratetype) and any(b.nr_free_mt[o][f] for f in FALLBACKS[migratetype]):
            return True
    return False


def fragmentation_score(m: Machine) -> int:
    """fragmentation_score_node: the merged zone's extfrag_for_order(9) weighted by its share of the node's
    present pages (one zone: the kernel's arithmetic gives the zone score minus one above zero)."""
    return fragmentation_score_node([(m.zone.buddy.nr_free, m.zone.managed)])


def proactive_wmarks(m: Machine) -> tuple[int, int]:
    """fragmentation_score_wmark (6.6 formula): (low, high)."""
    p = m.scenario.machine.compaction_proactiveness
    return fragmentation_score_wmark(True, p), fragmentation_score_wmark(False, p)


# -- the scanners (v6.1 mm/compaction.c; the rules below are unchanged in v6.18) ----------------------------

COMPACT_CLUSTER_MAX = 32  # SWAP_CLUSTER_MAX: pages isolated per migrate step, and the async free scanner's stride
MIGRATE_PASSES = 10  # v6.1 mm/migrate.c migrate_pages: `for (pass = 0; pass < 10 && retry; pass++)`
# (NR_MAX_MIGRATE_PAGES_RETRY from 6.2 on, the same 10)
PAGE_ALLOC_COSTLY_ORDER = 3

# What isolate_migratepages_block does with a page (v6.1), and what migrate_pages then makes of it.
ISO_SKIP, ISO_FAIL, ISO_OK = 0, 1, 2  # free (PageBuddy): step over; isolate_fail; isolated
MIG_OK, MIG_EAGAIN, MIG_EBUSY = 0, 1, 2  # MIGRATEPAGE_SUCCESS, -EAGAIN (retried every pass), -EBUSY (permanent)
_LOCKED = np.uint16(PG_LOCKED | PG_LOCKED_IO)


def _mode(cc: CompactControl) -> str:
    """cc->mode: compact_zone_order's MIGRATE_ASYNC for COMPACT_PRIO_ASYNC, else MIGRATE_SYNC_LIGHT;
    compact_node (compact_memory) runs MIGRATE_SYNC."""
    if cc.priority == COMPACT_PRIO_ASYNC:
        return "async"
    return "sync" if cc.order < 0 and not cc.proactive_compaction else "sync_light"


def classify_pages(m: Machine, cc: CompactControl, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """isolate_migratepages_block's tests for each page of [lo, hi), then __unmap_and_move's (v6.1).

    Isolation: a free page is stepped over (PageBuddy); a page on no LRU (kernel, per-CPU free, zsmalloc,
    one reclaim has isolated), part of a large folio (PageCompound), or an anonymous page with no mapping
    whose count exceeds its mapcount (pinned: `!mapping && page_count(page) > page_mapcount(page)`) fails.
    With ISOLATE_ASYNC_MIGRATE (every mode but MIGRATE_SYNC) a page under writeback fails, and a dirty page
    fails if trylock_page fails (it is locked) or its mapping has no migrate_folio (the model's page cache:
    [model] its file pages stand for a filesystem whose dirty pages migrate only by writeout).
    Migration of an isolated page: a locked page is -EAGAIN (folio_trylock fails; in MIGRATE_ASYNC, and for
    direct compaction, which runs PF_MEMALLOC, in every mode); a pinned page with a mapping (swap cache,
    page cache) is -EAGAIN at folio_migrate_mapping's refcount test; writeback (reached only in MIGRATE_SYNC)
    is -EBUSY [model: the kernel waits for it; a run here does not wait for I/O].
    Returns (ISO_* per page, MIG_* per page)."""
    mem = m.memmap
    st = mem.state[lo:hi]
    fl = mem.flags[lo:hi]
    iso = np.full(hi - lo, ISO_FAIL, dtype=np.int8)
    iso[(st == FRAME_FREE)] = ISO_SKIP
    on_lru = (mem.lru[lo:hi] != LRU_NONE) & ((st == FRAME_ANON) | (st == FRAME_SWAPCACHE) | (st == FRAME_FILE))
    ok = on_lru & (mem.folio_order[lo:hi] == 0)
    pinned = (fl & np.uint16(PG_PINNED)) != 0
    no_mapping = (st == FRAME_ANON) & (mem.slot[lo:hi] < 0)
    ok &= ~(pinned & no_mapping)
    locked = (fl & _LOCKED) != 0
    writeback = (fl & np.uint16(PG_WRITEBACK)) != 0
    if _mode(cc) != "sync":  # ISOLATE_ASYNC_MIGRATE
        dirty = (fl & np.uint16(PG_DIRTY)) != 0
        ok &= ~writeback
        ok &= ~(dirty & (locked | (st == FRAME_FILE)))
    iso[ok] = ISO_OK
    mig = np.full(hi - lo, MIG_OK, dtype=np.int8)
    mig[pinned] = MIG_EAGAIN
    mig[locked] = MIG_EAGAIN
    mig[writeback & ~locked] = MIG_EBUSY
    return iso, mig


def _block_end(pfn: int, order: int) -> int:
    """block_end_pfn: the end of the order-aligned block holding pfn."""
    size = 1 << max(order, 0)
    return (pfn + size) & ~(size - 1)


def _pageblock_end(pfn: int) -> int:
    """pageblock_end_pfn."""
    return _block_end(pfn, PAGEBLOCK_ORDER)


def _isolation_suitable(cc: CompactControl, state: CompactionState, pb: int) -> bool:
    """isolation_suitable: not skip-marked, unless the run ignores skip hints."""
    return cc.ignore_skip_hint or not state.skip[pb]


def _update_cached_migrate(cc: CompactControl, state: CompactionState, pfn: int) -> None:
    """update_cached_migrate: advance the async (and, in a sync mode, the sync) cached migrate pfn."""
    pfn = _pageblock_end(pfn)
    state.cached_migrate_pfn[0] = max(state.cached_migrate_pfn[0], pfn)
    if cc.priority != COMPACT_PRIO_ASYNC:
        state.cached_migrate_pfn[1] = max(state.cached_migrate_pfn[1], pfn)


def _suitable_source(m: Machine, cc: CompactControl, pb: int) -> bool:
    """suitable_migration_source: never a pageblock a huge page fills (pageblock_skip_persistent); async direct
    compaction only takes blocks of the request's kind (movable for a movable request)."""
    lo = pb << PAGEBLOCK_ORDER
    if m.memmap.folio_order[lo] >= PAGEBLOCK_ORDER and m.memmap.state[lo] != FRAME_FREE:
        return False
    if cc.priority != COMPACT_PRIO_ASYNC or not cc.direct_compaction:
        return True
    return int(m.zone.pageblock_type[pb]) == cc.migratetype


def _suitable_target(m: Machine, cc: CompactControl, pb: int) -> bool:
    """suitable_migration_target: not a free pageblock-sized block (don't break it up), and a movable block."""
    lo = pb << PAGEBLOCK_ORDER
    if int(m.zone.z.buddy_order[lo]) >= PAGEBLOCK_ORDER:
        return False
    if cc.ignore_block_suitable:
        return True
    return int(m.zone.pageblock_type[pb]) == MIGRATE_MOVABLE


def fast_find_migrateblock(m: Machine, cc: CompactControl, state: CompactionState) -> int:
    """fast_find_migrateblock (v6.1): for a costly movable request starting a pageblock, look on the MOVABLE
    free lists of orders order-1 down to PAGE_ALLOC_COSTLY_ORDER (at most freelist_scan_limit entries) for a
    free block in the first half of the scan space (the first eighth once the scanner has moved) whose
    pageblock is not skip-marked, mark it and start migrating there; else the linear scan goes on.
    [model] the kernel also moves each page it looked at to its list's tail; the lists keep their order here."""
    pfn = cc.migrate_pfn
    if cc.ignore_skip_hint or pfn & (PAGEBLOCK_NR_PAGES - 1):
        return pfn
    if cc.order <= PAGE_ALLOC_COSTLY_ORDER or (cc.direct_compaction and cc.migratetype != MIGRATE_MOVABLE):
        return pfn
    limit = (COMPACT_CLUSTER_MAX >> min(cc.fast_search_fail, 63)) + 1  # freelist_scan_limit
    distance = (cc.free_pfn - cc.migrate_pfn) >> 1
    if cc.migrate_pfn != 0:
        distance >>= 2
    high_pfn = (cc.migrate_pfn + distance) & ~(PAGEBLOCK_NR_PAGES - 1)
    z = m.zone.z
    nxt = m.memmap.next
    scanned = 0
    found = -1
    for order in range(cc.order - 1, PAGE_ALLOC_COSTLY_ORDER - 1, -1):
        if found >= 0 or scanned >= limit:
            break
        f = int(z.free_head[order * MIGRATE_PCPTYPES + MIGRATE_MOVABLE])
        while f >= 0:
            if scanned >= limit:
                break
            scanned += 1
            if f < high_pfn and not state.skip[f >> PAGEBLOCK_ORDER]:
                found = f
                break
            f = int(nxt[f])
    cc.migrate_scanned += scanned
    if found < 0:
        cc.fast_search_fail += 1
        return pfn
    cc.fast_search_fail = 0
    cc.fast_block = True
    # set_pageblock_skip(freepage): v6.2.1, and 6.1 stable once 95e7a450b819 reverted 7efc3b726103 (v6.1-rc7
    # lacks it); without it a block that yields nothing is found again and again.
    state.skip[found >> PAGEBLOCK_ORDER] = True
    return found & ~(PAGEBLOCK_NR_PAGES - 1)


def _test_and_set_skip(cc: CompactControl, state: CompactionState, pfn: int) -> bool:
    """test_and_set_skip: at a pageblock's first pfn, mark the block skipped for other scans; True if it was."""
    if cc.ignore_skip_hint or pfn & (PAGEBLOCK_NR_PAGES - 1):
        return False
    pb = pfn >> PAGEBLOCK_ORDER
    was = bool(state.skip[pb])
    state.skip[pb] = True
    return was


def isolate_migratepages_block(
    m: Machine, cc: CompactControl, state: CompactionState, low: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """isolate_migratepages_block (v6.1) over [low, end): isolate up to COMPACT_CLUSTER_MAX pages (the rest of
    the block when rescanning). Async direct compaction gives up an order-aligned block at its first page
    that cannot be isolated (skip_on_failure), putting back what it isolated there. The block is skip-marked
    when its first page is isolated (test_and_set_skip), or when it was scanned to the end with nothing
    isolated (or rescanned). Returns (isolated pfns, their MIG_* outcomes); sets cc.migrate_pfn."""
    iso, mig = classify_pages(m, cc, low, end)
    skip_on_failure = cc.direct_compaction and cc.priority == COMPACT_PRIO_ASYNC
    limit = None if cc.rescan or cc.contended else COMPACT_CLUSTER_MAX
    taken = np.zeros(0, dtype=np.int64)
    pfn = stop = low
    aborted = skip_updated = valid = False
    if low & (PAGEBLOCK_NR_PAGES - 1) == 0:
        if _isolation_suitable(cc, state, low >> PAGEBLOCK_ORDER):
            valid = True
        else:
            pfn = stop = end  # low_pfn = end_pfn; goto isolate_abort
    while pfn < end:
        # With skip_on_failure one order-aligned block at a time, else the whole range.
        seg_end = min(_block_end(pfn, cc.order), end) if skip_on_failure else end
        seg = iso[pfn - low : seg_end - low]
        ok = np.flatnonzero(seg == ISO_OK)
        fails = np.flatnonzero(seg == ISO_FAIL) if skip_on_failure else ok[:0]
        first_fail = int(fails[0]) if len(fails) else len(seg)
        cand = ok[ok < first_fail]
        if len(cand) and not skip_updated:
            skip_updated = True
            if _test_and_set_skip(cc, state, pfn + int(cand[0])):
                stop, aborted = pfn + int(cand[0]), True
                break
        if limit is not None and len(cand) >= limit - len(taken):
            room = limit - len(taken)
            taken = np.concatenate([taken, pfn + cand[:room]])
            stop = pfn + int(cand[room - 1]) + 1
            break
        if first_fail < len(seg):
            taken = taken[:0]  # isolate_fail: put back this block's pages, go on at its end
            pfn = stop = seg_end
            continue
        taken = np.concatenate([taken, pfn + cand])
        pfn = stop = seg_end
        if skip_on_failure and len(taken):
            break  # the next order-aligned block waits until these are migrated
    nr_isolated = len(taken)
    cc.migrate_scanned += max(stop - low, 0)
    if not aborted and stop >= end and (not nr_isolated or cc.rescan):
        if valid and not skip_updated:  # v6.1: set even when the run ignores skip hints
            state.skip[low >> PAGEBLOCK_ORDER] = True
        _update_cached_migrate(cc, state, stop)
    cc.migrate_pfn = stop
    if not nr_isolated:
        return taken, np.zeros(0, dtype=np.int8)
    cc.isolated += nr_isolated
    return taken, mig[taken - low]


def isolate_migratepages(m: Machine, cc: CompactControl, state: CompactionState) -> tuple[np.ndarray, np.ndarray]:
    """isolate_migratepages (v6.1): from fast_find_migrateblock's pick or the migrate pfn, the first pageblock
    below the free scanner that is not skip-marked (checked at its start) and is a suitable source; isolate
    there. Returns (pfns, MIG_* outcomes), empty for ISOLATE_NONE."""
    cc.fast_block = False
    low = fast_find_migrateblock(m, cc, state)
    fast = cc.fast_block
    block_end = _pageblock_end(low)
    while block_end <= cc.free_pfn:
        pb = low >> PAGEBLOCK_ORDER
        if low & (PAGEBLOCK_NR_PAGES - 1) == 0 and not fast and not _isolation_suitable(cc, state, pb):
            pass
        elif not _suitable_source(m, cc, pb):
            _update_cached_migrate(cc, state, block_end)
        else:
            return isolate_migratepages_block(m, cc, state, low, block_end)
        fast = False
        cc.migrate_pfn = low = block_end
        block_end += PAGEBLOCK_NR_PAGES
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)


def _update_pageblock_skip(state: CompactionState, pb: int) -> None:
    """update_pageblock_skip: mark a fully scanned free-scanner block; the cached free pfn only goes down."""
    state.skip[pb] = True
    state.cached_free_pfn = min(state.cached_free_pfn, pb << PAGEBLOCK_ORDER)


def isolate_freepages_block(
    m: Machine, cc: CompactControl, start: int, end: int, stride: int, want: int, targets: list[np.ndarray]
) -> tuple[int, int]:
    """isolate_freepages_block (v6.1, not strict): every `stride`-th pfn from start, take a free block that
    starts there whole (__isolate_free_page, which keeps the zone above min + 2^order), until `want` pages are
    held; step over large folios. Returns (pages isolated, pfn reached)."""
    z = m.zone
    bo = z.z.buddy_order
    fo = m.memmap.folio_order
    st = m.memmap.state
    got = 0
    pfn = start
    while pfn < end:
        # The next visited pfn that heads a free block or a large folio (the others are a plain step).
        pos = np.arange(pfn, end, stride)
        hit = np.flatnonzero((bo[pos] >= 0) | ((fo[pos] > 0) & (st[pos] != FRAME_FREE)))
        if not len(hit):
            cc.free_scanned += len(pos)
            pfn = int(pos[-1]) + stride if len(pos) else end
            break
        k = int(hit[0])
        cc.free_scanned += k + 1
        p = int(pos[k])
        order = int(bo[p])
        if order < 0:
            head_order = int(fo[p])
            pfn = p + ((1 << head_order) - 1 if p & ((1 << head_order) - 1) == 0 else 0) + stride
            continue
        if not z.watermark_ok(0, int(z.wmark[WMARK_MIN]) + (1 << order)):
            pfn = p
            break
        buddy_unlist(z.z, z.mem, order, p >> order)
        pages = np.arange(p, p + (1 << order), dtype=np.int64)
        targets.append(pages)
        got += len(pages)
        cc.free_scanned += len(pages) - 1
        if got >= want:
            pfn = p + len(pages)
            break
        pfn = p + len(pages) - 1 + stride
    return got, min(pfn, end)


def isolate_freepages(
    m: Machine, cc: CompactControl, state: CompactionState, want: int, targets: list[np.ndarray]
) -> int:
    """isolate_freepages (v6.1), the linear part: from free_pfn down to the migrate scanner's pageblock, take
    free pages from suitable, not skip-marked blocks until `want` are held. MIGRATE_ASYNC samples each block
    at a stride of COMPACT_CLUSTER_MAX pfns, doubling (up to that) after a block that gave nothing and back
    to 1 after one that gave pages; the sync modes look at every pfn. A block scanned to its end is
    skip-marked. [model] fast_isolate_freepages' search of the free lists is not modelled."""
    isolate_start = cc.free_pfn
    block_start = isolate_start & ~(PAGEBLOCK_NR_PAGES - 1)
    block_end = min(block_start + PAGEBLOCK_NR_PAGES, state.nr_pageblocks * PAGEBLOCK_NR_PAGES)
    low = _pageblock_end(cc.migrate_pfn)
    stride = COMPACT_CLUSTER_MAX if cc.priority == COMPACT_PRIO_ASYNC else 1
    c = m.costs
    got = 0
    while block_start >= low:
        pb = block_start >> PAGEBLOCK_ORDER
        if _suitable_target(m, cc, pb) and _isolation_suitable(cc, state, pb):
            before = cc.free_scanned
            n, isolate_start = isolate_freepages_block(m, cc, isolate_start, block_end, stride, want - got, targets)
            cc.cost += (cc.free_scanned - before) * c.compact_free_scan_page
            got += n
            cc.isolated += n
            if isolate_start == block_end:
                _update_pageblock_skip(state, pb)  # v6.1: even when the run ignores skip hints
            if got >= want:
                if isolate_start >= block_end:
                    isolate_start = block_start - PAGEBLOCK_NR_PAGES
                break
            if isolate_start < block_end:
                break  # isolation failed early (the watermark)
            stride = 1 if n else min(COMPACT_CLUSTER_MAX, stride << 1)
        block_end = block_start
        block_start -= PAGEBLOCK_NR_PAGES
        isolate_start = block_start
    cc.free_pfn = isolate_start
    return got


def migrate_pages(m: Machine, src: np.ndarray, dst: np.ndarray) -> None:
    """The page moves of a successful migration (move_to_new_folio, remove_migration_ptes) for base pages:
    contents, flags, LRU place and every reverse map go from src to dst, then src is freed. Both arrays have
    the same length; dst pages are free pages the free scanner isolated."""
    mem = m.memmap
    for col in (mem.state, mem.flags, mem.owner, mem.slot, mem.io_done):
        col[dst] = col[src]
    lru_migrate(mem, m.lrus, src, dst)
    if m.memcg is not None:
        m.memcg.migrate(src, dst)  # mem_cgroup_migrate
    st = mem.state[src]
    anon = st == FRAME_ANON
    if anon.any():
        m.spaces.frame[mem.owner[src[anon]]] = dst[anon]
    file = st == FRAME_FILE
    if file.any():
        m.file_frame[mem.owner[src[file]]] = dst[file]
    cached = mem.slot[src] >= 0
    if cached.any():
        m.swap_cache.folio[mem.slot[src[cached]]] = dst[cached]
    mem.flags[src] = 0
    mem.owner[src] = -1
    mem.slot[src] = -1
    mem.state[src] = FRAME_FREE
    m.zone.buddy.free_pages_batch(src)


def compaction_capture(m: Machine, cc: CompactControl, freed: np.ndarray) -> int:
    """compaction_capture (v6.1 __free_one_page): while direct compaction runs, a free that merges a block up
    to the request's order hands that block to the requester before it reaches the free lists (and without
    the allocation's watermark test). Not for movable requests below pageblock order. Returns its pfn or -1.
    [model] the frees of one migrate step are merged first, so a block merged beyond the order is split back."""
    order = cc.order
    if not cc.direct_compaction or order <= 0 or (order < PAGEBLOCK_ORDER and cc.migratetype == MIGRATE_MOVABLE):
        return -1
    z = m.zone
    bo = z.z.buddy_order
    for b in np.unique(freed >> order).tolist():
        start = b << order
        for o in range(order, NR_ORDERS):
            head = start & ~((1 << o) - 1)
            if bo[head] == o:
                buddy_unlist(z.z, z.mem, o, head >> o)
                if head < start:
                    buddy_free_range_split(z.z, z.mem, head, start)
                if start + (1 << order) < head + (1 << o):
                    buddy_free_range_split(z.z, z.mem, start + (1 << order), head + (1 << o))
                z.pgalloc += 1 << order
                return start
    return -1


def _migrate_step(
    m: Machine,
    cc: CompactControl,
    state: CompactionState,
    src: np.ndarray,
    outcome: np.ndarray,
    targets: list[np.ndarray],
) -> tuple[int, int]:
    """migrate_pages (v6.1) with compaction_alloc/compaction_free: each page takes a target (isolating more
    when none is held; none to be had is -ENOMEM, which ends the call); a success consumes it, a failure
    gives it back. -EAGAIN pages are retried on each of the 10 passes and fail after the last (nothing they
    wait for changes within a run); -EBUSY fails at once. Returns (pages migrated, pages failed); sets
    cc.enomem."""
    c = m.costs
    cc.enomem = False
    have = sum(len(t) for t in targets)
    moved_src: list[int] = []
    failed = 0
    retry = 0
    for pfn, how in zip(src.tolist(), outcome.tolist()):
        if have == 0:
            have += isolate_freepages(m, cc, state, len(src), targets)
            if have == 0:
                cc.enomem = True
                failed += 1 + retry  # v6.1: nr_failed_pages += nr_subpages + nr_retry_pages
                break
        if how == MIG_OK:
            moved_src.append(pfn)
            have -= 1
        elif how == MIG_EAGAIN:
            retry += 1
        else:
            failed += 1
    else:
        failed += retry  # still -EAGAIN after the last pass
    attempts = len(moved_src) + failed + retry * (MIGRATE_PASSES - 1)
    cc.cost += attempts * c.migrate_page
    n = len(moved_src)
    if n:
        pool = np.concatenate(targets) if len(targets) > 1 else targets[0]
        dst = pool[:n]
        rest = pool[n:]
        targets[:] = [rest] if len(rest) else []
        s = np.array(moved_src, dtype=np.int64)
        migrate_pages(m, s, dst)
        cc.migrated += n
        if cc.capture < 0:
            cc.capture = compaction_capture(m, cc, s)
    cc.migrate_failed += failed
    return n, failed


def _release_targets(m: Machine, state: CompactionState, targets: list[np.ndarray]) -> None:
    """release_freepages: unused isolated free pages go back to the buddy lists; the cached free pfn moves back
    up to the highest of them (only up: it may have been reset to the zone end)."""
    if targets:
        left = np.concatenate(targets)
        if len(left):
            m.zone.buddy.free_pages_batch(left)
            top = int(left.max()) & ~(PAGEBLOCK_NR_PAGES - 1)
            state.cached_free_pfn = max(state.cached_free_pfn, top)
    targets.clear()


def _scanners_met(cc: CompactControl) -> bool:
    """compact_scanners_met: at pageblock granularity."""
    return cc.free_pfn >> PAGEBLOCK_ORDER <= cc.migrate_pfn >> PAGEBLOCK_ORDER


def _finished(m: Machine, cc: CompactControl, state: CompactionState) -> int:
    """compact_finished / __compact_finished (v6.1)."""
    if _scanners_met(cc):
        state.reset_positions()
        if cc.direct_compaction:
            state.blockskip_flush = True
        return COMPACT_COMPLETE if cc.whole_zone else COMPACT_PARTIAL_SKIPPED
    if cc.proactive_compaction:
        if m.kswapd.state == "running":
            return COMPACT_PARTIAL_SKIPPED
        low, _ = proactive_wmarks(m)
        return COMPACT_CONTINUE if fragmentation_score(m) > low else COMPACT_SUCCESS
    if cc.order < 0:
        return COMPACT_CONTINUE
    if cc.migrate_pfn & (PAGEBLOCK_NR_PAGES - 1):
        return COMPACT_CONTINUE  # always finish scanning a pageblock
    if free_block_available(m, cc.order, cc.migratetype):
        return COMPACT_SUCCESS
    return COMPACT_CONTINUE  # COMPACT_NO_SUITABLE_PAGE (cc->contended never happens here)


def compact_zone(m: Machine, cc: CompactControl, state: CompactionState) -> int:
    """compact_zone (v6.1): isolate up to 32 pages, migrate them, repeat until the scanners meet, the order is
    free, a block is captured, or the free scanner runs dry before meeting (-ENOMEM: COMPACT_CONTENDED)."""
    z = m.zone
    c = m.costs
    if cc.order > 0 and not cc.proactive_compaction:
        if z.watermark_ok(cc.order, cc.alloc_mark):
            return COMPACT_SUCCESS
        if not compaction_suitable(m, cc.order):
            return COMPACT_SKIPPED
    if cc.order >= 0 and state.restarting(cc.order):
        state.reset_isolation_suitable()
    sync = 0 if cc.priority == COMPACT_PRIO_ASYNC else 1
    if cc.whole_zone:
        cc.migrate_pfn = 0
        cc.free_pfn = (state.nr_pageblocks - 1) * PAGEBLOCK_NR_PAGES
    else:
        cc.migrate_pfn = state.cached_migrate_pfn[sync]
        cc.free_pfn = state.cached_free_pfn
        if cc.migrate_pfn <= state.init_migrate_pfn:
            cc.whole_zone = True
    update_cached = not sync and state.cached_migrate_pfn[0] == state.cached_migrate_pfn[1]
    cc.cost += c.compact_entry
    targets: list[np.ndarray] = []
    last_migrated = -1
    while True:
        result = _finished(m, cc, state)
        if result != COMPACT_CONTINUE:
            break
        start = cc.migrate_pfn
        cc.rescan = last_migrated >= 0 and last_migrated >> PAGEBLOCK_ORDER == start >> PAGEBLOCK_ORDER
        scanned = cc.migrate_scanned
        src, outcome = isolate_migratepages(m, cc, state)
        cc.cost += (cc.migrate_scanned - scanned) * c.compact_migrate_scan_page
        if not len(src):
            if update_cached:
                state.cached_migrate_pfn[1] = state.cached_migrate_pfn[0]
            continue
        update_cached = False
        last_migrated = start
        _, failed = _migrate_step(m, cc, state, src, outcome, targets)
        if failed:
            if cc.enomem and not _scanners_met(cc):
                result = COMPACT_CONTENDED
                break
            if cc.direct_compaction and cc.priority == COMPACT_PRIO_ASYNC:
                # One page of this order-aligned block would not move: skip the rest of it.
                cc.migrate_pfn = _block_end(cc.migrate_pfn - 1, cc.order)
                last_migrated = -1
        if cc.capture >= 0:
            result = COMPACT_SUCCESS
            break
    _release_targets(m, state, targets)
    state.last_scanners = (cc.migrate_pfn, cc.free_pfn)
    state.last_result = RESULT_NAMES[result]
    vm = m.vm
    if cc.kcompactd:
        vm.add("compact_daemon_migrate_scanned", cc.migrate_scanned)
        vm.add("compact_daemon_free_scanned", cc.free_scanned)
    else:
        vm.add("compact_migrate_scanned", cc.migrate_scanned)
        vm.add("compact_free_scanned", cc.free_scanned)
    vm.add("compact_isolated", cc.isolated)
    vm.add("pgmigrate_success", cc.migrated)
    vm.add("pgmigrate_fail", cc.migrate_failed)
    return result


# -- callers: direct compaction, kcompactd, manual --------------------------------------------------


def try_to_compact_pages(m: Machine, order: int, priority: int, now: int) -> tuple[int, int, int]:
    """try_to_compact_pages + compact_zone_order (v6.1) for one high-order allocation: (result, captured pfn or
    -1, ns spent). A deferred zone is not compacted (unless at MIN_COMPACT_PRIORITY); a capture makes the
    result COMPACT_SUCCESS; a sync-mode run that ends with the scanners met defers the zone."""
    st = m.compaction
    if priority != MIN_COMPACT_PRIORITY and st.deferred(order):
        return COMPACT_DEFERRED, -1, 0
    cc = CompactControl(
        order=order,
        priority=priority,
        direct_compaction=True,
        alloc_mark=m.zone.wmark_pages(WMARK_MIN),
        whole_zone=priority == MIN_COMPACT_PRIORITY,
        ignore_skip_hint=priority == MIN_COMPACT_PRIORITY,
        ignore_block_suitable=priority == MIN_COMPACT_PRIORITY,
    )
    result = compact_zone(m, cc, st)
    if cc.capture >= 0:
        result = COMPACT_SUCCESS
        m.vm.add("swaptui_compact_capture")
    if result == COMPACT_SUCCESS:
        st.defer_reset(order, False)
    elif priority != COMPACT_PRIO_ASYNC and result in (COMPACT_COMPLETE, COMPACT_PARTIAL_SKIPPED):
        st.defer(order)
    m.event(
        now + cc.cost,
        "compact",
        f"direct compaction order {order} ({MODE_NAMES[priority]}): "
        f"{RESULT_NAMES[result]}, {cc.migrated} pages migrated, {cc.migrate_failed} failed"
        + (", block captured" if cc.capture >= 0 else "")
        + f", {cc.cost / 1e6:.2f} ms",
        key="direct",
    )
    m.vm.add("swaptui_compact_ns", cc.cost)
    return result, cc.capture, cc.cost


def direct_compact(m: Machine, order: int, priority: int, now: int, alloc) -> tuple[int, int, int]:
    """__alloc_pages_direct_compact (v6.1, unchanged in v6.18): compact, then take the captured block or try
    the free lists once. Returns (block or -1, result, ns). Only COMPACT_SKIPPED returns before counting: a
    deferred zone still counts compact_stall and compact_fail (try_to_compact_pages returns COMPACT_DEFERRED,
    which is not COMPACT_SKIPPED).

    `alloc()` is the caller's get_page_from_freelist for the order (returns a block or -1)."""
    result, captured, cost = try_to_compact_pages(m, order, priority, now)
    if result == COMPACT_SKIPPED:
        return -1, result, cost
    m.vm.add("compact_stall")
    head = captured if captured >= 0 else alloc()
    if head >= 0:
        m.compaction.blockskip_flush = False
        m.compaction.defer_reset(order, True)
        m.vm.add("compact_success")
    else:
        m.vm.add("compact_fail")
    return head, result, cost


def compact_node(m: Machine, now: int) -> int:
    """Writing 1 to /proc/sys/vm/compact_memory: synchronous whole-zone compaction; returns ns spent."""
    cc = CompactControl(order=-1, priority=COMPACT_PRIO_SYNC_FULL, whole_zone=True, ignore_skip_hint=True)
    result = compact_zone(m, cc, m.compaction)
    m.event(
        now, "compact", f"compact_memory: {cc.migrated} pages migrated, {RESULT_NAMES[result]}, {cc.cost / 1e6:.2f} ms"
    )
    m.vm.add("swaptui_compact_ns", cc.cost)
    return cc.cost


class Kcompactd:
    """kcompactd: woken by kswapd (or allocations) for an order, and every 500 ms for proactive compaction.

    Like kswapd it runs on its own CPU: a run's time moves its clock forward, and it acts again once the
    tick's time has caught up."""

    def wake(self, m: Machine, order: int, now: int) -> None:
        """wakeup_kcompactd: ignore order 0; raise the requested order; wake only if some zone needs it."""
        st = m.compaction
        if order <= 0:
            return
        st.kcompactd_max_order = max(st.kcompactd_max_order, order)
        if st.kcompactd_state == KCOMPACTD_RUNNING:
            return
        # kcompactd_node_suitable: the zone fails the min watermark at that order and compaction is suitable.
        if m.zone.watermark_ok(order, m.zone.wmark_pages(WMARK_MIN)) or not compaction_suitable(m, order):
            return
        st.kcompactd_state = KCOMPACTD_RUNNING
        st.kcompactd_clock = max(st.kcompactd_clock, now)
        m.event(now, "kcompactd", f"kcompactd woken for order {order}", key="wake")

    def run_until(self, m: Machine, t: int) -> None:
        """Let kcompactd catch up to time t: do requested work, then proactive compaction on its timer."""
        st = m.compaction
        if st.kcompactd_clock >= t:
            return
        now = st.kcompactd_clock
        if st.kcompactd_state == KCOMPACTD_RUNNING:
            now += self._do_work(m, now)
            st.kcompactd_state = KCOMPACTD_SLEEPING
        proactiveness = m.scenario.machine.compaction_proactiveness
        if proactiveness and now >= st.kcompactd_timer:
            st.kcompactd_timer = now + HPAGE_FRAG_CHECK_INTERVAL_NS
            if st.proactive_defer:
                st.proactive_defer -= 1
            else:
                now += self._proactive(m, now)
        st.kcompactd_clock = max(t, now)

    def _do_work(self, m: Machine, now: int) -> int:
        """kcompactd_do_work for the requested order."""
        st = m.compaction
        order = st.kcompactd_max_order
        st.kcompactd_max_order = 0
        m.vm.add("compact_daemon_wake")
        cost = m.costs.compact_entry
        if (
            st.deferred(order)
            or m.zone.watermark_ok(order, m.zone.wmark_pages(WMARK_MIN))
            or not compaction_suitable(m, order)
        ):
            return self._charge(m, cost)
        cc = CompactControl(
            order=order,
            priority=COMPACT_PRIO_SYNC_LIGHT,
            kcompactd=True,
            alloc_mark=m.zone.wmark_pages(WMARK_MIN),
            ignore_skip_hint=False,
        )
        result = compact_zone(m, cc, st)
        cost += cc.cost
        if result == COMPACT_SUCCESS:
            st.defer_reset(order, False)
        elif result in (COMPACT_PARTIAL_SKIPPED, COMPACT_COMPLETE):
            m.zone.drain()  # drain_all_pages
            st.defer(order)
        m.event(
            now + cost,
            "kcompactd",
            f"kcompactd order {order}: {RESULT_NAMES[result]}, {cc.migrated} pages migrated, {cost / 1e6:.2f} ms",
            key="run",
        )
        return self._charge(m, cost)

    def _proactive(self, m: Machine, now: int) -> int:
        """The timer: proactive_compact_node when the score is above the high mark and kswapd is idle."""
        st = m.compaction
        low, high = proactive_wmarks(m)
        prev = fragmentation_score(m)
        if m.kswapd.state == "running" or prev <= high:
            return 0
        m.vm.add("compact_daemon_wake")
        cc = CompactControl(
            order=-1,
            priority=COMPACT_PRIO_SYNC_LIGHT,
            kcompactd=True,
            proactive_compaction=True,
            whole_zone=True,
            ignore_skip_hint=True,  # v6.1 proactive_compact_node
        )
        result = compact_zone(m, cc, st)
        score = fragmentation_score(m)
        st.proactive_defer = 0 if score < prev else 1 << COMPACT_MAX_DEFER_SHIFT
        m.event(
            now + cc.cost,
            "kcompactd",
            f"proactive compaction: score {prev} -> {score} (low {low}, high {high}), "
            f"{cc.migrated} pages migrated, {RESULT_NAMES[result]}",
            key="proactive",
        )
        return self._charge(m, cc.cost + m.costs.compact_entry)

    def _charge(self, m: Machine, cost: int) -> int:
        m.compaction.kcompactd_cpu_ns += cost
        m.vm.add("swaptui_kcompactd_cpu_ns", cost)
        return cost


def compaction_view(m: Machine) -> dict:
    """What the Snapshot shows of compaction."""
    st = m.compaction
    low, high = proactive_wmarks(m)
    return {
        "kcompactd": st.kcompactd_state,
        "migrate_pfn": st.cached_migrate_pfn[1],
        "free_pfn": st.cached_free_pfn,
        "defer_shift": st.compact_defer_shift,
        "considered": st.compact_considered,
        "order_failed": st.compact_order_failed,
        "score": fragmentation_score(m),
        "wmark_low": low,
        "wmark_high": high,
        "skip_blocks": int(st.skip.sum()),
        "last_result": st.last_result,
        "proactive_defer": st.proactive_defer,
    }
