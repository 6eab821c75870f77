"""Reclaim (mm/vmscan.c, classic LRU): get_scan_count, shrink_lruvec, shrink_folio_list, kswapd, direct reclaim.

Folios are handled in vectors: a batch isolated from an LRU tail goes through folio_check_references,
add_to_swap, try_to_unmap, pageout and __remove_mapping together, each step as the kernel orders it,
with every step's cost charged to whoever reclaims (kswapd's budget or the allocating task's).

Simplifications: kswapd processes an LRU's scan target in chunks of up to 32 x N folios (N from its
remaining CPU budget) instead of 32 at a time; while rounds reclaim nothing (an LRU of young
folios being aged), batches double, up to 512 x 32; `try_to_free_pages` for k failed allocations in one
tick runs as one invocation with k x 32 pages to reclaim and counts k allocstalls.

kswapd and direct reclaimers run at once on different CPUs: between a direct reclaimer's batches, kswapd
catches up to the reclaimer's clock, so the two isolate folios from the LRU tail interleaved, as in the
kernel. (Run as one atomic step, direct reclaim met every young stretch of the tail itself: on the traced
usemem runs kswapd then scanned 1.03 folios per folio reclaimed where the kernel's scanned 1.3 to 2.1.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from swaptui.model import memmap as mmt
from swaptui.model.compaction import PAGE_ALLOC_COSTLY_ORDER, compaction_ready
from swaptui.model.filemap import reclaim_file_folios
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_SWAPCACHE,
    LRU_ACTIVE_ANON,
    LRU_ACTIVE_FILE,
    LRU_INACTIVE_ANON,
    LRU_INACTIVE_FILE,
    LRU_NONE,
    PG_DIRTY,
    PG_LOCKED,
    PG_LOCKED_IO,
    PG_RECLAIM,
    PG_REFERENCED,
    PG_WORKINGSET,
    PG_WRITEBACK,
    PG_YOUNG,
    folio_heads,
)
from swaptui.model.page_alloc import PAGEBLOCK_ORDER, WMARK_HIGH, WMARK_MIN
from swaptui.model.workload import VP_SWAPPED

if TYPE_CHECKING:
    from swaptui.model.machine import Machine

SWAP_CLUSTER_MAX = 32
DEF_PRIORITY = 12
MAX_RECLAIM_RETRIES = 16
KSWAPD_NAP_NS = 100_000_000  # HZ/10
MAX_BATCH_GROWTH = 512

SCAN_EQUAL, SCAN_FRACT, SCAN_ANON, SCAN_FILE = range(4)


@dataclass
class ScanControl:
    """struct scan_control, plus the CPU cost this reclaim has run up."""

    nr_to_reclaim: int
    priority: int = DEF_PRIORITY
    is_kswapd: bool = False
    may_swap: bool = True
    nr_scanned: int = 0
    nr_reclaimed: int = 0
    cost: int = 0  # time spent, ns: CPU plus io_wait
    io_wait: int = 0  # part of cost spent blocked on a full device queue
    cpu: int = 0
    now: int = 0
    batch: int = SWAP_CLUSTER_MAX  # folios isolated per shrink_list call
    target: int | None = None  # target_mem_cgroup: the cgroup of limit reclaim (None: global reclaim)
    memcg: int = 0  # the cgroup whose lruvec is being shrunk
    proactive: bool = False  # memory.reclaim
    swappiness: int | None = None  # memory.reclaim's swappiness= (proactive_swappiness)
    memcg_low_reclaim: bool = False  # protection below memory.low is ignored (a retry after skipping some)
    memcg_low_skipped: bool = False

    @property
    def cgroup_reclaim(self) -> bool:
        """cgroup_reclaim(sc): limit (or proactive) reclaim of one cgroup's subtree."""
        return self.target is not None


def reclaimer(sc: ScanControl) -> str:
    """reclaimer_offset: which of pgscan_/pgsteal_ kswapd, direct or proactive this reclaim counts as."""
    return "kswapd" if sc.is_kswapd else "proactive" if sc.proactive else "direct"


def lru_sizes(m: Machine, memcg: int, hierarchical: bool = False) -> list[int]:
    """The four LRU lists' sizes of a cgroup's lruvec: its own (mem_cgroup_get_zone_lru_size), or over its subtree
    (lruvec_page_state, which memcg stats keep hierarchically). The root's hierarchical sizes are the node's."""
    if m.memcg is None:
        return [len(x) for x in m.lru]
    ids = m.memcg.subtree[memcg] if hierarchical else [memcg]
    nr = m.lrus.nr
    return [int(sum(nr[c * 4 + i] for c in ids)) for i in range(4)]


def int_sqrt(x: int) -> int:
    return int(np.sqrt(x)) if x > 0 else 0


def inactive_is_low(m: Machine, inactive_lru: int, memcg: int = 0, hierarchical: bool = True) -> bool:
    """inactive_is_low on a cgroup's lruvec (the root's: the node's): inactive * int_sqrt(10 * GiB) < active."""
    sizes = lru_sizes(m, memcg, hierarchical)
    inactive = sizes[inactive_lru]
    active = sizes[inactive_lru + 1]
    gb = (inactive + active) >> (30 - mmt.PAGE_SHIFT)
    ratio = int_sqrt(10 * gb) if gb else 1
    return inactive * ratio < active


