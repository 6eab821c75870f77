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
from textual import events
from textual.binding import BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swaptui.model.swapfile import CLUSTER_FLAG_NAMES, SWAPFILE_CLUSTER
from swaptui.ui.actions import bindings
from swaptui.ui.cells import cached_clusters, cluster_codes, cluster_glyph
from swaptui.ui.messages import Inspect
from swaptui.ui.metrics import format_rate
from swaptui.ui.panes.base import Pane, Text, fit, from_kernel, label, not_exported, row, wrap_rows
from swaptui.ui.stepper import Frame
from swaptui.units import format_size

FLAG_STYLE = {i: f"clusters--{name}" for i, name in enumerate(CLUSTER_FLAG_NAMES)}


def ceil_div(a: int, b: int) -> int:
    """a / b rounded up."""
    return -(-a // b)


class ClusterView(ScrollView, can_focus=True):
    """The clusters of every swap device; arrow keys move a cursor, enter or a click inspects."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("cursor")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *FLAG_STYLE.values(),
        "clusters--cached",
        "clusters--cursor",
        "clusters--heading",
    }

    def __init__(self) -> None:
        super().__init__(classes="pane-body")
        self.frame: Frame | None = None
        self.per_cell = 1
        self.cols = 1
        self.cursor = 0
        self.codes = np.zeros(0, dtype=np.int64)
        self.lines: list[tuple[str, int, int, int]] = []  # ("head", dev, 0, 0) | ("cells", dev, first_cell, n)
        self.devices: list[tuple[int, int, int]] = []  # (first cluster, nr clusters, first cell) per device
        self._layout_key: tuple | None = None
        self._strips: dict[int, Strip] = {}
        self._styles: dict[tuple, Style] = {}

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
        self.virtual_size = Size(width, len(self.lines))
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
            self._strips.clear()
            self.refresh()
            return
        changed = np.flatnonzero(codes != self.codes)
        self.codes = codes
        if len(changed):
            for y, (kind, _, first, n) in enumerate(self.lines):
                if kind == "cells" and np.any((changed >= first) & (changed < first + n)):
                    self._strips.pop(y, None)
                    self.refresh_line(y)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def on_resize(self) -> None:
        if self.frame is not None:
            self.show_frame(self.frame)

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

    def render_line(self, y: int) -> Strip:
        line = y + self.scroll_offset.y
        width = self.size.width
        if line >= len(self.lines) or self.frame is None or not len(self.codes):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(line)
        if strip is None:
            strip = self._render_row(self.frame, line, width)
            self._strips[line] = strip
        return strip

    def _render_row(self, frame: Frame, line: int, width: int) -> Strip:
        kind, dev, first, n = self.lines[line]
        if kind == "head":
            d = frame.snapshot.devices[dev]
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

    # -- cursor -----------------------------------------------------------------------------------------
    def cell_clusters(self, cell: int) -> tuple[int, int]:
        """The clusters [lo, hi) a cell stands for."""
        for first, n, first_cell in reversed(self.devices):
            if cell >= first_cell:
                lo = first + (cell - first_cell) * self.per_cell
                return lo, min(lo + self.per_cell, first + n)
        return 0, 0

    def _line_of(self, cell: int) -> int:
        for y, (kind, _, first, n) in enumerate(self.lines):
            if kind == "cells" and first <= cell < first + n:
                return y
        return 0

    def _move_cursor(self, cell: int) -> None:
        if not len(self.codes):
            return
        cell = max(0, min(len(self.codes) - 1, cell))
        old = self._line_of(self.cursor)
        self.cursor = cell
        new = self._line_of(cell)
        for y in {old, new}:
            self._strips.pop(y, None)
            self.refresh_line(y)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True)
        self.post_message(Inspect("cluster", self.cell_clusters(cell), open=False))

    def action_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by cells and rows."""
        self._move_cursor(self.cursor + dx + dy * self.cols)

    def action_inspect(self) -> None:
        """Open the inspector on the cluster under the cursor."""
        if len(self.codes):
            self.post_message(Inspect("cluster", self.cell_clusters(self.cursor)))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        y = offset.y + self.scroll_offset.y
        if y >= len(self.lines):
            return
        kind, _, first, n = self.lines[y]
        if kind != "cells" or offset.x >= n:
            return
        self.focus()
        self._move_cursor(first + offset.x)
        self.post_message(Inspect("cluster", self.cell_clusters(self.cursor)))

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()


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
