"""LRU lists (include/linux/mm_inline.h's lruvec_add_folio and friends, and isolate_lru_folios' list walk).

Each list is a doubly linked list through the memmap's `next`/`prev` columns: `memmap.lru[f]` names the list
frame f is on. lru_cache_add puts a folio at the head (the newest end); reclaim isolates from the tail;
folio_rotate_reclaimable puts a folio at the tail, to be reclaimed next.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from swaptui.model.jit import kernel
from swaptui.model.lists import NIL, list_add, list_add_tail, list_del, list_replace, list_to_array
from swaptui.model.memmap import LRU_NONE, NR_LRU_LISTS, MemMap


class Lru(NamedTuple):
    """The LRU lists' heads: newest (`head`) and oldest (`tail`) frame, and length, per list id."""

    head: np.ndarray
    tail: np.ndarray
    nr: np.ndarray


def new_lru(nr_lists: int = NR_LRU_LISTS) -> Lru:
    """Empty LRU lists."""
    return Lru(
        np.full(nr_lists, NIL, dtype=np.int64),
        np.full(nr_lists, NIL, dtype=np.int64),
        np.zeros(nr_lists, dtype=np.int64),
    )


@kernel
def lru_add(mem: MemMap, lru: Lru, lid: int, frames: np.ndarray) -> None:
    """lruvec_add_folio for each frame in order: each becomes the newest on list lid."""
    for f in frames:
        list_add(mem.next, mem.prev, lru.head, lru.tail, lru.nr, lid, f)
        mem.lru[f] = lid


@kernel
def lru_add_tail(mem: MemMap, lru: Lru, lid: int, frames: np.ndarray) -> None:
    """lruvec_add_folio_tail for frames given oldest first: they become the oldest, in that order."""
    for i in range(len(frames) - 1, -1, -1):
        f = frames[i]
        list_add_tail(mem.next, mem.prev, lru.head, lru.tail, lru.nr, lid, f)
        mem.lru[f] = lid


@kernel
def lru_del(mem: MemMap, lru: Lru, frames: np.ndarray) -> None:
    """lruvec_del_folio: take each frame off whatever list it is on (frames on none are left alone)."""
    for f in frames:
        lid = mem.lru[f]
        if lid != LRU_NONE:
            list_del(mem.next, mem.prev, lru.head, lru.tail, lru.nr, lid, f)
            mem.lru[f] = LRU_NONE


@kernel
def lru_isolate_tail(mem: MemMap, lru: Lru, lid: int, n: int) -> np.ndarray:
    """isolate_lru_folios' walk: take up to n frames from the tail of list lid, oldest first."""
    k = min(n, lru.nr[lid])
    out = np.empty(k, dtype=np.int64)
    for i in range(k):
        f = lru.tail[lid]
        list_del(mem.next, mem.prev, lru.head, lru.tail, lru.nr, lid, f)
        mem.lru[f] = LRU_NONE
        out[i] = f
    return out


@kernel
def lru_migrate(mem: MemMap, lru: Lru, src: np.ndarray, dst: np.ndarray) -> None:
    """Page migration: each dst frame takes its src frame's place on the src's LRU list (if any)."""
    for i in range(len(src)):
        s = src[i]
        d = dst[i]
        lid = mem.lru[s]
        if lid != LRU_NONE:
            list_replace(mem.next, mem.prev, lru.head, lru.tail, lid, s, d)
        mem.lru[d] = lid
        mem.lru[s] = LRU_NONE


@kernel
def lru_oldest_first(mem: MemMap, lru: Lru, lid: int) -> np.ndarray:
    """Every frame on list lid from the tail (oldest) to the head (newest)."""
    return list_to_array(mem.next, lru.head, lru.nr, lid)[::-1].copy()


class LruList:
    """One LRU list, for the Python side (tests, snapshots, the numpy-era call sites)."""

    def __init__(self, lru_id: int, memmap: MemMap, lru: Lru) -> None:
        self.id = lru_id
        self.mm = memmap
        self.lists = lru

    def __len__(self) -> int:
        return int(self.lists.nr[self.id])

    def add(self, frames: np.ndarray) -> None:
        """Add frames at the head (lru_cache_add): they become the newest."""
        if len(frames):
            lru_add(self.mm, self.lists, self.id, np.asarray(frames, dtype=np.int64))

    def add_tail(self, frames: np.ndarray) -> None:
        """Add frames at the tail (folio_rotate_reclaimable): they are reclaimed next, first given first."""
        if len(frames):
            lru_add_tail(self.mm, self.lists, self.id, np.asarray(frames, dtype=np.int64))

    def remove(self, frames: np.ndarray) -> None:
        """Take frames off this list wherever they are."""
        if len(frames):
            lru_del(self.mm, self.lists, np.asarray(frames, dtype=np.int64))

    def isolate_tail(self, n: int) -> np.ndarray:
        """isolate_lru_folios: take up to n frames from the tail, oldest first."""
        return lru_isolate_tail(self.mm, self.lists, self.id, n)

    def live_tail_to_head(self) -> np.ndarray:
        """All frames, from tail (oldest) to head (newest)."""
        return lru_oldest_first(self.mm, self.lists, self.id)
