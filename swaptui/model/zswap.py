"""zswap (mm/zswap.c, ~6.9+): a compressed cache in front of swap, over a zsmalloc pool.

Keys are swap entries: a physical slot offset in the classic and swap-table designs, a virtual slot
under vswap. With `index="xarray"` entries are found through one XArray per 64 MiB of swap indexed
by the full offset (swap_zswap_tree), so a lookup walks 3 levels for offsets 2^14..2^18 and 4 up to
2^24 (the first tree's height follows its largest offset: 1, 2 or 3);
with `index="descriptor"` the caller finds the entry (vswap keeps it in its descriptor) and zswap
charges no tree walk. Each batch of keys is a run of order-0 stores, as zswap handles base pages.

Rules kept (kernel-model.md §11): the max_pool_percent limit with accept-threshold hysteresis,
incompressible pages stored raw at PAGE_SIZE, exclusive loads, invalidation on slot free, and the
shrinker's second-chance LRU walk with its count scaled by the compression ratio and reduced by
recent disk swap-ins. Writeback removes the entry here (decompress, erase, zswpwb) and leaves the
block write (pswpout) to the caller, as zswap_writeback_entry hands the folio to __swap_writepage.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.costs import COMPRESSOR_SCALE, DEFAULT_COSTS, CostTable
from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.xarray import XA_NODE_BYTES, XArrayForest, xa_height
from swaptui.model.zsmalloc import ZsPool

ZSWAP_ADDRESS_SPACE_SHIFT = 14  # one XArray per 64 MiB of swap
MAX_DEPTH = 8
# struct zswap_entry: swpentry 8 + length 4 + referenced 1 (+3 pad) + pool 8 + handle 8 + objcg 8
# + lru list_head 16 = 56 bytes, the object size of the zswap_entry kmem_cache on x86-64.
ZSWAP_ENTRY_BYTES = 56

# CPU per 4 KiB page for lz4, scaled for other compressors by COMPRESSOR_SCALE. Order of magnitude
# from published lz4 throughput (lzbench, lz4 1.9.x on a ~3-4 GHz x86-64 core: ~0.8-1 GB/s compress,
# ~4.5-5 GB/s decompress), including the crypto acomp request overhead; not measured here.
ZSWAP_COMPRESS_NS = 4000
ZSWAP_DECOMPRESS_NS = 800
ZSWAP_COPY_PAGE_NS = 300  # copying a raw (incompressible) page into or out of its zsmalloc object
ZSWAP_ENTRY_ALLOC_NS = 60  # zswap_entry_cache_alloc / free (slab)
ZS_MALLOC_NS = 150  # zs_malloc: pool lock, find_get_zspage, obj_malloc, fix_fullness_group
ZS_FREE_NS = 120  # zs_free: pool lock, obj_free, fix_fullness_group
ZSWAP_LRU_NS = 40  # list_lru add or del under the lru lock


class ZswapLru:
    """The zswap list_lru as a position-stamped ring of entry ids: oldest at the tail, newest at the head.

    An id in the ring at position p is live iff `lrupos[id] == p`; removal only clears `lrupos`, and
    stale ring positions are skipped when the tail is read.
    """

    def __init__(self, lrupos: np.ndarray, capacity: int = 1 << 10) -> None:
        self.lrupos = lrupos
        self.ring = np.zeros(capacity, dtype=np.int64)
        self.tail = 0
        self.head = 0
        self.nr = 0

    def __len__(self) -> int:
        return self.nr

    def live_tail_to_head(self) -> np.ndarray:
        """Every entry on the list, oldest first (a whole-list pass)."""
        pos = np.arange(self.tail, self.head, dtype=np.int64)
        ids = self.ring[pos & (len(self.ring) - 1)]
        return ids[self.lrupos[ids] == pos]

    def _rebuild(self, extra: int) -> None:
        """Compact out stale positions, keeping order, into a ring with room for `extra` more."""
        live = self.live_tail_to_head()
        cap = 1 << max(10, int(2 * (len(live) + extra) + 1024 - 1).bit_length())
        self.ring = np.zeros(cap, dtype=np.int64)
        self.tail = self.head = self.nr = 0
        self.add(live)

    def add(self, ids: np.ndarray) -> None:
        """zswap_lru_add: put entries at the head, in order."""
        n = len(ids)
        if n == 0:
            return
        if self.head - self.tail + n > len(self.ring):
            self._rebuild(n)
        pos = np.arange(self.head, self.head + n, dtype=np.int64)
        self.ring[pos & (len(self.ring) - 1)] = ids
        self.lrupos[ids] = pos
        self.head += n
        self.nr += n

    def remove(self, ids: np.ndarray) -> None:
        """zswap_lru_del: take entries off the list wherever they are."""
        self.lrupos[ids] = -1
        self.nr -= len(ids)

    def peek_tail(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to n live entries from the tail, oldest first, with their positions (nothing is removed)."""
        mask = len(self.ring) - 1
        out_ids: list[np.ndarray] = []
        out_pos: list[np.ndarray] = []
        got, start = 0, self.tail
        while got < n and start < self.head:
            take = min(self.head - start, max(2 * (n - got), 64))
            pos = np.arange(start, start + take, dtype=np.int64)
            ids = self.ring[pos & mask]
            ok = np.flatnonzero(self.lrupos[ids] == pos)[:n - got]
            out_ids.append(ids[ok])
            out_pos.append(pos[ok])
            got += len(ok)
            start += take
        if not out_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(out_ids), np.concatenate(out_pos)

    def pop_through(self, pos: int, ids: np.ndarray) -> None:
        """Take the entries `ids` (the live ones up to ring position pos) off the tail."""
        self.tail = pos + 1
        self.lrupos[ids] = -1
        self.nr -= len(ids)
        if self.nr == 0:
            self.tail = self.head = 0


