"""What every pane shares: a bordered, numbered, maximisable box that the app feeds frames by attribute."""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static

from swaptui.ui.panes import PANE_BY_ID, PaneInfo
from swaptui.ui.stepper import Frame


class Pane(Vertical):
    """A pane: set `frame` and it redraws; while hidden (another tab, another pane maximised) it waits."""

    ALLOW_MAXIMIZE = True
    PANE_ID = ""

    frame: var[Frame | None] = var(None, always_update=True)
    """The frame to show; the app sets it, the pane derives everything from it."""

    def __init__(self) -> None:
        self.info: PaneInfo = PANE_BY_ID[self.PANE_ID]
        super().__init__(id=self.info.id, classes="pane")
        self.border_title = f"{self.info.number} {self.info.title}"
        self._stale = False

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        if self.region.area == 0:
            self._stale = True
            return
        self._stale = False
        self.show_frame(frame)

    def on_show(self) -> None:
        if self._stale and self.frame is not None:
            self._stale = False
            self.call_after_refresh(self.show_frame, self.frame)

    def on_resize(self) -> None:
        if self.frame is not None:
            self.call_after_refresh(self.show_frame, self.frame)

    def show_frame(self, frame: Frame) -> None:
        """Redraw from a frame (subclasses)."""

    def focus_target(self) -> Widget:
        """The widget the pane's number key focuses."""
        return self.query_one(".pane-body")


class TextBody(Static, can_focus=True):
    """A pane's body of styled text, re-rendered each frame (small panes: a few hundred cells)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(Content(text), classes="pane-body", markup=False)

    def show(self, content: Content) -> None:
        """Replace the text."""
        self.update(content)


class TextPane(Pane):
    """A pane whose body is one block of text built from the frame by `describe`."""

    def compose(self):
        yield TextBody("waiting for the model…")

    def show_frame(self, frame: Frame) -> None:
        body = self.query_one(TextBody)
        body.show(self.describe(frame, max(10, body.content_size.width or self.content_size.width),
                                max(1, body.content_size.height or self.content_size.height)))

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        """The pane's text for this frame, fitted to width x height cells."""
        raise NotImplementedError


def row(*parts: tuple[str, str] | str) -> Content:
    """One line from (text, style) pairs and plain strings."""
    return Content.assemble(*parts)


def label(text: str, width: int = 9) -> tuple[str, str]:
    """A row label in the pane's label style, padded to `width`."""
    return (text.ljust(width), "$text-muted")


def lines(*rows: Content, height: int | None = None) -> Content:
    """Rows joined by newlines, cut to `height` rows."""
    rows = [r for r in rows if r is not None]
    if height is not None:
        rows = rows[:height]
    return Content("\n").join(rows)


def not_modelled(what: str) -> tuple[str, str]:
    """Plain words for a subsystem the model does not have yet."""
    return (what, "$text-muted italic")
