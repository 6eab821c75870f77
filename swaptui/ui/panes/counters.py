"""Pane 7, counters: every /proc/vmstat counter the model keeps, its value and change per second, filterable."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from rich.segment import Segment
from textual import events
from textual.binding import BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input

from swaptui.model.vmstat import GAUGES, NAMES
from swaptui.ui.actions import bindings
from swaptui.ui.messages import Inspect
from swaptui.ui.metrics import format_rate, sparkline
from swaptui.ui.panes.base import Pane, Text, fit
from swaptui.ui.stepper import Frame

SPARK_WIDTH = 8


class CounterList(ScrollView, can_focus=True):
    """One row per counter: name, value, Δ/s and a sparkline of its rate; a cursor row to inspect."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("cursor")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "counters--name",
        "counters--value",
        "counters--rate",
        "counters--spark",
        "counters--idle",
        "counters--cursor",
        "counters--beat",
    }

    def __init__(self) -> None:
        super().__init__(classes="pane-body")
        self.frame: Frame | None = None
        self.names: list[str] = list(NAMES)
        self.cursor = 0
        self.beat_counter: str | None = None  # the counter the story's current beat speaks of
        self._rows: list[tuple] = []  # per visible row: the data its strip was drawn from
        self._strips: dict[int, tuple[tuple, Strip]] = {}

    def set_filter(self, text: str) -> None:
        """Show only counters whose name contains every word of `text`."""
        words = text.lower().split()
        self.names = [n for n in NAMES if all(w in n for w in words)]
        self.cursor = min(self.cursor, max(0, len(self.names) - 1))
        self.virtual_size = Size(self.size.width, len(self.names))
        self._strips.clear()
        self.refresh()

    def show_frame(self, frame: Frame) -> None:
        """Redraw the rows whose numbers changed."""
        self.frame = frame
        self.virtual_size = Size(self.size.width, len(self.names))
        self._rates = frame.history.rates()
        self._series = frame.history.all_rate_series(SPARK_WIDTH)
        top = self.scroll_offset.y
        for y in range(top, min(len(self.names), top + self.size.height)):
            if self._row_data(frame, y) != self._strips.get(y, (None,))[0]:
                self.refresh_line(y)

    def _row_data(self, frame: Frame, y: int) -> tuple:
        name = self.names[y]
        i = NAMES.index(name)
        snap = frame.snapshot
        if frame.variants:
            values = tuple(int(v.snapshot.counters[i]) for v in frame.variants)
            beat = name == self.beat_counter
            return (name, values, "", "", self.has_focus and y == self.cursor, self.size.width, beat)
        if snap.source != "model" and name not in getattr(snap, "exported", ()):
            # A swaptui_* extra or a counter this kernel does not have: say so instead of showing 0.
            return (name, None, "", "", self.has_focus and y == self.cursor, self.size.width, name == self.beat_counter)
        value = int(snap.counters[i])
        rate = None if self._rates is None else float(self._rates[i])
        spark = sparkline(self._series[:, i], SPARK_WIDTH, 0) if len(self._series) else ""
        return (
            name,
            value,
            format_rate(rate) if rate else "",
            spark,
            self.has_focus and y == self.cursor,
            self.size.width,
            name == self.beat_counter,
        )

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        line = y + self.scroll_offset.y
        width = self.size.width
        if self.frame is None or line >= len(self.names):
            return Strip.blank(width, self.rich_style)
        data = self._row_data(self.frame, line)
        cached = self._strips.get(line)
        if cached is not None and cached[0] == data:
            return cached[1]
        strip = self._render_row(data, width)
        self._strips[line] = (data, strip)
        return strip

    def _render_row(self, data: tuple, width: int) -> Strip:
        name, value, rate, spark, selected, _, beat = data
        style = self.get_component_rich_style
        if isinstance(value, tuple):
            return self._render_variants(name, value, selected, width, beat)
        idle = not value
        gauge = "▶" if beat else "≈" if name in GAUGES else " "
        spark_w = SPARK_WIDTH + 1 if width >= 56 else 0
        value_w = 14
        rate_w = 9
        name_w = max(8, width - value_w - rate_w - spark_w - 2)
        segs = [
            Segment(
                f"{gauge}{name[: name_w - 1]:<{name_w - 1}}", style("counters--idle" if idle else "counters--name")
            ),
            Segment(
                f"{value:>{value_w},}" if value is not None else f"{'not exported':>{value_w}}",
                style("counters--idle" if idle else "counters--value"),
            ),
            Segment(f"{rate:>{rate_w}}", style("counters--rate")),
        ]
        if spark_w:
            segs.append(Segment(" " + spark, style("counters--spark")))
        strip = Strip(segs).adjust_cell_length(width, self.rich_style)
        if beat:
            strip = strip.apply_style(style("counters--beat", partial=True))
        if selected:
            strip = strip.apply_style(style("counters--cursor", partial=True))
        return strip

    def _render_variants(self, name: str, values: tuple[int, ...], selected: bool, width: int, beat: bool) -> Strip:
        """Side by side: the counter under each machine, then each later machine's difference from the first."""
        style = self.get_component_rich_style
        gauge = "▶" if beat else "≈" if name in GAUGES else " "
        value_w, name_w, shown_deltas = variant_widths(len(values), width)
        deltas = [v - values[0] for v in values[1:]][:shown_deltas]
        idle = not any(values)
        segs = [
            Segment(f"{gauge}{name[: name_w - 1]:<{name_w - 1}}", style("counters--idle" if idle else "counters--name"))
        ]
        for v in values:
            segs.append(Segment(f"{v:>{value_w},}", style("counters--idle" if not v else "counters--value")))
        for d in deltas:
            segs.append(Segment(f"{d:>+{value_w},}" if d else f"{'·':>{value_w}}", style("counters--rate")))
        strip = Strip(segs).adjust_cell_length(width, self.rich_style)
        if selected:
            strip = strip.apply_style(style("counters--cursor", partial=True))
        return strip

    def set_beat_counter(self, name: str | None) -> None:
        """Mark the counter a story beat speaks of (▶, highlighted) and scroll it into view."""
        if name == self.beat_counter:
            return
        self.beat_counter = name
        self._strips.clear()
        if name in self.names:
            self.scroll_to_region(Region(0, self.names.index(name), 1, 1), animate=False, immediate=True)
        self.refresh()

    def _move_cursor(self, row: int) -> None:
        if not self.names:
            return
        old = self.cursor
        self.cursor = max(0, min(len(self.names) - 1, row))
        self.refresh_line(old)
        self.refresh_line(self.cursor)
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)
        self.post_message(Inspect("counter", self.names[self.cursor], open=False))

    def action_cursor(self, dx: int, dy: int) -> None:
        """Move the cursor by rows."""
        self._move_cursor(self.cursor + dy)

    def action_inspect(self) -> None:
        """Open the inspector on the counter under the cursor."""
        if self.names:
            self.post_message(Inspect("counter", self.names[self.cursor]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        y = offset.y + self.scroll_offset.y
        if y < len(self.names):
            self.focus()
            self._move_cursor(y)
            self.post_message(Inspect("counter", self.names[self.cursor]))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.names))
        self.refresh()


