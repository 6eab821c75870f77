"""The page cache for file reads (mm/filemap.c), enough for a file-reading workload to compete with anon.

Simplification: reads of missing pages are synchronous reads from a file SSD, without file
readahead; file pages are never dirty.
"""

from __future__ import annotations

import numpy as np

from numpy_core.memmap import FRAME_FILE, LRU_ACTIVE_FILE, LRU_INACTIVE_FILE, PG_REFERENCED, PG_WORKINGSET
from numpy_core.memory import alloc_pages_task
from numpy_core.workload import Process

FILE_READ_LATENCY_NS = 80_000


class FileCacheMixin:
    """read() through the page cache, and reclaim of clean file folios; mixed into Machine."""

    def file_access(self, p: Process, fp: np.ndarray, now: int, budget: int) -> tuple[int, int]:
        """Read file pages: hits mark the folio accessed, misses read it in."""
        c = self.costs
        cached = self.file_frame[fp] >= 0
        first = bool(cached[0])
        diff = np.flatnonzero(cached != first)
        n = int(diff[0]) if len(diff) else len(fp)
        if n > 1:
            # A file smaller than the chunk wraps around: stop before a page repeats.
            _, firsts = np.unique(fp[:n], return_index=True)
            if len(firsts) != n:
                dup = np.ones(n, dtype=bool)
                dup[firsts] = False
                n = int(np.flatnonzero(dup)[0])
        if first:
            k = max(1, min(n, budget // c.file_read_copy))
            frames = self.file_frame[fp[:k]]
            mem = self.memmap
            fl = mem.flags[frames]
            # mark_page_accessed: a second access to a referenced inactive folio activates it.
            promote = ((fl & PG_REFERENCED) != 0) & (mem.lru[frames] == LRU_INACTIVE_FILE)
            if promote.any():
                pf = frames[promote]
                self.lru[LRU_INACTIVE_FILE].remove(pf)
                self.lru[LRU_ACTIVE_FILE].add(pf)
                mem.flags[pf] &= ~np.uint16(PG_REFERENCED)
                self.vm.add("pgactivate", len(pf))
            mem.flags[frames[~promote]] |= np.uint16(PG_REFERENCED)
            self.vm.add("swaptui_pages_touched", k)
            return k, k * c.file_read_copy
        want = max(1, min(n, budget // (c.file_read_copy + c.pcp_page + 400)))
        frames, spent = alloc_pages_task(self, p, want, now, budget)
        k = len(frames)
        if k == 0:
            return 0, spent
        pages = fp[:k]
        mem = self.memmap
        mem.state[frames] = FRAME_FILE
        mem.owner[frames] = pages
        mem.slot[frames] = -1
        mem.flags[frames] = 0
        self.file_frame[pages] = frames
        shadows = self.file_shadow[pages]
        self.file_shadow[pages] = -1
        active = self.workingset_refault(shadows, is_file=True)
        mem.flags[frames[active]] |= np.uint16(PG_WORKINGSET)
        self.lru[LRU_ACTIVE_FILE].add(frames[active])
        self.lru[LRU_INACTIVE_FILE].add(frames[~active])
        self.vm.add("pgpgin", 4 * k)
        self.vm.add("swaptui_pages_touched", k)
        self.vm.add("swaptui_page_events", k)
        wait = FILE_READ_LATENCY_NS
        self.vm.add("swaptui_task_io_wait_ns", wait)
        return k, spent + k * c.file_read_copy + wait

    def reclaim_file_folios(self, frames: np.ndarray, sc) -> int:
        """__remove_mapping for clean page-cache folios: leave a shadow, free the folio."""
        mem = self.memmap
        n = len(frames)
        pages = mem.owner[frames]
        ws = (mem.flags[frames] & PG_WORKINGSET) != 0
        stamps = self.nonresident_age + np.arange(n, dtype=np.int64)
        self.nonresident_age += n
        self.file_shadow[pages] = stamps * 2 + ws
        self.file_frame[pages] = -1
        mem.owner[frames] = -1
        mem.flags[frames] = 0
        self.zone.free(frames)
        sc.cost += n * (self.costs.remove_mapping + self.costs.shadow_work)
        return n
