"""What every pane shares: a bordered, numbered, maximisable box that the app feeds frames by attribute."""

from __future__ import annotations

from rich.segment import Segment
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget

from swaptui.ui.panes import PANE_BY_ID, PaneInfo
from swaptui.ui.stepper import Frame


class Pane(Vertical):
    """A pane: set `frame` and it redraws; while hidden (another tab, another pane maximised) it waits."""

    ALLOW_MAXIMIZE = True
    PANE_ID = ""
    EVERY_FRAME = False  # True: redraw on every frame while running; False: at the app's text rate (10 Hz)
    SHOWS_VARIANTS = False  # side by side: True if the pane shows every machine itself (else one, `v` switches)

    frame: var[Frame | None] = var(None, always_update=True)
    """The frame to show; the app sets it, the pane derives everything from it."""

    def __init__(self) -> None:
        self.info: PaneInfo = PANE_BY_ID[self.PANE_ID]
        super().__init__(id=self.info.id, classes="pane")
        self._title = f"{self.info.number} {self.info.title}"
        self._subtitle = ""
        self.border_title = self._title
        self._stale = False
        self._variant_tag = Content("")

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        if frame.variants and not self.SHOWS_VARIANTS:
            self._show_variant(frame)
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

    def _show_variant(self, frame: Frame) -> None:
        """Side by side: name the machine shown in the title, and show the others' differences under the body."""
        from swaptui.ui.lockstep import delta_rows, title_tag

        tag = title_tag(frame)
        if tag != self._variant_tag:
            self._variant_tag = tag
            self.border_title = self._tagged(self._title)
        found = self.query(".delta-row")
        if found:
            row = found.first(FittedText)
        else:
            row = FittedText(classes="delta-row")
            self.mount(row)
        row.show(Content("\n").join(delta_rows(frame, self.info.id, max(20, self.content_size.width))))

    def set_titles(self, title: str | None = None, subtitle: str | None = None) -> None:
        """Set the border title and subtitle, only if they changed (each change repaints the border)."""
        if title is not None and title != self._title:
            self._title = title
            self.border_title = self._tagged(title) if self._variant_tag else title
        if subtitle is not None and subtitle != self._subtitle:
            self._subtitle = subtitle
            self.border_subtitle = subtitle

    def _tagged(self, title: str) -> Content:
        """The title with the shown machine named right after the pane's name (so a long title loses its end)."""
        head = f"{self.info.number} {self.info.title}"
        if not title.startswith(head):
            return Content(title) + self._variant_tag
        return Content(head) + self._variant_tag + Content(title[len(head) :])

    def focus_target(self) -> Widget:
        """The widget the pane's number key focuses (the kernel body, once a real kernel's frames replaced the
        model's view)."""
        found = self.query(f"#{self.info.id}-kernel")
        return found.first() if found else self.query_one(".pane-body")

    def kernel_body(self, *model_views: Widget) -> TextBody:
        """The text body a pane shows instead of its model views for a real kernel's frames: mounted, with those
        views hidden, the first time such a frame comes."""
        found = self.query(f"#{self.info.id}-kernel")
        if found:
            return found.first(TextBody)
        for view in model_views:
            view.display = False
        body = TextBody()
        body.id = f"{self.info.id}-kernel"
        self.mount(body)
        return body


class Text(Widget):
    """Lines of styled text drawn with the Line API: a line repaints only when its content changed, never a layout."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Content] = [Content(text)]
        self._strips: dict[int, tuple[Content, int, Strip]] = {}

    def show(self, content: Content) -> None:
        """Replace the text, repainting only the lines that differ."""
        lines = content.split("\n")
        old = self._lines
        self._lines = lines
        width = self.size.width
        for y in range(max(len(lines), len(old))):
            if (old[y] if y < len(old) else None) != (lines[y] if y < len(lines) else None):
                self.refresh(Region(0, y, width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        content = self._lines[y]
        cached = self._strips.get(y)
        if cached is not None and cached[0] == content and cached[1] == width:
            return cached[2]
        base = self.visual_style
        segments = [
            Segment(text, style.rich_style) for text, style in content.render(base, end="", parse_style=self._get_style)
        ]
        strip = Strip(segments).crop_extend(0, width, self.rich_style)
        self._strips[y] = (content, width, strip)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()


class FittedText(Text):
    """Text whose height follows its number of lines; only a change in that number costs a new layout."""

    def show(self, content: Content) -> None:
        """Replace the text; resize only if the line count changed."""
        before = len(self._lines)
        super().show(content)
        if len(self._lines) != before:
            self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._lines)


class TextBody(Text, can_focus=True):
    """A pane's body of styled text, rebuilt each frame (small panes: a few hundred cells)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text, classes="pane-body")


class TextPane(Pane):
    """A pane whose body is one block of text built from the frame by `describe`."""

    def compose(self):
        yield TextBody("waiting for the model…")

    def show_frame(self, frame: Frame) -> None:
        body = self.query_one(TextBody)
        body.show(
            self.describe(
                frame,
                max(10, body.content_size.width or self.content_size.width),
                max(1, body.content_size.height or self.content_size.height),
            )
        )

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        """The pane's text for this frame, fitted to width x height cells."""
        raise NotImplementedError


def row(*parts: tuple[str, str] | str | Content) -> Content:
    """One line from (text, style) pairs and plain strings."""
    return Content.assemble(*parts)


def label(text: str, width: int = 9) -> tuple[str, str]:
    """A row label in the pane's label style, padded to `width`."""
    return (text.ljust(width), "$text-muted")


def lines(*rows: Content, height: int | None = None) -> Content:
    """Rows joined by newlines, cut to `height` rows."""
    shown = [r for r in rows if r is not None]
    if height is not None:
        shown = shown[:height]
    return Content("\n").join(shown)


def not_modelled(what: str) -> tuple[str, str]:
    """Plain words for a subsystem the model does not have yet."""
    return (what, "$text-muted italic")


NOT_EXPORTED = "not exported by the kernel"


def from_kernel(frame: Frame) -> bool:
    """Whether the frame comes from a real kernel (a recorded trace or this machine), not from the model."""
    return frame.snapshot.source != "model"


def not_exported(what: str) -> tuple[str, str]:
    """Plain words for what a real kernel's files do not show (the model has it; /proc and /sys do not)."""
    return (f"{what}: {NOT_EXPORTED}", "$text-muted italic")


def wrap_rows(rows: list[Content], width: int) -> list[Content]:
    """Rows wider than `width` wrapped at spaces (narrow layouts), the rest as they are."""
    out: list[Content] = []
    for r in rows:
        out.extend(r.wrap(width) if r.cell_length > width else [r])
    return out


def pack(items: list[Content], width: int, sep: str = "  ") -> Content:
    """Items laid out left to right, wrapping between items (never inside one) at `width`."""
    out: list[Content] = []
    line = Content("")
    for item in items:
        if line.cell_length and line.cell_length + len(sep) + item.cell_length > width:
            out.append(line)
            line = item
        else:
            line = line + sep + item if line.cell_length else item
    out.append(line)
    return Content("\n").join(out)


def fit(width: int, *parts: str, sep: str = " · ") -> str:
    """As many of the parts (in order of importance) as fit in `width` cells, joined."""
    out = parts[0]
    for part in parts[1:]:
        if len(out) + len(sep) + len(part) <= width - 6:
            out += sep + part
    return out
