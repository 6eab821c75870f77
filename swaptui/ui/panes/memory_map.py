"""Pane 1, the memory map: every physical frame, many per cell, as a glyph-and-colour heatmap.

Each cell shows the state most of its frames are in (free, per-CPU, kernel, anon active/inactive,
file, swap cache, zsmalloc, reserved) with its own glyph and colour; in dense mode a half-block
shows two cells per character (colour only, twice the detail). Zooming in halves the frames per
cell, adds a PFN gutter and shades alternate pageblocks (512 frames, 2 MiB). Rendering uses the
Line API: each row's Strip is cached and only rows whose cells changed are redrawn.
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

from swaptui.ui.cells import (
    DISPLAY_GLYPHS,
    DISPLAY_KEYS,
    DISPLAY_NAMES,
    NR_DISPLAY,
    FrameCells,
    nice_frames_per_cell,
)
from swaptui.ui.panes.base import FittedText, Pane, fit, from_kernel, not_exported, pack, wrap_rows
from swaptui.ui.panes.grid import CellGrid
from swaptui.ui.stepper import Frame
from swaptui.units import format_size

PAGEBLOCK_FRAMES = 512
MAX_ZOOM = 8
DENSE_GLYPH = "▀"


def banding(frames_per_cell: int) -> bool:
    """Shade alternate pageblocks when cells are small enough (4+ per pageblock) and line up with them."""
    return frames_per_cell * 4 <= PAGEBLOCK_FRAMES and PAGEBLOCK_FRAMES % frames_per_cell == 0


class MapView(CellGrid):
    """The frames as cells; arrow keys move a cursor, enter or a click inspects the cell."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"map--{k}" for k in DISPLAY_KEYS),
        "map--band",
        "map--cursor",
        "map--gutter",
    }
    INSPECT_KIND = "frame"

    def __init__(self) -> None:
        super().__init__()
        self.zoom = 0
        self.dense = False
        self.cells: FrameCells | None = None
        self.pfn_gutter = 0

    # -- layout ---------------------------------------------------------------------------------------
    def _relayout(self, nr_frames: int) -> bool:
        """Choose frames per cell and cells per row for this size, zoom and mode; True if they changed."""
        width, height = self.size
        key = (nr_frames, width, height, self.zoom, self.dense)
        if key == self._layout_key or width <= 0 or height <= 0:
            return False
        self._layout_key = key
        self.pfn_gutter = 9 if self.zoom > 0 else 0
        self.cols = max(1, width - self.pfn_gutter - (1 if self.zoom > 0 else 0))
        rows = height * (2 if self.dense else 1)
        base = nice_frames_per_cell(nr_frames, self.cols * rows)
        fpc = max(1, base >> self.zoom)
        self.cells = FrameCells(nr_frames, fpc)
        cell_rows = -(-self.cells.nr_cells // self.cols)
        self.nr_lines = -(-cell_rows // 2) if self.dense else cell_rows
        self.virtual_size = Size(width, self.nr_lines)
        self.cursor = min(self.cursor, self.cells.nr_cells - 1)
        self._strips.clear()
        return True

    @property
    def frames_per_cell(self) -> int:
        return self.cells.frames_per_cell if self.cells else 1

    def cell_range(self, cell: int) -> tuple[int, int]:
        """Frames [lo, hi) in a cell."""
        fpc = self.frames_per_cell
        lo = cell * fpc
        return lo, min(lo + fpc, self.cells.nr_frames if self.cells else lo + fpc)

    @property
    def nr_cells(self) -> int:
        return self.cells.nr_cells if self.cells else 0

    def line_of(self, cell: int) -> int:
        return cell // (self.cols * (2 if self.dense else 1))

    def cell_at(self, x: int, line: int) -> int | None:
        x -= self.pfn_gutter
        if x < 0 or x >= self.cols or line >= self.nr_lines:
            return None
        return (line * 2 * self.cols + x) if self.dense else (line * self.cols + x)

    def cell_key(self, cell: int) -> tuple[int, int]:
        return self.cell_range(cell)

    # -- data -----------------------------------------------------------------------------------------
    def show_frame(self, frame: Frame) -> None:
        """Fold a new snapshot into the cells and redraw the rows that changed."""
        self.frame = frame
        snap = frame.snapshot
        relaid = self._relayout(len(snap.frame_state))
        if self.cells is None:
            return
        changed = self.cells.update(snap.frame_state, snap.frame_lru)
        if relaid or changed is None or len(changed) > self.cells.nr_cells // 3:
            self.redraw_all()
            return
        if len(changed):
            self.redraw_lines(np.unique(changed // (self.cols * (2 if self.dense else 1))).tolist())

    # -- rendering ------------------------------------------------------------------------------------
    def _style(self, display: int, band: bool = False, cursor: bool = False) -> Style:
        key = (display, band, cursor)
        style = self._styles.get(key)
        if style is None:
            style = self.get_component_rich_style(f"map--{DISPLAY_KEYS[display]}")
            if band:
                style = style + Style(bgcolor=self.get_component_rich_style("map--band").bgcolor)
            if cursor:
                style = style + self.get_component_rich_style("map--cursor", partial=True)
            self._styles[key] = style
        return style

    def _dense_style(self, top: int, bottom: int | None) -> Style:
        key = ("dense", top, bottom)
        style = self._styles.get(key)
        if style is None:
            fg = self._style(top).color
            bg = self._style(bottom).color if bottom is not None else None
            style = Style(color=fg, bgcolor=bg)
            self._styles[key] = style
        return style

    def render_row(self, line: int, width: int) -> Strip:
        cells = self.cells
        assert cells is not None  # render_line draws rows only once there are cells
        cols = self.cols
        segments: list[Segment] = []
        if self.pfn_gutter:
            first = line * cols * (2 if self.dense else 1) * cells.frames_per_cell
            segments.append(Segment(f"{first:#8x} ", self.get_component_rich_style("map--gutter")))
        if self.dense:
            top0 = 2 * line * cols
            top = cells.dominant[top0 : top0 + cols].tolist()
            bottom = cells.dominant[top0 + cols : top0 + 2 * cols].tolist()
            pairs: list[tuple[bool, int, int | None]] = []  # (under the cursor, top or cursor cell, bottom)
            for i, t in enumerate(top):
                b = bottom[i] if i < len(bottom) else None
                if self.has_focus and top0 + i == self.cursor:
                    pairs.append((True, t, None))
                elif self.has_focus and b is not None and top0 + cols + i == self.cursor:
                    pairs.append((True, b, None))
                else:
                    pairs.append((False, t, b))
            for (cursor, t, b), run in groupby(pairs):
                n = sum(1 for _ in run)
                if cursor:
                    segments.append(Segment(DISPLAY_GLYPHS[t] * n, self._style(t, cursor=True)))
                else:
                    segments.append(Segment(DENSE_GLYPH * n, self._dense_style(t, b)))
        else:
            c0 = line * cols
            dom = cells.dominant[c0 : c0 + cols].tolist()
            banded = banding(cells.frames_per_cell)
            fpc = cells.frames_per_cell
            keys: list[tuple[int, bool, bool]] = []
            for i, d in enumerate(dom):
                c = c0 + i
                band = banded and ((c * fpc) // PAGEBLOCK_FRAMES) % 2 == 1
                keys.append((d, band, self.has_focus and c == self.cursor))
            for key, same in groupby(keys):
                n = sum(1 for _ in same)
                segments.append(Segment(DISPLAY_GLYPHS[key[0]] * n, self._style(*key)))
        return Strip(segments).adjust_cell_length(width, self.rich_style)


class MemoryMapPane(Pane):
    """Physical memory, frame by frame, with a legend that counts each state."""

    PANE_ID = "memory"
    EVERY_FRAME = True

    def compose(self):
        yield MapView()
        yield FittedText(id="memory-legend", classes="legend")

    def show_frame(self, frame: Frame) -> None:
        if from_kernel(frame):
            self._show_kernel(frame)
            return
        view = self.query_one(MapView)
        view.show_frame(frame)
        if view.cells is None:
            return
        snap = frame.snapshot
        nr = len(snap.frame_state)
        fpc = view.frames_per_cell
        zoom = f"zoom ×{1 << view.zoom} · " if view.zoom else ""
        self.set_titles(
            fit(
                self.content_size.width + 2,
                f"{self.info.number} {self.info.title}",
                f"1 cell = {fpc:,} frame{'s' if fpc > 1 else ''} ({format_size(fpc * 4096, figures=3)})",
                format_size(nr * 4096, figures=3),
                f"{nr:,} frames",
            ),
            fit(
                self.content_size.width,
                f"{zoom}cell shows its commonest state",
                "[ ] zoom",
                f"d {'glyphs' if view.dense else 'dense'}",
                "click a cell",
            ),
        )
        self.query_one("#memory-legend", FittedText).show(self.legend(view, nr))

    def legend(self, view: MapView, nr_frames: int) -> Content:
        """Every glyph with its state's name and share of memory; how to read dense mode and bands."""
        totals = view.cells.totals() if view.cells is not None else np.zeros(NR_DISPLAY)
        parts = []
        for d in range(NR_DISPLAY):
            share = totals[d] / nr_frames * 100 if nr_frames else 0
            glyph = DISPLAY_GLYPHS[d] if DISPLAY_GLYPHS[d] != " " else "␣"
            parts.append(
                Content.assemble(
                    (glyph, f"$frame-{DISPLAY_KEYS[d]} bold"),
                    f" {DISPLAY_NAMES[d]} {share:.0f}%" if share >= 1 or share == 0 else f" {DISPLAY_NAMES[d]} <1%",
                )
            )
        notes = []
        if view.dense:
            notes.append("dense: ▀ = top cell's colour over the bottom cell's (colour only; d for glyphs)")
        if view.cells is not None and banding(view.cells.frames_per_cell):
            notes.append("shaded bands = alternate pageblocks (2 MiB)")
        parts += [Content.styled(note, "$text-muted") for note in notes]
        return pack(parts, max(10, self.content_size.width))

    # -- a real kernel: no per-frame state, so what /proc/meminfo says memory holds ---------------------------
    def _show_kernel(self, frame: Frame) -> None:
        body = self.kernel_body(self.query_one(MapView), self.query_one("#memory-legend"))
        width = max(10, self.content_size.width)
        self.set_titles(f"{self.info.number} {self.info.title}", "from /proc/meminfo and /proc/vmstat")
        body.show(kernel_memory(frame, width))


def meminfo_parts(meminfo: dict, vmstat: dict, zram_pool_pages: int) -> list[tuple[str, str, str, int]]:
    """(glyph, name, style, kB) for what memory holds, by /proc/meminfo; the rest of MemTotal is "other"."""
    kb = meminfo.get
    zs = vmstat.get("nr_zspages")
    zsmalloc = zs * 4 if zs is not None else zram_pool_pages * 4
    parts = [
        (DISPLAY_GLYPHS[3], "anon active", "$frame-anon-active", kb("Active(anon)", 0)),
        (DISPLAY_GLYPHS[4], "anon inactive", "$frame-anon-inactive", kb("Inactive(anon)", 0)),
        (DISPLAY_GLYPHS[5], "file", "$frame-file", kb("Active(file)", 0) + kb("Inactive(file)", 0)),
        (DISPLAY_GLYPHS[2], "kernel", "$frame-kernel", kb("Slab", 0) + kb("KernelStack", 0) + kb("PageTables", 0)),
        (DISPLAY_GLYPHS[7], "zsmalloc", "$frame-zsmalloc", zsmalloc),
        (DISPLAY_GLYPHS[0], "free", "$frame-free", kb("MemFree", 0)),
    ]
    other = kb("MemTotal", 0) - sum(p[3] for p in parts)
    parts.append((DISPLAY_GLYPHS[8], "other", "$frame-reserved", max(0, other)))
    return parts


def proportional_cells(values: list[int], width: int) -> list[int]:
    """Cells per value, summing to `width` (largest remainders get the spare cells)."""
    total = sum(values)
    if total <= 0 or width <= 0:
        return [0] * len(values)
    exact = [v * width / total for v in values]
    cells = [int(x) for x in exact]
    for i in sorted(range(len(values)), key=lambda i: exact[i] - cells[i], reverse=True)[: width - sum(cells)]:
        cells[i] += 1
    return cells


def kernel_memory(frame: Frame, width: int) -> Content:
    """A real kernel's memory as one bar by /proc/meminfo, its legend, and what the kernel does not show."""
    s = frame.snapshot
    kernel = getattr(s, "kernel", {})
    meminfo = kernel.get("meminfo_kb", {})
    out = [Content.assemble(not_exported("per-frame state (the memory map)"))]
    if not meminfo:
        out.append(Content.styled("no /proc/meminfo in this recording", "$text-muted"))
        return Content("\n").join(wrap_rows(out, width))
    parts = meminfo_parts(meminfo, kernel.get("vmstat", {}), s.zram_pool_pages)
    cells = proportional_cells([p[3] for p in parts], width)
    out.append(
        Content.styled(
            f"what MemTotal ({format_size(meminfo.get('MemTotal', 0) << 10, figures=3)}) holds, by /proc/meminfo:",
            "$text-muted",
        )
    )
    bar = Content.assemble(*[(glyph * n, f"{style} bold") for (glyph, _, style, _), n in zip(parts, cells)])
    out += [bar, bar]
    out.append(
        pack(
            [
                Content.assemble(
                    (glyph if glyph != " " else "␣", f"{style} bold"), f" {name} {format_size(k << 10, figures=3)}"
                )
                for glyph, name, style, k in parts
            ],
            width,
        )
    )
    extra = [
        f"{name} {format_size(meminfo[key] << 10, figures=3)}"
        for key, name in (
            ("SwapCached", "swap cache"),
            ("Shmem", "shmem"),
            ("Unevictable", "unevictable"),
            ("Mapped", "mapped"),
            ("AnonPages", "anon pages"),
        )
        if key in meminfo
    ]
    if extra:
        out.append(Content.styled("of which: " + " · ".join(extra), "$text-muted"))
    out.append(Content.styled("anon includes shmem and swap cache · other = MemTotal − the rest", "$text-muted"))
    return Content("\n").join(wrap_rows(out, width))
