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

Speed: the paths run once per reclaim or fault batch, so each makes a fixed, small number of numpy
calls and no per-page Python beyond the zsmalloc pool's. An entry takes its zsmalloc object's handle
id as its id (the two are allocated and freed together); the LRU ring holds handles, so a freed
entry's slot goes stale by itself; tree heights come from per-tree entry counts kept here (with
tree 0's index spread); and the XArrayForest that models node counts, and the depth histogram, are
brought up to date from logged updates when read (`xa`, `depth_hist`), since updating the forest
per batch would cost more than the rest of a store.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

from swaptui.model.costs import COMPRESSOR_SCALE, DEFAULT_COSTS, CostTable
from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.xarray import XA_CHUNK_SIZE, XA_NODE_BYTES, XArrayForest, xa_height
from swaptui.model.zbud import ZBUD_MAX_ALLOC, ZbudPool
from swaptui.model.zpool import HANDLE_TAG, ID_MASK
from swaptui.model.zsmalloc import ZsPool

ZSWAP_ADDRESS_SPACE_SHIFT = 14  # one XArray per 64 MiB of swap
MAX_DEPTH = 8
# struct zswap_entry: swpentry 8 + length 4 + referenced 1 (+3 pad) + pool 8 + handle 8 + objcg 8
# + lru list_head 16 = 56 bytes, the object size of the zswap_entry kmem_cache on x86-64.
ZSWAP_ENTRY_BYTES = 56


_XA_LOG_MAX = 1 << 14  # logged keys before the forest is brought up to date (its leaf counts are int16)


