"""The memmap: one entry per physical frame, as the kernel's `struct page` array, kept as numpy columns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from swaptui.model.jit import kernel

PAGE_SIZE = 4096
PAGE_SHIFT = 12

# What a frame is used for (a model-level summary of the page's flags and owner).
FRAME_FREE = 0  # on the buddy free lists
FRAME_PCP = 1  # free, but held on a per-CPU list
FRAME_KERNEL = 2  # unmovable kernel allocation (slab, page tables, stacks)
FRAME_ANON = 3  # anonymous page mapped by a process (may also be in the swap cache)
FRAME_SWAPCACHE = 4  # anonymous page in the swap cache and not mapped (readahead, writeback)
FRAME_FILE = 5  # page cache page of a file
FRAME_ZSMALLOC = 6  # backing page of a zsmalloc pool (zram or zswap)
FRAME_RESERVED = 7  # not managed by the buddy allocator
FRAME_STATE_NAMES = ("free", "pcp", "kernel", "anon", "swapcache", "file", "zsmalloc", "reserved")

# Page flags (bits of `flags`): a subset of the kernel's PG_* plus the PTE accessed bit.
PG_YOUNG = 1 << 0  # PTE accessed bit (cleared by folio_referenced)
PG_REFERENCED = 1 << 1  # PG_referenced
PG_WORKINGSET = 1 << 2  # PG_workingset
PG_DIRTY = 1 << 3  # PG_dirty (or a dirty PTE)
PG_WRITEBACK = 1 << 4  # PG_writeback
PG_READAHEAD = 1 << 5  # PG_readahead: brought in by swap readahead, not yet hit
PG_RECLAIM = 1 << 6  # PG_reclaim: rotate to the inactive tail when writeback ends
PG_LOCKED_IO = 1 << 7  # a read is in flight (not uptodate yet)
PG_LOCKED = 1 << 8  # PG_locked: reclaim holds the folio (others' trylock fails)
PG_PINNED = 1 << 9  # [model] an extra reference beyond the mappings (a GUP pin, FOLL_PIN): page_count > mapcount

# LRU list ids, as enum lru_list.
LRU_INACTIVE_ANON = 0
LRU_ACTIVE_ANON = 1
LRU_INACTIVE_FILE = 2
LRU_ACTIVE_FILE = 3
NR_LRU_LISTS = 4
LRU_NONE = -1
LRU_NAMES = ("inactive_anon", "active_anon", "inactive_file", "active_file")


def folio_heads(folio_order: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The head frame of each frame's folio: large folios are naturally aligned, base pages are their own head."""
    ks = folio_order[frames].astype(np.int64)
    return frames & ~((1 << ks) - 1)


class MemMap(NamedTuple):
    """Per-frame state of physical memory in structure-of-arrays form (struct page's fields that matter here).

    `next`/`prev` are the frame's list_head: a frame is on at most one list at a time, an LRU list
    (lru.py), a per-CPU list or, for the first frame of a free block, a buddy free list (page_alloc.py)."""

    state: np.ndarray  # uint8 FRAME_*
    flags: np.ndarray  # uint16 PG_*
    lru: np.ndarray  # int16: the LRU list the frame is on, or LRU_NONE
    owner: np.ndarray  # int64: the virtual page id (anon) or file page id (file), else -1
    slot: np.ndarray  # int64: the swap slot (global id) while in the swap cache, else -1
    folio_order: np.ndarray  # uint8: order of the frame's folio (0: a base page)
    io_done: np.ndarray  # int64: simulated ns at which in-flight I/O on the frame completes
    next: np.ndarray  # int64: list link towards the tail (older)
    prev: np.ndarray  # int64: list link towards the head (newer)

    @property
    def nr_frames(self) -> int:
        """Frames of physical memory."""
        return len(self.state)

    def state_counts(self) -> np.ndarray:
        """Frames per FRAME_* state (a whole-array pass: render time only)."""
        return frame_state_counts(self.state)


def new_memmap(nr_frames: int) -> MemMap:
    """A memmap of free frames, on no list."""
    return MemMap(
        state=np.full(nr_frames, FRAME_FREE, dtype=np.uint8),
        flags=np.zeros(nr_frames, dtype=np.uint16),
        lru=np.full(nr_frames, LRU_NONE, dtype=np.int16),
        owner=np.full(nr_frames, -1, dtype=np.int64),
        slot=np.full(nr_frames, -1, dtype=np.int64),
        folio_order=np.zeros(nr_frames, dtype=np.uint8),
        io_done=np.zeros(nr_frames, dtype=np.int64),
        next=np.full(nr_frames, -1, dtype=np.int64),
        prev=np.full(nr_frames, -1, dtype=np.int64),
    )


@kernel
def frame_state_counts(state: np.ndarray) -> np.ndarray:
    """Frames per FRAME_* state, in one pass."""
    out = np.zeros(len(FRAME_STATE_NAMES), dtype=np.int64)
    for s in state:
        out[s] += 1
    return out
