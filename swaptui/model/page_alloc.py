"""The page allocator: watermark formulas, the buddy free lists and the per-CPU page lists (mm/page_alloc.c).

Simplification (said in the docs too): the kernel's DMA, DMA32 and Normal zones are merged into one
simulated zone. Its watermarks are the sum of the per-zone watermarks the kernel would compute, so the
memory held back is the kernel's; `zone_layout` still reports each zone's own marks. The per-CPU lists
are modelled as one aggregate list whose `high` is the sum of the CPUs' limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from swaptui.model.memmap import FRAME_FREE, FRAME_PCP, PAGE_SIZE

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


def setup_per_zone_wmarks(zones: list[tuple[str, int]], min_free_kbytes: int,
                          watermark_scale_factor: int) -> list[ZoneInfo]:
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
    if batch < 1:
        batch = 1
    batch = (1 << (int(batch + batch // 2).bit_length() - 1)) - 1
    return max(batch, 1)


class BuddyAllocator:
    """Buddy free lists per order over a PFN range, with exact split and merge, batched.

    A free block of order o starting at pfn p is listed iff `listed[o][p >> o]`. Each order keeps a
    LIFO stack of block indices with lazy deletion: an entry is live only while its listed bit is set.
    """

    def __init__(self, nr_frames: int, state: np.ndarray) -> None:
        self.nr_frames = nr_frames
        self.state = state
        self.listed = [np.zeros((nr_frames >> o) + 1, dtype=bool) for o in range(NR_ORDERS)]
        self.stack = [np.zeros(64, dtype=np.int64) for _ in range(NR_ORDERS)]
        self.stack_len = [0] * NR_ORDERS
        self.nr_free = [0] * NR_ORDERS
        self.free_pages = 0

    # -- list primitives ---------------------------------------------------------------------------
    def _push(self, order: int, blocks: np.ndarray) -> None:
        n = len(blocks)
        if n == 0:
            return
        self.listed[order][blocks] = True
        self.nr_free[order] += n
        self.free_pages += n << order
        need = self.stack_len[order] + n
        st = self.stack[order]
        if need > len(st):
            st = self._compact(order, need)
        st[self.stack_len[order]:self.stack_len[order] + n] = blocks
        self.stack_len[order] += n

    def _compact(self, order: int, need: int) -> np.ndarray:
        """Drop dead entries (keeping the newest copy of each live block) and grow if still short."""
        st = self.stack[order][:self.stack_len[order]]
        live = st[self.listed[order][st]]
        # Keep the last occurrence of duplicates so LIFO order is preserved.
        rev = live[::-1]
        _, first = np.unique(rev, return_index=True)
        live = rev[np.sort(first)][::-1]
        extra = need - self.stack_len[order] + len(live)
        cap = max(64, len(live) + extra, 2 * (len(live) + extra))
        new = np.zeros(cap, dtype=np.int64)
        new[:len(live)] = live
        self.stack[order] = new
        self.stack_len[order] = len(live)
        return new

    def _pop(self, order: int, n: int) -> np.ndarray:
        """Take up to n live blocks from the top of an order's stack (most recently freed first)."""
        out: list[np.ndarray] = []
        got = 0
        listed = self.listed[order]
        st = self.stack[order]
        while got < n and self.stack_len[order] > 0:
            top = self.stack_len[order]
            lo = max(0, top - max(2 * (n - got), 16))
            chunk = st[lo:top][::-1]
            idx = np.flatnonzero(listed[chunk])
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
            self.stack_len[order] = top - cut
            out.append(cand)
            got += len(cand)
        if not out:
            return np.zeros(0, dtype=np.int64)
        res = np.concatenate(out) if len(out) > 1 else out[0]
        self.nr_free[order] -= len(res)
        self.free_pages -= len(res) << order
        return res

    # -- allocation and freeing --------------------------------------------------------------------
    def alloc_order0(self, n: int) -> np.ndarray:
        """__rmqueue_smallest repeated n times for order 0: smallest blocks first, splitting as expand() does."""
        n = min(n, self.free_pages)
        parts: list[np.ndarray] = []
        need = n
        for order in range(NR_ORDERS):
            if need <= 0:
                break
            size = 1 << order
            while need > 0 and self.nr_free[order] > 0:
                whole = need // size
                if whole > 0:
                    blocks = self._pop(order, whole)
                    if len(blocks):
                        pfns = (blocks[:, None] * size + np.arange(size)[None, :]).ravel()
                        parts.append(pfns)
                        need -= len(pfns)
                        continue
                # One block covers the rest: take its low `need` pages, free the remainder as aligned blocks.
                block = self._pop(order, 1)
                if not len(block):
                    break
                start = int(block[0]) * size
                parts.append(np.arange(start, start + need, dtype=np.int64))
                self._free_range_split(start + need, start + size)
                need = 0
        if not parts:
            return np.zeros(0, dtype=np.int64)
        pfns = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return pfns

    def _free_range_split(self, lo: int, hi: int) -> None:
        """List [lo, hi) as maximal aligned blocks (the halves expand() gives back), no merging needed."""
        while lo < hi:
            order = min((lo & -lo).bit_length() - 1 if lo else MAX_ORDER, MAX_ORDER)
            while (1 << order) > hi - lo:
                order -= 1
            self._push(order, np.array([lo >> order], dtype=np.int64))
            lo += 1 << order

    def free_pages_batch(self, pfns: np.ndarray) -> None:
        """__free_one_page for many order-0 pages: merge with free buddies order by order."""
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
                taken = buddy[buddy_listed]
                listed[taken] = False
                self.nr_free[order] -= len(taken)
                self.free_pages -= len(taken) << order
            merge = buddy_listed | buddy_in
            stay = blocks[~merge]
            if len(stay):
                self._push(order, stay)
            parents = blocks[merge] >> 1
            if len(parents) > 1:
                parents = np.unique(parents)
            blocks = parents
        if len(blocks):
            self._push(MAX_ORDER, blocks)

    def free_area_counts(self) -> list[int]:
        """nr_free per order (/proc/buddyinfo for the merged zone)."""
        return list(self.nr_free)

    def free_area_by_migratetype(self, pageblock_type: np.ndarray) -> np.ndarray:
        """nr_free[order][migratetype] (/proc/pagetypeinfo): a free block is on its pageblock's type's list.

        A whole pass over the listed blocks: render time only."""
        out = np.zeros((NR_ORDERS, len(MIGRATETYPE_NAMES)), dtype=np.int64)
        for order in range(NR_ORDERS):
            blocks = np.flatnonzero(self.listed[order])
            if len(blocks):
                types = pageblock_type[(blocks << order) >> PAGEBLOCK_ORDER]
                out[order] = np.bincount(types, minlength=len(MIGRATETYPE_NAMES))[:len(MIGRATETYPE_NAMES)]
        return out


