"""zbud (mm/zbud.c, 3.11 to 6.14): a zpool backend that keeps at most two compressed objects per page.

A zbud page is split into 64-byte chunks (CHUNK_SHIFT = PAGE_SHIFT - NCHUNKS_ORDER); its first chunk
holds the header, so NCHUNKS = 63 are usable. The first buddy grows from the start of the page, the
last from its end. zbud_alloc(size) needs size_to_chunks(size) chunks and takes the first page on the
first non-empty `unbuddied[i]` list for i from that many up to NCHUNKS - 1 (list i holds pages with
one buddy and i free chunks; lists are LIFO: list_add at the head, list_first_entry from it), putting
the object in whichever buddy is free; with none, it allocates a page. A page with both buddies is on
the `buddied` list and takes no more. Sizes above PAGE_SIZE - ZHDR_SIZE_ALIGNED - CHUNK_SIZE (3968
bytes) are refused with -ENOSPC (zswap counts reject_compress_poor). So the pool holds at best two
pages' data per page: the density ceiling zbud is known for, against zsmalloc's ~3.5 on 4:1 data.

Until 6.5 (when "mm: zswap: move writeback LRU from zpool to zswap" moved the LRU into zswap) zbud
kept its pages on an LRU, moved to the head on each allocation, and zbud_reclaim_page(pool, retries)
evicted from its tail: for up to `retries` pages it calls the eviction handler (zswap_writeback_entry)
on the first buddy, then the last, stops at the first that fails, frees the page if both are gone
(success), else puts it back on its list and at the LRU head and tries the next. `reclaim_page`
models that, with the eviction decision passed in.

The rules are those of v6.1 mm/zbud.c (zbud_alloc, zbud_free, zbud_reclaim_page); the layout of the
model's tables is its own: per page (a row) the chunks of each buddy, the handle id in each buddy,
an LRU stamp, and stacks of (stamp, row) for the unbuddied lists and the LRU, read lazily.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.zpool import _LOC, _SIZE, _TAG, ZpoolBackend

NCHUNKS_ORDER = 6
CHUNK_SHIFT = 12 - NCHUNKS_ORDER  # PAGE_SHIFT - NCHUNKS_ORDER
CHUNK_SIZE = 1 << CHUNK_SHIFT  # 64 bytes
ZHDR_SIZE_ALIGNED = CHUNK_SIZE  # struct zbud_header fits in one chunk
NCHUNKS = (PAGE_SIZE - ZHDR_SIZE_ALIGNED) >> CHUNK_SHIFT  # 63
ZBUD_MAX_ALLOC = PAGE_SIZE - ZHDR_SIZE_ALIGNED - CHUNK_SIZE  # 3968: larger sizes get -ENOSPC
FIRST, LAST = 0, 1
ZBUD_RECLAIM_RETRIES = 8  # zbud_zpool_shrink: zbud_reclaim_page(pool, 8)


def size_to_chunks(size: int) -> int:
    """zbud's size_to_chunks: chunks a size takes, rounded up."""
    return (size + CHUNK_SIZE - 1) >> CHUNK_SHIFT


