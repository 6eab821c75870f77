"""Every message the app's widgets and its stepper thread send (messages up, attributes down)."""

from __future__ import annotations

from textual.message import Message

from swaptui.ui.stepper import Frame


class SnapshotReady(Message):
    """The stepper has a new frame; a newer one waiting in the queue replaces it (stale frames are dropped)."""

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame

    def can_replace(self, message: Message) -> bool:
        """A newer frame makes this one stale."""
        return isinstance(message, SnapshotReady)


class StepperStatus(Message):
    """What the stepper is busy with (building, rewinding), or None when it is not."""

    def __init__(self, text: str | None) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        """Only the newest status matters."""
        return isinstance(message, StepperStatus)


class Inspect(Message):
    """A pane asks to open the inspector on something: a frame cell, a cluster cell or a counter."""

    def __init__(self, kind: str, key: tuple[int, int] | str, open: bool = True) -> None:
        super().__init__()
        self.kind = kind
        self.key = key
        self.open = open  # False: only follow the cursor if the inspector is already open


class PaneChosen(Message):
    """The tab strip asks to show a pane (by number)."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
