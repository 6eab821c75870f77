"""The page allocator: watermark formulas, the buddy free lists and the per-CPU page lists (mm/page_alloc.c).

Simplification (said in the docs too): the kernel's DMA, DMA32 and Normal zones are merged into one
simulated zone. Its watermarks are the sum of the per-zone watermarks the kernel would compute, so the
memory held back is the kernel's; `zone_layout` still reports each zone's own marks. The per-CPU lists
are modelled as one aggregate list whose `high` is the sum of the CPUs' limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from swaptui.model.jit import kernel
from swaptui.model.lists import NIL, list_add, list_add_tail, list_del
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_FREE,
    FRAME_PCP,
    FRAME_SWAPCACHE,
    FRAME_ZSMALLOC,
    PAGE_SIZE,
    MemMap,
    new_memmap,
)
from swaptui.model.vmstat import INDEX

MAX_ORDER = 10  # orders 0..MAX_ORDER (11 free lists)
NR_ORDERS = MAX_ORDER + 1
PAGEBLOCK_ORDER = 9
PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER
MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE = 0, 1, 2
MIGRATETYPE_NAMES = ("Unmovable", "Movable", "Reclaimable")
MIGRATE_PCPTYPES = 3
WMARK_MIN, WMARK_LOW, WMARK_HIGH = 0, 1, 2

DMA_PAGES = (16 << 20) // PAGE_SIZE  # ZONE_DMA spans the first 16 MiB
DMA32_LIMIT_PAGES = (4 << 30) // PAGE_SIZE


def int_sqrt(x: int) -> int:
    """The kernel's int_sqrt: floor of the square root."""
    return math.isqrt(x)


def calculate_min_free_kbytes(lowmem_kbytes: int) -> int:
    """init_per_zone_wmark_min: clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)."""
    return max(128, min(int_sqrt(lowmem_kbytes * 16), 262144))


