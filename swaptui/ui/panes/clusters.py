"""Pane 3, swap clusters: one cell per 512-slot cluster (or per group, when they do not fit), by list and fill.

The list a cluster is on is its glyph's shape (· free, ▁..▇ nonfull by fill, ░▒▓ frag by fill,
█ full, × discard, ◌ isolated) as well as its colour; ▲ marks a cluster a CPU (or kswapd) has
cached for its next allocations. Line API with per-row strip caches, like the memory map.
"""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip

from swaptui.model.swapfile import CLUSTER_FLAG_NAMES, SWAPFILE_CLUSTER
from swaptui.ui.cells import cached_clusters, cluster_codes, cluster_glyph
from swaptui.ui.metrics import format_rate
from swaptui.ui.panes.base import Pane, Text, fit, from_kernel, label, not_exported, row, wrap_rows
from swaptui.ui.panes.grid import CellGrid
from swaptui.ui.stepper import Frame
from swaptui.units import format_size

FLAG_STYLE = {i: f"clusters--{name}" for i, name in enumerate(CLUSTER_FLAG_NAMES)}


def ceil_div(a: int, b: int) -> int:
    """a / b rounded up."""
    return -(-a // b)


class ClusterView(CellGrid):
    """The clusters of every swap device; arrow keys move a cursor, enter or a click inspects."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *FLAG_STYLE.values(),
        "clusters--cached",
        "clusters--cursor",
        "clusters--heading",
    }
    INSPECT_KIND = "cluster"

    def __init__(self) -> None:
        super().__init__()
        self.per_cell = 1
        self.codes = np.zeros(0, dtype=np.int64)
        self.lines: list[tuple[str, int, int, int]] = []  # ("head", dev, 0, 0) | ("cells", dev, first_cell, n)
        self.devices: list[tuple[int, int, int]] = []  # (first cluster, nr clusters, first cell) per device

    def _relayout(self, frame: Frame) -> bool:
        width, height = self.size
        devs = frame.snapshot.devices
        key = (width, height, tuple((d.first_cluster, d.nr_clusters) for d in devs))
        if key == self._layout_key or width <= 0 or height <= 0:
            return False
        self._layout_key = key
        heads = len(devs) if len(devs) > 1 else 0
        self.cols = max(1, width)
        per_cell = 1
        while True:
            rows = sum(ceil_div(ceil_div(d.nr_clusters, per_cell), self.cols) for d in devs)
            if rows + heads <= height or per_cell >= 1 << 16:
                break
            per_cell *= 2
        self.per_cell = per_cell
        self.lines, self.devices = [], []
        cell = 0
        for i, d in enumerate(devs):
            if heads:
                self.lines.append(("head", i, 0, 0))
            n_cells = -(-d.nr_clusters // per_cell)
            self.devices.append((d.first_cluster, d.nr_clusters, cell))
            for r in range(-(-n_cells // self.cols)):
                self.lines.append(("cells", i, cell + r * self.cols, min(self.cols, n_cells - r * self.cols)))
            cell += n_cells
        self.codes = np.zeros(0, dtype=np.int64)
        self.nr_lines = len(self.lines)
        self.virtual_size = Size(width, self.nr_lines)
        self.cursor = min(self.cursor, max(0, cell - 1))
        self._strips.clear()
        return True

    def show_frame(self, frame: Frame) -> None:
        """Recompute every cell's code and redraw the rows whose codes changed."""
        self.frame = frame
        relaid = self._relayout(frame)
        snap = frame.snapshot
        cached, _ = cached_clusters(snap.percpu_offset, len(snap.cluster_flags))
        parts = []
        for first, n, _ in self.devices:
            sl = slice(first, first + n)
            parts.append(cluster_codes(snap.cluster_flags[sl], snap.cluster_count[sl], cached[sl], self.per_cell))
        codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if relaid or len(codes) != len(self.codes):
            self.codes = codes
            self.redraw_all()
            return
        changed = np.flatnonzero(codes != self.codes)
        self.codes = codes
        if len(changed):
            self.redraw_lines(
                [
                    y
                    for y, (kind, _, first, n) in enumerate(self.lines)
                    if kind == "cells" and np.any((changed >= first) & (changed < first + n))
                ]
            )

    def _style(self, code: int, cursor: bool) -> Style:
        key = (code, cursor)
        style = self._styles.get(key)
        if style is None:
            name = "clusters--cached" if code >= 256 else FLAG_STYLE.get(code // 16, "clusters--none")
            style = self.get_component_rich_style(name)
            if cursor:
                style = style + self.get_component_rich_style("clusters--cursor", partial=True)
            self._styles[key] = style
        return style

    def render_row(self, line: int, width: int) -> Strip:
        kind, dev, first, n = self.lines[line]
        if kind == "head" and self.frame is not None:
            d = self.frame.snapshot.devices[dev]
            text = f"{d.name} ({d.kind}, prio {d.prio}): {d.nr_clusters:,} clusters, {d.inuse:,}/{d.pages:,} slots used"
            return Strip(
                [Segment(text[:width], self.get_component_rich_style("clusters--heading"))]
            ).adjust_cell_length(width, self.rich_style)
        codes = self.codes[first : first + n].tolist()
        keys = [(c, self.has_focus and first + i == self.cursor) for i, c in enumerate(codes)]
        segments = []
        for key, run in groupby(keys):
            k = sum(1 for _ in run)
            segments.append(Segment(cluster_glyph(key[0]) * k, self._style(*key)))
        return Strip(segments).adjust_cell_length(width, self.rich_style)

    # -- cells ------------------------------------------------------------------------------------------
    def cell_clusters(self, cell: int) -> tuple[int, int]:
        """The clusters [lo, hi) a cell stands for."""
        for first, n, first_cell in reversed(self.devices):
            if cell >= first_cell:
                lo = first + (cell - first_cell) * self.per_cell
                return lo, min(lo + self.per_cell, first + n)
        return 0, 0

    @property
    def nr_cells(self) -> int:
        return len(self.codes)

    def line_of(self, cell: int) -> int:
        for y, (kind, _, first, n) in enumerate(self.lines):
            if kind == "cells" and first <= cell < first + n:
                return y
        return 0

    def cell_at(self, x: int, line: int) -> int | None:
        if line >= len(self.lines):
            return None
        kind, _, first, n = self.lines[line]
        return first + x if kind == "cells" and 0 <= x < n else None

    def cell_key(self, cell: int) -> tuple[int, int]:
        return self.cell_clusters(cell)


LEGEND = (
    ("·", "free", "$cluster-free"),
    ("▁▃▅▇", "nonfull (fill)", "$cluster-nonfull"),
    ("░▒▓", "frag (fill)", "$cluster-frag"),
    ("█", "full", "$cluster-full"),
    ("×", "discard", "$cluster-discard"),
    ("◌", "isolated", "$cluster-none"),
    ("▲", "cached", "$cluster-cached"),  # a CPU's (or kswapd's) cached cluster, as the summary's "cached" counts
)


class ClustersPane(Pane):
    """Every swap device's clusters, with list counts; the legend is in the bottom border."""

    PANE_ID = "clusters"
    EVERY_FRAME = True

    def compose(self):
        yield Text(id="clusters-summary", classes="summary")
        yield ClusterView()

    def show_frame(self, frame: Frame) -> None:
        if from_kernel(frame):
            self._show_kernel(frame)
            return
        view = self.query_one(ClusterView)
        view.show_frame(frame)
        snap = frame.snapshot
        nc = len(snap.cluster_flags)
        devs = snap.devices
        if len(devs) == 1:
            d = devs[0]
            where = f"{d.name} ({d.kind}) · {nc:,} clusters × {SWAPFILE_CLUSTER} slots ({format_size(d.pages * 4096, figures=3)})"
        else:
            where = f"{len(devs)} devices · {nc:,} clusters × {SWAPFILE_CLUSTER} slots"
        per = f"1 cell = {view.per_cell} clusters" if view.per_cell > 1 else "1 cell = 1 cluster"
        self.set_titles(
            fit(self.content_size.width + 2, f"{self.info.number} {self.info.title}", per, where),
            fit(self.size.width, *(f"{g} {name}" for g, name, _ in LEGEND), sep="  "),
        )
        counts = np.bincount(snap.cluster_flags, minlength=len(CLUSTER_FLAG_NAMES))
        _, owners = cached_clusters(snap.percpu_offset, nc)
        used = sum(d.inuse for d in devs)
        total = sum(d.pages for d in devs)
        orders = np.unique(snap.cluster_order[snap.cluster_count > 0]) if len(snap.cluster_order) else np.zeros(0)
        parts = [
            Content.assemble((f"{CLUSTER_FLAG_NAMES[k]} ", "$text-muted"), (f"{int(counts[k]):,}", "bold"))
            for k in (1, 2, 3, 4, 5)
        ]
        summary = Content(" ").join(parts) + Content.assemble(
            (" · cached ", "$text-muted"),
            (f"{len(owners)}", "bold"),
            (" · used ", "$text-muted"),
            (f"{used:,}/{total:,} ({used / total * 100 if total else 0:.1f}%)", "bold"),
            (" · order ", "$text-muted"),
            (",".join(str(int(o)) for o in orders) or "—", "bold"),
        )
        self.query_one("#clusters-summary", Text).show(summary.truncate(max(10, self.content_size.width)))

    # -- a real kernel: /proc/swaps has each device's use, nothing per cluster ---------------------------------
    def _show_kernel(self, frame: Frame) -> None:
        body = self.kernel_body(self.query_one(ClusterView))
        width = max(10, self.content_size.width)
        snap = frame.snapshot
        devs = snap.devices
        used = sum(d.inuse for d in devs)
        total = sum(d.pages for d in devs)
        self.set_titles(
            fit(width + 2, f"{self.info.number} Swap devices", "from /proc/swaps"),
            fit(self.size.width, "█ used", "· free"),
        )
        share = used / total * 100 if total else 0
        used_text = f"{format_size(used * 4096, figures=3)} of {format_size(total * 4096, figures=3)} ({share:.1f}%)"
        summary = Content.assemble(("swap used ", "$text-muted"), (used_text, "bold"))
        self.query_one("#clusters-summary", Text).show(
            summary.truncate(width) if devs else Content.styled("no swap in use", "$text-muted")
        )
        body.show(kernel_swap(frame, width))


def kernel_swap(frame: Frame, width: int) -> Content:
    """Each swap device's use from /proc/swaps, zram's pool from mm_stat, and what the kernel does not show."""
    s = frame.snapshot
    h = frame.history
    kernel = getattr(s, "kernel", {})
    out: list[Content] = []
    bar_w = max(10, width - 2)
    for d in s.devices:
        out.append(
            Content.assemble(
                (d.name, "bold"),
                f" ({d.kind}, prio {d.prio}) ",
                (f"{format_size(d.inuse * 4096, figures=3)}", "bold"),
                f" of {format_size(d.pages * 4096, figures=3)}",
            )
        )
        n = round(d.inuse / d.pages * bar_w) if d.pages else 0
        out.append(Content.assemble(("█" * n, "$cluster-full"), ("·" * (bar_w - n), "$cluster-free")))
    if not s.devices:
        out.append(Content.styled("no swap device in /proc/swaps", "$text-muted"))
    out.append(
        row(
            label("swap I/O", 9),
            "out ",
            (format_rate(h.rate("pswpout")), "bold"),
            " · in ",
            (format_rate(h.rate("pswpin")), "bold"),
            (" pages", "$text-muted"),
        )
    )
    zram = kernel.get("zram")
    if isinstance(zram, dict) and zram.get("orig_data_size"):
        orig, compr = zram.get("orig_data_size", 0), zram.get("compr_data_size", 0)
        ratio = f" · ratio {orig / compr:.2f}" if compr else ""
        out.append(
            row(
                label("zram", 9),
                (format_size(orig, figures=3), "bold"),
                " stored in ",
                (format_size(zram.get("mem_used_total", 0), figures=3), "bold"),
                f"{ratio} · same pages {zram.get('same_pages', 0):,} · huge {zram.get('huge_pages', 0):,}",
            )
        )
    zswap = kernel.get("zswap")
    if isinstance(zswap, dict) and zswap:
        out.append(
            row(
                label("zswap", 9),
                f"pool {format_size(zswap.get('pool_total_size', 0), figures=3)} · stored "
                f"{zswap.get('stored_pages', 0):,} · written back "
                f"{zswap.get('written_back_pages', 0):,}",
            )
        )
    out.append(Content.assemble(not_exported("512-slot clusters, their lists and occupancy")))
    return Content("\n").join(wrap_rows(out, width))