class ZbudPool(ZpoolBackend):
    """A zbud pool: pages of at most two buddies, unbuddied lists by free chunks, and the page LRU."""

    max_alloc = ZBUD_MAX_ALLOC
    objects_per_page = 2

    def __init__(self) -> None:
        self._init_handles(64)
        cap = 64
        self.chunks = np.zeros((cap, 2), dtype=np.int64)  # first_chunks, last_chunks per page row
        self.bud_id = np.full((cap, 2), -1, dtype=np.int64)  # handle id in each buddy
        self.listed = np.full(cap, -1, dtype=np.int64)  # unbuddied list index, or -1 (buddied or free)
        self.key = np.full(cap, -1, dtype=np.int64)  # stamp of the page's place on its unbuddied list
        self.lru_key = np.full(cap, -1, dtype=np.int64)  # stamp of its place on the LRU (-1: not on it)
        self.free_rows: list[int] = list(range(cap - 1, -1, -1))
        self.unbuddied: list[list[int]] = [[] for _ in range(NCHUNKS)]  # stacks of stamp << 32 | row
        self.nr_unbuddied = [0] * NCHUNKS
        self.lru: list[int] = []  # a min-heap of stamp << 32 | row: the tail is the smallest live one
        self.stamp = 0
        self._reclaiming = -1  # the page zbud_reclaim_page holds (under_reclaim), or -1
        self.pages_nr = 0
        self.pages_delta = 0
        self.objs_compacted = 0  # zbud never moves an object (no compaction)
        self.nr_objs = 0
        self.obj_bytes = 0

    # -- pages ------------------------------------------------------------------------------------
    def _grow_rows(self) -> None:
        cap = len(self.chunks)
        self.chunks = np.concatenate([self.chunks, np.zeros((cap, 2), dtype=np.int64)])
        self.bud_id = np.concatenate([self.bud_id, np.full((cap, 2), -1, dtype=np.int64)])
        self.listed = np.concatenate([self.listed, np.full(cap, -1, dtype=np.int64)])
        self.key = np.concatenate([self.key, np.full(cap, -1, dtype=np.int64)])
        self.lru_key = np.concatenate([self.lru_key, np.full(cap, -1, dtype=np.int64)])
        self.free_rows = list(range(2 * cap - 1, cap - 1, -1)) + self.free_rows

    def _new_page(self) -> int:
        if not self.free_rows:
            self._grow_rows()
        row = self.free_rows.pop()
        self.pages_nr += 1
        self.pages_delta += 1
        return row

    def _free_page(self, row: int) -> None:
        """free_zbud_page: off every list, back to the page allocator."""
        self._list_del(row)
        self.lru_key[row] = -1
        self.chunks[row] = 0
        self.free_rows.append(row)
        self.pages_nr -= 1
        self.pages_delta -= 1

    def _next_stamp(self) -> int:
        self.stamp += 1
        return self.stamp

    def num_free_chunks(self, row: int) -> int:
        """num_free_chunks: a free buddy has length 0, so this is NCHUNKS less both buddies."""
        return NCHUNKS - int(self.chunks[row, FIRST]) - int(self.chunks[row, LAST])

    def _list_del(self, row: int) -> None:
        """list_del(&zhdr->buddy): the page leaves its unbuddied list (its stack entry goes stale)."""
        i = int(self.listed[row])
        if i >= 0:
            self.nr_unbuddied[i] -= 1
            self.listed[row] = -1
            self.key[row] = -1

    def _list_add(self, row: int) -> None:
        """Put the page on unbuddied[num_free_chunks] if it has a free buddy (buddied otherwise), at the head."""
        if self.chunks[row, FIRST] == 0 or self.chunks[row, LAST] == 0:
            i = self.num_free_chunks(row)
            e = self._next_stamp()
            self.listed[row] = i
            self.key[row] = e
            self.unbuddied[i].append(e << 32 | row)
            self.nr_unbuddied[i] += 1

    def _lru_add(self, row: int) -> None:
        """list_add(&zhdr->lru, &pool->lru): to the head (the newest) of the LRU."""
        e = self._next_stamp()
        self.lru_key[row] = e
        heapq.heappush(self.lru, e << 32 | row)

    def _first_unbuddied(self, i: int) -> int:
        """list_first_entry(&pool->unbuddied[i]): the page added last, skipping stale stack entries."""
        st = self.unbuddied[i]
        while True:
            e = st[-1]
            row = e & 0xFFFFFFFF
            if self.key[row] == e >> 32 and self.listed[row] == i:
                return row
            st.pop()

    def lru_tail(self) -> int:
        """The page at the LRU's tail (the least recently allocated into), or -1 for an empty pool."""
        heap = self.lru
        while heap:
            e = heap[0]
            row = e & 0xFFFFFFFF
            if self.lru_key[row] == e >> 32:
                return row
            heapq.heappop(heap)
        return -1

    # -- zbud_alloc / zbud_free -------------------------------------------------------------------
    def _malloc(
        self,
        size_array: np.ndarray,
        sizes: list[int],
        max_pages: int | None,
        max_new_pages: int | None,
        checked: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """zbud_alloc for each size in order, stopping before the first that would go over a limit.

        As ZsPool._malloc: no allocation once the pool holds `max_pages` pages, nor one that would take
        more than `max_new_pages` new pages in this call. Sizes must be 1..ZBUD_MAX_ALLOC (the caller
        refuses larger ones, as zswap does on -ENOSPC). Returns (ids, handles, whether max_new_pages stopped it).
        """
        if not checked and sizes and (min(sizes) <= 0 or max(sizes) > ZBUD_MAX_ALLOC):
            raise ValueError(f"zbud_alloc size must be in 1..{ZBUD_MAX_ALLOC}")
        locations: list[int] = []
        added = 0
        by_alloc = False
        for size in sizes:
            if max_pages is not None and self.pages_nr >= max_pages:
                break
            chunks = size_to_chunks(size)
            row = -1
            for i in range(chunks, NCHUNKS):  # for_each_unbuddied_list(i, chunks)
                if self.nr_unbuddied[i]:
                    row = self._first_unbuddied(i)
                    self._list_del(row)
                    break
            if row < 0:
                if max_new_pages is not None and added + 1 > max_new_pages:
                    by_alloc = True
                    break
                row = self._new_page()
                added += 1
            bud = FIRST if self.chunks[row, FIRST] == 0 else LAST
            self.chunks[row, bud] = chunks
            self._list_add(row)
            self._lru_add(row)  # "Add/move zbud page to beginning of LRU"
            locations.append(row << 1 | bud)
        done = len(locations)
        if done == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, by_alloc
        ids = self._take_ids(done)
        handles, _ = self._issue(ids, locations, size_array)
        loc = np.array(locations, dtype=np.int64)
        self.bud_id[loc >> 1, loc & 1] = ids
        self.nr_objs += done
        self.obj_bytes += sum(sizes[:done])
        return ids, handles, by_alloc

    def _free_ids(self, ids: np.ndarray, handles: np.ndarray | None = None) -> int:
        """zbud_free by handle id: the buddy's chunks go to 0; an empty page is freed, else relisted.

        A page zbud_reclaim_page holds (zhdr->under_reclaim) has its buddy cleared but is left for the
        reclaim loop to free or put back. Returns how many objects were PAGE_SIZE bytes (none can be:
        zbud refuses them).
        """
        if len(ids) == 0:
            return 0
        rows = self.h[ids]
        locs = rows[:, _LOC].tolist()
        if len(set(locs)) != len(locs):
            raise ValueError("zbud_free: handle freed twice in one batch")
        for loc in locs:
            row, bud = loc >> 1, loc & 1
            self.chunks[row, bud] = 0
            self.bud_id[row, bud] = -1
            if row == self._reclaiming:
                continue
            self._list_del(row)
            if self.chunks[row, FIRST] == 0 and self.chunks[row, LAST] == 0:
                self._free_page(row)
            else:
                self._list_add(row)
        self.nr_objs -= len(ids)
        self.obj_bytes -= int(rows[:, _SIZE].sum())
        self._retire(ids, rows[:, _TAG] if handles is None else handles)
        return 0

    # -- zbud_reclaim_page ------------------------------------------------------------------------
    def reclaim_page(self, evict: Callable[[int], bool], retries: int = ZBUD_RECLAIM_RETRIES) -> bool:
        """zbud_reclaim_page: evict the buddies of LRU-tail pages until one page is freed, or `retries` tried.

        `evict(handle_id)` is the eviction handler: it returns True when it wrote the object back and
        freed it (zbud_free, which leaves this page to the loop), False when it could not (-EEXIST,
        -ENOMEM). Returns
        True when a page was freed (zpool_shrink's 0), False for -EINVAL (empty pool) or -EAGAIN.
        """
        for _ in range(retries):
            row = self.lru_tail()
            if row < 0:
                return False
            self.lru_key[row] = -1  # list_del(&zhdr->lru)
            self._list_del(row)  # list_del(&zhdr->buddy)
            self._reclaiming = row
            for bud in (FIRST, LAST):
                hid = int(self.bud_id[row, bud])
                if self.chunks[row, bud] and not evict(hid):
                    break  # goto next: the other buddy is not tried
            self._reclaiming = -1
            if self.chunks[row, FIRST] == 0 and self.chunks[row, LAST] == 0:
                self._free_page(row)
                return True
            self._list_add(row)
            self._lru_add(row)
        return False

    # -- statistics -------------------------------------------------------------------------------
    def pages(self) -> int:
        """zbud_get_pool_size: pages the pool holds."""
        return self.pages_nr

    def can_compact(self) -> int:
        """zbud has no compaction (and no shrinker of its own)."""
        return 0

    def compact(self) -> int:
        return 0

    def class_stats(self) -> np.ndarray:
        """zbud has no size classes: an empty table in ZsPool.class_stats's columns."""
        return np.zeros((0, 7), dtype=np.int64)

    def buddies(self) -> np.ndarray:
        """Objects per page in use: how many pages hold 1 and 2 buddies (index 1, 2)."""
        n = (self.chunks[:, FIRST] > 0).astype(np.int64) + (self.chunks[:, LAST] > 0)
        return np.bincount(n, minlength=3)[:3] * np.array([0, 1, 1])
