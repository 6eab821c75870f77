"""The memmap: one entry per physical frame, as the kernel's `struct page` array, kept as numpy columns."""

from __future__ import annotations

import numpy as np

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


class MemMap:
    """Per-frame state of physical memory in structure-of-arrays form."""

    def __init__(self, nr_frames: int) -> None:
        self.nr_frames = nr_frames
        self.state = np.full(nr_frames, FRAME_FREE, dtype=np.uint8)
        self.flags = np.zeros(nr_frames, dtype=np.uint16)
        self.lru = np.full(nr_frames, LRU_NONE, dtype=np.int8)
        self.lrupos = np.zeros(nr_frames, dtype=np.int64)
        # Owner: for anon frames the virtual page id, for file frames the file page id.
        self.owner = np.full(nr_frames, -1, dtype=np.int64)
        # Swap slot (global id) when the frame is in the swap cache, else -1.
        self.slot = np.full(nr_frames, -1, dtype=np.int64)
        # Order of the folio the frame belongs to (0: a base page; k: one of 2^k naturally aligned frames).
        self.folio_order = np.zeros(nr_frames, dtype=np.uint8)
        # Simulated time (ns) at which in-flight I/O on this frame completes.
        self.io_done = np.zeros(nr_frames, dtype=np.int64)

    def state_counts(self) -> np.ndarray:
        """Frames per FRAME_* state (a whole-array pass: render time only)."""
        return np.array([np.count_nonzero(self.state == k) for k in range(len(FRAME_STATE_NAMES))], dtype=np.int64)
