"""Memory compaction (mm/compaction.c): the two scanners, migration, compaction_suitable, deferral, kcompactd.

The migrate scanner walks pageblocks up from the zone start isolating movable pages; the free scanner
walks down from the zone end isolating free pages; each isolated page is migrated (its contents and
every reverse map move to the free page) and the old page goes back to the buddy lists. A run ends
when the scanners meet or, checked at each pageblock boundary, when the requested order has a free
block (`__compact_finished`). Deferral, skip bits and cached scanner positions follow the kernel.

Simplifications (said in the docs too):
- Both scanners work a whole pageblock at a time (the kernel isolates COMPACT_CLUSTER_MAX = 32 pages
  per step and may stop inside a block); a run stops only at pageblock boundaries.
- Movable pages are mapped anonymous pages, clean page-cache pages and swap-cache pages not under
  I/O, all of base-page size; large folios, pages under writeback or locked, and zsmalloc's movable
  pages are not migrated (they count as scanned).
- Migration never fails once a target page is isolated (no pgmigrate_fail from races); pages are freed
  straight to the buddy lists, as compaction's drain_local_pages leaves them.
- There is no fast_find_migrateblock or fast_isolate_freepages: the scanners walk linearly, skip bits
  and cached positions still spare repeated work. No compaction capture.
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
    PG_DIRTY,
    PG_LOCKED,
    PG_LOCKED_IO,
    PG_WRITEBACK,
)
from swaptui.model.page_alloc import (
    FALLBACKS,
    MIGRATE_MOVABLE,
    NR_ORDERS,
    PAGEBLOCK_NR_PAGES,
    PAGEBLOCK_ORDER,
    WMARK_LOW,
    WMARK_MIN,
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
        """__reset_isolation_suitable: clear the skip bits and restart the scanners from the ends."""
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


# -- the scanners --------------------------------------------------------------------------------------


def _migratable(m: Machine, lo: int, hi: int) -> np.ndarray:
    """isolate_migratepages_block: the pages in [lo, hi) that can be migrated now."""
    mem = m.memmap
    st = mem.state[lo:hi]
    fl = mem.flags[lo:hi]
    busy = (fl & np.uint16(PG_WRITEBACK | PG_LOCKED | PG_LOCKED_IO)) != 0
    ok = (st == FRAME_ANON) | (st == FRAME_SWAPCACHE) | ((st == FRAME_FILE) & ((fl & PG_DIRTY) == 0))
    ok &= ~busy
    ok &= mem.folio_order[lo:hi] == 0
    return np.flatnonzero(ok) + lo


def _suitable_source(m: Machine, cc: CompactControl, pb: int) -> bool:
    """suitable_migration_source: async direct compaction only takes blocks of the request's kind."""
    if cc.priority != COMPACT_PRIO_ASYNC or not cc.direct_compaction:
        return True
    return int(m.zone.pageblock_type[pb]) == cc.migratetype


def _suitable_target(m: Machine, cc: CompactControl, pb: int) -> bool:
    """suitable_migration_target: not a free pageblock-sized block (don't break it up), and a movable block."""
    b = m.zone.buddy
    if b.is_listed(PAGEBLOCK_ORDER, pb) or (
        PAGEBLOCK_ORDER + 1 < NR_ORDERS and b.is_listed(PAGEBLOCK_ORDER + 1, pb >> 1)
    ):
        return False
    if cc.ignore_block_suitable:
        return True
    return int(m.zone.pageblock_type[pb]) == MIGRATE_MOVABLE


def _isolate_freepages(
    m: Machine, cc: CompactControl, state: CompactionState, want: int, targets: list[np.ndarray]
) -> int:
    """isolate_freepages: walk down from free_pfn, pageblock by pageblock, until `want` pages are isolated
    or the scanner reaches the migrate scanner's block. Returns pages isolated."""
    z = m.zone
    c = m.costs
    got = 0
    while got < want:
        pb = cc.free_pfn >> PAGEBLOCK_ORDER
        if pb <= cc.migrate_pfn >> PAGEBLOCK_ORDER:
            break
        if (state.skip[pb] and not cc.ignore_skip_hint) or not _suitable_target(m, cc, pb):
            cc.free_pfn -= PAGEBLOCK_NR_PAGES
            continue
        # __isolate_free_page's watermark: taking the pages must leave the zone above min + 2^order.
        if not z.watermark_ok(0, z.wmark[WMARK_MIN] + (1 << max(cc.order, 0))):
            break
        lo = pb << PAGEBLOCK_ORDER
        free_here = int(np.count_nonzero(z.state[lo : lo + PAGEBLOCK_NR_PAGES] == FRAME_FREE))
        cc.free_scanned += PAGEBLOCK_NR_PAGES
        cc.cost += PAGEBLOCK_NR_PAGES * c.compact_free_scan_page
        if free_here:
            pages = z.buddy.isolate_free_range(lo, lo + PAGEBLOCK_NR_PAGES)
            z.state[pages] = FRAME_FREE  # still free, now held by the compaction run
            targets.append(pages)
            got += len(pages)
            cc.isolated += len(pages)
        else:
            state.skip[pb] = True
        cc.free_pfn -= PAGEBLOCK_NR_PAGES
    return got


