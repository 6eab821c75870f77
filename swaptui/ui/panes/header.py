"""The header (where and when we are, and the scenario's caption) and the tab strip for small terminals."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.reactive import reactive, var
from textual.widget import Widget

from swaptui.ui.messages import PaneChosen
from swaptui.ui.metrics import caption_at
from swaptui.ui.panes import PANES
from swaptui.ui.panes.base import Text
from swaptui.ui.stepper import Frame
from swaptui.ui.story import beat_line
from swaptui.units import format_size

HINT = "space run/pause · n step · b back · +/- speed · 1-9 panes · click a cell to inspect · ? help"


def kernel_caption(info, frame: Frame) -> str:
    """The caption line for a recorded or live kernel: the workload's phase, memory pressure, the recording."""
    s = frame.snapshot
    parts = []
    phase = getattr(s, "phase", "")
    if phase and phase != "-":
        progress = getattr(s, "progress", None)
        parts.append(f"workload phase {phase}" + (f" {progress * 100:.0f}%" if progress is not None else ""))
    psi = getattr(s, "kernel", {}).get("psi_memory")
    if isinstance(psi, dict) and "some" in psi:
        parts.append(
            f"PSI memory some {psi['some'].get('avg10', 0):.1f}% full "
            f"{psi.get('full', {}).get('avg10', 0):.1f}% (avg10)"
        )
    if info.source == "live":
        parts.append(f"sampled every {info.tick / 1e9:g} s")
        if info.record_path:
            parts.append(f"recording to {info.record_path}")
    else:
        parts.append(f"{frame.last_tick + 1:,} samples, {info.tick / 1e6:g} ms apart")
    return " · ".join(parts)


class HeaderBar(Text):
    """Two lines: scenario, design, simulated time, tick, run state and speed; then the caption for this moment."""

    frame: var[Frame | None] = var(None, always_update=True)
    """The frame on screen."""
    running: var[bool] = var(False)
    """Whether the model runs (the app's view of it)."""
    speed: var[int] = var(64)
    """Ticks per second of wall time while running."""
    status: var[str | None] = var(None)
    """What the stepper is busy with, if anything."""

    def __init__(self, scenario) -> None:
        super().__init__(id="header")
        self.scenario = scenario

    def _redraw(self) -> None:
        width = self.size.width
        self.show(Content("\n").join([self._status_line(width), self._caption_line(width)]))

    def watch_frame(self) -> None:
        self._redraw()

    def watch_running(self) -> None:
        self._redraw()

    def watch_speed(self) -> None:
        self._redraw()

    def watch_status(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _status_line(self, width: int) -> Content:
        f = self.frame
        s = self.scenario
        parts: list[tuple[int, Content]] = []  # (priority: lower drops first, text)
        source = getattr(s, "source", "model")
        unit = "tick" if source == "model" else "sample"
        parts.append((9, Content.styled(" swaptui ", "bold $text-accent on $accent 25%")))
        parts.append((5, Content.styled(s.name, "bold")))
        if source == "model" and f is not None and f.variants:
            from swaptui.ui.lockstep import names_line

            parts.append((7, names_line(f)))
            parts.append((2, Content.styled("v switches", "$text-muted")))
        elif source == "model":
            parts.append((3, Content(f"design {s.swap.design}")))
        if source == "model":
            if s.machine.cpu != "native":  # the costs are an emulated CPU's: say so
                parts.append((3, Content(f"cpu {s.machine.cpu}")))
        else:
            kind = "● live kernel" if source == "live" else "recorded kernel"
            parts.append((4, Content.styled(kind, "bold $accent")))
            parts.append((3, Content(f"Linux {s.kernel}")))
            parts.append((1, Content(s.swap_text)))
        parts.append((2, Content(f"{format_size(s.machine.memory, figures=3)} RAM")))
        if f is None:
            parts.append((8, Content.styled(self.status or "starting…", "$warning")))
        else:
            snap = f.snapshot
            parts.append((7, Content.styled(f"t={snap.time_ns / 1e9:.3f} s", "bold")))
            parts.append(
                (
                    8,
                    Content.styled(f"{unit} {snap.tick:,}", "bold")
                    + Content.styled(f"/{f.last_tick:,}", "$text-muted"),
                )
            )
            if self.status:
                parts.append((8, Content.styled(f"⟲ {self.status}", "$warning")))
            elif f.at_end:
                parts.append(
                    (8, Content.styled(f"■ end of {'scenario' if source == 'model' else 'samples'}", "bold $warning"))
                )
            elif source == "live" and self.running and snap.tick >= f.last_tick:
                parts.append((8, Content.styled("▶ following", "bold $success")))
            elif self.running:
                parts.append((8, Content.styled("▶ running", "bold $success")))
            else:
                parts.append((8, Content.styled("‖ paused", "bold $warning")))
                parts.append((4, Content.styled("space runs", "$warning")))
            speed = Content(f"{self.speed:,} {unit}s/s")
            if self.running and f.achieved and f.achieved < 0.8 * self.speed and source != "live":
                who = "model keeps" if source == "model" else "shown"
                speed += Content.styled(f" ({who} {f.achieved:,.0f})", "$text-muted")
            parts.append((6, speed))
        parts.append((1, Content.styled("? help  ^p commands", "$text-muted")))
        sep = Content.styled(" · ", "$text-muted")
        while True:
            text = sep.join([p for _, p in parts])
            if text.cell_length <= width or len(parts) <= 1:
                return text
            lowest = min(range(len(parts)), key=lambda i: parts[i][0])
            parts.pop(lowest)

    def _caption_line(self, width: int) -> Content:
        f = self.frame
        caption = caption_at(self.scenario.captions, f.snapshot.time_ns) if f is not None else None
        if f is not None and f.snapshot.source != "model":
            return Content.styled(f" {kernel_caption(self.scenario, f)}", "$text-accent").truncate(width, ellipsis=True)
        beat = beat_line(self.scenario, f)
        if beat:
            return Content.styled(f" ❝ {beat} ❞", "bold $text-accent").truncate(width, ellipsis=True)
        if caption:
            return Content.styled(f" ❝ {caption} ❞", "bold $text-accent").truncate(width, ellipsis=True)
        return Content.styled(f" {HINT}", "$text-muted").truncate(width, ellipsis=True)


class TabStrip(Widget):
    """The pane numbers and names, one shown at a time when the terminal is too small for all of them."""

    current: reactive[int] = reactive(1)
    """The pane number on show."""

    def __init__(self) -> None:
        super().__init__(id="tabs")
        self._spans: list[tuple[int, int, int]] = []

    def render(self) -> Content:
        width = self.size.width
        # Full names if they fit, else short names, else numbers (with the current pane's name).
        for style in ("full", "short", "numbers"):
            parts, spans, x = [], [], 0
            for p in PANES:
                current = p.number == self.current
                name = p.short if style == "full" else p.short[:4] if style == "short" else ""
                if current:
                    name = p.short
                text = f"{'▸' if current else ' '}{p.number}{' ' + name if name else ''} "
                parts.append(Content.styled(text, "bold reverse $accent" if current else "$text-muted"))
                spans.append((x, x + len(text), p.number))
                x += len(text)
            if x <= width:
                break
        self._spans = spans
        return Content("").join(parts).truncate(width)

    def on_click(self, event: events.Click) -> None:
        for lo, hi, number in self._spans:
            if lo <= event.x < hi:
                self.post_message(PaneChosen(number))