def variant_widths(n: int, width: int) -> tuple[int, int, int]:
    """Side by side, for n machines in `width` cells: the width of each value column, of the name column, and how
    many Δ columns fit (one per machine after the first when there is room; the names take what is left)."""
    value_w = 12 if width >= 24 + 12 * (2 * n - 1) else 10
    deltas = max(0, min(n - 1, (width - 2 - 12 - value_w * n) // value_w))
    return value_w, max(12, width - 2 - value_w * (n + deltas)), deltas


class CountersPane(Pane):
    """The counters with a filter box; ≈ marks gauges (set each tick), the rest only grow."""

    PANE_ID = "counters"
    SHOWS_VARIANTS = True

    def compose(self):
        yield Input(placeholder="/ filter counters by name", id="counters-filter", compact=True)
        yield Text("", classes="counters-heads")
        yield CounterList()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(CounterList).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(CounterList).focus()

    def show_frame(self, frame: Frame) -> None:
        lst = self.query_one(CounterList)
        lst.show_frame(frame)
        moved = int(np.count_nonzero(frame.snapshot.counters))
        w = self.content_size.width + 2
        heads = self.query_one(".counters-heads", Text)
        heads.display = bool(frame.variants)
        if frame.variants:
            heads.show(self._heads(frame, lst.size.width or self.content_size.width))
        self.set_titles(
            fit(w, f"{self.info.number} Counters", f"{len(lst.names)} shown", f"{moved} non-zero"),
            fit(w, "≈ gauge", "Δ/s over 0.1 s", "enter inspects")
            if not frame.variants
            else fit(
                w,
                "≈ gauge",
                "7 maximises: Δ columns" if lst.size.width and self.hidden_deltas(frame) else "Δ: minus the first",
                "enter inspects",
            ),
        )

    def _heads(self, frame: Frame, width: int) -> Content:
        """Side by side: the column heads over the counters, each machine's name in its colour."""
        from swaptui.ui.lockstep import style_of

        n = len(frame.variants)
        value_w, name_w, shown_deltas = variant_widths(n, width)
        parts = [Content.styled("counter".ljust(name_w), "$text-muted")]
        for i, v in enumerate(frame.variants):
            parts.append(Content.styled(_head(v.name, value_w), style_of(i)))
        for i, v in list(enumerate(frame.variants))[1 : 1 + shown_deltas]:
            parts.append(Content.styled(_head(f"Δ{v.name}", value_w), style_of(i)))
        return Content("").join(parts)

    def hidden_deltas(self, frame: Frame) -> bool:
        """Side by side: whether the pane is too narrow for a Δ column per machine after the first."""
        n = len(frame.variants)
        width = self.query_one(CounterList).size.width or self.content_size.width
        return variant_widths(n, width)[2] < n - 1


def _head(text: str, width: int) -> str:
    """A column head right-aligned in `width` cells with a space before it (cut with … if longer)."""
    return (text if len(text) < width else text[: width - 2] + "…").rjust(width)

    def focus_target(self):
        return self.query_one(CounterList)
