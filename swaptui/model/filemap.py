"""The page cache for file reads (mm/filemap.c), enough for a file-reading workload to compete with anon.

Simplification: reads of missing pages are synchronous reads from a file SSD, without file
readahead; file pages are never dirty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.memmap import (
    FRAME_FILE,
    LRU_ACTIVE_FILE,
    LRU_INACTIVE_FILE,
    PG_REFERENCED,
    PG_WORKINGSET,
)
from swaptui.model.workingset import workingset_eviction
from swaptui.model.workload import Process

if TYPE_CHECKING:
    from swaptui.model.machine import Machine
    from swaptui.model.vmscan import ScanControl

FILE_READ_LATENCY_NS = 80_000


def file_access(m: Machine, p: Process, fp: np.ndarray, now: int, budget: int) -> tuple[int, int]:
    """Read file pages: hits mark the folio accessed, misses read it in."""
    c = m.costs
    cached = m.file_frame[fp] >= 0
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
        frames = m.file_frame[fp[:k]]
        mem = m.memmap
        fl = mem.flags[frames]
        # mark_page_accessed: a second access to a referenced inactive folio activates it.
        lids = mem.lru[frames]
        promote = ((fl & PG_REFERENCED) != 0) & (lids % 4 == LRU_INACTIVE_FILE) & (lids >= 0)
        if promote.any():
            pf = frames[promote]
            m.lru_remove(pf)
            m.lru_add(LRU_ACTIVE_FILE, pf)
            mem.flags[pf] &= ~np.uint16(PG_REFERENCED)
            m.vm.add("pgactivate", len(pf))
        mem.flags[frames[~promote]] |= np.uint16(PG_REFERENCED)
        m.vm.add("swaptui_pages_touched", k)
        return k, k * c.file_read_copy
    want = max(1, min(n, budget // (c.file_read_copy + c.pcp_page + 400)))
    from swaptui.model.memory import (
        alloc_pages_task,  # memory.py calls file_access: import at use
    )

    frames, spent = alloc_pages_task(m, p, want, now, budget)
    k = len(frames)
    if k == 0:
        return 0, spent
    pages = fp[:k]
    mem = m.memmap
    mem.state[frames] = FRAME_FILE
    mem.owner[frames] = pages
    mem.slot[frames] = -1
    mem.flags[frames] = 0
    m.file_frame[pages] = frames
    shadows = m.file_shadow[pages]
    m.file_shadow[pages] = -1
    active = m.workingset_refault(shadows, is_file=True)
    mem.flags[frames[active]] |= np.uint16(PG_WORKINGSET)
    m.lru_add(LRU_ACTIVE_FILE, frames[active])
    m.lru_add(LRU_INACTIVE_FILE, frames[~active])
    m.vm.add("pgpgin", 4 * k)
    m.vm.add("swaptui_pages_touched", k)
    m.vm.add("swaptui_page_events", k)
    wait = FILE_READ_LATENCY_NS
    m.vm.add("swaptui_task_io_wait_ns", wait)
    return k, spent + k * c.file_read_copy + wait


def reclaim_file_folios(m: Machine, frames: np.ndarray, sc: ScanControl) -> int:
    """__remove_mapping for clean page-cache folios: leave a shadow, free the folio."""
    mem = m.memmap
    n = len(frames)
    pages = mem.owner[frames]
    m.file_shadow[pages] = workingset_eviction(m, mem.flags[frames])
    m.file_frame[pages] = -1
    mem.owner[frames] = -1
    mem.flags[frames] = 0
    m.zone.free(frames)
    sc.cost += n * (m.costs.remove_mapping + m.costs.shadow_work)
    return n
