"""Page faults and the task side of allocation (mm/memory.c, mm/swap_state.c's swap-in, the slow path).

A task runs its workload's accesses in runs of one kind (resident touches, new anonymous faults,
swap-cache hits, swap-ins) until its time for the tick is spent. Allocation follows
__alloc_pages: the fast path at the low watermark, then wake kswapd and retry at min, then direct
reclaim (throttled below half of min), and OOM after MAX_RECLAIM_RETRIES rounds without progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.compaction import (
    COMPACT_DEFERRED,
    COMPACT_SKIPPED,
    DEF_COMPACT_PRIORITY,
    INIT_COMPACT_PRIORITY,
    direct_compact,
)
from swaptui.model.filemap import file_access
from swaptui.model.jit import kernel
from swaptui.model.memlab import OP_ZAP
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_KERNEL,
    FRAME_SWAPCACHE,
    LRU_ACTIVE_ANON,
    LRU_INACTIVE_ANON,
    PG_DIRTY,
    PG_LOCKED_IO,
    PG_READAHEAD,
    PG_WORKINGSET,
    PG_YOUNG,
)
from swaptui.model.page_alloc import MIGRATE_MOVABLE, WMARK_LOW, WMARK_MIN
from swaptui.model.swapfile import SWAP_COUNT_MASK, SWAP_MAP_BAD
from swaptui.model.vmscan import (
    MAX_RECLAIM_RETRIES,
    SWAP_CLUSTER_MAX,
    throttle_direct_reclaim,
    try_to_free_pages,
)
from swaptui.model.workload import PMD_ORDER, VP_NONE, VP_RESIDENT, VP_SWAPPED, Process

if TYPE_CHECKING:
    from swaptui.model.machine import Machine

RUN_RESIDENT, RUN_NEW, RUN_CACHED, RUN_SWAPPED, RUN_GONE = range(5)
MAX_CHUNK = 4096
VMA_RA_MAX_HITS = 63
PMD_PAGES = 512
WRITEBACK_THROTTLE_NS = 100_000_000  # HZ/10


def swapin_nr_pages(prev: int, cur: int, hits: int, max_pages: int, prev_win: int) -> int:
    """__swapin_nr_pages: the swap readahead window."""
    pages = hits + 2
    if pages == 2:
        if cur != prev + 1 and cur != prev - 1:
            pages = 1
    else:
        roundup = 4
        while roundup < pages:
            roundup <<= 1
        pages = roundup
    pages = min(pages, max_pages)
    last_ra = prev_win // 2
    pages = max(pages, last_ra)
    return pages


# -- allocation -------------------------------------------------------------------------------------


def count_fault(m: Machine, p: Process, name: str, n: int = 1) -> None:
    """A fault counter (pgfault, pgmajfault): /proc/vmstat and the task's cgroup's memory.stat."""
    m.vm.add(name, n)
    if m.memcg is not None:
        m.memcg.count(name, p.memcg, n)


def alloc_pages_task(
    m: Machine, p: Process, n: int, now: int, budget: int, mt: int = MIGRATE_MOVABLE
) -> tuple[np.ndarray, int]:
    """n order-0 user pages for task p, charged to its cgroup: mem_cgroup_charge (try_charge_memcg, with limit
    reclaim) for as many as the cgroup allows, then __alloc_pages; kernel allocations (a slab workload's) are
    not charged. Returns (frames, ns spent)."""
    if m.memcg is None or mt != MIGRATE_MOVABLE:
        return _alloc_pages(m, p, n, now, budget, mt)
    from swaptui.model.memcontrol import charge_pages

    charged, spent = charge_pages(m, p, n, now, budget)
    if charged == 0:
        return np.zeros(0, dtype=np.int64), spent
    frames, more = _alloc_pages(m, p, charged, now + spent, budget - spent, mt)
    m.memcg.commit_charge(frames, p.memcg)
    if len(frames) < charged:
        m.memcg.cancel_charge(p.memcg, charged - len(frames))
    spent += more
    if p.memcg_nr_pages_over_high:
        from swaptui.model.memcontrol import handle_over_high

        spent += handle_over_high(m, p, now + spent)  # the fault's return to user space
    return frames, spent


def _alloc_pages(
    m: Machine, p: Process, n: int, now: int, budget: int, mt: int = MIGRATE_MOVABLE
) -> tuple[np.ndarray, int]:
    """__alloc_pages for n order-0 pages of migratetype mt on behalf of task p; returns (frames, ns spent)."""
    z = m.zone
    c = m.costs
    parts: list[np.ndarray] = []
    spent = 0
    need = n

    def take(k: int, slow: bool) -> None:
        """Allocate k pages. Below the low watermark every allocation takes __alloc_pages_slowpath
        (wake_all_kswapds, then get_page_from_freelist again at min), not once per batch: the first one's
        was charged on entering it, the other k - 1 are charged here."""
        nonlocal spent, need
        parts.append(z.alloc(k, mt))
        spent += k * c.pcp_page + ((k - 1) * c.alloc_slowpath if slow else 0)
        need -= k

    while need > 0:
        k = min(need, z.allowance(z.wmark_pages(WMARK_LOW)))
        if k:
            take(k, slow=False)
            continue
        spent += c.alloc_slowpath
        m.kswapd.wake(m, 0, now + spent)
        k = min(need, z.allowance(z.wmark_pages(WMARK_MIN)))
        if k:
            take(k, slow=True)
            continue
        # kswapd reclaims on its own CPU meanwhile: let it catch up before deciding to reclaim directly.
        m.kswapd.run_until(m, now + spent)
        k = min(need, z.allowance(z.wmark_pages(WMARK_MIN)))
        if k:
            take(k, slow=True)
            continue
        if throttle_direct_reclaim(m):
            m.vm.add("pgscan_direct_throttle")
            p.throttled = True
            m.event(now + spent, "throttle", f"{p.label} throttled: free {z.nr_free_pages} <= min/2", key=p.pid)
            break
        invocations = -(-need // SWAP_CLUSTER_MAX)
        sc = try_to_free_pages(m, invocations, p.cpu, now + spent)
        spent += sc.cost
        m.vm.add("swaptui_direct_reclaim_ns", sc.cost - sc.io_wait)
        m.vm.add("swaptui_task_io_wait_ns", sc.io_wait)
        m.event(
            now + spent,
            "direct",
            f"direct reclaim by {p.label}: {sc.nr_reclaimed} pages, {sc.cost / 1e6:.2f} ms",
            key=p.pid,
        )
        k = min(need, z.allowance(z.wmark_pages(WMARK_MIN)))
        if k == 0 and z.pcp_count:
            z.drain()  # drain_all_pages, then retry
            k = min(need, z.allowance(z.wmark_pages(WMARK_MIN)))
        if k:
            take(k, slow=True)
            p.no_progress = 0
        elif sc.nr_reclaimed == 0:
            wait = m.next_writeback_completion(now + spent)
            if wait is not None:
                # reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK): sleep until writeback progresses (<= HZ/10).
                wait = min(wait, WRITEBACK_THROTTLE_NS)
                spent += wait
                m.vm.add("swaptui_throttle_ns", wait)
                m.complete_io(now + spent)
            else:
                p.no_progress += 1
                if p.no_progress > MAX_RECLAIM_RETRIES:
                    p.no_progress = 0
                    m.out_of_memory(now + spent, p)
                    if p.exited:
                        break
                break  # should_reclaim_retry: time passes before the next attempt
        if spent >= budget:
            break
    m.after_alloc(now + spent)
    if not parts:
        return np.zeros(0, dtype=np.int64), spent
    return (np.concatenate(parts) if len(parts) > 1 else parts[0]), spent


# -- the task loop ----------------------------------------------------------------------------------


@kernel
def pte_class(state: np.ndarray, slot: np.ndarray, cache_folio: np.ndarray, v: int) -> int:
    """handle_pte_fault's dispatch for one access: what the PTE of vpage v holds, and so which path it takes."""
    st = state[v]
    if st == VP_RESIDENT:
        return RUN_RESIDENT
    if st == VP_NONE:
        return RUN_NEW
    if st == VP_SWAPPED:
        return RUN_CACHED if cache_folio[slot[v]] >= 0 else RUN_SWAPPED
    return RUN_GONE


@kernel
def pte_run(
    state: np.ndarray, slot: np.ndarray, cache_folio: np.ndarray, seen: np.ndarray, stamp: int, vp: np.ndarray
) -> tuple[int, int]:
    """The leading run of accesses that take one path: (its RUN_* class, its length).

    A faulting run also stops before a vpage it already holds (the first fault changes what the second finds);
    touching a mapped page twice is fine. `seen` is scratch, one entry per vpage: this call marks with `stamp`.
    """
    n = len(vp)
    k0 = pte_class(state, slot, cache_folio, vp[0])
    i = 1
    if k0 == RUN_RESIDENT:
        while i < n and pte_class(state, slot, cache_folio, vp[i]) == k0:
            i += 1
        return k0, i
    seen[vp[0]] = stamp
    while i < n:
        v = vp[i]
        if seen[v] == stamp or pte_class(state, slot, cache_folio, v) != k0:
            break
        seen[v] = stamp
        i += 1
    return k0, i


def classify_run(m: Machine, vp: np.ndarray) -> tuple[int, int]:
    """pte_run over the task's next accesses: (class, run length)."""
    sp = m.spaces
    return pte_run(sp.state, sp.slot, m.swap_cache.folio, sp.seen, sp.next_stamp(), vp)


def run_task(m: Machine, p: Process, now: int, budget: int) -> int:
    """Run task p for up to budget ns of this tick; returns ns used (may exceed budget: a stall)."""
    used = 0
    c = m.costs
    while used < budget and not p.exited and not p.throttled:
        if p.kind == "slab":
            used += run_slab(m, p, now + used, budget - used)
            break
        if p.finished_accessing():
            if p.sleep_after_ns:  # usemem -s: sleep before unmapping
                p.sleep_until = now + used + p.sleep_after_ns
                p.sleep_after_ns = 0
                break
            if p.free_every and p.kind == "usemem":
                vps = np.arange(p.base + p.free_every - 1, p.base + p.npages, p.free_every, dtype=np.int64)
                used += m.zap_pages(p, vps, now + used, f"freed every {p.free_every}th page")
            if p.kind != "filecache" and p.free_after:
                used += m.exit_mm(p, now + used)
            p.exited = True
            p.exit_ns = now + used
            m.event(now + used, "exit", f"{p.label} finished and exited")
            break
        if p.memlab is not None and not len(p.pending) and (op := p.memlab.control()) is not None:
            p.memlab.next_op()
            if op[0] == OP_ZAP:
                used += m.zap_pages(p, op[1] + p.base, now + used, "punched with MADV_DONTNEED")
                continue
            p.sleep_until = now + used + op[1]  # OP_SLEEP: frag's hold loop waits 50 ms
            break
        est = max(1, (budget - used) // c.touch_read + 1)
        vp, wr = p.peek(min(MAX_CHUNK, est, max(64, 4 * p.last_run)))
        if len(vp) == 0:
            continue
        if p.kind == "filecache":
            k, spent = file_access(m, p, vp, now + used, budget - used)
        else:
            kind, n = classify_run(m, vp)
            if kind == RUN_RESIDENT:
                k, spent = touch_resident(m, p, vp[:n], wr[:n], budget - used)
            elif kind == RUN_NEW:
                k, spent = do_anonymous_pages(m, p, vp[:n], wr[:n], now + used, budget - used)
            elif kind == RUN_CACHED:
                k, spent = swapin_from_cache(m, p, vp[:n], wr[:n], now + used, budget - used)
            elif kind == RUN_SWAPPED:
                k, spent = do_swap_page(m, p, vp[:n], wr[:n], now + used, budget - used)
            else:
                k, spent = n, 0  # access to an unmapped page: skipped
        p.advance(k)
        p.last_run = k
        used += spent
        if k == 0 and spent == 0:
            break
    m.vm.add("swaptui_task_cpu_ns", min(used, budget))
    return used


def affordable(budget: int, per_page: int, n: int) -> int:
    """How many pages of this cost fit in the budget (at least one, so the task makes progress)."""
    return max(1, min(n, budget // max(per_page, 1)))


@kernel
def touch_ptes(
    frame: np.ndarray,
    flags: np.ndarray,
    frame_slot: np.ndarray,
    vp: np.ndarray,
    wr: np.ndarray,
    cost_read: int,
    cost_write: int,
    budget: int,
) -> tuple[int, int, int]:
    """The MMU's side of accesses to mapped pages: the accessed bit (and dirty bit on a write) in the PTE.

    Takes as many accesses as the budget affords (at least one). A write to a clean page still in the swap
    cache is a write-protect fault (do_wp_page's reuse): counted against the page as it was before this run.
    Returns (accesses taken, ns, reuse faults).
    """
    n = len(vp)
    spent = 0
    k = 0
    while k < n:
        c = cost_write if wr[k] else cost_read
        if k > 0 and spent + c > budget:
            break
        spent += c
        k += 1
    reuse = 0
    for i in range(k):
        if wr[i]:
            f = frame[vp[i]]
            if frame_slot[f] >= 0 and (flags[f] & PG_DIRTY) == 0:
                reuse += 1
    for i in range(k):
        f = frame[vp[i]]
        if wr[i]:
            flags[f] |= PG_DIRTY | PG_YOUNG
        else:
            flags[f] |= PG_YOUNG
    return k, spent, reuse


def touch_resident(m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, budget: int) -> tuple[int, int]:
    """Accesses to mapped pages: set the accessed bit, dirty on write."""
    c = m.costs
    k, spent, reuse = touch_ptes(
        m.spaces.frame, m.memmap.flags, m.memmap.slot, vp, wr, c.touch_read, c.touch_write, budget
    )
    if reuse:
        count_fault(m, p, "pgfault", reuse)
        m.vm.add("pgreuse", reuse)
        spent += reuse * c.fault_entry
    m.vm.add("swaptui_pages_touched", k)
    return k, spent


def run_slab(m: Machine, p: Process, now: int, budget: int) -> int:
    """A slab workload: kernel allocations of its migratetype (not on any LRU, never reclaimed or migrated),
    then, once all are made, every free_every-th one freed. Returns ns used."""
    c = m.costs
    if p.finished_accessing():
        if p.free_every and len(p.slab_frames):
            idx = np.arange(p.free_every - 1, len(p.slab_frames), p.free_every)
            gone = p.slab_frames[idx]
            keep = np.ones(len(p.slab_frames), dtype=bool)
            keep[idx] = False
            p.slab_frames = p.slab_frames[keep]
            m.kernel_pages -= len(gone)
            m.zone.free(gone)
            m.event(now, "exit", f"{p.label} freed {len(gone)} of its slab pages (every {p.free_every}th)")
        p.exited = True
        p.exit_ns = now
        return 0
    per = c.pcp_page + c.slab_alloc
    vp, _ = p.peek(affordable(budget, per, MAX_CHUNK))
    if not len(vp):
        return 0
    frames, spent = alloc_pages_task(m, p, len(vp), now, budget, mt=p.migratetype)
    k = len(frames)
    if k:
        m.memmap.state[frames] = FRAME_KERNEL
        m.kernel_pages += k
        p.slab_frames = np.concatenate([p.slab_frames, frames])
        p.advance(k)
        spent += k * c.slab_alloc
    return spent


def thp_gfp(m: Machine, p: Process) -> tuple[bool, bool, bool]:
    """vma_thp_gfp_mask under the defrag setting: (__GFP_DIRECT_RECLAIM: may reclaim and compact,
    __GFP_KSWAPD_RECLAIM: wakes kswapd and kcompactd, __GFP_NORETRY: give up early)."""
    defrag = m.scenario.machine.thp_defrag
    madvised = p.huge_madvised
    if defrag == "always":
        return True, False, not madvised  # GFP_TRANSHUGE, __GFP_NORETRY unless madvised
    if defrag == "defer":
        return False, True, False
    if defrag == "defer+madvise":
        return madvised, not madvised, False
    if defrag == "madvise":
        return madvised, False, False
    return False, False, False


def _slowpath_costly(
    m: Machine, p: Process, order: int, now: int, direct: bool, noretry: bool, try_alloc
) -> tuple[int, int]:
    """__alloc_pages_slowpath (v6.1, the same in v6.18) for a costly order, after its first freelist try at
    the min watermark: async direct compaction; with __GFP_NORETRY give up if that was skipped or deferred,
    else keep to async compaction; then direct reclaim (get_page_from_freelist, and again after
    drain_all_pages) and one more direct compaction. A costly order without __GFP_RETRY_MAYFAIL, like
    __GFP_NORETRY, does not loop. Returns (pfn or -1, ns)."""
    z = m.zone
    head = try_alloc(z.wmark_pages(WMARK_MIN))
    if head >= 0 or not direct:
        return head, 0
    head, result, spent = direct_compact(
        m, order, INIT_COMPACT_PRIORITY, now, lambda: try_alloc(z.wmark_pages(WMARK_MIN))
    )
    if head >= 0:
        return head, spent
    priority = DEF_COMPACT_PRIORITY
    if noretry:
        if result in (COMPACT_SKIPPED, COMPACT_DEFERRED):
            return -1, spent  # compaction will not help soon: do not reclaim for it
        priority = INIT_COMPACT_PRIORITY  # reclaim/compaction is worth trying, but only async
    head = try_alloc(z.wmark_pages(WMARK_MIN))
    if head >= 0:
        return head, spent
    sc = try_to_free_pages(m, 1, p.cpu, now + spent, order=order)
    spent += sc.cost
    m.vm.add("swaptui_direct_reclaim_ns", sc.cost - sc.io_wait)
    head = try_alloc(z.wmark_pages(WMARK_MIN))
    if head < 0:
        z.drain()  # __alloc_pages_direct_reclaim: drain_all_pages, then one more try
        head = try_alloc(z.wmark_pages(WMARK_MIN))
    if head >= 0:
        return head, spent
    head, result, cost = direct_compact(m, order, priority, now + spent, lambda: try_alloc(z.wmark_pages(WMARK_MIN)))
    return head, spent + cost


def alloc_folio_task(m: Machine, p: Process, order: int, now: int) -> tuple[int, int]:
    """vma_alloc_folio + __alloc_pages for one large anonymous folio (a costly order): the fast path at low,
    then the slow path as the defrag setting's gfp allows (see _slowpath_costly). For a PMD-size folio
    (v6.1 mm/mempolicy.c vma_alloc_folio; alloc_pages_mpol in v6.18, `order == HPAGE_PMD_ORDER`) the first
    attempt adds __GFP_THISNODE | __GFP_NORETRY ("don't reclaim unnecessarily, just compact"), and only if
    the gfp allows direct reclaim a second, full attempt follows. Returns (pfn or -1, ns)."""
    z = m.zone
    c = m.costs

    def try_alloc(mark: int) -> int:
        if not z.watermark_ok(order, mark):
            return -1
        return z.alloc_block(order)

    head = try_alloc(z.wmark_pages(WMARK_LOW))
    if head >= 0:
        m.after_alloc(now)
        return head, c.buddy_page
    direct, wake, noretry = thp_gfp(m, p)
    twice = order == PMD_ORDER
    spent = c.alloc_slowpath
    if wake:
        m.kswapd.wake(m, order, now + spent)
        m.kcompactd.wake(m, order, now + spent)
    head, cost = _slowpath_costly(m, p, order, now + spent, direct, noretry or twice, try_alloc)
    spent += cost
    if head >= 0 or not (twice and direct):
        return head, spent
    head = try_alloc(z.wmark_pages(WMARK_LOW))  # the second attempt's fast path
    if head >= 0:
        return head, spent + c.buddy_page
    spent += c.alloc_slowpath
    head, cost = _slowpath_costly(m, p, order, now + spent, direct, noretry, try_alloc)
    return head, spent + cost


def charge_large_folio(m: Machine, p: Process, head: int, order: int, now: int) -> bool:
    """mem_cgroup_charge for a large folio just allocated: on failure the folio is freed and the fault falls back
    to a smaller order (alloc_anon_folio's MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE)."""
    if m.memcg is None:
        return True
    from swaptui.model.memcontrol import try_charge

    frames = np.arange(head, head + (1 << order), dtype=np.int64)
    ok, spent = try_charge(m, p, p.memcg, 1 << order, now)
    p.debt_ns -= spent  # the reclaim ran in the task's time
    if not ok:
        m.zone.free(frames)
        m.memcg.count("swaptui_fault_fallback_charge", p.memcg)
        return False
    m.memcg.commit_charge(frames, p.memcg)
    if p.memcg_nr_pages_over_high:
        from swaptui.model.memcontrol import handle_over_high

        p.debt_ns -= handle_over_high(m, p, now)
    return True


def folio_range(p: Process, v0: int, order: int, state: np.ndarray, want: int) -> np.ndarray | None:
    """The naturally aligned 2^order vpages around v0, if they lie inside the process's range and every one is
    in state `want` (all untouched for a fault, all swapped out for a swap-in); else None."""
    size = 1 << order
    start = p.base + ((v0 - p.base) & ~(size - 1))
    if start + size > p.base + p.npages or (state[start : start + size] != want).any():
        return None
    return np.arange(start, start + size, dtype=np.int64)


def do_large_folio_fault(m: Machine, p: Process, v0: int, now: int) -> tuple[int, int]:
    """do_huge_pmd_anonymous_page / alloc_anon_folio: try each allowed order whose aligned range is all untouched,
    largest first. Returns (pages mapped, ns); (0, ns) means fall back to a base page."""
    sp = m.spaces
    spent = 0
    for order in p.fault_orders:
        v = folio_range(p, v0, order, sp.state, VP_NONE)
        if v is None:
            continue  # the range does not fit in the VMA, or part of it is already populated
        size = len(v)
        head, cost = alloc_folio_task(m, p, order, now + spent)
        spent += cost
        if head < 0:
            m.vm.add("thp_fault_fallback" if order == PMD_ORDER else "swaptui_mthp_fault_fallback")
            continue
        if not charge_large_folio(m, p, head, order, now + spent):
            continue
        m.vm.add("thp_fault_alloc" if order == PMD_ORDER else "swaptui_mthp_fault_alloc")
        frames = np.arange(head, head + size, dtype=np.int64)
        map_new_anon(m, p, v, frames)
        m.memmap.folio_order[frames] = order
        spent += size * (m.costs.clear_page + m.costs.touch_write) + m.costs.fault_entry
        count_fault(m, p, "pgfault")
        return size, spent
    return 0, spent


def map_new_anon(m: Machine, p: Process, v: np.ndarray, frames: np.ndarray) -> None:
    """Map freshly zeroed anonymous pages and put them on the inactive anon list."""
    k = len(v)
    sp = m.spaces
    content, csize = p.draw_content(v)
    sp.state[v] = VP_RESIDENT
    sp.frame[v] = frames
    sp.content[v] = content
    sp.csize[v] = csize
    mem = m.memmap
    mem.state[frames] = FRAME_ANON
    mem.owner[frames] = v
    mem.slot[frames] = -1
    mem.flags[frames] = PG_YOUNG | PG_DIRTY
    m.lru_add(LRU_INACTIVE_ANON, frames)
    m.vm.add("swaptui_pages_touched", k)
    m.vm.add("swaptui_page_events", k)


def do_anonymous_pages(
    m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, now: int, budget: int
) -> tuple[int, int]:
    """do_anonymous_page for a run of never-touched pages: allocate, zero, map, add to the inactive list."""
    c = m.costs
    if p.fault_orders and vp[0] - p.base >= p.huge_start:
        mapped, spent = do_large_folio_fault(m, p, int(vp[0]), now)
        if mapped:
            return 1, spent  # the folio's other pages are now resident: later accesses are plain touches
        # Every order fell back: one base page, then try large folios again at the next fault.
        frames, more = alloc_pages_task(m, p, 1, now + spent, budget)
        spent += more
        if not len(frames):
            return 0, spent
        map_new_anon(m, p, vp[:1], frames)
        count_fault(m, p, "pgfault")
        return 1, spent + c.fault_entry + c.clear_page + c.touch_write
    per = c.fault_entry + c.clear_page + c.touch_write + c.pcp_page
    want = affordable(budget, per, len(vp))
    frames, spent = alloc_pages_task(m, p, want, now, budget)
    k = len(frames)
    if k == 0:
        return 0, spent
    map_new_anon(m, p, vp[:k], frames)
    count_fault(m, p, "pgfault", k)
    spent += k * (c.fault_entry + c.clear_page + c.touch_write)
    return k, spent


@kernel
def map_swap_ptes(
    vstate: np.ndarray,
    vframe: np.ndarray,
    vslot: np.ndarray,
    state: np.ndarray,
    flags: np.ndarray,
    vp: np.ndarray,
    frames: np.ndarray,
    wr: np.ndarray,
) -> np.ndarray:
    """do_swap_page's set_pte_at: each vpage maps its folio (young, dirty on a write). Returns the swap slots
    the PTEs held, for swap_free."""
    slots = np.empty(len(vp), dtype=np.int64)
    for i in range(len(vp)):
        v = vp[i]
        f = frames[i]
        slots[i] = vslot[v]
        vstate[v] = VP_RESIDENT
        vframe[v] = f
        state[f] = FRAME_ANON
        flags[f] |= PG_YOUNG | PG_DIRTY if wr[i] else PG_YOUNG
    return slots


def map_swapcache_folios(
    m: Machine, p: Process, vp: np.ndarray, frames: np.ndarray, wr: np.ndarray, free_swap: np.ndarray | None = None
) -> int:
    """The end of do_swap_page: map the folios, swap_free, and maybe folio_free_swap. Returns cost."""
    c = m.costs
    mem = m.memmap
    sp = m.spaces
    slots = map_swap_ptes(sp.state, sp.frame, sp.slot, mem.state, mem.flags, vp, frames, wr)
    m.swap_put_ref(slots)
    # should_try_to_free_swap: swap over half full, or a write fault on an exclusive folio.
    if free_swap is None:
        free_swap = wr if not m.swap.vm_swap_full() else np.ones(len(vp), dtype=bool)
    if free_swap.any():
        m.folio_free_swap(frames[free_swap])
    count_fault(m, p, "pgfault", len(vp))
    m.vm.add("swaptui_pages_touched", len(vp))
    return len(vp) * (c.fault_entry + c.swapin_map)


def swapin_from_cache(m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, now: int, budget: int) -> tuple[int, int]:
    """Minor faults that find the folio in the swap cache (readahead hits among them)."""
    c = m.costs
    k = affordable(budget, c.fault_entry + c.swapin_map + 3 * c.xa_hop, len(vp))
    v = vp[:k]
    slots = m.spaces.slot[v]
    frames, spent = m.swap_cache.lookup(slots)
    spent += m.swapin_overhead(slots, p.cpu, miss=False)
    fl = m.memmap.flags
    # Wait for reads still in flight.
    busy = frames[(fl[frames] & PG_LOCKED_IO) != 0]
    if len(busy):
        wait = max(0, int(m.memmap.io_done[busy].max()) - now)
        if wait:
            spent += wait
            m.vm.add("swaptui_task_io_wait_ns", wait)
            m.complete_io(now + wait)
    ra = (fl[frames] & PG_READAHEAD) != 0
    nra = int(ra.sum())
    if nra:
        fl[frames[ra]] &= ~np.uint16(PG_READAHEAD)
        m.vm.add("swap_ra_hit", nra)
        p.ra_hits = min(p.ra_hits + nra, VMA_RA_MAX_HITS)
        m.swapin_readahead_hits += nra
    p.ra_prev = int(v[-1])
    spent += map_swapcache_folios(m, p, v, frames, wr[:k])
    m.vm.add("swaptui_page_events", k)
    return k, spent


def do_swap_page(m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, now: int, budget: int) -> tuple[int, int]:
    """Major faults on swap entries: the SYNC_IO bypass (batched), or swapin_readahead (one fault)."""
    slots = m.spaces.slot[vp]
    devs = m.swap.device_of(slots)
    if devs[0] < 0:
        # vswap: a zero (or zswap) entry has no physical device, so no SYNC_IO skip: readahead runs.
        return swapin_readahead(m, p, int(vp[0]), bool(wr[0]), now, budget)
    dev = m.swap.devices[int(devs[0])]
    count = m.swap.swap_map[slots] & SWAP_COUNT_MASK
    if dev.synchronous and not m.swap_cache.bypass_sync_io:
        # Phase II: SYNC_IO swap-in goes through the swap cache, without readahead (swapin_folio).
        other = np.flatnonzero(devs != devs[0])
        n = int(other[0]) if len(other) else len(vp)
        return swapin_sync(m, p, vp[:n], wr[:n], now, budget)
    if dev.synchronous and count[0] == 1:
        same = np.flatnonzero((devs != devs[0]) | (count != 1))
        n = int(same[0]) if len(same) else len(vp)
        return swapin_bypass(m, p, vp[:n], wr[:n], now, budget)
    return swapin_readahead(m, p, int(vp[0]), bool(wr[0]), now, budget)


def _folios_for_sync_swapin(
    m: Machine, p: Process, vp: np.ndarray, now: int, budget: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Allocate folios for as many synchronous swap-ins of the run as the budget affords.

    Returns (vpages, slots, frames, ns spent), cut to the folios obtained."""
    c = m.costs
    slots = m.spaces.slot[vp]
    dev = m.swap.devices[int(m.swap.device_of(slots[:1])[0])]
    per = c.fault_entry + c.swapin_map + dev.profile.cpu_read_ns + c.pcp_page
    frames, spent = alloc_pages_task(m, p, affordable(budget, per, len(vp)), now, budget)
    k = len(frames)
    if k:
        spent += m.swapin_overhead(slots[:k], p.cpu, miss=True)
    return vp[:k], slots[:k], frames, spent


def swapin_sync(m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, now: int, budget: int) -> tuple[int, int]:
    """swapin_folio (swap table phase II): insert into the swap cache, read, map, drop from the cache."""
    v, s, frames, spent = _folios_for_sync_swapin(m, p, vp, now, budget)
    k = len(frames)
    if k == 0:
        return 0, spent
    spent += m.read_swap_cache_async(frames, s, v, now + spent)
    count_fault(m, p, "pgmajfault", k)
    # The swap cache is freed right after mapping: the slot goes with it.
    spent += map_swapcache_folios(m, p, v, frames, wr[:k], free_swap=np.ones(k, dtype=bool))
    m.vm.add("swaptui_page_events", k)
    return k, spent


def swapin_bypass(m: Machine, p: Process, vp: np.ndarray, wr: np.ndarray, now: int, budget: int) -> tuple[int, int]:
    """SWP_SYNCHRONOUS_IO with a count of 1: read straight into a new folio, no swap cache, no readahead."""
    if p.fault_orders and m.zswap is None and m.large_swapin and vp[0] - p.base >= p.huge_start:
        done = swapin_large_folio(m, p, int(vp[0]), now)
        if done is not None:
            return done
    v, s, frames, spent = _folios_for_sync_swapin(m, p, vp, now, budget)
    k = len(frames)
    if k == 0:
        return 0, spent
    return k, spent + _bypass_read_and_map(m, p, v, s, frames, now + spent)


def swapin_large_folio(m: Machine, p: Process, v0: int, now: int) -> tuple[int, int] | None:
    """alloc_swap_folio (6.12+, SWP_SYNCHRONOUS_IO only): swap in a whole mTHP folio when the aligned range
    around the fault is all swapped out to contiguous, aligned, unshared slots with nothing in the swap cache.
    Returns (accesses consumed, ns) or None to fall back to a base page. PMD-size folios are not swapped
    in whole (the kernel does not either); zswap blocks large swap-in (zswap_never_enabled)."""
    sp = m.spaces
    spent = 0
    for order in p.fault_orders:
        if order >= PMD_ORDER:
            continue
        v = folio_range(p, v0, order, sp.state, VP_SWAPPED)
        if v is None:
            continue
        size = len(v)
        s = sp.slot[v]
        if s[0] % size or (s != s[0] + np.arange(size)).any():
            continue
        if ((m.swap.swap_map[s] & SWAP_COUNT_MASK) != 1).any() or (m.swap_cache.folio[s] >= 0).any():
            continue
        head, cost = alloc_folio_task(m, p, order, now + spent)
        spent += cost
        if head < 0:
            m.vm.add("swaptui_mthp_fault_fallback")
            continue
        if not charge_large_folio(m, p, head, order, now + spent):
            continue
        frames = np.arange(head, head + size, dtype=np.int64)
        spent += m.swapin_overhead(s, p.cpu, miss=True)
        spent += _bypass_read_and_map(m, p, v, s, frames, now + spent, one_folio=True)
        m.memmap.folio_order[frames] = order
        m.vm.add("swaptui_mthp_swpin")
        return 1, spent
    return None


def _bypass_read_and_map(
    m: Machine, p: Process, v: np.ndarray, s: np.ndarray, frames: np.ndarray, now: int, one_folio: bool = False
) -> int:
    """The SYNC_IO bypass after allocation: read into the new folios, refault check, map, free the slots.
    `one_folio`: the frames are one large folio (one fault, one LRU decision). Returns ns spent."""
    c = m.costs
    k = len(frames)
    spent = 0
    mem = m.memmap
    mem.state[frames] = FRAME_SWAPCACHE
    mem.owner[frames] = v
    mem.slot[frames] = -1
    mem.flags[frames] = 0
    spent += m.swap_read_folio(frames, s, now)
    shadows = m.swap_cache.take_shadow(s)
    active = m.workingset_refault(shadows, is_file=False, memcg=p.memcg)
    if m.memcg is not None:
        m.memcg.swapin_uncharge_swap(s)
    if one_folio:
        active[:] = active.any()
    fl = mem.flags
    fl[frames[active]] |= np.uint16(PG_WORKINGSET)
    m.lru_add(LRU_ACTIVE_ANON, frames[active])
    m.lru_add(LRU_INACTIVE_ANON, frames[~active])
    # Map: PTE installed, swap_free drops the only reference, so the slot is freed at once.
    sp = m.spaces
    sp.state[v] = VP_RESIDENT
    sp.frame[v] = frames
    sp.slot[v] = -1
    mem.state[frames] = FRAME_ANON
    fl[frames] |= np.uint16(PG_YOUNG | PG_DIRTY)
    m.swap_put_ref(s)
    count_fault(m, p, "pgfault", 1 if one_folio else k)
    count_fault(m, p, "pgmajfault", 1 if one_folio else k)
    m.vm.add("swaptui_pages_touched", k)
    m.vm.add("swaptui_page_events", k)
    spent += k * (c.fault_entry + c.swapin_map)
    return spent


@kernel
def vma_ra_candidates(state: np.ndarray, slot: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """swap_vma_readahead's PTE walk over [lo, hi): the vpages holding swap entries, and their slots."""
    vps = np.empty(max(hi - lo, 0), dtype=np.int64)
    n = 0
    for v in range(lo, hi):
        if state[v] == VP_SWAPPED:
            vps[n] = v
            n += 1
    vps = vps[:n].copy()
    slots = np.empty(n, dtype=np.int64)
    for i in range(n):
        slots[i] = slot[vps[i]]
    return vps, slots


@kernel
def swap_ra_order(
    cand_slots: np.ndarray, cand_vp: np.ndarray, swap_map: np.ndarray, cache_folio: np.ndarray, fault_slot: int
) -> tuple[np.ndarray, np.ndarray]:
    """The readahead batch: candidates in use (a count, not SWAP_MAP_BAD) and not already in the swap cache,
    the faulting entry always and first, the rest in their order. Returns (slots, vpages)."""
    n = len(cand_slots)
    out_s = np.empty(n, dtype=np.int64)
    out_v = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        if cand_slots[i] == fault_slot:
            out_s[k] = cand_slots[i]
            out_v[k] = cand_vp[i]
            k += 1
    for i in range(n):
        sl = cand_slots[i]
        if sl == fault_slot:
            continue
        count = swap_map[sl] & SWAP_COUNT_MASK
        if count > 0 and count != SWAP_MAP_BAD and cache_folio[sl] < 0:
            out_s[k] = sl
            out_v[k] = cand_vp[i]
            k += 1
    return out_s[:k].copy(), out_v[:k].copy()


def swapin_readahead(m: Machine, p: Process, v: int, write: bool, now: int, budget: int) -> tuple[int, int]:
    """swapin_readahead for one faulting page: VMA-based or cluster readahead, then the fault itself."""
    c = m.costs
    sp = m.spaces
    slot = int(sp.slot[v])
    if m.vma_ra_enabled and not m.swap_has_rotational:
        win = swapin_nr_pages(p.ra_prev, v, p.ra_hits, 1 << min(m.page_cluster, 5), p.ra_win)
        prev = p.ra_prev
        p.ra_hits, p.ra_win, p.ra_prev = 0, win, v
        if win == 1:
            lo, hi = v, v + 1
        elif v == prev + 1:
            lo, hi = v, v + win
        elif v == prev - 1:
            lo, hi = v - win + 1, v + 1
        else:
            left = (win - 1) // 2
            lo, hi = v - left, v - left + win
        pmd_lo = p.base + ((v - p.base) // PMD_PAGES) * PMD_PAGES
        lo = max(lo, p.base, pmd_lo)
        hi = min(hi, p.base + p.npages, pmd_lo + PMD_PAGES)
        cand_vp, cand_slots = vma_ra_candidates(sp.state, sp.slot, lo, hi)
    elif m.swap is not m.phys:
        cand_vp = np.array([v])  # vswap entries have no physical neighbourhood to read around
        cand_slots = np.array([slot])
    else:
        hits = m.swapin_readahead_hits
        m.swapin_readahead_hits = 0
        win = swapin_nr_pages(m.ra_prev_offset, slot, hits, 1 << m.page_cluster, m.last_readahead_pages)
        if not hits:
            m.ra_prev_offset = slot
        m.last_readahead_pages = win
        dev = m.swap.devices[int(m.swap.device_of(np.array([slot]))[0])]
        lo = max(slot & ~(win - 1), dev.base + 1)
        hi = min((slot | (win - 1)) + 1, dev.base + dev.nr_slots)
        cand_slots = np.arange(lo, hi, dtype=np.int64)
        cand_vp = m.swap.owner[cand_slots]
    # Candidates: slots that are in use (count > 0) and not already cached; the faulting entry first, so that
    # a short allocation still serves the fault.
    cand_slots, cand_vp = swap_ra_order(cand_slots, cand_vp, m.swap.swap_map, m.swap_cache.folio, slot)
    frames, spent = alloc_pages_task(m, p, len(cand_slots), now, budget)
    k = len(frames)
    if k == 0:
        return 0, spent
    cand_slots, cand_vp = cand_slots[:k], cand_vp[:k]
    spent += m.swapin_overhead(cand_slots, p.cpu, miss=True)
    spent += m.read_swap_cache_async(frames, cand_slots, cand_vp, now + spent)
    is_ra = cand_slots != slot
    nra = int(is_ra.sum())
    if nra:
        m.memmap.flags[frames[is_ra]] |= np.uint16(PG_READAHEAD)
        m.vm.add("swap_ra", nra)
        spent += nra * c.readahead_page
    # The fault waits for its own page.
    f0 = frames[:1]
    count_fault(m, p, "pgmajfault", 1)
    wait = max(0, int(m.memmap.io_done[f0[0]]) - (now + spent)) if m.memmap.flags[f0[0]] & PG_LOCKED_IO else 0
    if wait:
        spent += wait
        m.vm.add("swaptui_task_io_wait_ns", wait)
        m.complete_io(now + spent)
    m.memmap.flags[f0] &= ~np.uint16(PG_LOCKED_IO)
    spent += map_swapcache_folios(m, p, np.array([v]), f0, np.array([write]))
    m.vm.add("swaptui_page_events", 1)
    return 1, spent