def recommended_min_free_kbytes(nr_zones: int, totalram_pages: int) -> int:
    """khugepaged's set_recommended_min_free_kbytes, applied when THP is always or madvise."""
    recommended = PAGEBLOCK_NR_PAGES * nr_zones * 2
    recommended += PAGEBLOCK_NR_PAGES * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES
    recommended = min(recommended, totalram_pages // 20)
    return recommended << 2  # pages to KiB


@dataclass(frozen=True)
class ZoneInfo:
    """One kernel zone's managed pages and watermarks, as /proc/zoneinfo would show them."""

    name: str
    managed: int
    wmark_min: int
    wmark_low: int
    wmark_high: int


def zone_split(managed: int, memory_pages: int) -> list[tuple[str, int]]:
    """How the kernel would split managed pages into DMA, DMA32 and Normal for this much RAM."""
    dma = min(3840, managed // 4)
    rest = managed - dma
    dma32_span = min(memory_pages, DMA32_LIMIT_PAGES) - DMA_PAGES
    dma32 = min(rest, max(0, dma32_span - (memory_pages - managed - (DMA_PAGES - dma))))
    normal = rest - dma32
    zones = [("DMA", dma), ("DMA32", dma32)]
    if normal > 0:
        zones.append(("Normal", normal))
    return [(n, m) for n, m in zones if m > 0]


def setup_per_zone_wmarks(
    zones: list[tuple[str, int]], min_free_kbytes: int, watermark_scale_factor: int
) -> list[ZoneInfo]:
    """__setup_per_zone_wmarks: split pages_min by managed share, then delta = max(tmp/4, managed*wsf/10000)."""
    pages_min = min_free_kbytes >> 2
    lowmem_pages = sum(m for _, m in zones)
    out = []
    for name, managed in zones:
        tmp = pages_min * managed // lowmem_pages
        wmin = tmp
        delta = max(tmp >> 2, managed * watermark_scale_factor // 10000)
        out.append(ZoneInfo(name, managed, wmin, wmin + delta, wmin + 2 * delta))
    return out


def zone_batchsize(managed: int) -> int:
    """zone_batchsize: the per-CPU list refill batch."""
    batch = min(managed >> 10, (1 << 20) // PAGE_SIZE)
    batch //= 4
    batch = max(batch, 1)
    batch = (1 << (int(batch + batch // 2).bit_length() - 1)) - 1
    return max(batch, 1)


# fallbacks[]: the migratetypes each type may take pages from, in order (mm/page_alloc.c).
FALLBACKS = {
    MIGRATE_UNMOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE),
    MIGRATE_MOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE),
    MIGRATE_RECLAIMABLE: (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE),
}
FALLBACK_TABLE = np.array([FALLBACKS[mt] for mt in range(MIGRATE_PCPTYPES)], dtype=np.int64)
ONLY = np.arange(MIGRATE_PCPTYPES, dtype=np.int64).reshape(MIGRATE_PCPTYPES, 1)  # a type's own list, alone
MOVABLE_FRAME_STATES = (FRAME_ANON, FRAME_SWAPCACHE, FRAME_FILE, FRAME_ZSMALLOC)  # PageLRU or __PageMovable
THP_SPLIT_PAGE = INDEX["thp_split_page"]


@kernel
def should_try_claim_block(order: int, migratetype: int) -> bool:
    """should_try_claim_block (6.15; can_steal_fallback before): may a fallback claim the whole pageblock?"""
    if order >= PAGEBLOCK_ORDER // 2:
        return True
    return migratetype in (MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE)


# -- the zone's state -------------------------------------------------------------------------------------


class ZoneState(NamedTuple):
    """struct zone's free_area, per-CPU lists, watermarks and counters, as arrays (scalars are 1-element arrays).

    A free block of order o starting at pfn p is listed iff `buddy_order[p] == o` (PageBuddy and
    buddy_order): it is on free list `o * MIGRATE_PCPTYPES + mt`, mt being its pageblock's migratetype (the
    6.10+ invariant), linked through the memmap's `next`/`prev`, the most recently freed at the head. Each
    migratetype's per-CPU list (one aggregate list for all CPUs) is a list of frames: frees and refills go
    to the head, allocations take from the head, draining from the tail.
    """

    pageblock_type: np.ndarray  # uint8 per pageblock
    buddy_order: np.ndarray  # int8 per frame: order of the free block it heads, or -1
    free_head: np.ndarray  # per free list: (order, migratetype)
    free_tail: np.ndarray
    free_nr: np.ndarray  # nr_free of each (order, migratetype)
    nr_free: np.ndarray  # per order
    free_pages: np.ndarray  # NR_FREE_PAGES (buddy lists only)
    pcp_head: np.ndarray  # per migratetype
    pcp_tail: np.ndarray
    pcp_nr: np.ndarray
    wmark: np.ndarray  # min, low, high
    watermark_boost: np.ndarray
    watermark_boost_factor: np.ndarray
    boosted: np.ndarray  # ZONE_BOOSTED_WATERMARK: the next allocation wakes kswapd
    managed: np.ndarray
    batch: np.ndarray
    ncpus: np.ndarray
    pcp_free_factor: np.ndarray
    reclaim_active: np.ndarray  # ZONE_RECLAIM_ACTIVE: set while kswapd runs
    pgalloc: np.ndarray
    pgfree: np.ndarray
    extfrag_events: np.ndarray  # mm_page_alloc_extfrag tracepoint hits
    pageblock_claims: np.ndarray  # fallback claims that re-tagged a pageblock


def new_zone_state(
    nr_frames: int,
    managed: int,
    wmark: tuple[int, int, int],
    ncpus: int,
    watermark_boost_factor: int,
    pageblock_type: np.ndarray | None = None,
) -> ZoneState:
    """A zone with no free pages yet (claim_boot_pages hands them over); every pageblock MOVABLE (memmap_init)."""
    if pageblock_type is None:
        pageblock_type = np.full(-(-nr_frames >> PAGEBLOCK_ORDER), MIGRATE_MOVABLE, dtype=np.uint8)
    nl = NR_ORDERS * MIGRATE_PCPTYPES

    def one(v: int) -> np.ndarray:
        return np.array([v], dtype=np.int64)

    return ZoneState(
        pageblock_type=pageblock_type,
        buddy_order=np.full(nr_frames, -1, dtype=np.int8),
        free_head=np.full(nl, NIL, dtype=np.int64),
        free_tail=np.full(nl, NIL, dtype=np.int64),
        free_nr=np.zeros(nl, dtype=np.int64),
        nr_free=np.zeros(NR_ORDERS, dtype=np.int64),
        free_pages=one(0),
        pcp_head=np.full(MIGRATE_PCPTYPES, NIL, dtype=np.int64),
        pcp_tail=np.full(MIGRATE_PCPTYPES, NIL, dtype=np.int64),
        pcp_nr=np.zeros(MIGRATE_PCPTYPES, dtype=np.int64),
        wmark=np.array(wmark, dtype=np.int64),
        watermark_boost=one(0),
        watermark_boost_factor=one(watermark_boost_factor),
        boosted=one(0),
        managed=one(managed),
        batch=one(zone_batchsize(managed)),
        ncpus=one(ncpus),
        pcp_free_factor=one(0),
        reclaim_active=one(0),
        pgalloc=one(0),
        pgfree=one(0),
        extfrag_events=one(0),
        pageblock_claims=one(0),
    )


# -- the buddy lists --------------------------------------------------------------------------------------


@kernel
def block_type(z: ZoneState, order: int, block: int) -> int:
    """The migratetype of a block: its (first) pageblock's."""
    return int(z.pageblock_type[(block << order) >> PAGEBLOCK_ORDER])


@kernel
def buddy_listed(z: ZoneState, order: int, block: int) -> bool:
    """Whether the block of this order is a listed free block (PageBuddy with this order)."""
    pfn = block << order
    return pfn < len(z.buddy_order) and z.buddy_order[pfn] == order


@kernel
def buddy_push(z: ZoneState, mem: MemMap, order: int, block: int) -> None:
    """__add_to_free_list: the block goes to the head of its (order, pageblock type) list."""
    pfn = block << order
    lid = order * MIGRATE_PCPTYPES + block_type(z, order, block)
    list_add(mem.next, mem.prev, z.free_head, z.free_tail, z.free_nr, lid, pfn)
    z.buddy_order[pfn] = order
    z.nr_free[order] += 1
    z.free_pages[0] += 1 << order


@kernel
def buddy_unlist(z: ZoneState, mem: MemMap, order: int, block: int) -> None:
    """__del_page_from_free_list: take a listed block off its list, wherever it is."""
    pfn = block << order
    lid = order * MIGRATE_PCPTYPES + block_type(z, order, block)
    list_del(mem.next, mem.prev, z.free_head, z.free_tail, z.free_nr, lid, pfn)
    z.buddy_order[pfn] = -1
    z.nr_free[order] -= 1
    z.free_pages[0] -= 1 << order


@kernel
def buddy_pop(z: ZoneState, mem: MemMap, order: int, n: int, mt: int) -> np.ndarray:
    """Take up to n blocks of a migratetype from the head of an order's list (most recently freed first)."""
    lid = order * MIGRATE_PCPTYPES + mt
    k = min(n, z.free_nr[lid])
    out = np.empty(k, dtype=np.int64)
    for i in range(k):
        pfn = z.free_head[lid]
        list_del(mem.next, mem.prev, z.free_head, z.free_tail, z.free_nr, lid, pfn)
        z.buddy_order[pfn] = -1
        out[i] = pfn >> order
    z.nr_free[order] -= k
    z.free_pages[0] -= k << order
    return out


@kernel
def buddy_free_range_split(z: ZoneState, mem: MemMap, lo: int, hi: int) -> None:
    """List [lo, hi) as maximal aligned blocks (the halves expand() gives back), no merging needed."""
    while lo < hi:
        order = MAX_ORDER
        if lo:
            low = lo & -lo
            order = 0
            while (1 << (order + 1)) <= low and order < MAX_ORDER:
                order += 1
        while (1 << order) > hi - lo:
            order -= 1
        buddy_push(z, mem, order, lo >> order)
        lo += 1 << order


@kernel
def buddy_take_order0(z: ZoneState, mem: MemMap, n: int, types: np.ndarray) -> np.ndarray:
    """Up to n order-0 pages, smallest blocks first and, within an order, the types in the given order,
    splitting as expand() does (the remainder stays on its pageblock's list): __rmqueue_smallest for one
    type, __rmqueue_steal for its fallbacks."""
    out = np.empty(max(n, 0), dtype=np.int64)
    got = 0
    need = n
    for order in range(NR_ORDERS):
        if need <= 0:
            break
        size = 1 << order
        for mt in types:
            lid = order * MIGRATE_PCPTYPES + mt
            while need > 0 and z.free_nr[lid] > 0:
                whole = need // size
                if whole > 0:
                    blocks = buddy_pop(z, mem, order, whole, mt)
                    if len(blocks):
                        for b in blocks:
                            for j in range(size):
                                out[got] = b * size + j
                                got += 1
                        need -= len(blocks) * size
                        continue
                # One block covers the rest: take its low `need` pages, free the remainder as aligned blocks.
                block = buddy_pop(z, mem, order, 1, mt)
                if not len(block):
                    break
                start = block[0] * size
                for j in range(need):
                    out[got] = start + j
                    got += 1
                buddy_free_range_split(z, mem, start + need, start + size)
                need = 0
    return out[:got]


@kernel
def buddy_take_block(z: ZoneState, mem: MemMap, order: int, types: np.ndarray) -> int:
    """One block of 2^order pages from the given types' lists, split down by expand(); its first pfn or -1."""
    for current in range(order, NR_ORDERS):
        for mt in types:
            if z.free_nr[current * MIGRATE_PCPTYPES + mt]:
                block = buddy_pop(z, mem, current, 1, mt)
                if len(block):
                    start = block[0] << current
                    buddy_free_range_split(z, mem, start + (1 << order), start + (1 << current))
                    return start
    return -1


@kernel
def buddy_free_pages_batch(z: ZoneState, mem: MemMap, pfns: np.ndarray) -> None:
    """__free_one_page for many order-0 pages: merge with free buddies order by order.

    Merging a block of pageblock order or more with a buddy of another (mergeable) type re-tags the
    buddy's pageblocks to the freed block's type (change_pageblock_range, 6.10+)."""
    if len(pfns) == 0:
        return
    blocks = np.unique(pfns)
    for order in range(MAX_ORDER):
        nb = len(blocks)
        if nb == 0:
            return
        merge = np.zeros(nb, dtype=np.bool_)
        listed = np.zeros(nb, dtype=np.bool_)
        for i in range(nb):
            b = blocks[i]
            buddy = b ^ 1
            if buddy_listed(z, order, buddy):
                listed[i] = True
                merge[i] = True
            else:
                # Both halves in this batch merge directly.
                if (b & 1) == 0:
                    merge[i] = i + 1 < nb and blocks[i + 1] == buddy
                else:
                    merge[i] = i > 0 and blocks[i - 1] == buddy
        for i in range(nb):
            if listed[i]:
                buddy_unlist(z, mem, order, blocks[i] ^ 1)
        if order >= PAGEBLOCK_ORDER:
            for i in range(nb):
                b = blocks[i]
                if merge[i] and (listed[i] or (b & 1) == 0):
                    z.pageblock_type[((b ^ 1) << order) >> PAGEBLOCK_ORDER] = z.pageblock_type[
                        (b << order) >> PAGEBLOCK_ORDER
                    ]
        nparents = 0
        parents = np.empty(nb, dtype=np.int64)
        for i in range(nb):
            if not merge[i]:
                buddy_push(z, mem, order, blocks[i])
            else:
                p = blocks[i] >> 1
                if nparents == 0 or parents[nparents - 1] != p:
                    parents[nparents] = p
                    nparents += 1
        blocks = parents[:nparents]
    for b in blocks:
        buddy_push(z, mem, MAX_ORDER, b)


@kernel
def buddy_isolate_free_range(z: ZoneState, mem: MemMap, lo: int, hi: int) -> np.ndarray:
    """isolate_freepages_block: take every free block inside [lo, hi) (pageblock-aligned) off the lists and
    return its pages, split to order 0, in pfn order."""
    out = np.empty(hi - lo, dtype=np.int64)
    got = 0
    for order in range(min(PAGEBLOCK_ORDER, NR_ORDERS - 1) + 1):
        for block in range(lo >> order, hi >> order):
            if buddy_listed(z, order, block):
                buddy_unlist(z, mem, order, block)
                for j in range(1 << order):
                    out[got] = (block << order) + j
                    got += 1
    return np.sort(out[:got])


@kernel
def buddy_move_pageblock(z: ZoneState, mem: MemMap, pb: int, new_mt: int) -> int:
    """__move_freepages_block + set_pageblock_migratetype: re-tag a pageblock and move its free blocks
    (orders below pageblock_order, plus a pageblock-sized block) to the new type's lists. Returns pages moved."""
    old_mt = int(z.pageblock_type[pb])
    if old_mt == new_mt:
        return 0
    moved = 0
    for order in range(PAGEBLOCK_ORDER + 1):
        lo = pb << (PAGEBLOCK_ORDER - order)
        hi = lo + (1 << (PAGEBLOCK_ORDER - order))
        for block in range(lo, hi):
            if buddy_listed(z, order, block):
                pfn = block << order
                list_del(
                    mem.next, mem.prev, z.free_head, z.free_tail, z.free_nr, order * MIGRATE_PCPTYPES + old_mt, pfn
                )
                list_add(
                    mem.next, mem.prev, z.free_head, z.free_tail, z.free_nr, order * MIGRATE_PCPTYPES + new_mt, pfn
                )
                moved += 1 << order
    z.pageblock_type[pb] = new_mt
    return moved


@kernel
def buddy_retag_range(z: ZoneState, head: int, order: int, new_mt: int) -> None:
    """change_pageblock_range for a free block of pageblock order or more that is not listed."""
    first = head >> PAGEBLOCK_ORDER
    for pb in range(first, first + max(1, 1 << max(order - PAGEBLOCK_ORDER, 0))):
        z.pageblock_type[pb] = new_mt


@kernel
def buddy_peek(z: ZoneState, order: int, mt: int) -> int:
    """get_page_from_free_area: the block at the head of the list (-1 if empty), left listed."""
    pfn = z.free_head[order * MIGRATE_PCPTYPES + mt]
    return -1 if pfn < 0 else pfn >> order


# -- watermarks and the zone's side of rmqueue -------------------------------------------------------------


@kernel
def wmark_pages(z: ZoneState, which: int) -> int:
    """wmark_pages: the watermark plus any boost."""
    return int(z.wmark[which] + z.watermark_boost[0])


@kernel
def zone_watermark_ok(z: ZoneState, order: int, mark: int) -> bool:
    """__zone_watermark_ok for an order: free minus 2^order - 1 must exceed the mark."""
    free = z.free_pages[0] - ((1 << order) - 1)
    if free <= mark:
        return False
    if order == 0:
        return True
    for o in range(order, NR_ORDERS):  # noqa: SIM110 -- a numba kernel: no generator expressions
        if z.nr_free[o]:
            return True
    return False


@kernel
def pcp_count(z: ZoneState) -> int:
    """Pages on the per-CPU lists, all migratetypes."""
    return int(z.pcp_nr[0] + z.pcp_nr[1] + z.pcp_nr[2])


@kernel
def pcp_high(z: ZoneState) -> int:
    """Sum over CPUs of pcp->high: low watermark split across CPUs, capped while kswapd is active."""
    ncpus = z.ncpus[0]
    batch = z.batch[0]
    per_cpu = max(z.wmark[WMARK_LOW] // ncpus, batch << 2)
    if z.reclaim_active[0]:
        per_cpu = min(per_cpu, batch << 2)
    return int(per_cpu * ncpus)


@kernel
def zone_allowance(z: ZoneState, mark: int) -> int:
    """How many order-0 pages can be allocated one by one while each passes the watermark check."""
    free = z.free_pages[0]
    if free <= mark:
        return 0
    batch = z.batch[0]
    refills = -(-(free - mark) // batch)
    return int(pcp_count(z) + min(refills * batch, free))


@kernel
def boost_watermark(z: ZoneState) -> bool:
    """boost_watermark: raise the boost by a pageblock, up to watermark_boost_factor of the high mark."""
    factor = z.watermark_boost_factor[0]
    if not factor or z.managed[0] < PAGEBLOCK_NR_PAGES * 4:
        return False
    max_boost = z.wmark[WMARK_HIGH] * factor // 10000
    if not max_boost:
        return False
    max_boost = max(PAGEBLOCK_NR_PAGES, max_boost)
    z.watermark_boost[0] = min(z.watermark_boost[0] + PAGEBLOCK_NR_PAGES, max_boost)
    return True


@kernel
def try_to_claim_block(z: ZoneState, mem: MemMap, head: int, current: int, mt: int, block_mt: int) -> bool:
    """try_to_claim_block: take over the fallback block's pageblock if enough of it is free or alike."""
    if current >= PAGEBLOCK_ORDER:
        block = buddy_pop(z, mem, current, 1, block_mt)
        buddy_retag_range(z, block[0] << current, current, mt)
        buddy_push(z, mem, current, block[0])
        z.pageblock_claims[0] += 1
        return True
    if boost_watermark(z):
        z.boosted[0] = 1  # alloc_flags has ALLOC_KSWAPD for every allocation the model makes
    pb = head >> PAGEBLOCK_ORDER
    lo = pb << PAGEBLOCK_ORDER
    free_pages = 0
    movable = 0
    for f in range(lo, lo + PAGEBLOCK_NR_PAGES):
        s = mem.state[f]
        if s == FRAME_FREE:
            free_pages += 1
        elif s == FRAME_ANON or s == FRAME_SWAPCACHE or s == FRAME_FILE or s == FRAME_ZSMALLOC:  # noqa: PLR1714 SIM109 -- numba kernel
            movable += 1
    if mt == MIGRATE_MOVABLE:
        alike = movable
    elif block_mt == MIGRATE_MOVABLE:
        alike = PAGEBLOCK_NR_PAGES - (free_pages + movable)
    else:
        alike = 0
    if free_pages + alike >= PAGEBLOCK_NR_PAGES // 2:
        buddy_move_pageblock(z, mem, pb, mt)
        z.pageblock_claims[0] += 1
        return True
    return False


@kernel
def rmqueue_claim(z: ZoneState, mem: MemMap, order: int, mt: int) -> bool:
    """__rmqueue_claim: from the largest order down, try to claim a fallback block's pageblock."""
    for current in range(MAX_ORDER, order - 1, -1):
        if not should_try_claim_block(current, mt):
            break
        fmt = -1
        for f in FALLBACK_TABLE[mt]:
            if z.free_nr[current * MIGRATE_PCPTYPES + f]:
                fmt = f
                break
        if fmt < 0:
            continue
        head = buddy_peek(z, current, fmt)
        if head < 0:
            continue
        if try_to_claim_block(z, mem, head << current, current, mt, fmt):
            z.extfrag_events[0] += 1
            return True
    return False


@kernel
def rmqueue_order0(z: ZoneState, mem: MemMap, n: int, mt: int) -> np.ndarray:
    """__rmqueue n times for order 0: smallest fit, then claim a fallback pageblock, then steal."""
    n = min(n, z.free_pages[0])
    got = buddy_take_order0(z, mem, n, ONLY[mt])
    if len(got) == n:
        return got
    out = np.empty(n, dtype=np.int64)
    out[: len(got)] = got
    have = len(got)
    need = n - have
    while need > 0:
        if rmqueue_claim(z, mem, 0, mt):
            more = buddy_take_order0(z, mem, need, ONLY[mt])
        else:
            # __rmqueue_steal, batched: the smallest fallback blocks, pages taken until the need is met.
            more = buddy_take_order0(z, mem, need, FALLBACK_TABLE[mt])
            z.extfrag_events[0] += 1
        if not len(more):
            break
        out[have : have + len(more)] = more
        have += len(more)
        need -= len(more)
    return out[:have]


@kernel
def rmqueue_block(z: ZoneState, mem: MemMap, order: int, mt: int) -> int:
    """__rmqueue for one block of 2^order pages: its first pfn, or -1."""
    head = buddy_take_block(z, mem, order, ONLY[mt])
    if head < 0 and rmqueue_claim(z, mem, order, mt):
        head = buddy_take_block(z, mem, order, ONLY[mt])
    if head < 0:
        head = buddy_take_block(z, mem, order, FALLBACK_TABLE[mt])
        if head >= 0:
            z.extfrag_events[0] += 1
    return head


@kernel
def zone_alloc(z: ZoneState, mem: MemMap, n: int, mt: int) -> np.ndarray:
    """rmqueue for n order-0 pages: per-CPU list first (most recently freed), refilled in batches at its tail."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    short = n - z.pcp_nr[mt]
    if short > 0:
        batch = z.batch[0]
        refill = -(-short // batch) * batch
        got = rmqueue_order0(z, mem, refill, mt)
        # rmqueue_bulk (v6.1, the same in v6.18): the pages go to the list's tail in the order __rmqueue gave
        # them, behind what is already there, so the list is "ordered by page number" from the head.
        for i in range(len(got)):
            f = got[i]
            mem.state[f] = FRAME_PCP
            list_add_tail(mem.next, mem.prev, z.pcp_head, z.pcp_tail, z.pcp_nr, mt, f)
        z.pcp_free_factor[0] >>= 1
    take = min(n, z.pcp_nr[mt])
    out = np.empty(take, dtype=np.int64)
    for i in range(take):
        f = z.pcp_head[mt]
        list_del(mem.next, mem.prev, z.pcp_head, z.pcp_tail, z.pcp_nr, mt, f)
        out[i] = f
    z.pgalloc[0] += take
    return out


@kernel
def zone_alloc_block(z: ZoneState, mem: MemMap, order: int, mt: int) -> int:
    """rmqueue for one high-order block (no per-CPU list): first pfn or -1. The caller checked the watermark."""
    head = rmqueue_block(z, mem, order, mt)
    if head >= 0:
        z.pgalloc[0] += 1 << order
    return head


@kernel
def split_partly_freed(mem: MemMap, vm: np.ndarray, pfns: np.ndarray) -> None:
    """Freeing some pages of a large folio (munmap of part of it, a partial reclaim) splits it: the pages
    still in use go on as base pages (a PMD-size one counts in thp_split_page). The pfns are already PCP."""
    fo = mem.folio_order
    for f in pfns:
        k = fo[f]
        if k == 0:
            continue
        h = f & ~((1 << k) - 1)
        partial = False
        for s in range(h, h + (1 << k)):
            if mem.state[s] != FRAME_PCP:
                partial = True
            fo[s] = 0
        if partial and k == PAGEBLOCK_ORDER:
            vm[THP_SPLIT_PAGE] += 1


@kernel
def zone_drain(z: ZoneState, mem: MemMap, n: int) -> None:
    """free_pcppages_bulk: give the n oldest per-CPU pages back to the buddy lists (all if n < 0),
    taking from the longest list first."""
    total = pcp_count(z)
    n = total if n < 0 else min(n, total)
    if n <= 0:
        return
    out = np.empty(n, dtype=np.int64)
    got = 0
    done = np.zeros(MIGRATE_PCPTYPES, dtype=np.bool_)
    for _ in range(MIGRATE_PCPTYPES):
        # The longest list not yet drained (ties: the lower migratetype), as sorted(key=-len) orders them.
        mt = -1
        for t in range(MIGRATE_PCPTYPES):
            if not done[t] and (mt < 0 or z.pcp_nr[t] > z.pcp_nr[mt]):
                mt = t
        done[mt] = True
        if n <= 0:
            break
        k = min(n, z.pcp_nr[mt])
        for _i in range(k):
            f = z.pcp_tail[mt]
            list_del(mem.next, mem.prev, z.pcp_head, z.pcp_tail, z.pcp_nr, mt, f)
            out[got] = f
            got += 1
        n -= k
    for i in range(got):
        mem.state[out[i]] = FRAME_FREE
    buddy_free_pages_batch(z, mem, out[:got])


@kernel
def zone_free(z: ZoneState, mem: MemMap, vm: np.ndarray, pfns: np.ndarray) -> None:
    """free_unref_page_list: to the per-CPU list of the pageblock's type; drain the oldest above `high`."""
    if len(pfns) == 0:
        return
    for f in pfns:
        mem.state[f] = FRAME_PCP
    split_partly_freed(mem, vm, pfns)
    for f in pfns:
        mt = z.pageblock_type[f >> PAGEBLOCK_ORDER]
        list_add(mem.next, mem.prev, z.pcp_head, z.pcp_tail, z.pcp_nr, mt, f)
    z.pgfree[0] += len(pfns)
    high = pcp_high(z)
    batch = z.batch[0]
    while pcp_count(z) >= high:
        to_free = batch << z.pcp_free_factor[0]
        max_nr = max(high - batch, batch)
        if to_free < max_nr:
            z.pcp_free_factor[0] += 1
        to_free = min(max(to_free, batch), max_nr, pcp_count(z))
        zone_drain(z, mem, to_free)


@kernel
def pcp_frames(z: ZoneState, mem: MemMap) -> np.ndarray:
    """Every frame on a per-CPU list (a copy), migratetype by migratetype, oldest first."""
    out = np.empty(pcp_count(z), dtype=np.int64)
    got = 0
    for mt in range(MIGRATE_PCPTYPES):
        f = z.pcp_tail[mt]
        while f >= 0:
            out[got] = f
            got += 1
            f = mem.prev[f]
    return out


# -- the Python side: the zone and its buddy lists as objects (tests, snapshots, the machine's set-up) ------


class BuddyAllocator:
    """The buddy free lists of a zone, seen from Python."""

    def __init__(
        self,
        nr_frames: int,
        state: np.ndarray,
        pageblock_type: np.ndarray | None = None,
        zone: ZoneState | None = None,
        memmap: MemMap | None = None,
    ) -> None:
        self.nr_frames = nr_frames
        self.state = state
        if memmap is None:
            blank = new_memmap(nr_frames)
            memmap = blank._replace(state=state)
        self.mem = memmap
        self.z = zone if zone is not None else new_zone_state(nr_frames, nr_frames, (0, 0, 0), 1, 0, pageblock_type)
        self.pbtype = self.z.pageblock_type

    @property
    def free_pages(self) -> int:
        return int(self.z.free_pages[0])

    @property
    def nr_free(self) -> list[int]:
        """nr_free per order (/proc/buddyinfo for the merged zone)."""
        return [int(x) for x in self.z.nr_free]

    @property
    def nr_free_mt(self) -> list[list[int]]:
        """nr_free per order and migratetype."""
        return self.free_area_by_migratetype().tolist()

    @property
    def listed(self) -> list[np.ndarray]:
        """Per order, whether each block of that order is a listed free block (a whole-array pass)."""
        bo = self.z.buddy_order
        out = []
        for o in range(NR_ORDERS):
            heads = np.zeros((self.nr_frames >> o) + 1, dtype=bool)
            pfns = np.flatnonzero(bo == o)
            heads[pfns >> o] = True
            out.append(heads)
        return out

    def is_listed(self, order: int, block: int) -> bool:
        """Whether the block of this order is a listed free block."""
        return bool(buddy_listed(self.z, order, block))

    def block_types(self, order: int, blocks: np.ndarray) -> np.ndarray:
        """The migratetype of each block: its (first) pageblock's."""
        return self.pbtype[(blocks << order) >> PAGEBLOCK_ORDER]

    def free_area_by_migratetype(self) -> np.ndarray:
        """nr_free[order][migratetype] (/proc/pagetypeinfo)."""
        return self.z.free_nr.reshape(NR_ORDERS, MIGRATE_PCPTYPES).copy()

    def alloc_order0(self, n: int, mt: int = MIGRATE_MOVABLE) -> np.ndarray:
        """__rmqueue_smallest repeated n times for order 0 on one migratetype's lists (no fallback)."""
        return buddy_take_order0(self.z, self.mem, min(n, self.free_pages), ONLY[mt])

    def take_order0(self, n: int, types: tuple[int, ...]) -> np.ndarray:
        """Up to n order-0 pages from the given types' lists, smallest blocks first (see buddy_take_order0)."""
        return buddy_take_order0(self.z, self.mem, n, np.array(types, dtype=np.int64))

    def move_pageblock(self, pb: int, new_mt: int) -> int:
        """Re-tag a pageblock and move its free blocks to the new type's lists; returns pages moved."""
        return int(buddy_move_pageblock(self.z, self.mem, pb, new_mt))

    def free_pages_batch(self, pfns: np.ndarray) -> None:
        """__free_one_page for many order-0 pages: merge with free buddies order by order."""
        buddy_free_pages_batch(self.z, self.mem, np.asarray(pfns, dtype=np.int64))

    def isolate_free_range(self, lo: int, hi: int) -> np.ndarray:
        """isolate_freepages_block over [lo, hi): every free block taken off the lists, as order-0 pages."""
        return buddy_isolate_free_range(self.z, self.mem, lo, hi)


class Zone:
    """The simulated zone: managed pages, watermarks, buddy lists and the aggregate per-CPU lists.

    Allocation follows __rmqueue (6.15+): smallest fit on the request's migratetype, then claiming a
    fallback pageblock (__rmqueue_claim, with watermark boost), then stealing one block (__rmqueue_steal).
    Simplifications: no ALLOC_NOFRAGMENT (one merged zone has no lower zone to prefer), no CMA or
    highatomic reserves; the per-CPU lists are one aggregate list per migratetype, and high-order
    allocations bypass them.
    """

    def __init__(
        self,
        name: str,
        nr_frames: int,
        state: np.ndarray,
        managed: int,
        wmark: tuple[int, int, int],
        ncpus: int,
        watermark_boost_factor: int = 15000,
        folio_order: np.ndarray | None = None,
        memmap: MemMap | None = None,
        vm: np.ndarray | None = None,
    ) -> None:
        self.name = name
        self.nr_frames = nr_frames
        if memmap is None:
            blank = new_memmap(nr_frames)
            memmap = blank._replace(
                state=state, folio_order=folio_order if folio_order is not None else blank.folio_order
            )
        self.mem = memmap
        self.state = memmap.state
        self.folio_order = memmap.folio_order
        self.vm = vm if vm is not None else np.zeros(len(INDEX), dtype=np.int64)
        self.z = new_zone_state(nr_frames, managed, wmark, ncpus, watermark_boost_factor)
        self.pageblock_type = self.z.pageblock_type
        self.buddy = BuddyAllocator(nr_frames, memmap.state, zone=self.z, memmap=memmap)
        self.managed = managed
        self.ncpus = ncpus
        self.on_free: Callable[[np.ndarray], None] | None = None  # mem_cgroup_uncharge of frames being freed

    # -- scalars, as attributes --------------------------------------------------------------------
    def _get(self, name: str) -> int:
        return int(getattr(self.z, name)[0])

    def _set(self, name: str, value: int) -> None:
        getattr(self.z, name)[0] = value

    watermark_boost = property(
        lambda self: self._get("watermark_boost"), lambda self, v: self._set("watermark_boost", v)
    )
    boosted_flag = property(lambda self: bool(self._get("boosted")), lambda self, v: self._set("boosted", int(v)))
    reclaim_active = property(
        lambda self: bool(self._get("reclaim_active")), lambda self, v: self._set("reclaim_active", int(v))
    )
    pgalloc = property(lambda self: self._get("pgalloc"), lambda self, v: self._set("pgalloc", v))
    pgfree = property(lambda self: self._get("pgfree"), lambda self, v: self._set("pgfree", v))
    extfrag_events = property(lambda self: self._get("extfrag_events"))
    pageblock_claims = property(lambda self: self._get("pageblock_claims"))
    batch = property(lambda self: self._get("batch"))
    pcp_free_factor = property(lambda self: self._get("pcp_free_factor"))

    @property
    def wmark(self) -> np.ndarray:
        """The min, low and high watermarks (without boost)."""
        return self.z.wmark

    @property
    def nr_free_pages(self) -> int:
        """NR_FREE_PAGES: free pages on the buddy lists (the per-CPU lists are not counted)."""
        return int(self.z.free_pages[0])

    @property
    def pcp_count(self) -> int:
        """Pages on the per-CPU lists, all migratetypes."""
        return int(self.z.pcp_nr.sum())

    @property
    def pcp_len(self) -> list[int]:
        """Pages on each migratetype's per-CPU list."""
        return [int(x) for x in self.z.pcp_nr]

    def pcp_frames(self) -> np.ndarray:
        """Every frame on a per-CPU list (a copy)."""
        return pcp_frames(self.z, self.mem)

    def wmark_pages(self, which: int) -> int:
        """wmark_pages: the watermark plus any boost."""
        return int(self.z.wmark[which] + self.z.watermark_boost[0])

    def watermark_ok(self, order: int, mark: int) -> bool:
        """__zone_watermark_ok for an order."""
        return bool(zone_watermark_ok(self.z, order, mark))

    def pcp_high(self) -> int:
        """Sum over CPUs of pcp->high."""
        return int(pcp_high(self.z))

    def allowance(self, mark: int) -> int:
        """How many order-0 pages can be allocated one by one while each passes the watermark check."""
        return int(zone_allowance(self.z, mark))

    def boost_watermark(self) -> bool:
        """boost_watermark."""
        return bool(boost_watermark(self.z))

    def rmqueue_order0(self, n: int, mt: int) -> np.ndarray:
        """__rmqueue n times for order 0."""
        return rmqueue_order0(self.z, self.mem, n, mt)

    def rmqueue_block(self, order: int, mt: int) -> int:
        """__rmqueue for one block."""
        return int(rmqueue_block(self.z, self.mem, order, mt))

    def alloc(self, n: int, mt: int = MIGRATE_MOVABLE) -> np.ndarray:
        """rmqueue for n order-0 pages."""
        return zone_alloc(self.z, self.mem, n, mt)

    def alloc_block(self, order: int, mt: int = MIGRATE_MOVABLE) -> int:
        """rmqueue for one high-order block: first pfn or -1."""
        return int(zone_alloc_block(self.z, self.mem, order, mt))

    def free(self, pfns: np.ndarray) -> None:
        """free_unref_page_list (its callers' mem_cgroup_uncharge first, through on_free, when cgroups exist)."""
        if len(pfns):
            pfns = np.asarray(pfns, dtype=np.int64)
            if self.on_free is not None:
                self.on_free(pfns)
            zone_free(self.z, self.mem, self.vm, pfns)

    def drain(self, n: int | None = None) -> None:
        """free_pcppages_bulk: the n oldest per-CPU pages (all if None) back to the buddy lists."""
        zone_drain(self.z, self.mem, -1 if n is None else n)

    def claim_boot_pages(self, pfns: np.ndarray) -> None:
        """Hand the free frames to the buddy lists at boot (memblock_free_all): each run of contiguous frames
        becomes its maximal aligned blocks."""
        self.state[pfns] = FRAME_FREE
        pfns = np.sort(pfns)
        breaks = np.flatnonzero(np.diff(pfns) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(pfns)]))
        for a, b in zip(starts.tolist(), ends.tolist()):
            buddy_free_range_split(self.z, self.mem, int(pfns[a]), int(pfns[b - 1]) + 1)