class Zswap:
    """The zswap cache: entries by swap key, a zsmalloc pool, limits, LRU and writeback."""

    def __init__(self, totalram_pages: int, nr_keys: int, max_pool_percent: int = 20,
                 accept_threshold_percent: int = 90, compressor: str = "lz4", shrinker_enabled: bool = True,
                 costs: CostTable = DEFAULT_COSTS, index: str = "xarray") -> None:
        if index not in ("xarray", "descriptor"):
            raise ValueError(f"zswap index must be 'xarray' or 'descriptor', not {index!r}")
        self.costs = costs
        self.index = index
        self.compressor = compressor
        self.shrinker_enabled = shrinker_enabled
        self.max_pool_percent = max_pool_percent
        self.accept_threshold_percent = accept_threshold_percent
        self.max_pages = totalram_pages * max_pool_percent // 100  # zswap_max_pages
        self.accept_pages = self.max_pages * accept_threshold_percent // 100  # zswap_accept_thr_pages
        scale = COMPRESSOR_SCALE.get(compressor, 1.0)
        self.compress_ns = int(ZSWAP_COMPRESS_NS * scale)
        self.decompress_ns = int(ZSWAP_DECOMPRESS_NS * scale)
        self.pool = ZsPool()
        self.nr_keys = nr_keys
        self.entry_of = np.full(nr_keys, -1, dtype=np.int32)  # the tree: key -> entry id
        cap = 1024
        self.e_key = np.full(cap, -1, dtype=np.int64)
        self.e_handle = np.zeros(cap, dtype=np.int64)
        self.e_length = np.zeros(cap, dtype=np.int32)
        self.e_referenced = np.zeros(cap, dtype=bool)
        self.e_lrupos = np.full(cap, -1, dtype=np.int64)
        self.free_entries = np.arange(cap - 1, -1, -1, dtype=np.int64)
        self.nr_free_entries = cap
        self.lru = ZswapLru(self.e_lrupos)
        if index == "xarray":
            self.xa: XArrayForest | None = XArrayForest(nr_keys, ZSWAP_ADDRESS_SPACE_SHIFT, masked=False)
            # Trees are indexed by the full offset, so every index of tree t >= 1 has the same bit
            # length: the tree's height is fixed by its place. Tree 0's depends on its largest index.
            span = 1 << ZSWAP_ADDRESS_SPACE_SHIFT
            self.tree_height = np.array([xa_height(t * span) for t in range(self.xa.nr_trees)], dtype=np.int64)
        else:
            self.xa = None
            self.tree_height = np.zeros(1, dtype=np.int64)
        self.reached_full = False  # zswap_pool_reached_full
        self.shrink_wanted = False  # shrink_worker queued: a store was rejected while full
        self.nr_disk_swapins = 0  # zswap_lruvec_state.nr_disk_swapins
        self.lookups = 0
        self.hops = 0
        self.depth_hist = np.zeros(MAX_DEPTH, dtype=np.int64)
        self.last_cost_ns = 0  # CPU of the last writeback_candidates call
        self.zswpout = 0
        self.zswpin = 0
        self.zswpwb = 0
        self.stored_pages = 0
        self.stored_incompressible_pages = 0
        self.pool_limit_hit = 0
        self.written_back_pages = 0
        self.reject_reclaim_fail = 0
        self.reject_alloc_fail = 0
        self.reject_kmemcache_fail = 0
        self.reject_compress_fail = 0
        self.reject_compress_poor = 0
        self.decompress_fail = 0

    # -- entries --------------------------------------------------------------------------------
    def _grow_entries(self, need: int) -> None:
        """Enlarge the entry table by at least `need` entries (doubling)."""
        cap = len(self.e_key)
        new = max(2 * cap, cap + need)
        extra = new - cap
        self.e_key = np.concatenate([self.e_key, np.full(extra, -1, dtype=np.int64)])
        self.e_handle = np.concatenate([self.e_handle, np.zeros(extra, dtype=np.int64)])
        self.e_length = np.concatenate([self.e_length, np.zeros(extra, dtype=np.int32)])
        self.e_referenced = np.concatenate([self.e_referenced, np.zeros(extra, dtype=bool)])
        self.e_lrupos = np.concatenate([self.e_lrupos, np.full(extra, -1, dtype=np.int64)])
        self.lru.lrupos = self.e_lrupos
        stack = np.empty(new, dtype=np.int64)
        stack[:extra] = np.arange(new - 1, cap - 1, -1)
        stack[extra:extra + self.nr_free_entries] = self.free_entries[:self.nr_free_entries]
        self.free_entries = stack
        self.nr_free_entries += extra

    def _alloc_entries(self, n: int) -> np.ndarray:
        """zswap_entry_cache_alloc n times: entry ids, the most recently freed first."""
        if n > self.nr_free_entries:
            self._grow_entries(n - self.nr_free_entries)
        top = self.nr_free_entries
        ids = self.free_entries[top - n:top][::-1].copy()
        self.nr_free_entries -= n
        return ids

    def _walk(self, keys: np.ndarray) -> int:
        """Tree walks for these keys: counts lookups and hops and returns their CPU cost."""
        n = len(keys)
        self.lookups += n
        if self.xa is None:
            self.depth_hist[0] += n
            return 0
        hops = self._heights(keys >> ZSWAP_ADDRESS_SPACE_SHIFT)
        total = int(hops.sum())
        self.hops += total
        self.depth_hist += np.bincount(np.minimum(hops, MAX_DEPTH - 1), minlength=MAX_DEPTH)
        return total * self.costs.xa_hop

    def _heights(self, trees: np.ndarray) -> np.ndarray:
        """Node hops of xas_load in these trees (0 for an empty tree)."""
        xa = self.xa
        if xa is None:
            return np.zeros(len(trees), dtype=np.int64)
        h = np.where(xa.nonzero[trees] > 0, 1, 0)
        h = np.where(xa.beyond64[trees] > 0, 2, h)
        h = np.where(xa.beyond4096[trees] > 0, 3, h)
        return np.where(xa.entries[trees] > 0, np.maximum(h, self.tree_height[trees]), 0)

    def _erase(self, keys: np.ndarray) -> int:
        """Erase and free the entries at these keys (all present): zswap_entry_free; returns CPU."""
        if len(keys) == 0:
            return 0
        eids = self.entry_of[keys].astype(np.int64)
        self.pool.free(self.e_handle[eids])
        self.lru.remove(eids[self.e_lrupos[eids] >= 0])
        self.stored_incompressible_pages -= int(np.count_nonzero(self.e_length[eids] == PAGE_SIZE))
        self.stored_pages -= len(eids)
        self.entry_of[keys] = -1
        self.e_key[eids] = -1
        if self.xa is not None:
            self.xa.erase(keys)
        top = self.nr_free_entries
        self.free_entries[top:top + len(eids)] = eids
        self.nr_free_entries += len(eids)
        self._check_shrunk()
        return len(eids) * (ZS_FREE_NS + ZSWAP_ENTRY_ALLOC_NS + ZSWAP_LRU_NS)

    def _check_shrunk(self) -> None:
        """shrink_worker stops once the pool is back at the accept threshold."""
        if self.shrink_wanted and self.pool.pages() <= self.accept_pages:
            self.shrink_wanted = False

    def _xa_lock_cost(self, keys: np.ndarray) -> int:
        """xa_lock for erases of these keys, skipped where the tree is empty (zswap_invalidate's xa_empty)."""
        if self.xa is None or len(keys) == 0:
            return 0
        nonempty = self.xa.entries[keys >> ZSWAP_ADDRESS_SPACE_SHIFT] > 0
        return int(np.count_nonzero(nonempty)) * self.costs.xa_lock

    # -- store / load / invalidate --------------------------------------------------------------
    def _check_limits(self) -> bool:
        """zswap_check_limits for one store: counts pool_limit_hit and keeps the full/accept hysteresis."""
        cur = self.pool.pages()
        if cur >= self.max_pages:
            self.pool_limit_hit += 1
            self.reached_full = True
        elif self.reached_full and cur <= self.accept_pages:
            self.reached_full = False
        return self.reached_full

    def store(self, keys: np.ndarray, csizes: np.ndarray, now: int = 0,
              max_new_pages: int | None = None) -> tuple[np.ndarray, int]:
        """zswap_store for order-0 pages at distinct keys with these compressed sizes; returns (stored, cost).

        Each key is one store, checked against the limits in order. `max_new_pages`, when given, is
        how many pages zs_malloc may take from the page allocator (it allocates GFP_NOWAIT): the
        store that would exceed it and all later ones in the batch fail with reject_alloc_fail.
        `now` is accepted for symmetry with the other paths; entries keep no timestamps.
        """
        keys = np.asarray(keys, dtype=np.int64)
        csizes = np.asarray(csizes, dtype=np.int64)
        n = len(keys)
        stored = np.zeros(n, dtype=bool)
        if n == 0:
            return stored, 0
        if n > 1 and len(np.unique(keys)) != n:
            raise ValueError("zswap store: keys in one batch must be distinct")
        cost = 0
        # A stale entry (the folio was redirtied) is freed whether the new store succeeds or not.
        stale = keys[self.entry_of[keys] >= 0]
        if len(stale):
            cost += self._walk(stale) + self._xa_lock_cost(stale) + self._erase(stale)
        if self._check_limits():
            ok = 0
            if self.pool.pages() >= self.max_pages:
                self.pool_limit_hit += n - 1  # rejections free nothing: every later check hits too
        else:
            # Recent kernels store what does not compress below PAGE_SIZE as is (length PAGE_SIZE).
            lengths = np.where((csizes <= 0) | (csizes >= PAGE_SIZE), PAGE_SIZE, csizes)
            grown = self.pool.growth_prefix(lengths)  # exact pool growth after each store
            before = self.pool.pages() + np.concatenate([[0], grown[:-1]])
            over = np.flatnonzero(before >= self.max_pages)
            limit_at = int(over[0]) if len(over) else n
            alloc_at = n
            if max_new_pages is not None:
                short = np.flatnonzero(grown > max_new_pages)
                alloc_at = int(short[0]) if len(short) else n
            ok = min(limit_at, alloc_at)
            if ok:
                cost += self._store_pages(keys[:ok], lengths[:ok])
                stored[:ok] = True
            if alloc_at < limit_at:
                self.reject_alloc_fail += n - ok
            elif limit_at < n:
                self.pool_limit_hit += n - limit_at
                self.reached_full = True
        rejected = keys[ok:]
        if len(rejected):
            if self.reached_full:
                self.shrink_wanted = True  # queue_work(shrink_wq, &zswap_shrink_work)
            cost += self._walk(rejected) + self._xa_lock_cost(rejected)  # check_old's xa_erase
        return stored, cost

    def _store_pages(self, keys: np.ndarray, lengths: np.ndarray) -> int:
        """zswap_store_page for each key: compress, zs_malloc, xa_store, LRU add; returns CPU."""
        n = len(keys)
        raw = lengths == PAGE_SIZE
        nr_raw = int(np.count_nonzero(raw))
        pages_before = self.pool.pages()
        handles = self.pool.malloc(lengths)
        new_pages = max(0, self.pool.pages() - pages_before)
        eids = self._alloc_entries(n)
        self.e_key[eids] = keys
        self.e_handle[eids] = handles
        self.e_length[eids] = lengths
        self.e_referenced[eids] = True
        self.entry_of[keys] = eids
        if self.xa is not None:
            self.xa.insert(keys)
        self.lru.add(eids)
        self.stored_pages += n
        self.stored_incompressible_pages += nr_raw
        self.zswpout += n
        cost = n * (self.compress_ns + ZSWAP_ENTRY_ALLOC_NS + ZS_MALLOC_NS + ZSWAP_LRU_NS)
        cost += nr_raw * ZSWAP_COPY_PAGE_NS + new_pages * self.costs.buddy_page
        if self.xa is not None:
            cost += self._walk(keys) + n * self.costs.xa_lock
        else:
            self._walk(keys)
        return cost

    def load(self, keys: np.ndarray) -> tuple[np.ndarray, int]:
        """zswap_load of distinct keys, exclusive since 6.9: each hit is decompressed, erased and freed."""
        keys = np.asarray(keys, dtype=np.int64)
        hit = self.entry_of[keys] >= 0 if len(keys) else np.zeros(0, dtype=bool)
        cost = self._walk(keys)  # xa_load under RCU
        found = keys[hit]
        if len(found):
            raw = int(np.count_nonzero(self.e_length[self.entry_of[found]] == PAGE_SIZE))
            cost += raw * ZSWAP_COPY_PAGE_NS + (len(found) - raw) * self.decompress_ns
            cost += self._walk(found) + self._xa_lock_cost(found)  # xa_erase
            cost += self._erase(found)
            self.zswpin += len(found)
        return hit, cost

    def invalidate(self, keys: np.ndarray) -> int:
        """zswap_invalidate on slot free: erase and free whatever entries these keys hold; returns cost."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return 0
        cost = self._xa_lock_cost(keys)
        if self.xa is not None:
            nonempty = self.xa.entries[keys >> ZSWAP_ADDRESS_SPACE_SHIFT] > 0
            cost += self._walk(keys[nonempty])
        present = np.unique(keys[self.entry_of[keys] >= 0])
        return cost + self._erase(present)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key has an entry."""
        return self.entry_of[np.asarray(keys, dtype=np.int64)] >= 0

    def pool_pages(self) -> int:
        """Pages of the zsmalloc pool (zswap_total_pages)."""
        return self.pool.pages()

    def entries(self) -> int:
        """Entries stored (zswap_stored_pages)."""
        return self.stored_pages

    # -- shrinker and writeback -----------------------------------------------------------------
    def note_disk_swapin(self, n: int = 1) -> None:
        """zswap_folio_swapin: a page came back from disk, a sign that writeback went too far."""
        self.nr_disk_swapins += n

    def shrinker_count(self) -> int:
        """zswap_shrinker_count: LRU size less recent disk swap-ins (consumed), times pool pages / stored."""
        if not self.shrinker_enabled or self.stored_pages == 0:
            return 0
        freeable = len(self.lru)
        if freeable == 0:
            return 0
        consumed = min(freeable, self.nr_disk_swapins)
        self.nr_disk_swapins -= consumed
        freeable -= consumed
        if freeable == 0:
            return 0
        return freeable * self.pool.pages() // self.stored_pages  # mult_frac

    def shrink_target(self) -> int:
        """Entries shrink_worker should write back to bring the pool to the accept threshold (estimate)."""
        excess = self.pool.pages() - self.accept_pages
        if excess <= 0 or self.stored_pages == 0:
            return 0
        return min(self.stored_pages, -(-excess * self.stored_pages // max(1, self.pool.pages())))

    def writeback_candidates(self, n: int, max_writeback: int | None = None,
                             in_swapcache: np.ndarray | None = None) -> np.ndarray:
        """Walk up to n entries from the LRU tail (shrink_memcg_cb) and write back the unreferenced ones.

        A referenced entry loses its bit and rotates to the head (second chance). An unreferenced one
        is decompressed, erased and freed here (zswpwb, written_back_pages); its key is returned for
        the caller to write to the backing device. `in_swapcache` (bool per key) marks slots whose
        folio is already in the swap cache: that entry is rotated, counted in reject_reclaim_fail,
        and the walk stops (-EEXIST: the walk has reached the warm region). The CPU of the walk is
        left in `last_cost_ns`.
        """
        visited = 0
        chosen: list[np.ndarray] = []
        nr_chosen = 0
        cost = 0
        limit = n if max_writeback is None else max_writeback
        while visited < n and len(self.lru) and nr_chosen < limit:
            eids, pos = self.lru.peek_tail(n - visited)
            if len(eids) == 0:
                break
            ref = self.e_referenced[eids]
            hot = ~ref & in_swapcache[self.e_key[eids]] if in_swapcache is not None else np.zeros(len(eids), bool)
            wb_at = np.flatnonzero(~ref & ~hot)
            hot_at = np.flatnonzero(hot)
            stop = len(eids)
            need = limit - nr_chosen
            if len(wb_at) >= need:
                stop = int(wb_at[need - 1]) + 1
            hot_stop = len(hot_at) > 0 and int(hot_at[0]) < stop
            if hot_stop:
                stop = int(hot_at[0]) + 1
                self.reject_reclaim_fail += 1  # zswap_writeback_entry: -EEXIST
            eids, ref, hot = eids[:stop], ref[:stop], hot[:stop]
            self.lru.pop_through(int(pos[stop - 1]), eids)
            visited += stop
            self.e_referenced[eids[ref]] = False
            self.lru.add(eids[ref | hot])  # rotated: the second chance, and the warm entry
            cost += stop * ZSWAP_LRU_NS
            wb = eids[~ref & ~hot]
            if len(wb):
                keys = self.e_key[wb]
                raw = int(np.count_nonzero(self.e_length[wb] == PAGE_SIZE))
                cost += raw * ZSWAP_COPY_PAGE_NS + (len(wb) - raw) * self.decompress_ns
                cost += self._walk(keys) + self._xa_lock_cost(keys)
                cost += self._erase(keys)  # already off the LRU: popped above
                chosen.append(keys)
                nr_chosen += len(keys)
                self.zswpwb += len(keys)
                self.written_back_pages += len(keys)
            if hot_stop:
                break
        self.last_cost_ns = cost
        return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)

    # -- reporting ------------------------------------------------------------------------------
    def xa_nodes(self) -> int:
        """xa_nodes of the zswap trees: leaves, 4096-index nodes, and the levels above them."""
        if self.xa is None:
            return 0
        trees = np.flatnonzero(self.xa.entries > 0)
        heights = self._heights(trees)
        upper = int(np.maximum(0, heights - 2).sum())
        single = int(np.count_nonzero(heights == 1))  # a one-level tree's leaf is its root
        return int(np.count_nonzero(self.xa.leaf)) + int(np.count_nonzero(self.xa.mid)) - single + upper

    def metadata_bytes(self) -> int:
        """zswap_entry slab objects plus, with index="xarray", the tree nodes that index them."""
        return self.stored_pages * ZSWAP_ENTRY_BYTES + self.xa_nodes() * XA_NODE_BYTES

    def counters(self) -> dict[str, int]:
        """The debugfs and vmstat counters, by their kernel names."""
        return {
            "zswpout": self.zswpout,
            "zswpin": self.zswpin,
            "zswpwb": self.zswpwb,
            "stored_pages": self.stored_pages,
            "stored_incompressible_pages": self.stored_incompressible_pages,
            "pool_total_size": self.pool.pages() * PAGE_SIZE,
            "pool_limit_hit": self.pool_limit_hit,
            "written_back_pages": self.written_back_pages,
            "reject_reclaim_fail": self.reject_reclaim_fail,
            "reject_alloc_fail": self.reject_alloc_fail,
            "reject_kmemcache_fail": self.reject_kmemcache_fail,
            "reject_compress_fail": self.reject_compress_fail,
            "reject_compress_poor": self.reject_compress_poor,
            "decompress_fail": self.decompress_fail,
        }
