"""Cell aggregation for the two big maps, vectorised and incremental; no Textual import.

The memory map shows many frames per cell: `FrameCells` keeps, per cell, how many frames are in
each display state, and updates those counts from the frames that changed since the previous
snapshot (one diff pass over the frame arrays), so a 16 GiB machine (4M frames) costs a few ms per
frame, not a recount. The swap cluster grid is small (one entry per 512 slots) and is recomputed.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_FREE,
    FRAME_KERNEL,
    FRAME_PCP,
    FRAME_RESERVED,
    FRAME_STATE_NAMES,
    FRAME_SWAPCACHE,
    FRAME_ZSMALLOC,
    LRU_ACTIVE_ANON,
)
from swaptui.model.swapfile import (
    CLUSTER_FLAG_DISCARD,
    CLUSTER_FLAG_FRAG,
    CLUSTER_FLAG_FREE,
    CLUSTER_FLAG_FULL,
    CLUSTER_FLAG_NAMES,
    CLUSTER_FLAG_NONE,
    CLUSTER_FLAG_NONFULL,
    SWAPFILE_CLUSTER,
)

# What a memory-map cell can show: FRAME_* states, with anon split by LRU list.
D_FREE, D_PCP, D_KERNEL, D_ANON_ACTIVE, D_ANON_INACTIVE, D_FILE, D_SWAPCACHE, D_ZSMALLOC, D_RESERVED = range(9)
NR_DISPLAY = 9
DISPLAY_NAMES = ("free", "pcp", "kernel", "anon active", "anon inactive", "file", "swap cache", "zsmalloc", "reserved")
DISPLAY_KEYS = ("free", "pcp", "kernel", "anon-active", "anon-inactive", "file", "swapcache", "zsmalloc", "reserved")
DISPLAY_GLYPHS = ("·", ":", "#", "█", "▓", "▒", "░", "z", "×")
DISPLAY_MEANING = (
    "free: on the buddy allocator's free lists, ready to allocate",
    "pcp: free, but parked on a per-CPU list for fast order-0 allocations",
    "kernel: unmovable kernel memory (slab, page tables, stacks); reclaim cannot touch it",
    "anon active: process memory used recently (active_anon LRU); reclaimed last",
    "anon inactive: process memory not used lately (inactive_anon LRU); reclaim swaps these out",
    "file: page cache of files; clean pages are dropped without I/O",
    "swap cache: anon page with a swap slot, not mapped (readahead or under writeback)",
    "zsmalloc: backing page of the zram (or zswap) pool holding compressed pages",
    "reserved: never handed to the buddy allocator (memmap, kernel image, firmware)",
)

_STATE_TO_DISPLAY = np.zeros(len(FRAME_STATE_NAMES), dtype=np.uint8)
for _state, _display in (
    (FRAME_FREE, D_FREE),
    (FRAME_PCP, D_PCP),
    (FRAME_KERNEL, D_KERNEL),
    (FRAME_ANON, D_ANON_INACTIVE),
    (FRAME_SWAPCACHE, D_SWAPCACHE),
    (FRAME_FILE, D_FILE),
    (FRAME_ZSMALLOC, D_ZSMALLOC),
    (FRAME_RESERVED, D_RESERVED),
):
    _STATE_TO_DISPLAY[_state] = _display


def display_states(state: np.ndarray, lru: np.ndarray) -> np.ndarray:
    """Each frame's display state: its FRAME_* state, anon split into active and inactive by its LRU."""
    d = _STATE_TO_DISPLAY[state]
    d[(state == FRAME_ANON) & (lru == LRU_ACTIVE_ANON)] = D_ANON_ACTIVE
    return d


