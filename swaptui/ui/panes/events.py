"""Pane 8, events: what the model did and why, newest at the bottom (kswapd, direct reclaim, OOM, exits)."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from swaptui.ui.panes.base import Pane, fit, from_kernel
from swaptui.ui.stepper import Frame

KINDS = {
    "kswapd": ("◆", "events--kswapd"),
    "direct": ("▲", "events--direct"),
    "throttle": ("■", "events--direct"),
    "oom": ("✖", "events--oom"),
    "exit": ("○", "events--exit"),
    "script": ("»", "events--script"),
}


class EventList(Widget, can_focus=True):
    """The snapshot's most recent events that fit, newest at the bottom (maximise the pane to see more)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "events--time",
        "events--kswapd",
        "events--direct",
        "events--oom",
        "events--exit",
        "events--script",
        "events--text",
    }

    def __init__(self) -> None:
        super().__init__(classes="pane-body")
        self.events: tuple = ()
        self._strips: dict[tuple, Strip] = {}
        self._frame: Frame | None = None  # side by side: names each event's machine
        self._tag_width = 0

    def show_frame(self, frame: Frame) -> None:
        """Show the frame's newest events (side by side: every machine's, in time order, each tagged)."""
        if frame.variants:
            from swaptui.ui.lockstep import merged_events, tag_width

            self._frame = frame
            self._tag_width = tag_width(frame)
            events: tuple = merged_events(frame)
        else:
            self._frame = None
            events = frame.snapshot.events
        if events != self.events:
            self.events = events
            self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        line = y + max(0, len(self.events) - self.size.height)
        if line >= len(self.events):
            if not self.events and y == 0:
                return Strip(
                    [Segment("no events yet", self.get_component_rich_style("events--time"))]
                ).adjust_cell_length(width, self.rich_style)
            return Strip.blank(width, self.rich_style)
        e = self.events[line]
        key = (e, width, self._tag_width)
        strip = self._strips.get(key)
        if strip is None:
            machine: list[Segment] = []
            if self._frame is not None:
                from swaptui.ui.lockstep import tag

                which, e = e
                machine = [
                    Segment(text, part.rich_style)
                    for text, part in (tag(self._frame, which, self._tag_width) + " ").render(
                        self.visual_style, end="", parse_style=self._get_style
                    )
                ]
            glyph, cls = KINDS.get(e.kind, ("·", "events--text"))
            style = self.get_component_rich_style
            strip = Strip(
                [
                    Segment(f"{e.time_ns / 1e9:8.3f}s ", style("events--time")),
                    *machine,
                    Segment(f"{glyph} ", style(cls)),
                    Segment(e.text, style("events--text")),
                ]
            ).adjust_cell_length(width, self.rich_style)
            if len(self._strips) > 4096:
                self._strips.clear()
            self._strips[key] = strip
        return strip


class EventsPane(Pane):
    """The event log, with a legend of the kinds."""

    PANE_ID = "events"
    EVERY_FRAME = True
    SHOWS_VARIANTS = True

    def compose(self):
        yield EventList()

    def show_frame(self, frame: Frame) -> None:
        self.query_one(EventList).show_frame(frame)
        derived = " · read off the counters (the kernel logs none)" if from_kernel(frame) else ""
        if frame.variants:
            derived = " · tagged by machine"
        self.set_titles(
            f"{self.info.number} {self.info.title} · last {len(self.query_one(EventList).events)}{derived}",
            fit(self.content_size.width + 4, *(f"{g} {k}" for k, (g, _) in KINDS.items()), sep="  "),
        )
