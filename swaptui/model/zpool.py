"""The zpool layer (mm/zpool.c, 3.14 to 6.17): the allocator zswap stores compressed pages through.

zswap talks to its pool only through handles (zpool_malloc, zpool_free, zpool_get_total_pages, and,
until 6.5, zpool_shrink). Each backend, zsmalloc (mm/zsmalloc.c), zbud (mm/zbud.c, up to 2 objects a
page) and z3fold (mm/z3fold.c, up to 3), keeps its own layout; this module holds what they share in
the model: the handle table, and the rule of which backends a kernel has.

A handle is an id (low 32 bits) and a generation above it, so a freed handle goes stale by itself.
The table `h` has one row per id: the object's location (the backend's own packing), the size asked
for, and a tag: the live handle, or for a free id ~(the handle its next allocation returns: its last
one, one generation on). `h[handle & ID_MASK, HANDLE_TAG] == handle` iff the handle is live.
"""

from __future__ import annotations

import numpy as np

ZPOOLS = ("zsmalloc", "zbud", "z3fold")  # the zswap.zpool parameter's values the model has

_LOC, _SIZE, _TAG = 0, 1, 2  # columns of the handle table
HANDLE_TAG = _TAG
ID_MASK = (1 << 32) - 1
GENERATION = 1 << 32  # one generation of a handle


class ZpoolBackend:
    """What every zpool backend shares: handle ids with generations, the zpool_malloc/zpool_free entry points
    over the backend's own `_malloc`/`_free_ids`, and the pages-gained count the caller charges."""

    pages_delta: int  # pages gained (+) or returned (-) since take_pages_delta(); the backend keeps it

    def _malloc(
        self,
        size_array: np.ndarray,
        sizes: list[int],
        max_pages: int | None,
        max_new_pages: int | None,
        checked: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        raise NotImplementedError

    def _free_ids(self, ids: np.ndarray, handles: np.ndarray | None = None) -> int:
        raise NotImplementedError

    def malloc(self, sizes: np.ndarray) -> np.ndarray:
        """zpool_malloc for each size, in order; returns int64 handles."""
        sizes = np.asarray(sizes, dtype=np.int64)
        return self._malloc(sizes, sizes.tolist(), None, None)[1].copy()

    def free(self, handles: np.ndarray) -> None:
        """zpool_free these handles (live ones; a stale or unknown handle raises)."""
        h = np.asarray(handles, dtype=np.int64)
        self._free_ids(self._ids(h), h)

    def take_pages_delta(self) -> int:
        """Pages gained (+) or returned (-) since the last call, for the caller to charge or credit."""
        d = self.pages_delta
        self.pages_delta = 0
        return d

    def _init_handles(self, cap: int = 64) -> None:
        self.h = np.zeros((cap, 3), dtype=np.int64)  # per handle id: location, size, tag
        self.h[:, _TAG] = ~np.arange(cap)  # generation 0
        self.free_ids = np.arange(cap - 1, -1, -1, dtype=np.int64)  # a stack: top is the end
        self.nr_free_ids = cap

    @property
    def h_size(self) -> np.ndarray:
        """Requested size per handle id (meaningless for a free id)."""
        return self.h[:, _SIZE]

    @property
    def h_handle(self) -> np.ndarray:
        """The live handle of each id; -1 for a free id."""
        tag = self.h[:, _TAG]
        return np.where(tag >= 0, tag, -1)

    def _grow_handles(self, need: int) -> None:
        """Enlarge the handle table by at least `need` ids, new ids going under the recycled ones."""
        cap = len(self.h)
        new = max(2 * cap, cap + need)
        extra = new - cap
        grown = np.zeros((extra, 3), dtype=np.int64)
        grown[:, _TAG] = ~np.arange(cap, new)
        self.h = np.concatenate([self.h, grown])
        stack = np.empty(new, dtype=np.int64)
        stack[:extra] = np.arange(new - 1, cap - 1, -1)  # new ids go under the recycled ones
        stack[extra : extra + self.nr_free_ids] = self.free_ids[: self.nr_free_ids]
        self.free_ids = stack
        self.nr_free_ids += extra

    def _take_ids(self, n: int) -> np.ndarray:
        """cache_alloc_handle n times: the most recently freed ids first."""
        if n > self.nr_free_ids:
            self._grow_handles(n - self.nr_free_ids)
        top = self.nr_free_ids
        ids = self.free_ids[top - n : top][::-1].copy()
        self.nr_free_ids -= n
        return ids

    def _put_ids(self, ids: np.ndarray) -> None:
        """cache_free_handle: return ids to the free stack."""
        top = self.nr_free_ids
        self.free_ids[top : top + len(ids)] = ids
        self.nr_free_ids += len(ids)

    def _ids(self, handles: np.ndarray) -> np.ndarray:
        """Handle ids of live handles; raises on a stale or unknown handle."""
        h = np.asarray(handles, dtype=np.int64)
        ids = h & ID_MASK
        try:
            ok = self.h[ids, _TAG] == h  # a live id holding this very generation
        except IndexError:
            ok = np.zeros(len(h), dtype=bool)
            known = ids < len(self.h)
            ok[known] = self.h[ids[known], _TAG] == h[known]
        if np.count_nonzero(ok) != len(h):
            raise ValueError(f"stale or unknown zpool handle(s): {h[~ok][:4].tolist()}")
        return ids

    def _issue(
        self, ids: np.ndarray, locations: np.ndarray | list[int], size_array: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Give ids just taken (_take_ids) to objects placed at these locations with these sizes; returns their
        handles and handle-table rows."""
        rows = self.h[ids]
        handles = np.invert(rows[:, _TAG], out=rows[:, _TAG])  # a free id's tag is ~(its next handle)
        rows[:, _LOC] = locations
        rows[:, _SIZE] = size_array[: len(ids)]
        self.h[ids] = rows
        return handles, rows

    def _retire(self, ids: np.ndarray, handles: np.ndarray) -> None:
        """Mark these live ids (holding these handles) free, their next handle one generation on, and return
        them to the stack."""
        self.h[ids, _TAG] = ~(handles + GENERATION)
        self._put_ids(ids)
