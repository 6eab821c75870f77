"""Pane 6, fragmentation: buddy free blocks per order, the kernel's unusable and extfrag indices, pageblocks,
zsmalloc and swap-cluster fragmentation; compaction and migratetypes say plainly that they are not modelled."""

from __future__ import annotations

import numpy as np
from textual.content import Content

from swaptui.model.memmap import FRAME_KERNEL
from swaptui.model.swapfile import CLUSTER_FLAG_FRAG, SWAPFILE_CLUSTER
from swaptui.ui.metrics import (
    NR_PAGE_ORDERS, PAGEBLOCK_ORDER, format_index, format_pages, fragmentation_index, sparkline, unusable_free_index,
)
from swaptui.ui.panes.base import TextPane, label, lines, not_modelled, row
from swaptui.ui.stepper import Frame

PAGEBLOCK_FRAMES = 1 << PAGEBLOCK_ORDER


def pageblocks_with_kernel_frames(frame_state: np.ndarray) -> tuple[int, int]:
    """(pageblocks holding at least one unmovable kernel frame, pageblocks)."""
    n = len(frame_state) // PAGEBLOCK_FRAMES
    if n == 0:
        return 0, 0
    blocks = frame_state[:n * PAGEBLOCK_FRAMES].reshape(n, PAGEBLOCK_FRAMES)
    return int((blocks == FRAME_KERNEL).any(axis=1).sum()), n


class FragmentationPane(TextPane):
    """How broken up free memory and swap space are."""

    PANE_ID = "fragmentation"

    def __init__(self) -> None:
        super().__init__()
        self._kernel_blocks: tuple[tuple, tuple[int, int]] | None = None

    def _kernel_pageblocks(self, frame: Frame) -> tuple[int, int]:
        s = frame.snapshot
        key = (len(s.frame_state), int(s.state_counts[FRAME_KERNEL]))
        if self._kernel_blocks is None or self._kernel_blocks[0] != key:
            self._kernel_blocks = (key, pageblocks_with_kernel_frames(s.frame_state))
        return self._kernel_blocks[1]

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        s = frame.snapshot
        fa = list(s.free_area)[:NR_PAGE_ORDERS]
        cols = min(NR_PAGE_ORDERS, len(fa))
        cw = max(4, min(7, (width - 8) // max(1, cols)))
        pages = np.array([b << o for o, b in enumerate(fa)], dtype=float)
        bars = sparkline(np.log1p(pages), cols, 0, float(np.log1p(pages).max()) if len(pages) else 1)  # log scale
        unusable = {o: unusable_free_index(fa, o) for o in (3, PAGEBLOCK_ORDER)}
        extfrag = {o: fragmentation_index(fa, o) for o in (3, PAGEBLOCK_ORDER)}
        kblocks, nblocks = self._kernel_pageblocks(frame)
        frag = s.cluster_flags == CLUSTER_FLAG_FRAG
        nfrag = int(frag.sum())
        stranded = int((SWAPFILE_CLUSTER - s.cluster_count[frag]).sum()) if nfrag else 0
        out = [
            row(label("order", 7), *[(f"{o:>{cw}}", "$text-muted") for o in range(cols)]),
            row(label("blocks", 7), *[(f"{b:>{cw},}", "bold") for b in fa[:cols]]),
            row(label("pages", 7), *[(f"{ch:>{cw}}", "$primary") for ch in bars]),
            row(label("unusable", 9), ("o3 ", "$text-muted"), format_index(unusable[3]), ("  o9 ", "$text-muted"),
                format_index(unusable[PAGEBLOCK_ORDER]), ("  0 good … 1 bad", "$text-muted")),
            row(label("extfrag", 9), ("o3 ", "$text-muted"), format_index(extfrag[3]), ("  o9 ", "$text-muted"),
                format_index(extfrag[PAGEBLOCK_ORDER]), ("  -1 = would succeed", "$text-muted")),
            row(label("pageblk", 9), f"{nblocks:,} × 2 MiB, {kblocks:,} with kernel frames"),
            row(label("migrate", 9), not_modelled("migratetypes: not modelled yet")),
            row(label("compact", 9), not_modelled("compaction: not modelled yet")),
            row(label("zsmalloc", 9), not_modelled("size classes: not modelled yet"),
                f" · pool {format_pages(s.zram_pool_pages)}"),
            row(label("swap", 9), f"{nfrag:,} frag clusters · {stranded:,} free slots in them"),
        ]
        return lines(*[r.truncate(width) for r in out], height=height)
