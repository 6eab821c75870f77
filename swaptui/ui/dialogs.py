"""Small modal dialogs: go to a tick or a time."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from swaptui.units import UnitError, parse_duration


def parse_tick(text: str, tick_ns: int, last_tick: int) -> int:
    """A tick from `1500`, `1,500` or a time such as `1.5s` / `200ms`; raises ValueError with a reason."""
    text = text.strip().replace(",", "").replace("_", "")
    if not text:
        raise ValueError("type a tick (e.g. 1500) or a time (e.g. 1.5s)")
    if text.isdigit():
        tick = int(text)
    else:
        try:
            tick = parse_duration(text) // tick_ns
        except UnitError as error:
            raise ValueError(str(error)) from None
    if tick > last_tick:
        raise ValueError(f"the scenario ends at tick {last_tick:,}")
    return tick


class GoToScreen(ModalScreen[int | None]):
    """Ask for a tick or a time; dismiss with the tick, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    AUTO_FOCUS = "#goto-input"

    def __init__(self, tick_ns: int, last_tick: int) -> None:
        super().__init__()
        self.tick_ns = tick_ns
        self.last_tick = last_tick

    def compose(self) -> ComposeResult:
        with Vertical(id="goto"):
            yield Label(f"Go to a tick (0 … {self.last_tick:,}) or a time (e.g. 1.5s):")
            yield Input(placeholder="1500 or 1.5s", id="goto-input")
            yield Label("", id="goto-error")

    def on_mount(self) -> None:
        self.query_one("#goto").border_title = "Go to"
        self.query_one("#goto-input", Input).cursor_blink = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            tick = parse_tick(event.value, self.tick_ns, self.last_tick)
        except ValueError as error:
            self.query_one("#goto-error", Label).update(str(error))
            return
        self.dismiss(tick)

    def action_cancel(self) -> None:
        """Close without moving."""
        self.dismiss(None)
