"""What the memory map and the cluster grid share: cells in rows drawn with the Line API, a strip cached per
row (only rows whose cells changed are redrawn), one style cache, and a cursor that moves, clicks and inspects."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swaptui.ui.actions import bindings
from swaptui.ui.messages import Inspect
from swaptui.ui.stepper import Frame


class CellGrid(ScrollView, can_focus=True):
    """A grid of cells over a frame; arrow keys move a cursor, enter or a click inspects what its cell holds."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("cursor")
    INSPECT_KIND = ""  # what the inspector is asked about: "frame" or "cluster"

    def __init__(self) -> None:
        super().__init__(classes="pane-body")
        self.frame: Frame | None = None
        self.cursor = 0
        self.cols = 1
        self.nr_lines = 0
        self._layout_key: tuple | None = None
        self._strips: dict[int, Strip] = {}
        self._styles: dict[tuple, Style] = {}

    # -- what a grid says about itself ----------------------------------------------------------------
    @property
    def nr_cells(self) -> int:
        """How many cells there are now (0 before the first frame)."""
        raise NotImplementedError

    def line_of(self, cell: int) -> int:
        """The row a cell is drawn on."""
        raise NotImplementedError

    def cell_at(self, x: int, line: int) -> int | None:
        """The cell at column x of a row, or None where there is none."""
        raise NotImplementedError

    def cell_key(self, cell: int) -> tuple[int, int]:
        """What the inspector is told a cell holds: [lo, hi) of frames or clusters."""
        raise NotImplementedError

    def render_row(self, line: int, width: int) -> Strip:
        """One row of cells, for the strip cache."""
        raise NotImplementedError

    # -- drawing ------------------------------------------------------------------------------------------
    def redraw_lines(self, lines: list[int]) -> None:
        """Drop the cached strips of these rows and repaint them alone."""
        for line in lines:
            self._strips.pop(line, None)
            self.refresh_line(line)

    def redraw_all(self) -> None:
        """Drop every cached strip and repaint."""
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def on_resize(self) -> None:
        if self.frame is not None:
            self.show_frame(self.frame)

    def show_frame(self, frame: Frame) -> None:
        """Fold a new frame into the cells and redraw the rows that changed (subclasses)."""

    def render_line(self, y: int) -> Strip:
        line = y + self.scroll_offset.y
        width = self.size.width
        if line >= self.nr_lines or self.nr_cells == 0:
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(line)
        if strip is None:
            strip = self.render_row(line, width)
            self._strips[line] = strip
        return strip

    # -- cursor and mouse -----------------------------------------------------------------------------
    def _move_cursor(self, cell: int) -> None:
        if self.nr_cells == 0:
            return
        cell = max(0, min(self.nr_cells - 1, cell))
        old = self.line_of(self.cursor)
        self.cursor = cell
        new = self.line_of(cell)
        self.redraw_lines(sorted({old, new}))
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True)
        self.post_message(Inspect(self.INSPECT_KIND, self.cell_key(cell), open=False))

    def action_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by cells (dx) and rows (dy)."""
        self._move_cursor(self.cursor + dx + dy * self.cols)

    def action_inspect(self) -> None:
        """Open the inspector on the cell under the cursor."""
        if self.nr_cells:
            self.post_message(Inspect(self.INSPECT_KIND, self.cell_key(self.cursor)))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self.nr_cells == 0:
            return
        cell = self.cell_at(offset.x, offset.y + self.scroll_offset.y)
        if cell is None:
            return
        self.focus()
        self._move_cursor(cell)
        self.post_message(Inspect(self.INSPECT_KIND, self.cell_key(self.cursor)))

    def on_focus(self) -> None:
        self.redraw_lines([self.line_of(self.cursor)])

    def on_blur(self) -> None:
        self.redraw_lines([self.line_of(self.cursor)])