def mem_cgroup_swappiness(m: Machine, memcg: int) -> int:
    """mem_cgroup_swappiness: v1 cgroups' own memory.swappiness, else vm.swappiness."""
    if m.memcg is None or memcg == 0 or not m.memcg.v1:
        return m.swappiness
    return int(m.memcg.swappiness[memcg])


def get_scan_count(m: Machine, sc: ScanControl) -> list[int]:
    """get_scan_count for the lruvec of sc.memcg: how many folios to scan on each LRU at this priority
    (prepare_scan_count's parts from the target's lruvec: costs, cache_trim_mode, file_is_tiny)."""
    memcg = sc.memcg
    target = 0 if sc.target is None else sc.target
    sizes = lru_sizes(m, memcg)
    swappiness = sc.swappiness if sc.swappiness is not None else mem_cgroup_swappiness(m, memcg)
    have_swap = m.swap.nr_swap_pages > 0 and sc.may_swap
    if have_swap and m.memcg is not None and memcg:
        have_swap = m.memcg.swap_room(memcg) > 0  # can_reclaim_anon_pages: mem_cgroup_get_nr_swap_pages
    anon_cost, file_cost = m.anon_cost[target], m.file_cost[target]
    target_sizes = lru_sizes(m, target, hierarchical=True)
    if not have_swap or (sc.cgroup_reclaim and not swappiness):
        mode = SCAN_FILE
    elif sc.priority == 0 and swappiness:
        mode = SCAN_EQUAL
    elif not sc.cgroup_reclaim and m.file_is_tiny(sc):
        mode = SCAN_ANON
    elif (target_sizes[LRU_INACTIVE_FILE] >> sc.priority) and not inactive_is_low(m, LRU_INACTIVE_FILE, target):
        mode = SCAN_FILE  # cache_trim_mode
    else:
        mode = SCAN_FRACT
    protection = 0
    if m.memcg is not None and memcg and memcg != target:
        emin, elow = m.memcg.effective_protection(target, memcg)
        if emin or elow:
            # apply_proportional_protection (memory.low scaling, with a retry before OOM)
            if not sc.memcg_low_reclaim and elow > emin:
                protection = elow
                sc.memcg_low_skipped = True
            else:
                protection = emin
            cgroup_size = max(int(m.memcg.usage[memcg]), protection)
    total = anon_cost + file_cost
    a = total + anon_cost
    f = total + file_cost
    t = a + f
    ap = swappiness * (t + 1) // (a + 1)
    fp = (200 - swappiness) * (t + 1) // (f + 1)
    out = []
    for lru in range(4):
        is_file = lru >= LRU_INACTIVE_FILE
        if protection:
            scan = max(sizes[lru] - sizes[lru] * protection // (cgroup_size + 1), SWAP_CLUSTER_MAX) >> sc.priority
        else:
            scan = sizes[lru] >> sc.priority
        if mode == SCAN_FRACT:
            frac = fp if is_file else ap
            scan = -(-scan * frac // (ap + fp)) if ap + fp else 0
        elif mode == SCAN_FILE:
            scan = scan if is_file else 0
        elif mode == SCAN_ANON:
            scan = 0 if is_file else scan
        out.append(int(scan))
    return out


# -- the per-folio work -----------------------------------------------------------------------------


def shrink_active_list(m: Machine, lru: int, n: int, sc: ScanControl) -> None:
    """shrink_active_list: age active folios to the inactive list (accessed bits cleared)."""
    lists = m.lruvec(sc.memcg)
    frames = lists[lru].isolate_tail(n)
    if len(frames) == 0:
        return
    m.vm.add("pgrefill", len(frames))
    fl = m.memmap.flags
    fl[frames] &= ~np.uint16(PG_YOUNG | PG_REFERENCED)
    fl[frames] |= np.uint16(PG_WORKINGSET)
    lists[lru - 1].add(frames)
    m.vm.add("pgdeactivate", len(frames))
    if m.memcg is not None:
        m.memcg.count("pgrefill", sc.memcg, len(frames))
        m.memcg.count("pgdeactivate", sc.memcg, len(frames))
    sc.cost += len(frames) * m.costs.deactivate_page


def activate(m: Machine, frames: np.ndarray, is_file: bool) -> None:
    """activate_locked: the folio goes to its active list."""
    if len(frames) == 0:
        return
    # Not a candidate for swapping: give back swap space when swap is over half full.
    if not is_file and m.swap.vm_swap_full():
        cached = frames[(m.memmap.slot[frames] >= 0) & ((m.memmap.flags[frames] & PG_WRITEBACK) == 0)]
        if len(cached):
            m.folio_free_swap(cached)
            # An unmapped folio whose last swap reference is gone was freed just now, not activated.
            st = m.memmap.state[frames]
            frames = frames[(st == FRAME_ANON) | (st == FRAME_SWAPCACHE)]
    m.lru_add(LRU_ACTIVE_FILE if is_file else LRU_ACTIVE_ANON, frames)
    m.vm.add("pgactivate", len(frames))
    if m.memcg is not None:
        m.memcg.count_frames("pgactivate", frames)


def shrink_inactive_list(m: Machine, lru: int, n: int, sc: ScanControl) -> int:
    """shrink_inactive_list: isolate from the tail, shrink_folio_list, put back what stays."""
    # Reclaim takes time; writeback that completes meanwhile rotates folios to the tail first.
    m.complete_io(sc.now + sc.cost)
    frames = m.lruvec(sc.memcg)[lru].isolate_tail(n)
    nr = len(frames)
    if nr == 0:
        return 0
    frames = with_folio_siblings(m, frames)
    nr = len(frames)
    is_file = lru == LRU_INACTIVE_FILE
    who = reclaimer(sc)
    # pgscan_kswapd/direct/proactive are global counters only for global reclaim (!cgroup_reclaim); the
    # cgroup's memory.stat counts them always; pgscan_anon/file count all reclaim (shrink_inactive_list, 6.18).
    if not sc.cgroup_reclaim:
        m.vm.add(f"pgscan_{who}", nr)
    m.vm.add("pgscan_file" if is_file else "pgscan_anon", nr)
    if m.memcg is not None:
        m.memcg.count(f"pgscan_{who}", sc.memcg, nr)
        m.memcg.count("pgscan", sc.memcg, nr)
    sc.nr_scanned += nr
    sc.cost += nr * m.costs.lru_isolate
    m.memmap.flags[frames] |= np.uint16(PG_LOCKED)
    reclaimed = shrink_folio_list(m, frames, is_file, sc)
    m.memmap.flags[frames] &= ~np.uint16(PG_LOCKED)
    if not sc.cgroup_reclaim:
        m.vm.add(f"pgsteal_{who}", reclaimed)
    m.vm.add("pgsteal_file" if is_file else "pgsteal_anon", reclaimed)
    if m.memcg is not None:
        m.memcg.count(f"pgsteal_{who}", sc.memcg, reclaimed)
        m.memcg.count("pgsteal", sc.memcg, reclaimed)
    # lru_note_cost: rotated-but-not-reclaimed folios make this type look more expensive (up the hierarchy).
    for c in m.memcg.chain[sc.memcg] if m.memcg is not None else (0,):
        if is_file:
            m.file_cost[c] += nr - reclaimed
        else:
            m.anon_cost[c] += (nr - reclaimed) + m.last_pageout
        m.decay_costs(c)
    m.last_pageout = 0
    return reclaimed


def with_folio_siblings(m: Machine, frames: np.ndarray) -> np.ndarray:
    """A large folio is one LRU entry in the kernel; here its pages sit on the LRU side by side. When any of
    them is isolated, take the rest of the folio off its list too, so the folio is reclaimed as one."""
    mem = m.memmap
    big = frames[mem.folio_order[frames] > 0]
    if not len(big):
        return frames
    heads = np.unique(folio_heads(mem.folio_order, big))
    ks = mem.folio_order[heads].astype(np.int64)
    sib = np.concatenate([np.arange(h, h + (1 << k)) for h, k in zip(heads.tolist(), ks.tolist())])
    extra = sib[mem.lru[sib] != LRU_NONE]
    for lid in np.unique(mem.lru[extra]).tolist():
        m.lru_list(lid).remove(extra[mem.lru[extra] == lid])
    if not len(extra):
        return frames
    return np.concatenate([frames, extra])


def folio_or_flags(m: Machine, frames: np.ndarray, fl: np.ndarray) -> np.ndarray:
    """folio_referenced looks at every PTE of a folio: give each page of a large folio the OR of its pages'
    flags (for the folio's pages among `frames`)."""
    big = np.flatnonzero(m.memmap.folio_order[frames] > 0)
    if not len(big):
        return fl
    heads = folio_heads(m.memmap.folio_order, frames[big])
    uh, inv = np.unique(heads, return_inverse=True)
    acc = np.zeros(len(uh), dtype=fl.dtype)
    np.bitwise_or.at(acc, inv, fl[big])
    fl = fl.copy()
    fl[big] = acc[inv]
    return fl


def shrink_folio_list(m: Machine, frames: np.ndarray, is_file: bool, sc: ScanControl) -> int:
    """shrink_folio_list for one type: references, swap-out, unmap, pageout, free. Returns pages freed."""
    c = m.costs
    mem = m.memmap
    fl = mem.flags[frames]
    inactive = m.lruvec(sc.memcg)[LRU_INACTIVE_FILE if is_file else LRU_INACTIVE_ANON]

    # Folios under writeback or still being read: not reclaimable now (writeback: activate_locked, case 2).
    busy = (fl & (PG_WRITEBACK | PG_LOCKED_IO)) != 0
    if busy.any():
        wb = frames[busy]
        mem.flags[wb] |= np.uint16(PG_RECLAIM)
        activate(m, wb, is_file)
        frames, fl = frames[~busy], fl[~busy]

    # folio_check_references (over all of a large folio's pages).
    fl = folio_or_flags(m, frames, fl)
    mapped = mem.state[frames] == (FRAME_FILE if is_file else FRAME_ANON)
    sc.cost += int(mapped.sum()) * c.folio_referenced + int((~mapped).sum()) * c.lru_isolate
    young = (fl & PG_YOUNG) != 0
    referenced = (fl & PG_REFERENCED) != 0
    mem.flags[frames] = fl & ~np.uint16(PG_YOUNG | PG_REFERENCED)
    to_activate = young & referenced
    keep = young & ~referenced
    if is_file:
        # A referenced, unmapped page-cache folio gets a second trip (mark_page_accessed semantics).
        keep |= referenced & ~young
    if keep.any():
        kf = frames[keep]
        mem.flags[kf] |= np.uint16(PG_REFERENCED)
        inactive.add(kf)
        sc.cost += len(kf) * c.lru_putback
    activate(m, frames[to_activate], is_file)
    cand = frames[~(keep | to_activate)]
    if len(cand) == 0:
        return 0
    if is_file:
        return reclaim_file_folios(m, cand, sc)
    return reclaim_anon_folios(m, cand, sc)


def alloc_folio_slots(m: Machine, frames: np.ndarray, sc: ScanControl) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """add_to_swap for the large folios among `frames`: slots of the folio's order (folio_alloc_swap), or, when
    there are none, split the folio (thp_swpout_fallback) and let its pages take order-0 slots.
    Returns (large-folio frames with slots, their slots, the frames still needing order-0 slots)."""
    mem = m.memmap
    big = mem.folio_order[frames] > 0
    if not big.any():
        return frames[:0], frames[:0], frames
    heads = np.unique(folio_heads(mem.folio_order, frames[big]))
    got_f, got_s = [], []
    for h in heads.tolist():
        k = int(mem.folio_order[h])
        sib = np.arange(h, h + (1 << k), dtype=np.int64)
        if not np.isin(sib, frames).all():
            # Per-page swap-cache work (a page faulted back in, one page's slot freed) left the folio's pages in
            # different states, which a kernel folio cannot be: the model splits it and goes on with base pages.
            mem.folio_order[sib] = 0
            m.count_folio_split(k)
            continue
        slots, cost = m.swap.alloc_folio(k, sc.cpu)
        sc.cost += cost
        if len(slots) == (1 << k):
            got_f.append(sib)
            got_s.append(slots)
            m.vm.add("thp_swpout" if k == PAGEBLOCK_ORDER else "swaptui_mthp_swpout")
        else:
            mem.folio_order[sib] = 0  # split_folio_to_list: the pages go on as base pages
            m.count_folio_split(k)
            if k == PAGEBLOCK_ORDER:
                m.vm.add("thp_swpout_fallback")
            else:
                m.vm.add("swaptui_mthp_swpout_fallback")
    if not got_f:
        return frames[:0], frames[:0], frames
    big_frames = np.concatenate(got_f)
    return big_frames, np.concatenate(got_s), frames[~np.isin(frames, big_frames)]


def reclaim_anon_folios(m: Machine, frames: np.ndarray, sc: ScanControl) -> int:
    """The anon tail of shrink_folio_list: add_to_swap, try_to_unmap, pageout, __remove_mapping."""
    c = m.costs
    mem = m.memmap
    sp = m.spaces
    inactive = m.lruvec(sc.memcg)[LRU_INACTIVE_ANON]

    # add_to_swap for folios not yet in the swap cache.
    need_swap = frames[mem.slot[frames] < 0]
    if len(need_swap) and m.memcg is not None and sc.may_swap:
        # folio_alloc_swap's mem_cgroup_try_charge_swap: over memory.swap.max the folio stays (activate_locked).
        ok = m.memcg.try_charge_swap(need_swap)
        if not ok.all():
            refused = need_swap[~ok]
            activate(m, refused, False)
            frames = np.setdiff1d(frames, refused, assume_unique=True)
            need_swap = need_swap[ok]
    if len(need_swap):
        if not sc.may_swap:
            inactive.add(need_swap)
            frames = frames[mem.slot[frames] >= 0]
            need_swap = need_swap[:0]
        else:
            big_frames, big_slots, need_swap = alloc_folio_slots(m, need_swap, sc)
            slots, cost = m.swap.alloc(len(need_swap), sc.cpu)
            sc.cost += cost
            if len(big_frames):
                # Large folios that got slots of their order join the order-0 ones from here on.
                need_swap = np.concatenate([big_frames, need_swap])
                slots = np.concatenate([big_slots, slots])
            if len(slots) < len(need_swap):
                # No swap space: activate_locked (the folio is not a swap candidate now).
                failed = need_swap[len(slots) :]
                m.vm.add("swaptui_swap_alloc_fail", len(failed))
                activate(m, failed, False)
                need_swap = need_swap[: len(slots)]
                frames = np.concatenate([frames[mem.slot[frames] >= 0], need_swap])
            if len(need_swap):
                sc.cost += m.swap_cache.add(slots, need_swap)[1]
                mem.slot[need_swap] = slots
                if m.memcg is not None:
                    m.memcg.record_swap(need_swap, slots)
                m.swap.owner[slots] = mem.owner[need_swap]
                mem.flags[need_swap] |= np.uint16(PG_DIRTY)
                m.vm.set("nr_swapcached", m.swap_cache.nr_pages)
    if len(frames) == 0:
        return 0

    # try_to_unmap: mapped folios' PTEs become swap entries (swap_duplicate).
    mapped = frames[mem.state[frames] == FRAME_ANON]
    if len(mapped):
        vps = mem.owner[mapped]
        slots = mem.slot[mapped]
        m.swap.duplicate(slots)
        sp.state[vps] = VP_SWAPPED
        sp.frame[vps] = -1
        sp.slot[vps] = slots
        mem.state[mapped] = FRAME_SWAPCACHE
        sc.cost += len(mapped) * c.try_to_unmap

    # pageout for dirty folios.
    dirty = frames[(mem.flags[frames] & PG_DIRTY) != 0]
    async_frames = np.zeros(0, dtype=np.int64)
    if len(dirty):
        async_frames = m.swap_writepage(dirty, sc)
        failed = m.take_writeout_failed()
        if len(failed):
            activate(m, failed, False)
            frames = np.setdiff1d(frames, failed, assume_unique=True)
    freeable = frames if len(async_frames) == 0 else np.setdiff1d(frames, async_frames, assume_unique=True)
    if len(async_frames):
        inactive.add(async_frames)  # keep: back on the inactive list until writeback ends
        sc.cost += len(async_frames) * c.lru_putback
    if len(freeable) == 0:
        sc.cost += m.swap.take_cost()
        return 0
    # __remove_mapping: delete from the swap cache, leaving a shadow, and free the folio.
    m.remove_swapcache_folios(freeable, sc)
    sc.cost += m.swap.take_cost()
    return len(freeable)


# -- node-level reclaim -----------------------------------------------------------------------------


def shrink_lruvec(m: Machine, sc: ScanControl, nr: list[int], budget: int | None = None) -> bool:
    """shrink_lruvec over remaining targets `nr` (mutated); stops early when the budget runs out.

    Returns True when the pass is over (targets met or the reclaim goal reached)."""
    targets = list(nr)
    nr_to_reclaim = sc.nr_to_reclaim
    scan_adjusted = (not sc.is_kswapd) and sc.priority == DEF_PRIORITY
    proportional_done = False
    start_reclaimed = sc.nr_reclaimed
    grow = 1  # while rounds reclaim nothing, batches double (same folios scanned, fewer calls)
    while nr[LRU_INACTIVE_ANON] or nr[LRU_ACTIVE_FILE] or nr[LRU_INACTIVE_FILE]:
        round_start = sc.nr_reclaimed
        for lru in (LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE):
            if not nr[lru]:
                continue
            chunk = sc.batch * grow
            if scan_adjusted:
                # No early stop at DEF_PRIORITY: the whole target is scanned, so take it in one batch.
                chunk = max(chunk, min(nr[lru], SWAP_CLUSTER_MAX * 64))
            if budget is not None:
                est = m.kswapd.cost_per_page
                chunk = max(SWAP_CLUSTER_MAX, min(SWAP_CLUSTER_MAX * 64, int((budget - sc.cost) // max(est, 1))))
                chunk = chunk // SWAP_CLUSTER_MAX * SWAP_CLUSTER_MAX
            n = min(nr[lru], chunk)
            nr[lru] -= n
            if lru in (LRU_ACTIVE_ANON, LRU_ACTIVE_FILE):
                if m.may_deactivate(lru - 1, 0 if sc.target is None else sc.target):
                    shrink_active_list(m, lru, n, sc)
            else:
                sc.nr_reclaimed += shrink_inactive_list(m, lru, n, sc)
            if not sc.is_kswapd:
                # kswapd runs on its own CPU meanwhile: it takes its batches from the same LRU tail between ours.
                m.kswapd.run_until(m, sc.now + sc.cost)
        if budget is not None and sc.cost >= budget:
            return False
        grow = min(grow * 2, MAX_BATCH_GROWTH) if sc.nr_reclaimed == round_start else 1
        if sc.nr_reclaimed - start_reclaimed < nr_to_reclaim or proportional_done or scan_adjusted:
            continue
        nr_file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE]
        nr_anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON]
        if not nr_file or not nr_anon:
            break
        # Scale the larger type's remaining scan to what the smaller type completed, stop the smaller.
        if nr_file > nr_anon:
            target = targets[LRU_INACTIVE_ANON] + targets[LRU_ACTIVE_ANON] + 1
            pct = nr_anon * 100 // target
            small, big = (LRU_INACTIVE_ANON, LRU_ACTIVE_ANON), (LRU_INACTIVE_FILE, LRU_ACTIVE_FILE)
        else:
            target = targets[LRU_INACTIVE_FILE] + targets[LRU_ACTIVE_FILE] + 1
            pct = nr_file * 100 // target
            small, big = (LRU_INACTIVE_FILE, LRU_ACTIVE_FILE), (LRU_INACTIVE_ANON, LRU_ACTIVE_ANON)
        for lru in small:
            nr[lru] = 0
        for lru in big:
            scanned = targets[lru] - nr[lru]
            nr[lru] = max(0, targets[lru] * (100 - pct) // 100 - scanned)
        proportional_done = True
    if inactive_is_low(m, LRU_INACTIVE_ANON, sc.memcg) and m.swap.total_swap_pages:
        shrink_active_list(m, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX, sc)
    return True


def memcg_walk(m: Machine, sc: ScanControl) -> list[int]:
    """shrink_node_memcgs' mem_cgroup_iter over the target's subtree (all cgroups for global reclaim), in
    pre-order, skipping those memory.min protects and, unless this is the low-reclaim retry, those under
    memory.low (memory.events low counts a cgroup reclaimed below its memory.low)."""
    if m.memcg is None:
        return [0]
    target = 0 if sc.target is None else sc.target
    out = []
    for c in m.memcg.subtree[target]:
        if c not in (target, 0):
            if m.memcg.below_min(target, c):
                continue
            if m.memcg.below_low(target, c):
                if not sc.memcg_low_reclaim:
                    sc.memcg_low_skipped = True
                    continue
                m.memcg.memory_event(c, "low")
        out.append(c)
    return out


def shrink_node_memcgs(m: Machine, sc: ScanControl, scale: int = 1) -> None:
    """shrink_node_memcgs: shrink_lruvec on each cgroup of the walk; all but kswapd stop once the goal is met
    (the partial walk). `scale` multiplies the first round's targets (k stalled allocations at once)."""
    for c in memcg_walk(m, sc):
        sc.memcg = c
        nr = [x * scale for x in get_scan_count(m, sc)] if scale != 1 else get_scan_count(m, sc)
        shrink_lruvec(m, sc, nr)
        if not sc.is_kswapd and sc.nr_reclaimed >= sc.nr_to_reclaim:
            break
    sc.memcg = 0


def shrink_slab_zsmalloc(m: Machine, sc: ScanControl) -> None:
    """shrink_slab's zsmalloc shrinker (zs_shrinker_count / zs_shrinker_scan): compact zswap's pool when some
    class has a zspage's worth of wasted slots. Objects moved cost a copy each; emptied zspages go back."""
    if m.zswap is None:
        return
    pool = m.zswap.pool
    if not pool.can_compact():
        return
    before = pool.objs_compacted
    freed = pool.compact()
    moved = pool.objs_compacted - before
    sc.cost += moved * m.costs.zs_compact_object
    if freed:
        m.vm.add("swaptui_zs_pages_compacted", freed)
        m.zram_pool_adjust()


def try_to_free_pages(m: Machine, invocations: int, cpu: int, now: int, order: int = 0) -> ScanControl:
    """try_to_free_pages / do_try_to_free_pages for `invocations` stalled allocations at once. For a costly
    order, shrink_zones (v6.1 mm/vmscan.c) skips each kernel zone that is compaction_ready and shrinks the
    node once if any is not; the priority loop stops after a pass in which some zone was ready: compaction,
    not reclaim, is what the allocation needs."""
    sc = ScanControl(
        nr_to_reclaim=SWAP_CLUSTER_MAX * invocations,
        is_kswapd=False,
        cpu=cpu,
        now=now,
        batch=SWAP_CLUSTER_MAX * min(invocations, 64),
    )
    sc.cost += m.costs.reclaim_entry * invocations
    m.vm.add("allocstall_movable", invocations)
    do_try_to_free_pages(m, sc, invocations, order)
    return sc


def do_try_to_free_pages(m: Machine, sc: ScanControl, scale: int = 1, order: int = 0) -> None:
    """do_try_to_free_pages: priorities DEF_PRIORITY down to 0 until nr_to_reclaim is met; if cgroups under
    memory.low were skipped and nothing came back, once more with their protection ignored. For a costly
    order (global reclaim's shrink_zones) a pass is skipped when every zone is compaction_ready, and the
    loop stops after a pass in which any was."""
    while True:
        for priority in range(DEF_PRIORITY, -1, -1):
            ready = compaction_ready(m, order) if order > PAGE_ALLOC_COSTLY_ORDER else [False]
            if all(ready):
                break  # every zone skipped: nothing to shrink
            if priority == DEF_PRIORITY and not sc.cgroup_reclaim:
                shrink_slab_zsmalloc(m, sc)
            sc.priority = priority
            shrink_node_memcgs(m, sc, scale if priority == DEF_PRIORITY else 1)
            if sc.nr_reclaimed and not sc.cgroup_reclaim:
                m.kswapd.failures = 0
            if sc.nr_reclaimed >= sc.nr_to_reclaim or any(ready):
                break
        if sc.nr_reclaimed or not sc.memcg_low_skipped or sc.memcg_low_reclaim:
            return
        sc.memcg_low_reclaim = True
        sc.memcg_low_skipped = False


def try_to_free_mem_cgroup_pages(
    m: Machine,
    memcg: int,
    nr_pages: int,
    cpu: int,
    now: int,
    may_swap: bool = True,
    proactive: bool = False,
    swappiness: int | None = None,
) -> ScanControl:
    """try_to_free_mem_cgroup_pages: limit (or proactive) reclaim in the calling task, over the cgroup's subtree
    only: nr_to_reclaim = max(nr_pages, SWAP_CLUSTER_MAX), no allocstall, no pgscan/pgsteal_kswapd/direct in
    /proc/vmstat (memory.stat has them)."""
    sc = ScanControl(
        nr_to_reclaim=max(nr_pages, SWAP_CLUSTER_MAX),
        target=memcg,
        may_swap=may_swap,
        cpu=cpu,
        now=now,
        proactive=proactive,
        swappiness=swappiness,
    )
    sc.cost += m.costs.reclaim_entry
    do_try_to_free_pages(m, sc)
    return sc


def throttle_direct_reclaim(m: Machine) -> bool:
    """allow_direct_reclaim is false: free pages are at or below half the min watermarks."""
    if m.kswapd.failures >= MAX_RECLAIM_RETRIES:
        return False
    reserve = m.zone.wmark[WMARK_MIN]
    return m.zone.nr_free_pages <= reserve // 2


# -- kswapd -----------------------------------------------------------------------------------------

KSWAPD_SLEEPING, KSWAPD_RUNNING, KSWAPD_NAPPING = "sleeping", "running", "napping"


@dataclass
class Kswapd:
    """kswapd's state: asleep, napping (HZ/10) or inside a resumable balance_pgdat."""

    state: str = KSWAPD_SLEEPING
    nap_until: int = 0
    woken_during_nap: bool = False
    order: int = 0
    failures: int = 0
    priority: int = DEF_PRIORITY
    run_reclaimed: int = 0
    pass_targets: list[int] | None = None
    pass_memcgs: list[int] = field(default_factory=list)  # cgroups of this pass still to shrink after sc.memcg
    pass_sc: ScanControl | None = None
    pass_accounted: int = 0
    clock: int = 0  # simulated time kswapd has run up to (ahead of the tick when it overran, e.g. blocked on I/O)
    cpu_fraction: float = 1.0  # share of a CPU kswapd gets this tick
    cost_per_page: float = 800.0
    cpu_ns: int = 0
    wakeups: int = 0
    history: list = field(default_factory=list)
    nr_boost_reclaim: int = 0  # balance_pgdat's boost goal: pages still to reclaim without swapping
    zone_boost: int = 0  # the boost observed when the run started (subtracted at the end)
    alloc_order: int = 0  # the order the run was woken for (kcompactd gets it when kswapd falls back to 0)

    def pgdat_balanced(self, m: Machine) -> bool:
        """pgdat_balanced: the zone passes the high watermark for the requested order."""
        return m.zone.watermark_ok(self.order, m.zone.wmark_pages(WMARK_HIGH))

    def wake(self, m: Machine, order: int, now: int) -> None:
        """wakeup_kswapd: only a sleeping or napping kswapd is woken, and only if the node needs it."""
        self.order = max(self.order, order)
        if self.state == KSWAPD_RUNNING:
            return
        if self.failures >= MAX_RECLAIM_RETRIES:
            return
        if self.pgdat_balanced(m) and not m.zone.watermark_boost:
            return
        if self.state == KSWAPD_NAPPING:
            self.woken_during_nap = True
            return
        self.clock = max(self.clock, now)
        self._start(m, now, "woken")

    def _start(self, m: Machine, now: int, why: str) -> None:
        self.state = KSWAPD_RUNNING
        self.wakeups += 1
        self.priority = DEF_PRIORITY
        self.run_reclaimed = 0
        self.pass_targets = None
        self.zone_boost = self.nr_boost_reclaim = m.zone.watermark_boost
        self.alloc_order = self.order
        m.zone.reclaim_active = True
        m.vm.add("pageoutrun")
        z = m.zone
        if why == "woken":
            m.event(now, "kswapd", f"kswapd woke: free {z.nr_free_pages} < low {z.wmark_pages(1)} (order {self.order})")

    def run_until(self, m: Machine, t: int) -> None:
        """Let kswapd, which runs on its own CPU alongside the tasks, catch up to time t."""
        if t <= self.clock:
            return
        start = self.clock
        used = self.run(m, start, int((t - start) * self.cpu_fraction))
        self.clock = max(t, start + used)

    def run(self, m: Machine, now: int, budget: int) -> int:
        """Spend up to `budget` ns from `now`; returns the ns used."""
        used = 0
        if self.state == KSWAPD_NAPPING:
            if self.woken_during_nap:
                self.woken_during_nap = False
                m.vm.add("kswapd_low_wmark_hit_quickly")
                self._start(m, now, "nap")
            elif now >= self.nap_until:
                if self.pgdat_balanced(m):
                    self.state = KSWAPD_SLEEPING
                    m.zone.reclaim_active = False
                    m.event(
                        now, "kswapd", f"kswapd sleeps: free {m.zone.nr_free_pages} >= high {m.zone.wmark_pages(2)}"
                    )
                    return 0
                m.vm.add("kswapd_high_wmark_hit_quickly")
                self._start(m, now, "nap")
            else:
                return 0
        if self.state != KSWAPD_RUNNING:
            return 0
        waited = 0
        while used < budget:
            if self.pass_targets is None:
                balanced = self.pgdat_balanced(m)
                if not balanced and self.nr_boost_reclaim:
                    # Unbalanced: forget the boost goal and restart as normal reclaim.
                    self.nr_boost_reclaim = 0
                    self.priority = DEF_PRIORITY
                if self.priority < 1 or (balanced and not self.nr_boost_reclaim):
                    self._finish(m, now + used)
                    if self.state != KSWAPD_RUNNING:
                        break
                    used += m.costs.reclaim_entry
                    continue
                # Boosted reclaim neither swaps nor writes back.
                sc = ScanControl(
                    nr_to_reclaim=max(m.zone.wmark_pages(WMARK_HIGH), SWAP_CLUSTER_MAX),
                    priority=self.priority,
                    is_kswapd=True,
                    cpu=m.kswapd_cpu,
                    now=now + used,
                    may_swap=not self.nr_boost_reclaim,
                )
                sc.cost += m.costs.reclaim_entry
                shrink_slab_zsmalloc(m, sc)
                if inactive_is_low(m, LRU_INACTIVE_ANON) and m.swap.total_swap_pages:
                    # age_active_anon: every cgroup's lruvec
                    for c in range(m.memcg.n) if m.memcg is not None else (0,):
                        sc.memcg = c
                        shrink_active_list(m, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX, sc)
                self.pass_memcgs = memcg_walk(m, sc)
                sc.memcg = self.pass_memcgs.pop(0)
                self.pass_sc = sc
                self.pass_targets = get_scan_count(m, sc)
                self.pass_accounted = 0
            assert self.pass_sc is not None  # set with pass_targets
            sc = self.pass_sc
            before_rec = sc.nr_reclaimed
            before_wait = sc.io_wait
            sc.now = now + used - self.pass_accounted  # so that sc.now + sc.cost is the clock
            done = shrink_lruvec(m, sc, self.pass_targets, budget=budget - used + sc.cost)
            step = sc.cost - self.pass_accounted
            self.pass_accounted = sc.cost
            used += step
            waited += sc.io_wait - before_wait
            got = sc.nr_reclaimed - before_rec
            if got:
                self.cost_per_page = 0.7 * self.cost_per_page + 0.3 * (step / max(got, 1))
                self.failures = 0
            if done and self.pass_memcgs:
                # shrink_node_memcgs' full walk: the next cgroup's lruvec in this pass
                sc.memcg = self.pass_memcgs.pop(0)
                self.pass_targets = get_scan_count(m, sc)
                continue
            if done:
                self.run_reclaimed += sc.nr_reclaimed
                if self.order and self.run_reclaimed >= 2 << self.order:
                    self.order = 0  # kswapd_shrink_node: compact_gap reclaimed, leave the rest to kcompactd
                raise_priority = sc.nr_scanned < sc.nr_to_reclaim
                if self.nr_boost_reclaim:
                    self.nr_boost_reclaim -= min(self.nr_boost_reclaim, sc.nr_reclaimed)
                    if self.priority == DEF_PRIORITY - 2:
                        raise_priority = False  # boosted reclaim stays at light priorities
                if raise_priority or sc.nr_reclaimed == 0:
                    self.priority -= 1
                self.pass_targets = None
                self.pass_sc = None
        self.cpu_ns += used - waited
        m.vm.add("swaptui_kswapd_cpu_ns", used - waited)
        return used

    def _finish(self, m: Machine, now: int) -> None:
        """End of balance_pgdat, then kswapd_try_to_sleep."""
        if self.run_reclaimed == 0 and not self.pgdat_balanced(m):
            self.failures += 1
        balanced = self.pgdat_balanced(m) or self.failures >= MAX_RECLAIM_RETRIES
        self.order = 0
        if self.zone_boost:
            # The boosts observed at the start are spent; kcompactd finishes the fragmentation repair.
            m.zone.watermark_boost -= min(m.zone.watermark_boost, self.zone_boost)
            self.zone_boost = self.nr_boost_reclaim = 0
            m.kcompactd.wake(m, PAGEBLOCK_ORDER, now)
        if balanced:
            # kswapd_try_to_sleep: clear compaction's skip bits if direct compaction asked, wake kcompactd.
            if m.compaction.blockskip_flush:
                m.compaction.reset_isolation_suitable()
            m.kcompactd.wake(m, self.alloc_order, now)
            self.state = KSWAPD_NAPPING
            self.nap_until = now + KSWAPD_NAP_NS
            self.woken_during_nap = False
        else:
            m.vm.add("kswapd_high_wmark_hit_quickly")
            self._start(m, now, "again")