def nice_frames_per_cell(nr_frames: int, nr_cells: int) -> int:
    """The smallest round count of frames per cell (1..8, then 4..7 × 2^k: 10, 12, 14, 16, 20 ...) fitting `nr_cells`."""
    need = max(1, -(-nr_frames // max(1, nr_cells)))
    if need <= 8:
        return need
    shift = need.bit_length() - 3
    mantissa = -(-need // (1 << shift))
    return mantissa << shift


def _changed_words(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Frames in every 64-bit word of a column that differs (8 // itemsize frames a word)."""
    per = 8 // new.itemsize
    words = np.flatnonzero(new.view(np.uint64) != old.view(np.uint64))
    return (words[:, None] * per + np.arange(per)).ravel()


def changed_frames(old_state: np.ndarray, state: np.ndarray, old_lru: np.ndarray, lru: np.ndarray) -> np.ndarray:
    """Indices of frames whose state or LRU differs: a column's 64-bit words first, then frame by frame.

    Each column is compared in words of its own width (state is one byte a frame, the LRU id two)."""
    n = len(state)
    if n % 8 or not (
        state.flags.c_contiguous
        and old_state.flags.c_contiguous
        and lru.flags.c_contiguous
        and old_lru.flags.c_contiguous
    ):
        return np.flatnonzero((state != old_state) | (lru != old_lru))
    idx = np.union1d(_changed_words(old_state, state), _changed_words(old_lru, lru))
    if len(idx) == 0:
        return idx.astype(np.int64)
    return idx[(state[idx] != old_state[idx]) | (lru[idx] != old_lru[idx])]


class FrameCells:
    """Frames per display state in each cell of `frames_per_cell` consecutive frames."""

    def __init__(self, nr_frames: int, frames_per_cell: int) -> None:
        self.nr_frames = nr_frames
        self.frames_per_cell = frames_per_cell
        self.nr_cells = -(-nr_frames // frames_per_cell)
        self.counts = np.zeros((self.nr_cells, NR_DISPLAY), dtype=np.int32)
        self.dominant = np.zeros(self.nr_cells, dtype=np.uint8)
        self._state: np.ndarray | None = None
        self._lru: np.ndarray | None = None
        self._display: np.ndarray | None = None

    def recount(self, state: np.ndarray, lru: np.ndarray) -> None:
        """Count every frame from scratch."""
        d = display_states(state, lru)
        cell = np.arange(self.nr_frames, dtype=np.int64) // self.frames_per_cell
        flat = np.bincount(cell * NR_DISPLAY + d, minlength=self.nr_cells * NR_DISPLAY)
        self.counts = flat.reshape(self.nr_cells, NR_DISPLAY).astype(np.int32)
        self.dominant = self.counts.argmax(axis=1).astype(np.uint8)
        self._state, self._lru, self._display = state, lru, d

    def update(self, state: np.ndarray, lru: np.ndarray) -> np.ndarray | None:
        """Apply a new snapshot's frames; returns the cells whose dominant state changed (None: all may have)."""
        if self._state is None or len(state) != self.nr_frames:
            self.recount(state, lru)
            return None
        if state is self._state and lru is self._lru:
            return np.zeros(0, dtype=np.int64)
        assert self._lru is not None and self._display is not None  # recount sets all three together
        changed = changed_frames(self._state, state, self._lru, lru)
        self._state, self._lru = state, lru
        if len(changed) == 0:
            return np.zeros(0, dtype=np.int64)
        if len(changed) > self.nr_frames // 8:
            before = self.dominant
            self.recount(state, lru)
            return np.flatnonzero(before != self.dominant)
        new = display_states(state[changed], lru[changed])
        old = self._display[changed]
        moved = new != old
        changed, new, old = changed[moved], new[moved], old[moved]
        if len(changed) == 0:
            return np.zeros(0, dtype=np.int64)
        self._display[changed] = new
        cells = changed // self.frames_per_cell
        np.subtract.at(self.counts, (cells, old), 1)
        np.add.at(self.counts, (cells, new), 1)
        touched = np.unique(cells)
        dom = self.counts[touched].argmax(axis=1).astype(np.uint8)
        flipped = dom != self.dominant[touched]
        self.dominant[touched] = dom
        return touched[flipped]

    def totals(self) -> np.ndarray:
        """Frames per display state over the whole map."""
        return self.counts.sum(axis=0)


def cell_counts(state: np.ndarray, lru: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Frames per display state in frames [lo, hi) (for the inspector)."""
    return np.bincount(display_states(state[lo:hi], lru[lo:hi]), minlength=NR_DISPLAY)


# -- swap clusters ----------------------------------------------------------------------------------

CLUSTER_GLYPH_NONFULL = "▁▂▃▄▅▆▇"
CLUSTER_GLYPH_FRAG = "░▒▓"
CLUSTER_GLYPH = {CLUSTER_FLAG_FREE: "·", CLUSTER_FLAG_FULL: "█", CLUSTER_FLAG_DISCARD: "×", CLUSTER_FLAG_NONE: "◌"}
CLUSTER_CACHED_GLYPH = "▲"
CLUSTER_MEANING = {
    "none": "isolated: taken off every list while a CPU allocates from it",
    "free": "free: no slot in use; the allocator takes a whole free cluster when a CPU needs a new one",
    "nonfull": "nonfull: partly used, preferred for new allocations of its order",
    "frag": "frag: partly used but a scan found no room for its order; tried only after nonfull and free",
    "full": "full: every slot in use; slots come back one by one as pages are freed or swapped in",
    "discard": "discard: freed, waiting for a discard (TRIM) before it can be reused",
}


def cluster_codes(flags: np.ndarray, counts: np.ndarray, cached: np.ndarray, per_cell: int) -> np.ndarray:
    """One code per cell of `per_cell` clusters: flag * 16 + fill level (0..7), + 256 if a CPU caches one of them."""
    n = len(flags)
    cells = -(-n // per_cell) if n else 0
    if per_cell == 1:
        dom = flags.astype(np.int64)
        fill = counts.astype(np.float64) / SWAPFILE_CLUSTER
        any_cached: np.ndarray | np.bool_ = cached
    else:
        pad = cells * per_cell - n
        f = np.concatenate([flags, np.full(pad, CLUSTER_FLAG_NONE, flags.dtype)]).reshape(cells, per_cell)
        c = np.concatenate([counts, np.zeros(pad, counts.dtype)]).reshape(cells, per_cell)
        per_flag = np.stack([(f == k).sum(axis=1) for k in range(len(CLUSTER_FLAG_NAMES))], axis=1)
        dom = per_flag.argmax(axis=1).astype(np.int64)
        real = np.minimum(per_cell, n - np.arange(cells) * per_cell)
        fill = c.sum(axis=1) / (real * SWAPFILE_CLUSTER)
        any_cached = np.concatenate([cached, np.zeros(pad, bool)]).reshape(cells, per_cell).any(axis=1)
    level = np.clip(np.ceil(fill * 7), 0, 7).astype(np.int64)
    return dom * 16 + level + np.where(any_cached, 256, 0)


def cluster_glyph(code: int) -> str:
    """The glyph of a cluster cell code: the list by shape, the fill by height or density."""
    if code >= 256:
        return CLUSTER_CACHED_GLYPH
    flag, level = code // 16, code % 16
    if flag == CLUSTER_FLAG_NONFULL:
        return CLUSTER_GLYPH_NONFULL[max(1, min(level, 7)) - 1]
    if flag == CLUSTER_FLAG_FRAG:
        return CLUSTER_GLYPH_FRAG[min(2, max(0, (level - 1) * 3 // 7))]
    return CLUSTER_GLYPH.get(flag, "?")


def cached_clusters(percpu_offset: np.ndarray, nr_clusters: int) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Which clusters a CPU's per-CPU cache points into, and for each such cluster the CPUs (last row: kswapd)."""
    mask = np.zeros(nr_clusters, dtype=bool)
    owners: dict[int, list[int]] = {}
    if percpu_offset.size:
        offsets = percpu_offset[:, 0]
        for cpu, off in enumerate(offsets.tolist()):
            if off >= 0:
                c = off // SWAPFILE_CLUSTER
                if c < nr_clusters:
                    mask[c] = True
                    owners.setdefault(c, []).append(cpu)
    return mask, owners