class Zone:
    """The simulated zone: managed pages, watermarks, buddy lists and the aggregate per-CPU list."""

    def __init__(self, name: str, nr_frames: int, state: np.ndarray, managed: int,
                 wmark: tuple[int, int, int], ncpus: int) -> None:
        self.name = name
        self.nr_frames = nr_frames
        self.state = state
        self.managed = managed
        self.wmark = list(wmark)
        self.watermark_boost = 0
        self.buddy = BuddyAllocator(nr_frames, state)
        self.batch = zone_batchsize(managed)
        self.ncpus = ncpus
        self.pcp = np.zeros(1024, dtype=np.int64)
        self.pcp_count = 0
        self.pcp_free_factor = 0
        self.reclaim_active = False  # ZONE_RECLAIM_ACTIVE: set while kswapd runs
        # Pageblock migratetypes. All start MOVABLE (memmap_init); pageblocks that hold unmovable
        # kernel allocations are claimed UNMOVABLE. Fallback stealing between types is issue 4's.
        self.pageblock_type = np.full(-(-nr_frames >> PAGEBLOCK_ORDER), MIGRATE_MOVABLE, dtype=np.uint8)
        self.pgalloc = 0
        self.pgfree = 0

    # -- watermarks ---------------------------------------------------------------------------------
    @property
    def nr_free_pages(self) -> int:
        """NR_FREE_PAGES: free pages on the buddy lists (the per-CPU lists are not counted)."""
        return self.buddy.free_pages

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

    # -- allocation ---------------------------------------------------------------------------------
    def alloc(self, n: int) -> np.ndarray:
        """rmqueue for n order-0 pages: per-CPU list first (most recently freed), refilled in batches."""
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        short = n - self.pcp_count
        if short > 0:
            refill = -(-short // self.batch) * self.batch
            got = self.buddy.alloc_order0(refill)
            self.state[got] = FRAME_PCP
            self._pcp_push(got[::-1])
            self.pcp_free_factor >>= 1
        take = min(n, self.pcp_count)
        out = self.pcp[self.pcp_count - take:self.pcp_count][::-1].copy()
        self.pcp_count -= take
        self.pgalloc += take
        return out

    def _pcp_push(self, pfns: np.ndarray) -> None:
        need = self.pcp_count + len(pfns)
        if need > len(self.pcp):
            new = np.zeros(max(need, 2 * len(self.pcp)), dtype=np.int64)
            new[:self.pcp_count] = self.pcp[:self.pcp_count]
            self.pcp = new
        self.pcp[self.pcp_count:need] = pfns
        self.pcp_count = need

    def free(self, pfns: np.ndarray) -> None:
        """free_unref_page_list: to the per-CPU list; drain the oldest pages to the buddy above `high`."""
        if len(pfns) == 0:
            return
        self.state[pfns] = FRAME_PCP
        self._pcp_push(pfns)
        self.pgfree += len(pfns)
        high = self.pcp_high()
        while self.pcp_count >= high:
            to_free = self.batch << self.pcp_free_factor
            max_nr = max(high - self.batch, self.batch)
            if to_free < max_nr:
                self.pcp_free_factor += 1
            to_free = min(max(to_free, self.batch), max_nr, self.pcp_count)
            self.drain(to_free)

    def drain(self, n: int | None = None) -> None:
        """free_pcppages_bulk: give the n oldest per-CPU pages back to the buddy lists (all if None)."""
        n = self.pcp_count if n is None else min(n, self.pcp_count)
        if n <= 0:
            return
        out = self.pcp[:n].copy()
        self.pcp[:self.pcp_count - n] = self.pcp[n:self.pcp_count]
        self.pcp_count -= n
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