def migrate_pages(m: Machine, src: np.ndarray, dst: np.ndarray) -> None:
    """migrate_pages for base pages: move contents, flags, LRU place and every reverse map from src to dst,
    then free src. Both arrays have the same length; dst pages are free pages the free scanner isolated."""
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


def _release_targets(m: Machine, targets: list[np.ndarray]) -> None:
    """release_free_list: unused isolated free pages go back to the buddy lists."""
    if targets:
        left = np.concatenate(targets)
        if len(left):
            m.zone.buddy.free_pages_batch(left)
    targets.clear()


def _finished(m: Machine, cc: CompactControl, state: CompactionState) -> int:
    """__compact_finished, checked at each pageblock boundary."""
    if cc.free_pfn >> PAGEBLOCK_ORDER <= cc.migrate_pfn >> PAGEBLOCK_ORDER:
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
    if free_block_available(m, cc.order, cc.migratetype):
        return COMPACT_SUCCESS
    return COMPACT_CONTINUE


def compact_zone(m: Machine, cc: CompactControl, state: CompactionState) -> int:
    """compact_zone: run the two scanners until they meet or the order is available; returns the result."""
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
    cc.cost += c.compact_entry
    targets: list[np.ndarray] = []
    have = 0
    result = COMPACT_CONTINUE
    while True:
        result = _finished(m, cc, state)
        if result != COMPACT_CONTINUE:
            break
        pb = cc.migrate_pfn >> PAGEBLOCK_ORDER
        cc.migrate_pfn += PAGEBLOCK_NR_PAGES
        if (state.skip[pb] and not cc.ignore_skip_hint) or not _suitable_source(m, cc, pb):
            continue
        lo = pb << PAGEBLOCK_ORDER
        src = _migratable(m, lo, lo + PAGEBLOCK_NR_PAGES)
        # The kernel stops scanning a block early once it has isolated enough; whole blocks here.
        cc.migrate_scanned += PAGEBLOCK_NR_PAGES
        cc.cost += PAGEBLOCK_NR_PAGES * c.compact_migrate_scan_page
        if not len(src):
            state.skip[pb] = True
            continue
        cc.isolated += len(src)
        if have < len(src):
            have += _isolate_freepages(m, cc, state, len(src) - have, targets)
        n = min(len(src), have)
        if n < len(src):
            # Out of free targets: put the rest back (-ENOMEM), and stop if the scanners met.
            cc.migrate_pfn = lo  # rescan this block next time
        if n:
            pool = np.concatenate(targets) if len(targets) > 1 else targets[0]
            # compaction_alloc hands out the free scanner's pages lowest-first from the highest block.
            dst = pool[:n]
            rest = pool[n:]
            targets[:] = [rest] if len(rest) else []
            have -= n
            migrate_pages(m, src[:n], dst)
            cc.migrated += n
            cc.cost += n * c.migrate_page
        if n < len(src):
            result = (
                COMPACT_CONTENDED
                if cc.free_pfn >> PAGEBLOCK_ORDER > cc.migrate_pfn >> PAGEBLOCK_ORDER
                else COMPACT_PARTIAL_SKIPPED
            )
            if result == COMPACT_PARTIAL_SKIPPED:
                state.reset_positions()
            break
    _release_targets(m, targets)
    if result != COMPACT_COMPLETE and not (result == COMPACT_PARTIAL_SKIPPED and cc.free_pfn <= cc.migrate_pfn):
        state.cached_free_pfn = cc.free_pfn
        state.cached_migrate_pfn[sync] = cc.migrate_pfn
        if sync:
            state.cached_migrate_pfn[0] = max(state.cached_migrate_pfn[0], cc.migrate_pfn)
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
    return result


# -- callers: direct compaction, kcompactd, manual --------------------------------------------------


def try_to_compact_pages(m: Machine, order: int, priority: int, now: int) -> tuple[int, int]:
    """__alloc_pages_direct_compact for one high-order allocation: (result, ns spent). Counts compact_stall and,
    once the caller has tried the free lists, the caller counts success or failure (see direct_compact)."""
    st = m.compaction
    if priority != MIN_COMPACT_PRIORITY and st.deferred(order):
        return COMPACT_DEFERRED, 0
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
    if result == COMPACT_SUCCESS:
        st.defer_reset(order, False)
    elif priority != COMPACT_PRIO_ASYNC and result in (COMPACT_COMPLETE, COMPACT_PARTIAL_SKIPPED):
        st.defer(order)
    m.event(
        now + cc.cost,
        "compact",
        f"direct compaction order {order} ({MODE_NAMES[priority]}): "
        f"{RESULT_NAMES[result]}, {cc.migrated} pages migrated, {cc.cost / 1e6:.2f} ms",
        key="direct",
    )
    m.vm.add("swaptui_compact_ns", cc.cost)
    return result, cc.cost


def direct_compact(m: Machine, order: int, priority: int, now: int, alloc) -> tuple[int, int, int]:
    """__alloc_pages_direct_compact: compact, then try the free lists once. Returns (block or -1, result, ns).

    `alloc()` is the caller's get_page_from_freelist for the order (returns a block or -1)."""
    result, cost = try_to_compact_pages(m, order, priority, now)
    if result in (COMPACT_SKIPPED, COMPACT_DEFERRED):
        return -1, result, cost
    m.vm.add("compact_stall")
    head = alloc()
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
            ignore_skip_hint=False,
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
