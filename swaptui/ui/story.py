"""The app's side of a story: enter and backspace move between beats; the current beat's pane and counter stand out.

The beats fire in the model (swaptui.model.story); each snapshot carries those fired so far, so what is
shown here is read off the frame on screen and stepping back or seeking shows the beat of that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swaptui.ui.panes.base import Pane
from swaptui.ui.panes.counters import CounterList
from swaptui.ui.stepper import Frame

if TYPE_CHECKING:
    from swaptui.ui.app import SwapApp


def current_beat(frame: Frame | None):
    """The beat that fired last at the frame's tick (story.FiredBeat), or None."""
    beats = getattr(frame.snapshot, "beats", ()) if frame is not None else ()
    return beats[-1] if beats else None


def beat_line(scenario, frame: Frame | None) -> str | None:
    """The header's narration for a story: `k/N  text`, or a hint before the first beat; None without beats."""
    beats = getattr(scenario, "beats", ())
    if not beats or frame is None:
        return None
    beat = current_beat(frame)
    if beat is None:
        return f"0/{len(beats)}  enter plays the story, beat by beat"
    return f"{beat.index + 1}/{len(beats)}  {beat.text}"


class StoryControl:
    """Moves the app between beats and highlights what the current beat speaks of."""

    def __init__(self, app: SwapApp) -> None:
        self.app = app
        self.shown: tuple[int, int] | None = None  # (beat index, tick) whose highlights are on screen

    @property
    def beats(self) -> tuple:
        return getattr(self.app.scenario, "beats", ())

    def next(self) -> None:
        """Run the model until the next beat fires (or go to it if it already has)."""
        if not self.beats:
            self.app.notify("This scenario has no story beats (see scenarios/stories/).", timeout=3)
            return
        fired = len(getattr(self.app.frame.snapshot, "beats", ())) if self.app.frame is not None else 0
        if fired >= len(self.beats):
            self.app.notify(f"That was the last of {len(self.beats)} beats: backspace goes back one.", timeout=3)
            return
        self.app.running = False
        self.app.stepper.to_beat(fired)

    def previous(self) -> None:
        """Go back to the tick the previous beat fired at (tick 0 before the first)."""
        if not self.beats:
            self.app.notify("This scenario has no story beats (see scenarios/stories/).", timeout=3)
            return
        fired: tuple = getattr(self.app.frame.snapshot, "beats", ()) if self.app.frame is not None else ()
        self.app.running = False
        self.app.stepper.go_to(fired[-2].tick if len(fired) >= 2 else 0)

    def show(self, frame: Frame) -> None:
        """Highlight the current beat's pane (double border) and its counter (▶ in the counters pane)."""
        if not self.beats:
            return
        beat = current_beat(frame)
        key = (beat.index, beat.tick) if beat is not None else None
        if key == self.shown:
            return
        self.shown = key
        spec = self.beats[beat.index] if beat is not None else None
        pane_id = spec.pane if spec is not None else None
        for pane in self.app.query(Pane):
            pane.set_class(pane.info.id == pane_id, "-beat")
        if pane_id is not None and self.app.layout_mode != "wide" and self.app.screen.maximized is None:
            self.app._choose(next(p.info.number for p in self.app.query(Pane) if p.info.id == pane_id))
        for counters in self.app.query(CounterList):
            counters.set_beat_counter(spec.counter if spec is not None else None)
