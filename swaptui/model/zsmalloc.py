"""zsmalloc (mm/zsmalloc.c, 6.6+): size classes, zspages, fullness groups and compaction.

The pool is kept as the kernel keeps it, without a Python object per object. Each distinct size
class numbers its zspages (rows) and keeps, per row, a bitmap of free object slots (the fullness
group follows from its count) and its fullness-list entry; the class's object slots are a segment
of one pool-wide arena holding the handle id stored in each. A fullness list is LIFO in the kernel
(insert_zspage does list_add, find_get_zspage takes the first entry); here each list is a stack of
entries stamped when pushed, the live entry of a row being the one of its last fullness change, so
the head of a group is its live entry nearest the top (stale entries are skipped, and pruned when a
stack grows to twice its group).

Handles are what zs_malloc returns: stable across compaction (the kernel's handle is a slab word
that records the object's current location), so a handle names a row of a handle table holding
(class, zspage, object index). A handle value is `generation << 32 | id`; freeing an id bumps its
generation, so a stale handle never resolves to the object that reuses its id.

A batch is the same calls made one by one, in order (a test checks this). Reclaim's batches are
tens to hundreds of objects spread over dozens of classes, so per-class numpy work would cost a
dozen numpy calls per one or two objects; instead the per-object steps are integer operations on
Python lists (a few hundred nanoseconds each), and the handle table and arena are numpy arrays
read and written a whole batch at a time, in a fixed handful of numpy calls.
Simplification [inf]: within a zspage the lowest free object index is used (the kernel pops a
LIFO freelist; which slot an object takes is invisible to everything modelled here).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.zpool import _LOC, _SIZE, _TAG, ID_MASK, ZpoolBackend

ZS_ALIGN = 8
ZS_HANDLE_SIZE = 8  # the handle is kept in the object's first word (page->index for huge zspages)
ZS_MIN_ALLOC_SIZE = 32
ZS_MAX_ALLOC_SIZE = PAGE_SIZE
CLASS_BITS = 8
ZS_SIZE_CLASS_DELTA = PAGE_SIZE >> CLASS_BITS  # 16 bytes
ZS_SIZE_CLASSES = -(-(ZS_MAX_ALLOC_SIZE - ZS_MIN_ALLOC_SIZE) // ZS_SIZE_CLASS_DELTA) + 1  # 255
ZS_MAX_PAGES_PER_ZSPAGE = 8  # CONFIG_ZSMALLOC_CHAIN_SIZE default (6.3+; 4 before)

ZS_INUSE_RATIO_0 = 0
ZS_INUSE_RATIO_10 = 1
ZS_INUSE_RATIO_99 = 10
ZS_INUSE_RATIO_100 = 11
NR_FULLNESS_GROUPS = 12

_FREE_ROW = -1  # a row of a class that holds no zspage
_ID_MASK = ID_MASK
# A handle's location packs (class slot, row, object index) as slot << _LOC_SLOT | row << _LOC_ROW | obj.
_LOC_ROW = 8  # object indices fit in 8 bits (at most 256 objects per zspage)
_LOC_SLOT = 40  # rows fit in 32 bits
_OBJ_MASK = (1 << _LOC_ROW) - 1
_ROW_MASK = (1 << (_LOC_SLOT - _LOC_ROW)) - 1
# The handle table (zpool.ZpoolBackend): h[handle & ID_MASK, HANDLE_TAG] == handle iff live.
CLASS_STATS_COLUMNS = (
    "size",
    "objs_per_zspage",
    "pages_per_zspage",
    "zspages",
    "objs_allocated",
    "objs_used",
    "freeable",
)
"""The columns of ZsPool.class_stats(), as debugfs zsmalloc/<pool>/classes names them."""


def get_size_class_index(size: np.ndarray) -> np.ndarray:
    """Class index for allocations of `size` bytes (handle included), as get_size_class_index()."""
    s = np.asarray(size, dtype=np.int64)
    idx = -(-(s - ZS_MIN_ALLOC_SIZE) // ZS_SIZE_CLASS_DELTA)
    return np.clip(idx, 0, ZS_SIZE_CLASSES - 1)


def calculate_zspage_chain_size(class_size: int, max_pages: int = ZS_MAX_PAGES_PER_ZSPAGE) -> int:
    """Pages per zspage for a class: the chain length with the least tail waste (first one on ties)."""
    if class_size & (class_size - 1) == 0:
        return 1
    best, min_waste = 1, PAGE_SIZE * max_pages
    for i in range(1, max_pages + 1):
        waste = (i * PAGE_SIZE) % class_size
        if waste < min_waste:
            best, min_waste = i, waste
    return best


def fullness_group(inuse: np.ndarray, objs_per_zspage: int) -> np.ndarray:
    """ZS_INUSE_RATIO_* group of zspages with these inuse counts (get_fullness_group)."""
    inuse = np.asarray(inuse, dtype=np.int64)
    group = (100 * inuse // objs_per_zspage) // 10 + 1
    group = np.where(inuse == objs_per_zspage, ZS_INUSE_RATIO_100, group)
    return np.where(inuse == 0, ZS_INUSE_RATIO_0, group).astype(np.int8)


class SizeClassTable:
    """The pool's size classes after zs_create_pool merges classes of identical shape."""

    def __init__(self, max_pages_per_zspage: int = ZS_MAX_PAGES_PER_ZSPAGE) -> None:
        self.max_pages_per_zspage = max_pages_per_zspage
        index_to_slot = np.zeros(ZS_SIZE_CLASSES, dtype=np.int64)
        kept: list[tuple[int, int, int, int]] = []  # (index, size, pages, objs), largest first
        huge_class_size = 0
        for i in range(ZS_SIZE_CLASSES - 1, -1, -1):
            size = min(ZS_MIN_ALLOC_SIZE + i * ZS_SIZE_CLASS_DELTA, ZS_MAX_ALLOC_SIZE)
            pages = calculate_zspage_chain_size(size, max_pages_per_zspage)
            objs = pages * PAGE_SIZE // size
            if pages != 1 and objs != 1 and not huge_class_size:
                # The kernel records the largest non-huge class, less the handle it adds back.
                huge_class_size = size - (ZS_HANDLE_SIZE - 1)
            if kept and kept[-1][2] == pages and kept[-1][3] == objs:
                index_to_slot[i] = len(kept) - 1
                continue
            kept.append((i, size, pages, objs))
            index_to_slot[i] = len(kept) - 1
        kept.reverse()
        nr = len(kept)
        self.index_to_slot = (nr - 1 - index_to_slot).astype(np.int64)  # slots in ascending size
        self.index = np.array([k[0] for k in kept], dtype=np.int64)
        self.size = np.array([k[1] for k in kept], dtype=np.int64)
        self.pages_per_zspage = np.array([k[2] for k in kept], dtype=np.int64)
        self.objs_per_zspage = np.array([k[3] for k in kept], dtype=np.int64)
        self.huge = (self.pages_per_zspage == 1) & (self.objs_per_zspage == 1)
        self.huge_class_size = huge_class_size  # zs_huge_class_size(): objects this big get a page

    def __len__(self) -> int:
        return len(self.index)

    def slot_of(self, size: np.ndarray) -> np.ndarray:
        """Distinct class (position in this table) that zs_malloc(size) allocates from."""
        return self.index_to_slot[get_size_class_index(np.asarray(size, dtype=np.int64) + ZS_HANDLE_SIZE)]


