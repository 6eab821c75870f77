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

import numpy as np

from numpy_core.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_FREE,
    FRAME_PCP,
    FRAME_SWAPCACHE,
    FRAME_ZSMALLOC,
    PAGE_SIZE,
    folio_heads,
)

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


def should_try_claim_block(order: int, migratetype: int) -> bool:
    """should_try_claim_block (6.15; can_steal_fallback before): may a fallback claim the whole pageblock?"""
    if order >= PAGEBLOCK_ORDER // 2:
        return True
    return migratetype in (MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE)


class BuddyAllocator:
    """Buddy free lists per order and migratetype over a PFN range, with exact split and merge, batched.

    A free block of order o starting at pfn p is listed iff `listed[o][p >> o]`, and it is on the list
    of its pageblock's migratetype (the invariant the kernel keeps since 6.10: moving a pageblock to
    another type moves its free blocks with it). Each (order, migratetype) keeps a LIFO stack of block
    indices with lazy deletion: an entry is live only while its listed bit is set and its pageblock
    still has that type.
    """

    def __init__(self, nr_frames: int, state: np.ndarray, pageblock_type: np.ndarray | None = None) -> None:
        self.nr_frames = nr_frames
        self.state = state
        if pageblock_type is None:
            pageblock_type = np.full(-(-nr_frames >> PAGEBLOCK_ORDER), MIGRATE_MOVABLE, dtype=np.uint8)
        self.pbtype = pageblock_type
        self.listed = [np.zeros((nr_frames >> o) + 1, dtype=bool) for o in range(NR_ORDERS)]
        self.stack = [[np.zeros(64, dtype=np.int64) for _ in range(MIGRATE_PCPTYPES)] for _ in range(NR_ORDERS)]
        self.stack_len = [[0] * MIGRATE_PCPTYPES for _ in range(NR_ORDERS)]
        self.nr_free = [0] * NR_ORDERS
        self.nr_free_mt = [[0] * MIGRATE_PCPTYPES for _ in range(NR_ORDERS)]
        self.free_pages = 0

    def block_types(self, order: int, blocks: np.ndarray) -> np.ndarray:
        """The migratetype of each block: its (first) pageblock's."""
        return self.pbtype[(blocks << order) >> PAGEBLOCK_ORDER]

    # -- list primitives ---------------------------------------------------------------------------
    def _push(self, order: int, blocks: np.ndarray) -> None:
        n = len(blocks)
        if n == 0:
            return
        self.listed[order][blocks] = True
        self.nr_free[order] += n
        self.free_pages += n << order
        types = self.block_types(order, blocks)
        t0 = int(types[0])
        if n == 1 or not (types != t0).any():
            self._push_mt(order, t0, blocks)
            return
        for mt in range(MIGRATE_PCPTYPES):
            sel = blocks[types == mt]
            if len(sel):
                self._push_mt(order, mt, sel)

    def _push_mt(self, order: int, mt: int, blocks: np.ndarray) -> None:
        n = len(blocks)
        self.nr_free_mt[order][mt] += n
        need = self.stack_len[order][mt] + n
        st = self.stack[order][mt]
        if need > len(st):
            st = self._compact(order, mt, need)
        top = self.stack_len[order][mt]
        st[top : top + n] = blocks
        self.stack_len[order][mt] = top + n

    def _live(self, order: int, mt: int, entries: np.ndarray) -> np.ndarray:
        ok = self.listed[order][entries]
        if ok.any():
            ok &= self.block_types(order, entries) == mt
        return ok

    def _compact(self, order: int, mt: int, need: int) -> np.ndarray:
        """Drop dead entries (keeping the newest copy of each live block) and grow if still short."""
        st = self.stack[order][mt][: self.stack_len[order][mt]]
        live = st[self._live(order, mt, st)]
        # Keep the last occurrence of duplicates so LIFO order is preserved.
        rev = live[::-1]
        _, first = np.unique(rev, return_index=True)
        live = rev[np.sort(first)][::-1]
        extra = need - self.stack_len[order][mt] + len(live)
        cap = max(64, len(live) + extra, 2 * (len(live) + extra))
        new = np.zeros(cap, dtype=np.int64)
        new[: len(live)] = live
        self.stack[order][mt] = new
        self.stack_len[order][mt] = len(live)
        return new

    def _pop(self, order: int, n: int, mt: int = MIGRATE_MOVABLE) -> np.ndarray:
        """Take up to n live blocks of a migratetype from the top of an order's stack (most recently freed first)."""
        out: list[np.ndarray] = []
        got = 0
        listed = self.listed[order]
        st = self.stack[order][mt]
        while got < n and self.stack_len[order][mt] > 0:
            top = self.stack_len[order][mt]
            lo = max(0, top - max(2 * (n - got), 16))
            chunk = st[lo:top][::-1]
            idx = np.flatnonzero(self._live(order, mt, chunk))
            cand = chunk[idx]
            if len(cand) > 1:
                _, first = np.unique(cand, return_index=True)
                if len(first) != len(cand):
                    keep = np.sort(first)
                    idx, cand = idx[keep], cand[keep]
            want = n - got
            if len(cand) > want:
                cand = cand[:want]
                cut = int(idx[want - 1]) + 1
            else:
                cut = len(chunk)
            listed[cand] = False
            self.stack_len[order][mt] = top - cut
            out.append(cand)
            got += len(cand)
        if not out:
            return np.zeros(0, dtype=np.int64)
        res = np.concatenate(out) if len(out) > 1 else out[0]
        self.nr_free[order] -= len(res)
        self.nr_free_mt[order][mt] -= len(res)
        self.free_pages -= len(res) << order
        return res

    def peek(self, order: int, mt: int) -> int:
        """get_page_from_free_area: the block at the head of the list (-1 if empty), left listed."""
        if not self.nr_free_mt[order][mt]:
            return -1
        st = self.stack[order][mt]
        top = self.stack_len[order][mt]
        while top > 0:
            lo = max(0, top - 64)
            chunk = st[lo:top]
            live = np.flatnonzero(self._live(order, mt, chunk))
            if len(live):
                return int(chunk[live[-1]])
            top = lo
        return -1

    # -- allocation and freeing --------------------------------------------------------------------
    def take_order0(self, n: int, types: tuple[int, ...]) -> np.ndarray:
        """Up to n order-0 pages, smallest blocks first and, within an order, the types in the given order,
        splitting as expand() does (the remainder stays on its pageblock's list): __rmqueue_smallest for one
        type, __rmqueue_steal for its fallbacks."""
        parts: list[np.ndarray] = []
        need = n
        for order in range(NR_ORDERS):
            if need <= 0:
                break
            size = 1 << order
            for mt in types:
                while need > 0 and self.nr_free_mt[order][mt] > 0:
                    whole = need // size
                    if whole > 0:
                        blocks = self._pop(order, whole, mt)
                        if len(blocks):
                            pfns = (blocks[:, None] * size + np.arange(size)[None, :]).ravel()
                            parts.append(pfns)
                            need -= len(pfns)
                            continue
                    # One block covers the rest: take its low `need` pages, free the remainder as aligned blocks.
                    block = self._pop(order, 1, mt)
                    if not len(block):
                        break
                    start = int(block[0]) * size
                    parts.append(np.arange(start, start + need, dtype=np.int64))
                    self._free_range_split(start + need, start + size)
                    need = 0
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def alloc_order0(self, n: int, mt: int = MIGRATE_MOVABLE) -> np.ndarray:
        """__rmqueue_smallest repeated n times for order 0 on one migratetype's lists (no fallback)."""
        return self.take_order0(min(n, self.free_pages), (mt,))

    def take_block(self, order: int, types: tuple[int, ...]) -> int:
        """One block of 2^order pages from the given types' lists, split down by expand(); its first pfn or -1."""
        for current in range(order, NR_ORDERS):
            for mt in types:
                if self.nr_free_mt[current][mt]:
                    block = self._pop(current, 1, mt)
                    if len(block):
                        start = int(block[0]) << current
                        self._free_range_split(start + (1 << order), start + (1 << current))
                        return start
        return -1

    def _free_range_split(self, lo: int, hi: int) -> None:
        """List [lo, hi) as maximal aligned blocks (the halves expand() gives back), no merging needed."""
        while lo < hi:
            order = min((lo & -lo).bit_length() - 1 if lo else MAX_ORDER, MAX_ORDER)
            while (1 << order) > hi - lo:
                order -= 1
            self._push(order, np.array([lo >> order], dtype=np.int64))
            lo += 1 << order

    def free_pages_batch(self, pfns: np.ndarray) -> None:
        """__free_one_page for many order-0 pages: merge with free buddies order by order.

        Merging a block of pageblock order or more with a buddy of another (mergeable) type re-tags the
        buddy's pageblocks to the freed block's type (change_pageblock_range, 6.10+)."""
        if len(pfns) == 0:
            return
        blocks = np.unique(pfns)
        for order in range(MAX_ORDER):
            if len(blocks) == 0:
                return
            buddy = blocks ^ 1
            listed = self.listed[order]
            buddy_listed = listed[buddy]
            # Pairs where both halves are in this batch merge directly (count each pair once, on the even one).
            pos = np.searchsorted(blocks, buddy)
            pos[pos >= len(blocks)] = 0
            buddy_in = blocks[pos] == buddy
            if buddy_listed.any():
                self._unlist(order, buddy[buddy_listed])
            merge = buddy_listed | buddy_in
            if order >= PAGEBLOCK_ORDER and merge.any():
                src = blocks[merge]
                sel = buddy_listed[merge] | ((src & 1) == 0)
                src = src[sel]
                self.pbtype[((src ^ 1) << order) >> PAGEBLOCK_ORDER] = self.pbtype[(src << order) >> PAGEBLOCK_ORDER]
            stay = blocks[~merge]
            if len(stay):
                self._push(order, stay)
            parents = blocks[merge] >> 1
            if len(parents) > 1:
                parents = np.unique(parents)
            blocks = parents
        if len(blocks):
            self._push(MAX_ORDER, blocks)

    def _unlist(self, order: int, blocks: np.ndarray) -> None:
        """Take listed blocks off their lists where they are (their stack entries go stale), counts by type."""
        self.listed[order][blocks] = False
        self.nr_free[order] -= len(blocks)
        self.free_pages -= len(blocks) << order
        counts = np.bincount(self.block_types(order, blocks), minlength=MIGRATE_PCPTYPES)
        for mt in range(MIGRATE_PCPTYPES):
            self.nr_free_mt[order][mt] -= int(counts[mt])

    def isolate_free_range(self, lo: int, hi: int) -> np.ndarray:
        """isolate_freepages_block: take every free block inside [lo, hi) (pageblock-aligned) off the lists and
        return its pages, split to order 0."""
        parts = []
        for order in range(min(PAGEBLOCK_ORDER, NR_ORDERS - 1) + 1):
            blo, bhi = lo >> order, hi >> order
            idx = np.flatnonzero(self.listed[order][blo:bhi]) + blo
            if not len(idx):
                continue
            self._unlist(order, idx)
            parts.append((idx[:, None] * (1 << order) + np.arange(1 << order)[None, :]).ravel())
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts))

    def move_pageblock(self, pb: int, new_mt: int) -> int:
        """__move_freepages_block + set_pageblock_migratetype: re-tag a pageblock and move its free blocks
        (orders below pageblock_order, plus a pageblock-sized block) to the new type's lists. Returns pages moved."""
        old_mt = int(self.pbtype[pb])
        if old_mt == new_mt:
            return 0
        moved = 0
        per_order = []
        for order in range(PAGEBLOCK_ORDER + 1):
            lo = pb << (PAGEBLOCK_ORDER - order)
            hi = lo + (1 << (PAGEBLOCK_ORDER - order))
            idx = np.flatnonzero(self.listed[order][lo:hi]) + lo
            per_order.append(idx)
        self.pbtype[pb] = new_mt
        for order, idx in enumerate(per_order):
            if len(idx):
                self.nr_free_mt[order][old_mt] -= len(idx)
                self._push_mt(order, new_mt, idx)
                moved += len(idx) << order
        return moved

    def retag_range(self, head: int, order: int, new_mt: int) -> None:
        """change_pageblock_range for a free block of pageblock order or more that is not listed."""
        first = head >> PAGEBLOCK_ORDER
        self.pbtype[first : first + max(1, 1 << (order - PAGEBLOCK_ORDER))] = new_mt

    def free_area_counts(self) -> list[int]:
        """nr_free per order (/proc/buddyinfo for the merged zone)."""
        return list(self.nr_free)

    def free_area_by_migratetype(self) -> np.ndarray:
        """nr_free[order][migratetype] (/proc/pagetypeinfo)."""
        return np.array(self.nr_free_mt, dtype=np.int64)


