"""LRU lists as position-stamped queues (include/linux/mm_inline.h's list helpers, batched).

Each list is a ring of frame numbers; position `p` grows at the head (most recently added) and
reclaim takes from the tail (lowest position). A frame is on list L at position p iff
`memmap.lru[f] == L and memmap.lrupos[f] == p`; removing a frame only clears its `lru`, and stale
ring entries are skipped when the tail is read. Rotating to the tail (folio_rotate_reclaimable)
pushes below the tail.
"""

from __future__ import annotations

import numpy as np

from numpy_core.memmap import LRU_NONE, MemMap


class LruList:
    """One LRU list of frames."""

    def __init__(self, lru_id: int, memmap: MemMap, capacity: int = 1 << 12) -> None:
        self.id = lru_id
        self.mm = memmap
        self.ring = np.zeros(capacity, dtype=np.int64)
        self.tail = 0  # lowest live-or-stale position
        self.head = 0  # next position to add at
        self.nr = 0  # live entries

    def __len__(self) -> int:
        return self.nr

    def _ensure(self, extra_head: int, extra_tail: int = 0) -> None:
        span = self.head - self.tail + extra_head + extra_tail
        if span <= len(self.ring):
            return
        self._rebuild(max(len(self.ring), 2 * (self.nr + extra_head + extra_tail) + 1024))

    def _rebuild(self, capacity: int) -> None:
        """Compact out stale entries, keeping order, into a ring of the given capacity."""
        live = self.live_tail_to_head()
        cap = 1 << max(12, int(capacity - 1).bit_length())
        self.ring = np.zeros(cap, dtype=np.int64)
        self.tail = 0
        self.head = 0
        self.nr = 0
        self.add(live)

    def live_tail_to_head(self) -> np.ndarray:
        """All live frames, from tail (oldest) to head (newest). Whole-list pass."""
        if self.head == self.tail:
            return np.zeros(0, dtype=np.int64)
        pos = np.arange(self.tail, self.head, dtype=np.int64)
        frames = self.ring[pos & (len(self.ring) - 1)]
        ok = (self.mm.lru[frames] == self.id) & (self.mm.lrupos[frames] == pos)
        return frames[ok]

    def add(self, frames: np.ndarray) -> None:
        """Add frames at the head (lru_cache_add): they become the newest."""
        n = len(frames)
        if n == 0:
            return
        self._ensure(n)
        pos = np.arange(self.head, self.head + n, dtype=np.int64)
        self.ring[pos & (len(self.ring) - 1)] = frames
        self.mm.lru[frames] = self.id
        self.mm.lrupos[frames] = pos
        self.head += n
        self.nr += n

    def add_tail(self, frames: np.ndarray) -> None:
        """Add frames at the tail (folio_rotate_reclaimable): they are reclaimed next."""
        n = len(frames)
        if n == 0:
            return
        self._ensure(0, n)
        pos = np.arange(self.tail - n, self.tail, dtype=np.int64)
        self.ring[pos & (len(self.ring) - 1)] = frames
        self.mm.lru[frames] = self.id
        self.mm.lrupos[frames] = pos
        self.tail -= n
        self.nr += n

    def remove(self, frames: np.ndarray) -> None:
        """Take frames off this list wherever they are (lazily: their ring entries go stale)."""
        if len(frames) == 0:
            return
        self.mm.lru[frames] = LRU_NONE
        self.nr -= len(frames)

    def relocate(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Page migration: dst takes src's place on this list (the caller copied lru and lrupos to dst)."""
        if len(src):
            self.ring[self.mm.lrupos[dst] & (len(self.ring) - 1)] = dst

    def isolate_tail(self, n: int) -> np.ndarray:
        """isolate_lru_folios: take up to n live frames from the tail, oldest first."""
        out: list[np.ndarray] = []
        got = 0
        mask = len(self.ring) - 1
        lru, lrupos = self.mm.lru, self.mm.lrupos
        while got < n and self.tail < self.head:
            take = min(self.head - self.tail, max(2 * (n - got), 64))
            pos = np.arange(self.tail, self.tail + take, dtype=np.int64)
            frames = self.ring[pos & mask]
            idx = np.flatnonzero((lru[frames] == self.id) & (lrupos[frames] == pos))
            want = n - got
            if len(idx) > want:
                idx = idx[:want]
                self.tail += int(idx[-1]) + 1
            else:
                self.tail += take
            sel = frames[idx]
            out.append(sel)
            got += len(sel)
        if not out:
            return np.zeros(0, dtype=np.int64)
        res = np.concatenate(out) if len(out) > 1 else out[0]
        lru[res] = LRU_NONE
        self.nr -= len(res)
        if self.head == self.tail or self.nr == 0:
            self.head = self.tail = 0 if self.nr == 0 else self.tail
        return res