class ZswapLru:
    """The zswap list_lru as a ring of the entries' zsmalloc handles: oldest at the tail, newest at the head.

    A ring slot is live iff its handle is still live in the pool: an entry stays on the list from
    its store until it is loaded, invalidated or written back, and freeing it makes its handle
    stale, so removal writes nothing to the ring. Writeback pops the entries it visits off the tail
    before it rotates any back to the head, so a live handle is never in two slots. Stale slots are
    skipped when the tail is read, and dropped when the ring is rebuilt.
    """

    def __init__(self, pool: ZsPool | ZbudPool, capacity: int = 1 << 10) -> None:
        self.pool = pool
        self.ring = np.zeros(capacity, dtype=np.int64)
        self.tail = 0
        self.head = 0
        self.nr = 0

    def __len__(self) -> int:
        return self.nr

    def _live(self, handles: np.ndarray) -> np.ndarray:
        return self.pool.h[handles & ID_MASK, HANDLE_TAG] == handles

    def _live_handles(self) -> np.ndarray:
        pos = np.arange(self.tail, self.head, dtype=np.int64)
        handles = self.ring[pos & (len(self.ring) - 1)]
        return handles[self._live(handles)]

    def live_tail_to_head(self) -> np.ndarray:
        """Every entry on the list (by entry id), oldest first (a whole-list pass)."""
        return self._live_handles() & ID_MASK

    def _rebuild(self, extra: int) -> None:
        """Compact out stale slots, keeping order, into a ring with room for `extra` more."""
        live = self._live_handles()
        cap = 1 << max(10, int(2 * (len(live) + extra) + 1024 - 1).bit_length())
        self.ring = np.zeros(cap, dtype=np.int64)
        self.tail = self.head = self.nr = 0
        self.add(live)

    def add(self, handles: np.ndarray) -> None:
        """zswap_lru_add: put entries (by handle) at the head, in order."""
        n = len(handles)
        if n == 0:
            return
        if self.head - self.tail + n > len(self.ring):
            self._rebuild(n)
        mask = len(self.ring) - 1
        start = self.head & mask
        if start + n <= len(self.ring):
            self.ring[start : start + n] = handles
        else:
            self.ring[np.arange(self.head, self.head + n, dtype=np.int64) & mask] = handles
        self.head += n
        self.nr += n

    def remove(self, n: int) -> None:
        """zswap_lru_del of n entries, wherever they are (their handles are going stale)."""
        self.nr -= n

    def peek_tail(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to n live entries from the tail, oldest first, as (ids, handles, ring positions); none removed."""
        mask = len(self.ring) - 1
        out_handles: list[np.ndarray] = []
        out_pos: list[np.ndarray] = []
        got, start = 0, self.tail
        while got < n and start < self.head:
            take = min(self.head - start, max(2 * (n - got), 64))
            pos = np.arange(start, start + take, dtype=np.int64)
            handles = self.ring[pos & mask]
            ok = np.flatnonzero(self._live(handles))[: n - got]
            out_handles.append(handles[ok])
            out_pos.append(pos[ok])
            got += len(ok)
            start += take
        if not out_handles:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        handles = np.concatenate(out_handles)
        return handles & ID_MASK, handles, np.concatenate(out_pos)

    def pop_through(self, pos: int, n: int) -> None:
        """Take the n live entries up to ring position pos off the tail."""
        self.tail = pos + 1
        self.nr -= n
        if self.nr == 0:
            self.tail = self.head = 0


class Zswap:
    """The zswap cache: entries by swap key, a zsmalloc pool, limits, LRU and writeback."""

    def __init__(
        self,
        totalram_pages: int,
        nr_keys: int,
        max_pool_percent: int = 20,
        accept_threshold_percent: int = 90,
        compressor: str = "lz4",
        shrinker_enabled: bool = True,
        costs: CostTable = DEFAULT_COSTS,
        index: str = "xarray",
        writeback: bool = True,
        shrink_loop: bool = True,
        zpool: str = "zsmalloc",
    ) -> None:
        """`writeback`: the pool can write entries back (zsmalloc from 6.2; kernels.BEHAVIOURS
        zsmalloc_writeback). `shrink_loop`: 6.5's shrink worker, queued on every store rejected while
        full and looping to the accept threshold; without it (6.1) only a store finding the pool at its
        limit queues the worker, which makes one zpool_shrink(pool, 1) attempt. `zpool`: the backend
        (zswap.zpool): zsmalloc, or zbud (2 objects a page; it can always write back)."""
        if index not in ("xarray", "descriptor"):
            raise ValueError(f"zswap index must be 'xarray' or 'descriptor', not {index!r}")
        if zpool not in ("zsmalloc", "zbud"):
            raise ValueError(f"zswap zpool must be 'zsmalloc' or 'zbud', not {zpool!r}")
        self.zpool = zpool
        self.costs = costs
        self.index = index
        self.compressor = compressor
        self.shrinker_enabled = shrinker_enabled
        self.writeback = writeback
        self.shrink_loop = shrink_loop
        self.max_pool_percent = max_pool_percent
        self.accept_threshold_percent = accept_threshold_percent
        self.max_pages = totalram_pages * max_pool_percent // 100  # zswap_max_pages
        self.accept_pages = self.max_pages * accept_threshold_percent // 100  # zswap_accept_thr_pages
        scale = COMPRESSOR_SCALE.get(compressor, 1.0)
        self.compress_ns = int(costs.zswap_compress * scale)
        self.decompress_ns = int(costs.zswap_decompress * scale)
        self.pool: ZsPool | ZbudPool = ZbudPool() if zpool == "zbud" else ZsPool()
        if zpool == "zbud":
            self.writeback = writeback = True  # zbud has had zbud_reclaim_page since 3.11
        # Until 6.5 the LRU was the pool's, and an evictable pool's objects began with struct
        # zswap_header (the swap entry, 8 bytes) for its evict handler to find the entry: v6.1
        # zswap_frontswap_store's `hlen = zpool_evictable(pool) ? sizeof(zhdr) : 0`. 6.5 removed it
        # with the LRU ("mm: zswap: remove zswap_header").
        self.zpool_lru = not shrink_loop
        self.header_bytes = 8 if self.zpool_lru and writeback else 0
        self.nr_keys = nr_keys
        self.entry_of = np.full(nr_keys, -1, dtype=np.int32)  # the tree: key -> entry id
        # An entry is allocated and freed with its zsmalloc object, so it takes the object's handle
        # id as its id: e_handle and e_length are the pool's handle and size columns.
        cap = 1024
        self.e_key = np.full(cap, -1, dtype=np.int64)
        self.e_referenced = np.zeros(cap, dtype=bool)
        self.lru = ZswapLru(self.pool)
        self._xa_log: list[tuple[np.ndarray, int]] = []  # (keys, +1 insert / -1 erase) not yet in _xa
        self._xa_logged = 0
        if index == "xarray":
            self._xa: XArrayForest | None = XArrayForest(nr_keys, ZSWAP_ADDRESS_SPACE_SHIFT, masked=False)
            # Trees are indexed by the full offset, so every index of tree t >= 1 has the same bit
            # length: the tree's height is fixed by its place. Tree 0's depends on its largest index.
            span = 1 << ZSWAP_ADDRESS_SPACE_SHIFT
            self.tree_height = np.array([xa_height(t * span) for t in range(self._xa.nr_trees)], dtype=np.int64)
        else:
            self._xa = None
            self.tree_height = np.zeros(1, dtype=np.int64)
        self.tree_entries = np.zeros(len(self.tree_height), dtype=np.int64)  # entries per tree
        self._tree0 = [0, 0, 0, 0]  # tree 0's entries at index 0, 1..63, 64..4095, 4096 and up
        self._hops_if_nonempty = self.tree_height.copy()  # [0] follows tree 0's largest index
        self._tree_hops = self._hops_if_nonempty.tolist()  # the same, for single lookups
        self._clip_depth = int(self.tree_height.max()) >= MAX_DEPTH
        self.reached_full = False  # zswap_pool_reached_full
        self.shrink_wanted = False  # shrink_worker queued: a store was rejected while full
        self.nr_disk_swapins = 0  # zswap_lruvec_state.nr_disk_swapins
        self.lookups = 0
        self.hops = 0
        self._depth_hist = np.zeros(MAX_DEPTH, dtype=np.int64)
        self._walk_log: list[tuple[np.ndarray, int]] = []  # (hops, times) not yet in _depth_hist
        self._walk_counts = [0] * MAX_DEPTH  # lookups by hops not yet in _depth_hist
        self._walk_logged = 0
        self.last_cost_ns = 0  # CPU of the last writeback_candidates call
        self._erased_raw = 0  # raw (PAGE_SIZE) entries among those the last _erase freed
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
    @property
    def e_handle(self) -> np.ndarray:
        """zsmalloc handle of each entry (by entry id; -1 for a free id)."""
        return self.pool.h_handle

    @property
    def e_length(self) -> np.ndarray:
        """Stored length of each entry (by entry id; meaningless for a free id)."""
        return self.pool.h_size

    def _fit_entries(self) -> None:
        """Grow the entry columns to the pool's handle table."""
        cap, new = len(self.e_key), len(self.pool.h)
        if new <= cap:
            return
        extra = new - cap
        self.e_key = np.concatenate([self.e_key, np.full(extra, -1, dtype=np.int64)])
        self.e_referenced = np.concatenate([self.e_referenced, np.zeros(extra, dtype=bool)])

    @property
    def depth_hist(self) -> np.ndarray:
        """Lookups by node hops (the last bin counts MAX_DEPTH - 1 and more)."""
        self._flush_walks()
        return self._depth_hist

    def _flush_walks(self) -> None:
        if any(self._walk_counts):
            self._depth_hist += np.array(self._walk_counts, dtype=np.int64)
            self._walk_counts = [0] * MAX_DEPTH
        log, self._walk_log, self._walk_logged = self._walk_log, [], 0
        for times in sorted({t for _, t in log}):
            hops = np.concatenate([h for h, t in log if t == times])
            if self._clip_depth:
                hops = np.minimum(hops, MAX_DEPTH - 1)
            self._depth_hist += times * np.bincount(hops, minlength=MAX_DEPTH)

    @property
    def xa(self) -> XArrayForest | None:
        """The zswap XArrays (None with index="descriptor"), brought up to date."""
        if self._xa_log:
            self._flush_xa()
        return self._xa

    def _flush_xa(self) -> None:
        """Apply the logged inserts, then the logged erases, to the forest (its counts are sums)."""
        xa = self._xa
        log, self._xa_log, self._xa_logged = self._xa_log, [], 0
        if xa is None:
            return
        for sign in (1, -1):
            parts = [k for k, s in log if s == sign]
            if parts:
                keys = np.concatenate(parts) if len(parts) > 1 else parts[0]
                (xa.insert if sign > 0 else xa.erase)(keys)

    def _tree_update(
        self, keys: np.ndarray, sign: int, one_tree: int = -1, trees: np.ndarray | None = None
    ) -> np.ndarray | int:
        """Count entries in (sign 1) or out (-1) of their trees, and log them for the forest.

        `one_tree` names the tree when the caller knows all keys share it and are in ascending
        order; `trees` may pass in keys >> ZSWAP_ADDRESS_SPACE_SHIFT. Returns each key's tree, or
        the one tree.
        """
        shift = ZSWAP_ADDRESS_SPACE_SHIFT
        in0: np.ndarray | None = None
        if one_tree >= 0:
            self.tree_entries[one_tree] += sign * len(keys)
            if one_tree == 0:
                sorted_keys = keys.tolist()
                t0 = self._tree0
                at64 = bisect_left(sorted_keys, XA_CHUNK_SIZE)
                at4096 = bisect_left(sorted_keys, XA_CHUNK_SIZE**2)
                at1 = 1 if sorted_keys[0] == 0 else 0
                for i, c in enumerate((at1, at64 - at1, at4096 - at64, len(sorted_keys) - at4096)):
                    t0[i] += sign * c
                self._tree0_height()
            result: np.ndarray | int = one_tree
        else:
            if trees is None:
                trees = keys >> shift
            per_tree = np.bincount(trees, minlength=len(self.tree_entries))
            if sign > 0:
                self.tree_entries += per_tree
            else:
                self.tree_entries -= per_tree
            if per_tree[0]:
                in0 = keys[trees == 0]
            result = trees
        if in0 is not None:
            t0 = self._tree0  # entries at index 0, 1..63, 64..4095, 4096 and up
            for k in in0.tolist():
                t0[0 if k == 0 else 1 if k < XA_CHUNK_SIZE else 2 if k < XA_CHUNK_SIZE**2 else 3] += sign
            self._tree0_height()
        self._xa_log.append((keys.copy(), sign))  # (callers may reuse their key arrays)
        self._xa_logged += len(keys)
        if self._xa_logged > _XA_LOG_MAX:
            self._flush_xa()
        return result

    def _tree0_height(self) -> None:
        """Tree 0 is as tall as its largest index needs: 1, 2 or 3 levels (0 for index 0 alone)."""
        t0 = self._tree0
        self._hops_if_nonempty[0] = self._tree_hops[0] = 3 if t0[3] else 2 if t0[2] else 1 if t0[1] else 0

    def _hops(self, trees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(node hops of xas_load, whether the tree holds anything) for a lookup in each tree."""
        nonempty = self.tree_entries[trees] > 0
        return self._hops_if_nonempty[trees] * nonempty, nonempty

    def _count_walks(self, hops: np.ndarray, times: int = 1) -> int:
        """Count `times` walks of these hops (each of the keys walked `times` times); returns one pass's hops."""
        n = len(hops)
        self.lookups += times * n
        if self._xa is None:
            self._walk_counts[0] += times * n
            return 0
        total = int(hops.sum())
        self.hops += times * total
        self._walk_log.append((hops, times))
        self._walk_logged += n
        if self._walk_logged > 1 << 16:
            self._flush_walks()
        return total

    def _count_same_walks(self, hops: int, n: int, times: int = 1) -> int:
        """_count_walks for n keys that all take `hops` hops (one tree); returns one pass's hops."""
        self.lookups += times * n
        total = hops * n
        self.hops += times * total
        self._walk_counts[min(hops, MAX_DEPTH - 1)] += times * n
        return total

    def _walk(self, keys: np.ndarray) -> int:
        """Tree walks for these keys: counts lookups and hops and returns their CPU cost."""
        if self._xa is None:
            return self._count_walks(keys)
        return self._count_walks(self._hops(keys >> ZSWAP_ADDRESS_SPACE_SHIFT)[0]) * self.costs.xa_hop

    def _heights(self, trees: np.ndarray) -> np.ndarray:
        """Node hops of xas_load in these trees (0 for an empty tree)."""
        if self._xa is None:
            return np.zeros(len(trees), dtype=np.int64)
        return self._hops(np.asarray(trees, dtype=np.int64))[0]

    def _erase(
        self, keys: np.ndarray, eids: np.ndarray | None = None, on_lru: bool = True, trees: np.ndarray | None = None
    ) -> int:
        """Erase and free the entries at these keys (all present): zswap_entry_free; returns CPU.

        `eids` (and `trees`, keys >> ZSWAP_ADDRESS_SPACE_SHIFT) may be passed when the caller has
        them; `on_lru` is False for entries the writeback walk has already taken off the LRU. The
        number of them stored raw is left in `_erased_raw`.
        """
        n = len(keys)
        if n == 0:
            self._erased_raw = 0
            return 0
        if eids is None:
            eids = self.entry_of[keys]
        nr_raw = self.pool._free_ids(eids)  # zs_free with the entry's handle; the entry goes with it
        self._erased_raw = nr_raw
        if on_lru:
            self.lru.remove(n)
        self.stored_incompressible_pages -= nr_raw
        self.stored_pages -= n
        self.entry_of[keys] = -1
        self.e_key[eids] = -1
        if self._xa is not None:
            self._tree_update(keys, -1, trees=trees)
        self._check_shrunk()
        return n * (self.costs.zs_free + self.costs.zswap_entry_alloc + self.costs.zswap_lru)

    def _check_shrunk(self) -> None:
        """shrink_worker stops once the pool is back at the accept threshold."""
        if self.shrink_wanted and self.pool.pages() <= self.accept_pages:
            self.shrink_wanted = False

    def _xa_lock_cost(self, keys: np.ndarray) -> int:
        """xa_lock for erases of these keys, skipped where the tree is empty (zswap_invalidate's xa_empty)."""
        if self._xa is None or len(keys) == 0:
            return 0
        nonempty = self.tree_entries[keys >> ZSWAP_ADDRESS_SPACE_SHIFT] > 0
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

    def store(
        self, keys: np.ndarray, csizes: np.ndarray, now: int = 0, max_new_pages: int | None = None, force: bool = False
    ) -> tuple[np.ndarray, int]:
        """zswap_store for order-0 pages at distinct keys with these compressed sizes; returns (stored, cost).

        The object zswap allocates is the compressed data plus, before 6.5 on an evictable pool, the
        8-byte zswap_header. On zbud an object over ZBUD_MAX_ALLOC (3968 bytes) is refused by
        zbud_alloc with -ENOSPC, which zswap counts as reject_compress_poor (v6.1
        zswap_frontswap_store); the page goes to the device. (The kernel checks the pool limit before
        it compresses, so while the pool is refusing stores such a page counts as a limit hit instead.)
        """
        if self.header_bytes:
            csizes = np.asarray(csizes, dtype=np.int64) + self.header_bytes
        if self.zpool != "zbud" or force or self._refusing():
            return self._store(keys, csizes, now, max_new_pages, force)
        sizes = np.asarray(csizes, dtype=np.int64)
        poor = (sizes <= 0) | (sizes > ZBUD_MAX_ALLOC)
        nr_poor = int(np.count_nonzero(poor))
        if nr_poor == 0:
            return self._store(keys, sizes, now, max_new_pages, force)
        keys = np.asarray(keys, dtype=np.int64)
        stored = np.zeros(len(keys), dtype=bool)
        cost = nr_poor * self.compress_ns
        stale = keys[poor][self.entry_of[keys[poor]] >= 0]  # the old copy goes before compression
        if len(stale):
            cost += self._walk(stale) + self._xa_lock_cost(stale) + self._erase(stale)
        self.reject_compress_poor += nr_poor
        fits, fit_cost = self._store(keys[~poor], sizes[~poor], now, max_new_pages, force)
        stored[~poor] = fits
        return stored, cost + fit_cost

    def _refusing(self) -> bool:
        """Whether the next store's zswap_check_limits would refuse it (at the limit, or not yet back under
        the accept threshold after reaching it)."""
        cur = self.pool.pages()
        return cur >= self.max_pages or (self.reached_full and cur > self.accept_pages)

    def _store(
        self, keys: np.ndarray, csizes: np.ndarray, now: int = 0, max_new_pages: int | None = None, force: bool = False
    ) -> tuple[np.ndarray, int]:
        """store's batch: objects of these sizes (the header included) at distinct keys, in order.

        Each key is one store, checked against the limits in order. `max_new_pages`, when given, is
        how many pages zs_malloc may take from the page allocator (it allocates GFP_NOWAIT): the
        store that would exceed it and all later ones in the batch fail with reject_alloc_fail.
        `now` is accepted for symmetry with the other paths; entries keep no timestamps. `force` skips the
        limits: the writeback path puts back entries it took but could not write (their only copy).
        """
        keys = np.asarray(keys, dtype=np.int64)
        n = len(keys)
        if n == 0:
            return np.zeros(0, dtype=bool), 0
        # Keys in ascending order (a run of slots, the usual case) are distinct without a set.
        ascending = n == 1 or np.count_nonzero(keys[1:] > keys[:-1]) == n - 1
        if not ascending and len(set(keys.tolist())) != n:
            raise ValueError("zswap store: keys in one batch must be distinct")
        cost = 0
        # A stale entry (the folio was redirtied) is freed whether the new store succeeds or not.
        old = self.entry_of[keys]
        if np.count_nonzero(old >= 0):
            stale = keys[old >= 0]
            cost += self._walk(stale) + self._xa_lock_cost(stale) + self._erase(stale)
        at_max = False  # a check found the pool at its limit (zswap_is_full), not only the hysteresis
        if not force and self._check_limits():
            ok = 0
            at_max = self.pool.pages() >= self.max_pages
            if at_max:
                self.pool_limit_hit += n - 1  # rejections free nothing: every later check hits too
        else:
            # Recent kernels store what does not compress below PAGE_SIZE as is (length PAGE_SIZE).
            length_array = np.asarray(csizes, dtype=np.int64)
            lengths = length_array.tolist()
            if min(lengths) <= 0 or max(lengths) > PAGE_SIZE:  # (PAGE_SIZE itself stays PAGE_SIZE)
                c = length_array
                length_array = np.where((c <= 0) | (c >= PAGE_SIZE), PAGE_SIZE, c)
                lengths = length_array.tolist()
            # zs_malloc in order, stopping at the first store that finds the pool at its limit
            # (zswap_check_limits) or that needs more pages than it may take.
            pages_before = self.pool.pages()
            eids, handles, by_alloc = self.pool._malloc(
                length_array, lengths, None if force else self.max_pages, None if force else max_new_pages, checked=True
            )
            ok = len(eids)
            if ok:
                nr_raw = (lengths if ok == n else lengths[:ok]).count(PAGE_SIZE)
                new_pages = max(0, self.pool.pages() - pages_before)
                # Ascending keys in one tree (a run of slots from one cluster) need no per-key walk.
                one_tree = -1
                if ascending:
                    first = int(keys[0]) >> ZSWAP_ADDRESS_SPACE_SHIFT
                    if first == int(keys[ok - 1]) >> ZSWAP_ADDRESS_SPACE_SHIFT:
                        one_tree = first
                stored_keys = keys[:ok] if ok < n else keys
                cost += self._store_pages(stored_keys, eids, handles, nr_raw, new_pages, one_tree)
            if by_alloc:
                self.reject_alloc_fail += n - ok
            elif ok < n:
                self.pool_limit_hit += n - ok
                self.reached_full = at_max = True
        if ok == n:
            return np.ones(n, dtype=bool), cost
        stored = np.zeros(n, dtype=bool)
        stored[:ok] = True
        if ok < n:
            rejected = keys[ok:]
            if self.reached_full and (self.shrink_loop or at_max):
                self.shrink_wanted = True  # queue_work(shrink_wq, &zswap_shrink_work)
            cost += self._walk(rejected) + self._xa_lock_cost(rejected)  # check_old's xa_erase
        return stored, cost

    def _store_pages(
        self, keys: np.ndarray, eids: np.ndarray, handles: np.ndarray, nr_raw: int, new_pages: int, one_tree: int = -1
    ) -> int:
        """zswap_store_page for each key, its object allocated (eids, handles): xa_store, LRU add; returns CPU."""
        n = len(keys)
        self._fit_entries()
        self.e_key[eids] = keys
        self.e_referenced[eids] = True
        self.entry_of[keys] = eids
        self.lru.add(handles)
        self.stored_pages += n
        self.stored_incompressible_pages += nr_raw
        self.zswpout += n
        cost = n * (self.compress_ns + self.costs.zswap_entry_alloc + self.costs.zs_malloc + self.costs.zswap_lru)
        cost += nr_raw * self.costs.zswap_copy_page + new_pages * self.costs.buddy_page
        if self._xa is not None:
            trees = self._tree_update(keys, 1, one_tree)
            # Every tree walked now holds an entry.
            if isinstance(trees, int):
                total = self._count_same_walks(self._tree_hops[trees], n)
            else:
                total = self._count_walks(self._hops_if_nonempty[trees])
            cost += total * self.costs.xa_hop + n * self.costs.xa_lock
        else:
            self._count_walks(keys)
        return cost

    def load(self, keys: np.ndarray) -> tuple[np.ndarray, int]:
        """zswap_load of distinct keys, exclusive since 6.9: each hit is decompressed, erased and freed."""
        keys = np.asarray(keys, dtype=np.int64)
        n = len(keys)
        if n == 0:
            return np.zeros(0, dtype=bool), 0
        eids = self.entry_of[keys]
        hit = eids >= 0
        nr_hit = int(np.count_nonzero(hit))
        indexed = self._xa is not None
        trees = None
        if not indexed:
            hops = keys
        elif nr_hit == n:
            trees = keys >> ZSWAP_ADDRESS_SPACE_SHIFT
            hops = self._hops_if_nonempty[trees]  # every key's tree holds its entry
        else:
            hops = self._hops(keys >> ZSWAP_ADDRESS_SPACE_SHIFT)[0]
        if nr_hit == n:
            # xa_load under RCU, then xa_erase: the same walks twice.
            cost = 2 * self._count_walks(hops, 2) * self.costs.xa_hop
            found = keys
        else:
            cost = self._count_walks(hops) * self.costs.xa_hop
            if nr_hit == 0:
                return hit, cost
            found, eids = keys[hit], eids[hit]
            cost += self._count_walks(hops[hit]) * self.costs.xa_hop
        if indexed:
            cost += nr_hit * self.costs.xa_lock
        cost += self._erase(found, eids, trees=trees)
        raw = self._erased_raw
        cost += raw * self.costs.zswap_copy_page + (nr_hit - raw) * self.decompress_ns
        self.zswpin += nr_hit
        return hit, cost

    def invalidate(self, keys: np.ndarray) -> int:
        """zswap_invalidate on slot free: erase and free whatever entries these keys hold; returns cost."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return 0
        cost = 0
        if self._xa is not None:
            hops, nonempty = self._hops(keys >> ZSWAP_ADDRESS_SPACE_SHIFT)
            nr_nonempty = int(np.count_nonzero(nonempty))
            cost = nr_nonempty * self.costs.xa_lock  # xa_empty skips the lock
            if nr_nonempty:
                walked = hops if nr_nonempty == len(keys) else hops[nonempty]
                cost += self._count_walks(walked) * self.costs.xa_hop
        present = self.entry_of[keys] >= 0
        if not np.count_nonzero(present):
            return cost
        return cost + self._erase(np.unique(keys[present]))

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

    def writeback_candidates(
        self, n: int, max_writeback: int | None = None, in_swapcache: np.ndarray | None = None
    ) -> np.ndarray:
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
            eids, handles, pos = self.lru.peek_tail(n - visited)
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
            eids, handles, ref, hot = eids[:stop], handles[:stop], ref[:stop], hot[:stop]
            self.lru.pop_through(int(pos[stop - 1]), stop)
            visited += stop
            self.e_referenced[eids[ref]] = False
            self.lru.add(handles[ref | hot])  # rotated: the second chance, and the warm entry
            cost += stop * self.costs.zswap_lru
            wb = eids[~ref & ~hot]
            if len(wb):
                keys = self.e_key[wb]
                raw = int(np.count_nonzero(self.e_length[wb] == PAGE_SIZE))
                cost += raw * self.costs.zswap_copy_page + (len(wb) - raw) * self.decompress_ns
                cost += self._walk(keys) + self._xa_lock_cost(keys)
                cost += self._erase(keys, on_lru=False)  # already off the LRU: popped above
                chosen.append(keys)
                nr_chosen += len(keys)
                self.zswpwb += len(keys)
                self.written_back_pages += len(keys)
            if hot_stop:
                break
        self.last_cost_ns = cost
        return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)

    def zpool_shrink(self, budget: int, in_swapcache: np.ndarray | None = None) -> np.ndarray:
        """shrink_worker before 6.5 on zbud: zpool_shrink(pool, 1) = zbud_reclaim_page(pool, 8), whose evict
        handler is zswap_writeback_entry; returns the keys written back, for the caller to write out.

        v6.1 zswap_writeback_entry fails with -EEXIST when the slot's folio is already in the swap cache,
        and with -ENOMEM when no page can be had for the new swap-cache folio (`budget` is how many can);
        zbud then puts the page back and tries the next. When no page is freed, shrink_worker counts
        reject_reclaim_fail. Entries carry no referenced bit here: the LRU is of zbud pages.
        """
        pool = self.pool
        if not isinstance(pool, ZbudPool):
            raise TypeError("zpool_shrink walks a zbud pool's page LRU")
        written: list[int] = []
        cost = 0

        def evict(hid: int) -> bool:
            nonlocal cost
            key = int(self.e_key[hid])
            if key < 0:
                return True  # invalidated meanwhile: zswap_writeback_entry finds no entry and returns 0
            if in_swapcache is not None and in_swapcache[key]:
                return False  # -EEXIST
            if len(written) >= budget:
                return False  # -ENOMEM
            keys = np.array([key], dtype=np.int64)
            cost += self.decompress_ns + self._walk(keys) + self._xa_lock_cost(keys) + self._erase(keys)
            written.append(key)
            return True

        if not pool.reclaim_page(evict):
            self.reject_reclaim_fail += 1
        cost += len(written) * self.costs.zswap_lru
        self.zswpwb += len(written)
        self.written_back_pages += len(written)
        self.last_cost_ns = cost
        return np.array(written, dtype=np.int64)

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