class SizeClass:
    """One size class: its zspages as rows of per-row lists, with LIFO fullness lists and stats.

    Per row: `free_mask` (bit i set = object slot i free; 0 when full) and `key` (stamp << 32 | row
    of its last fullness-list entry; -1 when freed or isolated). A row's fullness group follows
    from its free-slot count (`group_by_free`); rows holding no zspage are in `free_rows`.
    `stacks[g]` holds the entries pushed onto group g's list (groups _10.._99), oldest first; an
    entry is live iff it is its row's key. When the list head leaves its group through an
    allocation, its entry (on top of the stack) is popped at once; other moves leave stale entries
    behind, skipped when met. Stamps come from one pool-wide counter, so only their order matters.
    The class's object slots are a segment of the pool's arena, row after row from `seg`.
    """

    def __init__(
        self,
        index: int,
        size: int,
        pages_per_zspage: int,
        objs_per_zspage: int,
        slot: int = 0,
        pool: ZsPool | None = None,
    ) -> None:
        self.index = index
        self.size = size
        self.pages_per_zspage = pages_per_zspage
        self.objs_per_zspage = objs_per_zspage
        self.slot = slot  # position in the pool's class list
        self.pool = pool
        self.nrows = 0
        self.free_mask: list[int] = []
        self.key: list[int] = []
        self.stacks: list[list[int]] = [[] for _ in range(NR_FULLNESS_GROUPS)]
        self.fg = [0] * NR_FULLNESS_GROUPS  # zspages per fullness group
        self.free_rows: list[int] = []
        self.zspages = 0
        self.best = -1  # the head of the fullest non-full group, while known (-1: look it up)
        objs = objs_per_zspage
        # Fullness group of a zspage by its number of free slots.
        self.group_by_free = fullness_group(objs - np.arange(objs + 1), objs).tolist()
        # The non-full groups a zspage of this class can be in, fullest first (few for few objects).
        self.nonfull_desc = tuple(sorted(set(self.group_by_free[1:objs]), reverse=True))
        self.all_free = (1 << objs) - 1
        self.loc_base = slot << _LOC_SLOT
        self.seg = 0  # arena address of row 0's object 0
        self.seg_rows = 0  # rows the segment has room for

    # -- array views (statistics and tests; not used on the hot paths) ------------------------------
    @property
    def objs_used(self) -> int:
        """Objects in use in this class."""
        return int(self.pool.class_used[self.slot]) if self.pool is not None else 0

    @property
    def fullness(self) -> np.ndarray:
        """Fullness group of each row; _FREE_ROW for a row holding no zspage."""
        gbf, free = self.group_by_free, set(self.free_rows)
        return np.array(
            [_FREE_ROW if r in free else gbf[m.bit_count()] for r, m in enumerate(self.free_mask)], dtype=np.int8
        )

    @property
    def inuse(self) -> np.ndarray:
        """Objects in use in each row."""
        objs, free = self.objs_per_zspage, set(self.free_rows)
        return np.array(
            [0 if r in free else objs - m.bit_count() for r, m in enumerate(self.free_mask)], dtype=np.int32
        )

    @property
    def stamp(self) -> np.ndarray:
        """List stamp of each row (when it last changed group); -1 for a row on no list."""
        listed = (self.fullness >= ZS_INUSE_RATIO_10) & (self.fullness <= ZS_INUSE_RATIO_99)
        return np.where(listed, np.array([k >> 32 for k in self.key], dtype=np.int64), -1)

    @property
    def objs(self) -> np.ndarray:
        """Handle id in each object slot of each row, -1 where free."""
        objs, nrows = self.objs_per_zspage, self.nrows
        out = np.full((nrows, objs), -1, dtype=np.int64)
        if nrows == 0 or self.pool is None:
            return out
        held = self.pool.owner[self.seg : self.seg + nrows * objs].reshape(nrows, objs)
        nbytes = (objs + 7) // 8
        packed = np.frombuffer(b"".join(m.to_bytes(nbytes, "little") for m in self.free_mask), dtype=np.uint8)
        free = np.unpackbits(packed.reshape(nrows, nbytes), axis=1, bitorder="little")[:, :objs].astype(bool)
        free[self.free_rows] = True
        out[~free] = held[~free]
        return out

    def objs_allocated(self) -> int:
        """ZS_OBJS_ALLOCATED: object slots in this class's zspages."""
        return self.zspages * self.objs_per_zspage

    def can_compact(self) -> int:
        """zs_can_compact: pages that compaction could free in this class."""
        wasted = self.zspages * self.objs_per_zspage - self.objs_used
        return max(0, wasted) // self.objs_per_zspage * self.pages_per_zspage

    # -- zspages and fullness lists ----------------------------------------------------------------
    def new_row(self) -> int:
        """alloc_zspage: a row for a new, empty zspage (counted in group _0 until its first object)."""
        if self.free_rows:
            row = self.free_rows.pop()
        else:
            row = self.nrows
            if row == self.seg_rows:
                self._grow_segment()
            self.nrows += 1
            self.free_mask.append(0)
            self.key.append(-1)
        self.free_mask[row] = self.all_free
        self.fg[ZS_INUSE_RATIO_0] += 1
        self.zspages += 1
        return row

    def _grow_segment(self) -> None:
        """Move the class's slots to a segment twice as big at the end of the arena."""
        pool = self.pool
        assert pool is not None
        objs = self.objs_per_zspage
        cap = max(8, 2 * self.seg_rows)
        start = pool.arena_top
        pool.arena_top += cap * objs
        if pool.arena_top > len(pool.owner):
            grow = max(pool.arena_top, 2 * len(pool.owner)) - len(pool.owner)
            pool.owner = np.concatenate([pool.owner, np.zeros(grow, dtype=np.int64)])
        used = self.seg_rows * objs
        if used:
            pool.owner[start : start + used] = pool.owner[self.seg : self.seg + used]
            pool.relocated = True  # arena addresses computed before now are stale
        self.seg, self.seg_rows = start, cap

    def prune(self, g: int) -> None:
        """Drop the stale entries of group g's stack, keeping list order."""
        key = self.key
        self.stacks[g][:] = [e for e in self.stacks[g] if key[e & _ID_MASK] == e]

    def putback(self, row: int) -> int:
        """putback_zspage for an isolated row: to the head of its group's list; returns the group."""
        pool = self.pool
        assert pool is not None
        g = self.group_by_free[self.free_mask[row].bit_count()]
        fg = self.fg
        fg[g] += 1
        e = (pool.next_stamp << 32) | row
        pool.next_stamp += 1
        self.key[row] = e
        if ZS_INUSE_RATIO_10 <= g <= ZS_INUSE_RATIO_99:
            st = self.stacks[g]
            st.append(e)
            if len(st) > 2 * fg[g] + 64:
                self.prune(g)
        return g

    def release(self, row: int) -> int:
        """free_zspage for a row listed in group _0; returns pages released."""
        self.fg[ZS_INUSE_RATIO_0] -= 1
        self.key[row] = -1
        self.free_mask[row] = 0
        self.free_rows.append(row)
        self.zspages -= 1
        return self.pages_per_zspage

    def find_get_zspage(self) -> int:
        """The first zspage of the fullest non-full group, or -1 when every such group is empty."""
        fg, key, stacks = self.fg, self.key, self.stacks
        for g in self.nonfull_desc:
            if fg[g]:
                st = stacks[g]
                while True:
                    e = st[-1]
                    row = e & _ID_MASK
                    if key[row] == e:
                        return row
                    st.pop()
        return -1

    def isolate(self, groups: range) -> int:
        """Take the head of the first non-empty group of `groups` off its list; -1 if all are empty."""
        fg, key, stacks = self.fg, self.key, self.stacks
        for g in groups:
            if fg[g]:
                st = stacks[g]
                while True:
                    e = st.pop()
                    row = e & _ID_MASK
                    if key[row] == e:
                        break
                fg[g] -= 1
                key[row] = -1
                return row
        return -1

    def compact(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """__zs_compact: move objects from the sparsest zspages into the fullest.

        Returns (pages freed, moved handle ids, their new rows, their new object indices).
        """
        pool = self.pool
        assert pool is not None
        self.best = -1
        objs = self.objs_per_zspage
        masks = self.free_mask
        sparsest_first = range(ZS_INUSE_RATIO_10, ZS_INUSE_RATIO_100)
        fullest_first = range(ZS_INUSE_RATIO_99, ZS_INUSE_RATIO_0, -1)
        freed = 0
        moved_ids: list[np.ndarray] = []
        moved_rows: list[np.ndarray] = []
        moved_objs: list[np.ndarray] = []
        dst = -1
        while self.can_compact():
            if dst < 0:
                dst = self.isolate(fullest_first)
                if dst < 0:
                    break
            src = self.isolate(sparsest_first)
            if src < 0:
                break
            src_free, dst_free = masks[src].bit_count(), masks[dst].bit_count()
            nmove = min(dst_free, objs - src_free)
            s_obj = _low_bits(~masks[src] & self.all_free, nmove)
            d_obj = _low_bits(masks[dst], nmove)
            d_objs = np.array(d_obj, dtype=np.int64)
            ids = pool.owner[self.seg + src * objs + np.array(s_obj, dtype=np.int64)]
            pool.owner[self.seg + dst * objs + d_objs] = ids
            masks[src] |= sum(1 << o for o in s_obj)
            masks[dst] &= ~sum(1 << o for o in d_obj)
            moved_ids.append(ids)
            moved_rows.append(np.full(nmove, dst, dtype=np.int64))
            moved_objs.append(d_objs)
            if self.putback(src) == ZS_INUSE_RATIO_0:
                freed += self.release(src)
            if masks[dst] == 0:
                self.putback(dst)
                dst = -1
        if dst >= 0:
            self.putback(dst)
        if not moved_ids:
            empty = np.zeros(0, dtype=np.int64)
            return freed, empty, empty, empty
        return freed, np.concatenate(moved_ids), np.concatenate(moved_rows), np.concatenate(moved_objs)


def _low_bits(mask: int, n: int) -> list[int]:
    """Positions of the n lowest set bits of mask, lowest first."""
    out = []
    for _ in range(n):
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class ZsPool(ZpoolBackend):
    """A zsmalloc pool: batched zs_malloc/zs_free over size classes, with zs_compact and statistics.

    The handle table `h` has one row per handle id: the object's location (class slot << _LOC_SLOT |
    row << _LOC_ROW | object index), the size asked for, and a tag: the live handle, or for a free id
    ~(the handle its next allocation returns: its last one, one generation on).
    """

    def __init__(self, max_pages_per_zspage: int = ZS_MAX_PAGES_PER_ZSPAGE) -> None:
        self.table = SizeClassTable(max_pages_per_zspage)
        t = self.table
        self.classes = [
            SizeClass(int(t.index[k]), int(t.size[k]), int(t.pages_per_zspage[k]), int(t.objs_per_zspage[k]), k, self)
            for k in range(len(t))
        ]
        self.huge_class_size = t.huge_class_size
        # zs_malloc(size) allocates from slot_by_size[size], for 1 <= size <= ZS_MAX_ALLOC_SIZE.
        self.slot_by_size = t.slot_of(np.arange(ZS_MAX_ALLOC_SIZE + 1)).tolist()
        self.pages_allocated = 0  # zs_get_total_pages
        self.pages_compacted = 0  # zs_pool_stats
        self.objs_compacted = 0  # objects zs_compact moved (its cost is per object)
        self.pages_delta = 0  # pages gained (+) or returned (-) since take_pages_delta()
        self.obj_bytes = 0  # sum of the sizes callers asked for, of live objects
        self.nr_objs = 0
        self.next_stamp = 0  # fullness-list stamps, pool-wide
        self._class_used = np.zeros(len(t), dtype=np.int64)  # objects in use per class, but for:
        self._used_log: list[tuple[np.ndarray, int]] = []  # (locations, +1 allocated / -1 freed)
        self._used_logged = 0
        self.owner = np.zeros(1024, dtype=np.int64)  # the arena: handle id in each used object slot
        self.arena_top = 0  # arena slots handed to class segments so far
        self.relocated = False  # a segment moved during the current malloc
        self._init_handles(64)

    @property
    def class_used(self) -> np.ndarray:
        """Objects in use per class."""
        if self._used_log:
            self._flush_used()
        return self._class_used

    def _log_used(self, rows: np.ndarray, sign: int) -> None:
        """Count the objects of these handle-table rows in (sign 1) or out of their classes, when next asked."""
        self._used_log.append((rows, sign))
        self._used_logged += len(rows)
        if self._used_logged > 1 << 16:
            self._flush_used()

    def _flush_used(self) -> None:
        log, self._used_log, self._used_logged = self._used_log, [], 0
        nr = len(self._class_used)
        for sign in (1, -1):
            parts = [rows for rows, s in log if s == sign]
            if parts:
                slots = np.concatenate(parts)[:, _LOC] >> _LOC_SLOT
                self._class_used += sign * np.bincount(slots, minlength=nr)

    # -- handles (zpool.ZpoolBackend) ----------------------------------------------------------
    def _slot_row_obj(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        loc = self.h[ids, _LOC]
        return loc >> _LOC_SLOT, (loc >> _LOC_ROW) & _ROW_MASK, loc & _OBJ_MASK

    # -- zs_malloc / zs_free --------------------------------------------------------------------
    def malloc_until(
        self, sizes: np.ndarray, max_pages: int | None = None, max_new_pages: int | None = None
    ) -> tuple[np.ndarray, bool]:
        """zs_malloc for each size in order, stopping before the first that would go over a limit.

        An allocation is not made when the pool already holds `max_pages` pages or more, nor when
        it would take the pages gained in this call from the page allocator past `max_new_pages`.
        Returns (handles of the allocations made, whether `max_new_pages` was what stopped it).
        """
        sizes = np.asarray(sizes, dtype=np.int64)
        _, handles, by_alloc = self._malloc(sizes, sizes.tolist(), max_pages, max_new_pages)
        return handles.copy(), by_alloc

    def _malloc(
        self,
        size_array: np.ndarray,
        sizes: list[int],
        max_pages: int | None,
        max_new_pages: int | None,
        checked: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """malloc_until on int64 sizes, also given as a list (in range when `checked`).

        Returns (ids, handles, whether max_new_pages stopped it).
        """
        n = len(sizes)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, False
        if not checked and (min(sizes) <= 0 or max(sizes) > ZS_MAX_ALLOC_SIZE):
            raise ValueError("zs_malloc size must be in 1..ZS_MAX_ALLOC_SIZE")
        unlimited = 1 << 62
        stop_pages = unlimited if max_pages is None else max_pages - self.pages_allocated
        new_budget = unlimited if max_new_pages is None else max_new_pages
        classes = self.classes
        slot_by_size = self.slot_by_size
        out: list[int] = []  # location and arena address of each object, in turn
        put = out.append
        added = 0
        by_alloc = False
        stamp = self.next_stamp
        todo = iter(sizes if stop_pages > 0 else ())
        for size in todo:
            c = classes[slot_by_size[size]]
            masks = c.free_mask
            row = c.best
            if row >= 0:
                m = masks[row]
                old = c.group_by_free[m.bit_count()]
            else:
                # find_get_zspage: the live entry nearest the top of the fullest non-empty group.
                fg = c.fg
                for old in c.nonfull_desc:
                    if fg[old]:
                        st = c.stacks[old]
                        key = c.key
                        while True:
                            e = st[-1]
                            row = e & 0xFFFFFFFF
                            if key[row] == e:
                                break
                            st.pop()
                        break
                else:
                    if added + c.pages_per_zspage > new_budget:
                        by_alloc = True
                        break
                    row = c.new_row()
                    old = 0
                    added += c.pages_per_zspage
                    if added >= stop_pages:  # the pool is at its limit for the next allocation
                        deque(todo, maxlen=0)  # this object is the last
                m = masks[row]
            low = m & -m
            m ^= low
            masks[row] = m
            obj = low.bit_length() - 1
            put(c.loc_base | (row << 8) | obj)
            put(c.seg + row * c.objs_per_zspage + obj)
            # The zspage was the head of its list, its live entry on top of the stack (old is 0
            # only for a new zspage, on no list).
            if not m:  # full: off the lists (group _100 is never searched)
                fg = c.fg
                fg[old] -= 1
                fg[11] += 1
                if old:
                    c.stacks[old].pop()
                c.best = -1
                continue
            # Otherwise it is now the head of the fullest non-full group, whether or not it moved up.
            c.best = row
            g = c.group_by_free[m.bit_count()]
            if g != old:  # fix_fullness_group: to the head of its new group
                fg = c.fg
                fg[old] -= 1
                fg[g] += 1
                if old:
                    c.stacks[old].pop()
                e = (stamp << 32) | row
                stamp += 1
                c.key[row] = e
                st = c.stacks[g]
                st.append(e)
                if len(st) > 2 * fg[g] + 64:
                    c.prune(g)
        self.next_stamp = stamp
        done = len(out) >> 1
        if done == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, by_alloc
        ids = self._take_ids(done)
        placed = np.array(out, dtype=np.int64).reshape(done, 2)  # (location, arena address)
        if self.relocated:  # recompute the arena addresses from the locations
            self.relocated = False
            loc = placed[:, 0]
            slot = loc >> _LOC_SLOT
            seg = np.array([c.seg for c in classes], dtype=np.int64)
            objs = self.table.objs_per_zspage[slot]
            placed[:, 1] = seg[slot] + ((loc >> _LOC_ROW) & _ROW_MASK) * objs + (loc & _OBJ_MASK)
        self.owner[placed[:, 1]] = ids
        handles, rows = self._issue(ids, placed[:, 0], size_array)
        self._log_used(rows, 1)
        self.pages_allocated += added
        self.pages_delta += added
        self.obj_bytes += sum(sizes) if done == n else sum(sizes[:done])
        self.nr_objs += done
        return ids, handles, by_alloc

    def _free_ids(self, ids: np.ndarray, handles: np.ndarray | None = None) -> int:
        """zs_free by handle id (of live objects; `handles` may pass in their handles).

        Returns how many of the objects were PAGE_SIZE bytes.
        """
        n = len(ids)
        if n == 0:
            return 0
        h = self.h
        rows = h[ids]
        locs = rows[:, _LOC].tolist()
        if n > 1 and len(set(locs)) != n:  # live objects have distinct locations
            raise ValueError("zs_free: handle freed twice in one batch")
        self._log_used(rows, -1)
        sizes = rows[:, _SIZE].tolist()
        classes = self.classes
        released = 0
        stamp = self.next_stamp
        for loc in locs:  # (the shifts and masks are _LOC_SLOT, _LOC_ROW, _ROW_MASK, _OBJ_MASK)
            c = classes[loc >> 40]
            row = (loc >> 8) & 0xFFFFFFFF
            masks = c.free_mask
            m0 = masks[row]
            m = m0 | (1 << (loc & 0xFF))
            masks[row] = m
            gbf = c.group_by_free
            g = gbf[m.bit_count()]
            old = gbf[m0.bit_count()]
            if g == old:
                continue  # same list, same place: a head stays the head
            fg = c.fg
            fg[old] -= 1
            if g == 0:  # listed in group _0, then free_zspage at once
                c.key[row] = -1
                masks[row] = 0
                c.free_rows.append(row)
                c.zspages -= 1
                released += c.pages_per_zspage
                if c.best == row:
                    c.best = -1
                continue
            fg[g] += 1
            e = (stamp << 32) | row
            stamp += 1
            c.key[row] = e
            st = c.stacks[g]
            st.append(e)
            if len(st) > 2 * fg[g] + 64:
                c.prune(g)
            b = c.best
            if b >= 0:
                if b == row:
                    c.best = -1
                elif g >= gbf[masks[b].bit_count()]:
                    c.best = row  # now the head of a group at least as full as the old head's
        self.next_stamp = stamp
        self.pages_allocated -= released
        self.pages_delta -= released
        self.obj_bytes -= sum(sizes)
        self.nr_objs -= n
        self._retire(ids, rows[:, _TAG] if handles is None else handles)
        return sizes.count(PAGE_SIZE)

    # -- lookups --------------------------------------------------------------------------------
    def obj_size(self, handles: np.ndarray) -> np.ndarray:
        """Size each object was allocated with (what zs_malloc was asked for)."""
        return self.h[self._ids(handles), _SIZE]

    def slot_size(self, handles: np.ndarray) -> np.ndarray:
        """Bytes of the class slot each object occupies (its merged class's size)."""
        return self.table.size[self.h[self._ids(handles), _LOC] >> _LOC_SLOT]

    def location(self, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kernel class index, zspage row within the class, object index) of each handle."""
        slots, rows, objs = self._slot_row_obj(self._ids(handles))
        return self.table.index[slots], rows, objs

    def pages(self) -> int:
        """Pages the pool holds (zs_get_total_pages): what it costs in RAM."""
        return self.pages_allocated

    # -- compaction and statistics --------------------------------------------------------------
    def _freeable(self) -> np.ndarray:
        """zs_can_compact of each class."""
        t = self.table
        zspages = np.array([c.zspages for c in self.classes], dtype=np.int64)
        wasted = np.maximum(0, zspages * t.objs_per_zspage - self.class_used)
        return wasted // t.objs_per_zspage * t.pages_per_zspage

    def can_compact(self) -> int:
        """zs_shrinker_count: pages compaction could free, summed over classes."""
        return int(self._freeable().sum())

    def compact(self) -> int:
        """zs_compact: per class, largest first, migrate objects into the fullest zspages; returns pages freed."""
        freed = 0
        for k in np.flatnonzero(self._freeable())[::-1].tolist():
            cls = self.classes[k]
            pages, ids, rows, objs = cls.compact()
            if len(ids):
                self.h[ids, _LOC] = (k << _LOC_SLOT) | (rows << _LOC_ROW) | objs
                self.objs_compacted += len(ids)
            freed += pages
        self.pages_allocated -= freed
        self.pages_delta -= freed
        self.pages_compacted += freed
        return freed

    def class_stats(self) -> np.ndarray:
        """One int64 row per size class in use (zspages > 0), smallest first, columns CLASS_STATS_COLUMNS.

        The numbers of debugfs zsmalloc/<pool>/classes: class size, objects and pages per zspage,
        zspages, objects allocated (zspages x objects per zspage) and used, and zs_can_compact's
        freeable pages ((allocated - used) / objs_per_zspage x pages_per_zspage).
        """
        t = self.table
        zspages = np.array([c.zspages for c in self.classes], dtype=np.int64)
        rows = np.stack(
            [
                t.size,
                t.objs_per_zspage,
                t.pages_per_zspage,
                zspages,
                zspages * t.objs_per_zspage,
                self.class_used,
                self._freeable(),
            ],
            axis=1,
        )
        return rows[zspages > 0]

    def class_columns(self) -> dict[str, np.ndarray]:
        """Every distinct class (in use or not) as named columns, with the fullness-group counts (for tests and tools)."""
        cs = self.classes
        t = self.table
        zspages = np.array([c.zspages for c in cs], dtype=np.int64)
        used = self.class_used.copy()
        return {
            "index": t.index.copy(),
            "size": t.size.copy(),
            "pages_per_zspage": t.pages_per_zspage.copy(),
            "objs_per_zspage": t.objs_per_zspage.copy(),
            "huge": t.huge.copy(),
            "zspages": zspages,
            "pages_used": zspages * t.pages_per_zspage,
            "objs_allocated": zspages * t.objs_per_zspage,
            "objs_used": used,
            "freeable": self._freeable(),
            "fullness": np.array([c.fg for c in cs], dtype=np.int64),  # (classes, NR_FULLNESS_GROUPS)
        }

    def fragmentation(self) -> float:
        """1 - bytes callers stored / bytes of pool pages: class rounding, handles, tails and free slots."""
        if self.pages_allocated == 0:
            return 0.0
        return 1.0 - self.obj_bytes / (self.pages_allocated * PAGE_SIZE)
