"""zsmalloc (mm/zsmalloc.c, 6.6+): size classes, zspages, fullness groups and compaction.

The pool is kept as the kernel keeps it, without a Python object per object: each distinct size
class holds a matrix of its zspages (one row per zspage, one column per object slot, storing the
handle id or -1), with each zspage's `inuse` count, fullness group and list stamp. A fullness list is
LIFO in the kernel (insert_zspage does list_add, find_get_zspage takes the first entry), so "first
entry of a group" here is the zspage of that group with the highest stamp.

Handles are what zs_malloc returns: stable across compaction (the kernel's handle is a slab word
that records the object's current location), so a handle names a row of a handle table holding
(class, zspage, object index). A handle value is `generation << 32 | id`; freeing an id bumps its
generation, so a stale handle never resolves to the object that reuses its id.

A batch behaves as the same calls made one by one (a test checks this): a zspage's list position
comes from its last fullness change in the batch. Simplification [inf]: within a zspage the lowest
free object index is used (the kernel pops a LIFO freelist; which slot an object takes is invisible
to everything modelled here).
"""

from __future__ import annotations

import numpy as np

from swaptui.model.memmap import PAGE_SIZE

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

_FREE_ROW = -1  # a row of the class matrix that holds no zspage
_ISOLATED = -2  # a zspage taken off its fullness list by compaction
_ID_MASK = (1 << 32) - 1


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

    Per zspage row: `inuse_of` (objects in use), `free_mask` (bit i set = object slot i free),
    `group` (fullness group, _FREE_ROW or _ISOLATED), `key` (stamp << 32 | row of its current list
    entry, -1 when on no list) and `base` (address of its object 0 in the pool's owner arena, which
    holds the handle id in each used slot). Each fullness list (groups _10.._99) is a stack of keys
    with lazy deletion: an entry is live iff it is its row's current key, so the first live entry
    from the top is the list head; stale entries are dropped when met or when a stack grows to twice
    its group. Plain Python lists keep the one-object steps cheap (a numpy scalar costs more).
    """

    def __init__(self, index: int, size: int, pages_per_zspage: int, objs_per_zspage: int) -> None:
        self.index = index
        self.size = size
        self.pages_per_zspage = pages_per_zspage
        self.objs_per_zspage = objs_per_zspage
        self.nrows = 0
        self.inuse_of: list[int] = []
        self.free_mask: list[int] = []
        self.group: list[int] = []
        self.key: list[int] = []
        self.base: list[int] = []
        self.stacks: list[list[int]] = [[] for _ in range(NR_FULLNESS_GROUPS)]
        self.fg = [0] * NR_FULLNESS_GROUPS  # zspages per fullness group
        self.free_rows: list[int] = []
        self.next_stamp = 0
        self.zspages = 0
        self.objs_used = 0
        self.best = -1  # the head of the fullest non-full group, kept while known (-1: look it up)
        self.group_of = fullness_group(np.arange(objs_per_zspage + 1), objs_per_zspage).tolist()
        self.all_free = (1 << objs_per_zspage) - 1
        self.pool: ZsPool | None = None  # owner of the arena, for the `objs` view

    # -- views as arrays (for statistics and tests; not used on the hot paths) -----------------------
    @property
    def inuse(self) -> np.ndarray:
        return np.array(self.inuse_of, dtype=np.int32)

    @property
    def fullness(self) -> np.ndarray:
        return np.array(self.group, dtype=np.int8)

    @property
    def stamp(self) -> np.ndarray:
        """List stamp of each row (its last fullness change); -1 for a row on no list."""
        return np.array([k >> 32 if k >= 0 else -1 for k in self.key], dtype=np.int64)

    @property
    def objs(self) -> np.ndarray:
        """Handle id in each object slot of each zspage row, -1 where free."""
        out = np.full((self.nrows, self.objs_per_zspage), -1, dtype=np.int64)
        if self.nrows == 0 or self.pool is None:
            return out
        addr = np.array(self.base, dtype=np.int64)[:, None] + np.arange(self.objs_per_zspage)
        owner = self.pool.owner[addr]
        masks = self.free_mask
        for r in range(self.nrows):
            if self.group[r] == _FREE_ROW:
                continue
            m = masks[r]
            used = np.array([not (m >> i) & 1 for i in range(self.objs_per_zspage)], dtype=bool)
            out[r, used] = owner[r, used]
        return out

    def objs_allocated(self) -> int:
        """ZS_OBJS_ALLOCATED: object slots in this class's zspages."""
        return self.zspages * self.objs_per_zspage

    def can_compact(self) -> int:
        """zs_can_compact: pages that compaction could free in this class."""
        wasted = self.zspages * self.objs_per_zspage - self.objs_used
        return max(0, wasted) // self.objs_per_zspage * self.pages_per_zspage

    # -- zspages and fullness lists ----------------------------------------------------------------
    def new_row(self, pool: ZsPool) -> int:
        """alloc_zspage: a row for a new, empty zspage (not yet on a fullness list)."""
        if self.free_rows:
            row = self.free_rows.pop()
        else:
            row = self.nrows
            self.nrows += 1
            self.inuse_of.append(0)
            self.free_mask.append(0)
            self.group.append(_FREE_ROW)
            self.key.append(-1)
            self.base.append(pool.arena_top)
            pool.arena_top += self.objs_per_zspage
        self.free_mask[row] = self.all_free
        self.zspages += 1
        return row

    def prune(self, g: int) -> None:
        """Drop the stale entries of group g's stack, keeping list order."""
        key = self.key
        self.stacks[g][:] = [e for e in self.stacks[g] if key[e & _ID_MASK] == e]

    def relist(self, row: int, g: int) -> None:
        """Put a row at the head of group g's list (fix_fullness_group / putback_zspage)."""
        old = self.group[row]
        fg = self.fg
        if old >= 0:
            fg[old] -= 1
        fg[g] += 1
        self.group[row] = g
        e = (self.next_stamp << 32) | row
        self.next_stamp += 1
        self.key[row] = e
        if ZS_INUSE_RATIO_10 <= g <= ZS_INUSE_RATIO_99:
            st = self.stacks[g]
            st.append(e)
            if len(st) > 2 * fg[g] + 64:
                self.prune(g)

    def release(self, row: int) -> int:
        """free_zspage for a row whose inuse dropped to 0 (listed in group _0); returns pages released."""
        self.fg[ZS_INUSE_RATIO_0] -= 1
        self.group[row] = _FREE_ROW
        self.key[row] = -1
        self.free_rows.append(row)
        self.zspages -= 1
        return self.pages_per_zspage

    def find_get_zspage(self) -> int:
        """The first zspage of the fullest non-full group, or -1 when every such group is empty."""
        fg, key, stacks = self.fg, self.key, self.stacks
        for g in range(ZS_INUSE_RATIO_99, ZS_INUSE_RATIO_0, -1):
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
                self.group[row] = _ISOLATED
                self.key[row] = -1
                return row
        return -1

    def compact(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """__zs_compact: move objects from the sparsest zspages into the fullest.

        Returns (pages freed, moved handle ids, their new rows, their new object indices).
        """
        assert self.pool is not None
        pool = self.pool
        self.best = -1
        objs = self.objs_per_zspage
        inuse, masks, base = self.inuse_of, self.free_mask, self.base
        sparsest_first = range(ZS_INUSE_RATIO_10, ZS_INUSE_RATIO_100)
        fullest_first = range(ZS_INUSE_RATIO_99, ZS_INUSE_RATIO_0, -1)

        def putback(row: int) -> int:
            g = self.group_of[inuse[row]]
            self.group[row] = _ISOLATED
            self.relist(row, g)  # putback_zspage always relists, at the head
            return g

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
            nmove = min(objs - inuse[dst], inuse[src])
            s_obj = _low_bits(~masks[src] & self.all_free, nmove)
            d_obj = _low_bits(masks[dst], nmove)
            s_addr = base[src] + np.array(s_obj, dtype=np.int64)
            d_objs = np.array(d_obj, dtype=np.int64)
            ids = pool.owner[s_addr]
            pool.owner[base[dst] + d_objs] = ids
            masks[src] |= sum(1 << o for o in s_obj)
            masks[dst] &= ~sum(1 << o for o in d_obj)
            inuse[dst] += nmove
            inuse[src] -= nmove
            moved_ids.append(ids)
            moved_rows.append(np.full(nmove, dst, dtype=np.int64))
            moved_objs.append(d_objs)
            if putback(src) == ZS_INUSE_RATIO_0:
                freed += self.release(src)
            if inuse[dst] == objs:
                putback(dst)
                dst = -1
        if dst >= 0:
            putback(dst)
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


class ZsPool:
    """A zsmalloc pool: batched zs_malloc/zs_free over size classes, with zs_compact and statistics."""

    def __init__(self, max_pages_per_zspage: int = ZS_MAX_PAGES_PER_ZSPAGE) -> None:
        self.table = SizeClassTable(max_pages_per_zspage)
        t = self.table
        self.classes = [SizeClass(int(t.index[k]), int(t.size[k]), int(t.pages_per_zspage[k]),
                                  int(t.objs_per_zspage[k])) for k in range(len(t))]
        for c in self.classes:
            c.pool = self
        self.huge_class_size = t.huge_class_size
        # zs_malloc(size) allocates from slot_by_size[size], for 1 <= size <= ZS_MAX_ALLOC_SIZE.
        self.slot_by_size = t.slot_of(np.arange(ZS_MAX_ALLOC_SIZE + 1))
        self.slot_by_size[0] = 0
        self.pages_allocated = 0  # zs_get_total_pages
        self.pages_compacted = 0  # zs_pool_stats
        self.pages_delta = 0  # pages gained (+) or returned (-) since take_pages_delta()
        self.obj_bytes = 0  # sum of the sizes callers asked for, of live objects
        self.nr_objs = 0
        self.owner = np.zeros(1024, dtype=np.int64)  # handle id in each object slot of every zspage
        self.arena_top = 0  # arena addresses handed to zspage rows so far
        cap = 64
        self.h_slot = np.zeros(cap, dtype=np.int16)  # distinct class (position in self.classes)
        self.h_row = np.zeros(cap, dtype=np.int32)  # zspage (row of the class)
        self.h_obj = np.zeros(cap, dtype=np.int32)  # object index within the zspage
        self.h_addr = np.zeros(cap, dtype=np.int64)  # arena address of the object
        self.h_size = np.zeros(cap, dtype=np.int32)  # requested size
        self.h_gen = np.zeros(cap, dtype=np.int64)
        self.h_live = np.zeros(cap, dtype=bool)
        self.free_ids = np.arange(cap - 1, -1, -1, dtype=np.int64)  # a stack: top is the end
        self.nr_free_ids = cap

    # -- handles --------------------------------------------------------------------------------
    def _grow_handles(self, need: int) -> None:
        """Enlarge the handle table by at least `need` ids, new ids going under the recycled ones."""
        cap = len(self.h_live)
        new = max(2 * cap, cap + need)
        extra = new - cap
        self.h_slot = np.concatenate([self.h_slot, np.zeros(extra, dtype=np.int16)])
        self.h_row = np.concatenate([self.h_row, np.zeros(extra, dtype=np.int32)])
        self.h_obj = np.concatenate([self.h_obj, np.zeros(extra, dtype=np.int32)])
        self.h_addr = np.concatenate([self.h_addr, np.zeros(extra, dtype=np.int64)])
        self.h_size = np.concatenate([self.h_size, np.zeros(extra, dtype=np.int32)])
        self.h_gen = np.concatenate([self.h_gen, np.zeros(extra, dtype=np.int64)])
        self.h_live = np.concatenate([self.h_live, np.zeros(extra, dtype=bool)])
        stack = np.empty(new, dtype=np.int64)
        stack[:extra] = np.arange(new - 1, cap - 1, -1)  # new ids go under the recycled ones
        stack[extra:extra + self.nr_free_ids] = self.free_ids[:self.nr_free_ids]
        self.free_ids = stack
        self.nr_free_ids += extra

    def _take_ids(self, n: int) -> np.ndarray:
        """cache_alloc_handle n times: the most recently freed ids first."""
        if n > self.nr_free_ids:
            self._grow_handles(n - self.nr_free_ids)
        top = self.nr_free_ids
        ids = self.free_ids[top - n:top][::-1].copy()
        self.nr_free_ids -= n
        return ids

    def _put_ids(self, ids: np.ndarray) -> None:
        """cache_free_handle: return ids to the free stack."""
        top = self.nr_free_ids
        self.free_ids[top:top + len(ids)] = ids
        self.nr_free_ids += len(ids)

    def _ids(self, handles: np.ndarray) -> np.ndarray:
        """Handle ids of live handles; raises on a stale or unknown handle."""
        h = np.asarray(handles, dtype=np.int64)
        ids = h & _ID_MASK
        ok = (h >= 0) & (ids < len(self.h_live))
        if ok.all():
            ok = self.h_live[ids] & (self.h_gen[ids] == (h >> 32))
        if not ok.all():
            raise ValueError(f"stale or unknown zsmalloc handle(s): {h[~ok][:4].tolist()}")
        return ids

    # -- zs_malloc / zs_free --------------------------------------------------------------------
    def malloc(self, sizes: np.ndarray) -> np.ndarray:
        """zs_malloc for each size, in order; returns int64 handles."""
        return self.malloc_until(sizes)[0]

    def malloc_until(self, sizes: np.ndarray, max_pages: int | None = None,
                     max_new_pages: int | None = None) -> tuple[np.ndarray, bool]:
        """zs_malloc for each size in order, stopping before the first that would go over a limit.

        An allocation is not made when the pool already holds `max_pages` pages or more, nor when
        it would take the pages this call has gained from the page allocator past `max_new_pages`.
        Returns (handles of the allocations made, whether `max_new_pages` was what stopped it).
        """
        sizes = np.asarray(sizes, dtype=np.int64)
        n = len(sizes)
        if n == 0:
            return np.zeros(0, dtype=np.int64), False
        if sizes.min() <= 0 or sizes.max() > ZS_MAX_ALLOC_SIZE:
            raise ValueError("zs_malloc size must be in 1..ZS_MAX_ALLOC_SIZE")
        slots = self.slot_by_size[sizes]
        stop_pages = max_pages - self.pages_allocated if max_pages is not None else n * ZS_MAX_PAGES_PER_ZSPAGE + 1
        new_budget = max_new_pages if max_new_pages is not None else n * ZS_MAX_PAGES_PER_ZSPAGE + 1
        classes = self.classes
        rows: list[int] = []
        objs: list[int] = []
        addrs: list[int] = []
        added = 0
        by_alloc = False
        for k in slots.tolist():
            if added >= stop_pages:
                break
            c = classes[k]
            row = c.best
            if row < 0:
                row = c.find_get_zspage()
                if row < 0:
                    if added + c.pages_per_zspage > new_budget:
                        by_alloc = True
                        break
                    row = c.new_row(self)
                    added += c.pages_per_zspage
            masks = c.free_mask
            m = masks[row]
            low = m & -m
            masks[row] = m ^ low
            obj = low.bit_length() - 1
            rows.append(row)
            objs.append(obj)
            addrs.append(c.base[row] + obj)
            u = c.inuse_of[row] + 1
            c.inuse_of[row] = u
            c.objs_used += 1
            g = c.group_of[u]
            if g != c.group[row]:
                c.relist(row, g)
            # The zspage stays the head of the fullest non-full group until it fills.
            c.best = row if g != ZS_INUSE_RATIO_100 else -1
        done = len(rows)
        if done == 0:
            return np.zeros(0, dtype=np.int64), by_alloc
        if done < n:
            sizes, slots = sizes[:done], slots[:done]
        ids = self._take_ids(done)
        if self.arena_top > len(self.owner):
            self.owner = np.concatenate([self.owner, np.zeros(max(self.arena_top, 2 * len(self.owner))
                                                              - len(self.owner), dtype=np.int64)])
        addr = np.array(addrs, dtype=np.int64)
        self.owner[addr] = ids
        self.h_addr[ids] = addr
        self.h_slot[ids] = slots
        self.h_row[ids] = rows
        self.h_obj[ids] = objs
        self.h_size[ids] = sizes
        self.h_live[ids] = True
        self.pages_allocated += added
        self.pages_delta += added
        self.obj_bytes += int(sizes.sum())
        self.nr_objs += done
        return (self.h_gen[ids] << 32) | ids, by_alloc

    def free(self, handles: np.ndarray) -> None:
        """zs_free these handles; a zspage left empty is freed at once."""
        ids = self._ids(handles)
        n = len(ids)
        if n == 0:
            return
        if n > 1 and len(set(ids.tolist())) != n:
            raise ValueError("zs_free: handle freed twice in one batch")
        classes = self.classes
        released = 0
        for k, row, obj in zip(self.h_slot[ids].tolist(), self.h_row[ids].tolist(), self.h_obj[ids].tolist()):
            c = classes[k]
            c.free_mask[row] |= 1 << obj
            u = c.inuse_of[row] - 1
            c.inuse_of[row] = u
            c.objs_used -= 1
            g = c.group_of[u]
            if g == c.group[row]:
                continue  # same list, same place: the head stays the head
            c.relist(row, g)
            if g == ZS_INUSE_RATIO_0:
                released += c.release(row)
            b = c.best
            if b >= 0:
                if b == row:
                    c.best = -1
                elif g != ZS_INUSE_RATIO_0 and g >= c.group[b]:
                    c.best = row  # relisted at the head of a group at least as full as the old head's
        self.pages_allocated -= released
        self.pages_delta -= released
        self.obj_bytes -= int(self.h_size[ids].sum())
        self.nr_objs -= n
        self.h_live[ids] = False
        self.h_gen[ids] += 1
        self._put_ids(ids)

    def growth_prefix(self, sizes: np.ndarray) -> np.ndarray:
        """Pages the pool would gain after allocating each prefix of `sizes` (exact with no frees between)."""
        sizes = np.asarray(sizes, dtype=np.int64)
        n = len(sizes)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        slots = self.table.slot_of(sizes)
        order = np.argsort(slots, kind="stable")
        sorted_slots = slots[order]
        starts = np.flatnonzero(np.r_[True, sorted_slots[1:] != sorted_slots[:-1]])
        rank = np.empty(n, dtype=np.int64)  # how many objects of its class up to and including this one
        rank[order] = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n))) + 1
        touched = np.unique(slots)
        spare_of = np.zeros(len(self.classes), dtype=np.int64)
        spare_of[touched] = [self.classes[k].objs_allocated() - self.classes[k].objs_used
                             for k in touched.tolist()]
        spare = spare_of[slots]
        objs = self.table.objs_per_zspage[slots]
        zspages_after = -(-np.maximum(0, rank - spare) // objs)
        zspages_before = -(-np.maximum(0, rank - 1 - spare) // objs)
        return np.cumsum((zspages_after - zspages_before) * self.table.pages_per_zspage[slots])

    # -- lookups --------------------------------------------------------------------------------
    def obj_size(self, handles: np.ndarray) -> np.ndarray:
        """Size each object was allocated with (what zs_malloc was asked for)."""
        return self.h_size[self._ids(handles)].astype(np.int64)

    def slot_size(self, handles: np.ndarray) -> np.ndarray:
        """Bytes of the class slot each object occupies (its merged class's size)."""
        return self.table.size[self.h_slot[self._ids(handles)].astype(np.int64)]

    def location(self, handles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kernel class index, zspage row within the class, object index) of each handle."""
        ids = self._ids(handles)
        slots = self.h_slot[ids].astype(np.int64)
        return self.table.index[slots], self.h_row[ids].astype(np.int64), self.h_obj[ids].astype(np.int64)

    def pages(self) -> int:
        """Pages the pool holds (zs_get_total_pages): what it costs in RAM."""
        return self.pages_allocated

    def take_pages_delta(self) -> int:
        """Pages gained (+) or returned (-) since the last call, for the caller to charge or credit."""
        d = self.pages_delta
        self.pages_delta = 0
        return d

    # -- compaction and statistics --------------------------------------------------------------
    def can_compact(self) -> int:
        """zs_shrinker_count: pages compaction could free, summed over classes."""
        return sum(c.can_compact() for c in self.classes)

    def compact(self) -> int:
        """zs_compact: per class, largest first, migrate objects into the fullest zspages; returns pages freed."""
        freed = 0
        for k in range(len(self.classes) - 1, -1, -1):
            cls = self.classes[k]
            if cls.can_compact() == 0:
                continue
            pages, ids, rows, objs = cls.compact()
            if len(ids):
                self.h_row[ids] = rows
                self.h_obj[ids] = objs
                self.h_addr[ids] = np.array(cls.base, dtype=np.int64)[rows] + objs
            freed += pages
        self.pages_allocated -= freed
        self.pages_delta -= freed
        self.pages_compacted += freed
        return freed

    def class_stats(self) -> dict[str, np.ndarray]:
        """Per distinct class, as debugfs zsmalloc/<pool>/classes shows them (for a UI pane)."""
        cs = self.classes
        zspages = np.array([c.zspages for c in cs], dtype=np.int64)
        return {
            "index": self.table.index.copy(),
            "size": self.table.size.copy(),
            "pages_per_zspage": self.table.pages_per_zspage.copy(),
            "objs_per_zspage": self.table.objs_per_zspage.copy(),
            "huge": self.table.huge.copy(),
            "zspages": zspages,
            "pages_used": zspages * self.table.pages_per_zspage,
            "objs_allocated": zspages * self.table.objs_per_zspage,
            "objs_used": np.array([c.objs_used for c in cs], dtype=np.int64),
            "freeable": np.array([c.can_compact() for c in cs], dtype=np.int64),
            "fullness": np.stack([c.fg for c in cs]).astype(np.int64),  # (classes, NR_FULLNESS_GROUPS)
        }

    def fragmentation(self) -> float:
        """1 - bytes callers stored / bytes of pool pages: class rounding, handles, tails and free slots."""
        if self.pages_allocated == 0:
            return 0.0
        return 1.0 - self.obj_bytes / (self.pages_allocated * PAGE_SIZE)