MOVABLE_FRAME_STATES = (FRAME_ANON, FRAME_SWAPCACHE, FRAME_FILE, FRAME_ZSMALLOC)  # PageLRU or __PageMovable


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
    ) -> None:
        self.name = name
        self.folio_order = folio_order if folio_order is not None else np.zeros(nr_frames, dtype=np.uint8)
        self.on_folio_split: Callable[[int], None] = lambda order: None  # the machine counts splits
        self.nr_frames = nr_frames
        self.state = state
        self.managed = managed
        self.wmark = list(wmark)
        self.watermark_boost = 0
        self.watermark_boost_factor = watermark_boost_factor
        self.boosted_flag = False  # ZONE_BOOSTED_WATERMARK: the next allocation wakes kswapd
        # Pageblock migratetypes: all start MOVABLE (memmap_init) and change by fallback claims.
        self.pageblock_type = np.full(-(-nr_frames >> PAGEBLOCK_ORDER), MIGRATE_MOVABLE, dtype=np.uint8)
        self.buddy = BuddyAllocator(nr_frames, state, self.pageblock_type)
        self.batch = zone_batchsize(managed)
        self.ncpus = ncpus
        self.pcp_lists = [np.zeros(1024, dtype=np.int64) for _ in range(MIGRATE_PCPTYPES)]
        self.pcp_len = [0] * MIGRATE_PCPTYPES
        self.pcp_free_factor = 0
        self.reclaim_active = False  # ZONE_RECLAIM_ACTIVE: set while kswapd runs
        self.pgalloc = 0
        self.pgfree = 0
        self.extfrag_events = 0  # mm_page_alloc_extfrag tracepoint hits
        self.pageblock_claims = 0  # fallback claims that re-tagged a pageblock

    # -- watermarks ---------------------------------------------------------------------------------
    @property
    def nr_free_pages(self) -> int:
        """NR_FREE_PAGES: free pages on the buddy lists (the per-CPU lists are not counted)."""
        return self.buddy.free_pages

    @property
    def pcp_count(self) -> int:
        """Pages on the per-CPU lists, all migratetypes."""
        return self.pcp_len[0] + self.pcp_len[1] + self.pcp_len[2]

    def pcp_frames(self) -> np.ndarray:
        """Every frame on a per-CPU list (a copy)."""
        return np.concatenate([self.pcp_lists[mt][: self.pcp_len[mt]] for mt in range(MIGRATE_PCPTYPES)])

    def wmark_pages(self, which: int) -> int:
        """wmark_pages: the watermark plus any boost."""
        return self.wmark[which] + self.watermark_boost

    def watermark_ok(self, order: int, mark: int) -> bool:
        """__zone_watermark_ok for an order: free minus 2^order - 1 must exceed the mark."""
        free = self.buddy.free_pages - ((1 << order) - 1)
        if free <= mark:
            return False
        if order == 0:
            return True
        return any(self.buddy.nr_free[o] for o in range(order, NR_ORDERS))

    def pcp_high(self) -> int:
        """Sum over CPUs of pcp->high: low watermark split across CPUs, capped while kswapd is active."""
        per_cpu = max(self.wmark[WMARK_LOW] // self.ncpus, self.batch << 2)
        if self.reclaim_active:
            per_cpu = min(per_cpu, self.batch << 2)
        return per_cpu * self.ncpus

    def allowance(self, mark: int) -> int:
        """How many order-0 pages can be allocated one by one while each passes the watermark check."""
        free = self.buddy.free_pages
        if free <= mark:
            return 0
        refills = -(-(free - mark) // self.batch)
        return self.pcp_count + min(refills * self.batch, free)

    def boost_watermark(self) -> bool:
        """boost_watermark: raise the boost by a pageblock, up to watermark_boost_factor of the high mark."""
        if not self.watermark_boost_factor or self.managed < PAGEBLOCK_NR_PAGES * 4:
            return False
        max_boost = self.wmark[WMARK_HIGH] * self.watermark_boost_factor // 10000
        if not max_boost:
            return False
        max_boost = max(PAGEBLOCK_NR_PAGES, max_boost)
        self.watermark_boost = min(self.watermark_boost + PAGEBLOCK_NR_PAGES, max_boost)
        return True

    # -- the buddy side of rmqueue --------------------------------------------------------------------
    def _try_to_claim_block(self, head: int, current: int, mt: int, block_mt: int) -> bool:
        """try_to_claim_block: take over the fallback block's pageblock if enough of it is free or alike."""
        b = self.buddy
        if current >= PAGEBLOCK_ORDER:
            block = b._pop(current, 1, block_mt)
            b.retag_range(int(block[0]) << current, current, mt)
            b._push(current, block)
            self.pageblock_claims += 1
            return True
        if self.boost_watermark():
            self.boosted_flag = True  # alloc_flags has ALLOC_KSWAPD for every allocation the model makes
        pb = head >> PAGEBLOCK_ORDER
        lo = pb << PAGEBLOCK_ORDER
        frames = self.state[lo : lo + PAGEBLOCK_NR_PAGES]
        free_pages = int(np.count_nonzero(frames == FRAME_FREE))
        movable = int(np.count_nonzero(np.isin(frames, MOVABLE_FRAME_STATES)))
        if mt == MIGRATE_MOVABLE:
            alike = movable
        elif block_mt == MIGRATE_MOVABLE:
            alike = PAGEBLOCK_NR_PAGES - (free_pages + movable)
        else:
            alike = 0
        if free_pages + alike >= PAGEBLOCK_NR_PAGES // 2:
            b.move_pageblock(pb, mt)
            self.pageblock_claims += 1
            return True
        return False

    def _rmqueue_claim(self, order: int, mt: int) -> bool:
        """__rmqueue_claim: from the largest order down, try to claim a fallback block's pageblock."""
        b = self.buddy
        for current in range(MAX_ORDER, order - 1, -1):
            if not should_try_claim_block(current, mt):
                break
            for fmt in FALLBACKS[mt]:
                if b.nr_free_mt[current][fmt]:
                    break
            else:
                continue
            head = b.peek(current, fmt)
            if head < 0:
                continue
            if self._try_to_claim_block(head << current, current, mt, fmt):
                self.extfrag_events += 1
                return True
        return False

    def rmqueue_order0(self, n: int, mt: int) -> np.ndarray:
        """__rmqueue n times for order 0: smallest fit, then claim a fallback pageblock, then steal."""
        b = self.buddy
        n = min(n, b.free_pages)
        got = b.take_order0(n, (mt,))
        if len(got) == n:
            return got
        parts = [got]
        need = n - len(got)
        while need > 0:
            if self._rmqueue_claim(0, mt):
                more = b.take_order0(need, (mt,))
            else:
                # __rmqueue_steal, batched: the smallest fallback blocks, pages taken until the need is met.
                more = b.take_order0(need, FALLBACKS[mt])
                self.extfrag_events += 1
            if not len(more):
                break
            parts.append(more)
            need -= len(more)
        return np.concatenate(parts)

    def rmqueue_block(self, order: int, mt: int) -> int:
        """__rmqueue for one block of 2^order pages: its first pfn, or -1."""
        b = self.buddy
        head = b.take_block(order, (mt,))
        if head < 0 and self._rmqueue_claim(order, mt):
            head = b.take_block(order, (mt,))
        if head < 0:
            head = b.take_block(order, FALLBACKS[mt])
            if head >= 0:
                self.extfrag_events += 1
        return head

    # -- allocation ---------------------------------------------------------------------------------
    def alloc(self, n: int, mt: int = MIGRATE_MOVABLE) -> np.ndarray:
        """rmqueue for n order-0 pages: per-CPU list first (most recently freed), refilled in batches."""
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        have = self.pcp_len[mt]
        short = n - have
        if short > 0:
            refill = -(-short // self.batch) * self.batch
            got = self.rmqueue_order0(refill, mt)
            self.state[got] = FRAME_PCP
            self._pcp_push(mt, got[::-1])
            self.pcp_free_factor >>= 1
            have = self.pcp_len[mt]
        take = min(n, have)
        lst = self.pcp_lists[mt]
        out = lst[have - take : have][::-1].copy()
        self.pcp_len[mt] = have - take
        self.pgalloc += take
        return out

    def alloc_block(self, order: int, mt: int = MIGRATE_MOVABLE) -> int:
        """rmqueue for one high-order block (no per-CPU list): first pfn or -1. The caller checked the watermark."""
        head = self.rmqueue_block(order, mt)
        if head >= 0:
            self.pgalloc += 1 << order
        return head

    def _pcp_push(self, mt: int, pfns: np.ndarray) -> None:
        cur = self.pcp_len[mt]
        need = cur + len(pfns)
        lst = self.pcp_lists[mt]
        if need > len(lst):
            new = np.zeros(max(need, 2 * len(lst)), dtype=np.int64)
            new[:cur] = lst[:cur]
            self.pcp_lists[mt] = lst = new
        lst[cur:need] = pfns
        self.pcp_len[mt] = need

    def free(self, pfns: np.ndarray) -> None:
        """free_unref_page_list: to the per-CPU list of the pageblock's type; drain the oldest above `high`."""
        if len(pfns) == 0:
            return
        self.state[pfns] = FRAME_PCP
        self._split_partly_freed(pfns)
        types = self.pageblock_type[pfns >> PAGEBLOCK_ORDER]
        t0 = int(types[0])
        if not (types != t0).any():
            self._pcp_push(t0, pfns)
        else:
            for mt in range(MIGRATE_PCPTYPES):
                sel = pfns[types == mt]
                if len(sel):
                    self._pcp_push(mt, sel)
        self.pgfree += len(pfns)
        high = self.pcp_high()
        while self.pcp_count >= high:
            to_free = self.batch << self.pcp_free_factor
            max_nr = max(high - self.batch, self.batch)
            if to_free < max_nr:
                self.pcp_free_factor += 1
            to_free = min(max(to_free, self.batch), max_nr, self.pcp_count)
            self.drain(to_free)

    def _split_partly_freed(self, pfns: np.ndarray) -> None:
        """Freeing some pages of a large folio (munmap of part of it, a partial reclaim) splits it: the pages
        still in use go on as base pages, and the split is reported to `on_folio_split(order)`."""
        fo = self.folio_order
        big = pfns[fo[pfns] > 0]
        if len(big):
            for h, k in set(zip(folio_heads(fo, big).tolist(), fo[big].tolist())):
                sib = np.arange(h, h + (1 << k))
                if not np.isin(sib, big).all():
                    self.on_folio_split(k)
                fo[sib] = 0
        fo[pfns] = 0

    def drain(self, n: int | None = None) -> None:
        """free_pcppages_bulk: give the n oldest per-CPU pages back to the buddy lists (all if None),
        taking from the longest list first."""
        n = self.pcp_count if n is None else min(n, self.pcp_count)
        parts = []
        for mt in sorted(range(MIGRATE_PCPTYPES), key=lambda t: -self.pcp_len[t]):
            if n <= 0:
                break
            k = min(n, self.pcp_len[mt])
            if k <= 0:
                continue
            lst = self.pcp_lists[mt]
            parts.append(lst[:k].copy())
            lst[: self.pcp_len[mt] - k] = lst[k : self.pcp_len[mt]]
            self.pcp_len[mt] -= k
            n -= k
        if not parts:
            return
        out = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.state[out] = FRAME_FREE
        self.buddy.free_pages_batch(out)

    def claim_boot_pages(self, pfns: np.ndarray) -> None:
        """Hand the free frames to the buddy lists at boot (memblock_free_all).

        Boot memory is a few contiguous runs between reserved ranges, so the buddy state is each
        run's maximal aligned blocks: no merging to replay page by page."""
        self.state[pfns] = FRAME_FREE
        pfns = np.sort(pfns)
        breaks = np.flatnonzero(np.diff(pfns) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(pfns)]))
        for a, b in zip(starts.tolist(), ends.tolist()):
            self.buddy._free_range_split(int(pfns[a]), int(pfns[b - 1]) + 1)
