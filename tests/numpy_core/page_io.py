"""Swap device I/O (mm/page_io.c) and zram's compressed store (drivers/block/zram, over zsmalloc).

Queued devices (SSD, HDD) serve requests first come, first served: a request starts when the device
is free, takes its latency, and holds the device for bytes / bandwidth. A submitter blocks while
more than `queue_pages` pages are queued ahead of it (the block layer's request limit), so reclaim
cannot write faster than the device. Synchronous devices (zram,
pmem) complete inside the caller and charge CPU instead.

Simplification: zram's pool is sized as the sum of each object's zsmalloc size-class slot
(ZS_HANDLE_SIZE added, 16-byte classes from 32 B, whole pages past the huge-class size), without
per-zspage tail waste, and shrinks as soon as objects are freed (as if zs_compact ran at once).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from numpy_core.memmap import PAGE_SIZE

ZS_MIN_ALLOC_SIZE = 32
ZS_SIZE_CLASS_DELTA = 16
ZS_HANDLE_SIZE = 8
ZS_HUGE_CLASS_SIZE = 3264  # objects at least this big take a whole page (huge class)


def zs_class_size(size: np.ndarray) -> np.ndarray:
    """Bytes of the zsmalloc slot an object of `size` compressed bytes occupies."""
    s = np.asarray(size, dtype=np.int64) + (ZS_HANDLE_SIZE + ZS_SIZE_CLASS_DELTA - 1)
    cls = np.maximum(s & ~(ZS_SIZE_CLASS_DELTA - 1), ZS_MIN_ALLOC_SIZE)  # round up to the 16-byte class
    cls[cls >= ZS_HUGE_CLASS_SIZE] = PAGE_SIZE
    return cls


class IoQueue:
    """One queued device: FIFO service with latency and bandwidth, and its completions in flight."""

    def __init__(self, read_latency_ns: int, write_latency_ns: int, bandwidth: int, queue_pages: int) -> None:
        self.read_latency_ns = read_latency_ns
        self.write_latency_ns = write_latency_ns
        self.ns_per_page = max(1, int(PAGE_SIZE * 1_000_000_000 // max(1, bandwidth)))
        self.max_backlog_ns = queue_pages * self.ns_per_page
        self.busy_until = 0
        self.inflight: deque[tuple[int, np.ndarray, bool]] = deque()  # (done_ns, frames, is_write)

    def submit_wait(self, now: int) -> int:
        """How long a submitter blocks for a request slot (blk_mq_get_tag) when the queue is full."""
        return max(0, self.busy_until - now - self.max_backlog_ns)

    def submit(self, now: int, frames: np.ndarray, is_write: bool) -> int:
        """Queue a request for these frames at `now` (after any submit_wait); returns when it completes."""
        start = max(now, self.busy_until)
        self.busy_until = start + len(frames) * self.ns_per_page
        done = self.busy_until + (self.write_latency_ns if is_write else self.read_latency_ns)
        self.inflight.append((done, frames, is_write))
        return done

    def complete(self, now: int) -> list[tuple[np.ndarray, bool]]:
        """Requests finished by `now`, in completion order."""
        out = []
        while self.inflight and self.inflight[0][0] <= now:
            _, frames, is_write = self.inflight.popleft()
            out.append((frames, is_write))
        # Requests do not complete out of order in this FIFO model, but a later request may have an
        # earlier `done` if its latency is shorter (a read behind writes): scan the rest.
        if self.inflight and any(d <= now for d, _, _ in self.inflight):
            keep: deque[tuple[int, np.ndarray, bool]] = deque()
            for item in self.inflight:
                if item[0] <= now:
                    out.append((item[1], item[2]))
                else:
                    keep.append(item)
            self.inflight = keep
        return out

    def pages_in_flight(self) -> int:
        return sum(len(f) for _, f, _ in self.inflight)


class ZramStore:
    """What zram holds per slot: compressed size, or a same-filled page; and the pool's page count."""

    def __init__(self, nr_slots: int) -> None:
        self.size = np.zeros(nr_slots, dtype=np.int32)  # class bytes held per slot (0: none)
        self.same = np.zeros(nr_slots, dtype=bool)
        self.pool_bytes = 0
        self.stored = 0
        self.same_pages = 0
        self.orig_pages = 0

    def store(self, slots: np.ndarray, csize: np.ndarray, same_filled: np.ndarray) -> None:
        """zram_write_page for these slots (any previous content is freed first)."""
        if self.size[slots].any() or self.same[slots].any():
            self.free(slots)
        sizes = zs_class_size(csize)
        if same_filled.any():
            sizes[same_filled] = 0
        self.size[slots] = sizes
        self.same[slots] = same_filled
        self.pool_bytes += int(sizes.sum())
        self.stored += len(slots)
        self.same_pages += int(same_filled.sum())

    def free(self, slots: np.ndarray) -> None:
        """zram_slot_free_notify: drop whatever these slots hold."""
        if len(slots) == 0:
            return
        held = (self.size[slots] > 0) | self.same[slots]
        if not held.any():
            return
        s = slots[held]
        self.pool_bytes -= int(self.size[s].sum())
        self.stored -= len(s)
        self.same_pages -= int(self.same[s].sum())
        self.size[s] = 0
        self.same[s] = False

    def pool_pages(self) -> int:
        """Pages the zsmalloc pool needs for what is stored."""
        return -(-self.pool_bytes // PAGE_SIZE)
