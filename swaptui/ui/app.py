"""SwapApp: the panes, the keys, and the stepper thread that feeds them frames.

The app never reaches into the model: the stepper thread owns the Player and posts `SnapshotReady`
messages (a newer one replaces a stale one in the queue); the app applies the newest frame to every
pane inside `batch_update()` and acknowledges it after the screen refresh, which lets the stepper
build the next. Running, pausing and speed are view state here; the stepper only moves a target tick.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Container
from textual.geometry import Size
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input

from swaptui.lockstep import Lineup
from swaptui.player import Player
from swaptui.ui.actions import ACTIONS, bindings
from swaptui.ui.dialogs import GoToScreen
from swaptui.ui.help import HelpScreen
from swaptui.ui.inspector import Inspector
from swaptui.ui.messages import Inspect, PaneChosen, SnapshotReady, StepperStatus
from swaptui.ui.panes import PANE_BY_NUMBER
from swaptui.ui.panes.base import Pane
from swaptui.ui.panes.caches import CachesPane
from swaptui.ui.panes.clusters import ClustersPane
from swaptui.ui.panes.counters import CountersPane
from swaptui.ui.panes.events import EventsPane
from swaptui.ui.panes.fragmentation import FragmentationPane
from swaptui.ui.panes.header import HeaderBar, TabStrip
from swaptui.ui.panes.memory_map import MAX_ZOOM, MapView, MemoryMapPane
from swaptui.ui.panes.tasks import TasksPane
from swaptui.ui.panes.watermarks import WatermarksPane
from swaptui.ui.panes.xarray import XArrayPane
from swaptui.ui.stepper import DEFAULT_SPEED, MAX_SPEED, MIN_SPEED, Frame, Stepper
from swaptui.ui.story import StoryControl
from swaptui.ui.themes import DARK_STATES, THEME_ORDER, THEMES, theme_name

PANE_CLASSES = (
    MemoryMapPane,
    WatermarksPane,
    ClustersPane,
    XArrayPane,
    CachesPane,
    FragmentationPane,
    CountersPane,
    EventsPane,
    TasksPane,
)
WIDE = (140, 40)
TEXT_HZ = 10
MEDIUM = (100, 28)
# Textual's system commands that an action of ours does (quit, help, screenshot): the palette lists ours only.
REPLACED_SYSTEM_COMMANDS = frozenset({"Quit", "Keys", "Screenshot"})


def layout_for(width: int, height: int) -> str:
    """wide (every pane), medium (one pane beside reclaim) or narrow (one pane under reclaim)."""
    if width >= WIDE[0] and height >= WIDE[1]:
        return "wide"
    if width >= MEDIUM[0] and height >= MEDIUM[1]:
        return "medium"
    return "narrow"


class SwapApp(App[int]):
    """The live app over one scenario, or over a recorded or live kernel (a SourceInfo and a player factory)."""

    CSS_PATH = "swaptui.tcss"
    TITLE = "swaptui"
    BINDINGS = bindings("app")
    AUTO_FOCUS = None
    ESCAPE_TO_MINIMIZE = False
    ALLOW_IN_MAXIMIZED_VIEW = "HeaderBar, Footer, Inspector"

    running: reactive[bool] = reactive(False, init=False)
    """Whether the model runs (view state; the stepper follows)."""
    speed: reactive[int] = reactive(DEFAULT_SPEED, init=False)
    """Ticks per second of wall time while running."""

    def __init__(
        self,
        scenario,
        *,
        start_tick: int = 0,
        speed: int = DEFAULT_SPEED,
        running: bool = False,
        theme: str = "dark",
        player_factory=Player,
        screenshot_dir: str | None = None,
        lineup: Lineup | None = None,
    ) -> None:
        super().__init__()
        if lineup is not None:  # side by side: one machine per variant, in lockstep (swaptui.lockstep)
            player_factory = lineup.player
        self.variant = 0  # side by side: the machine the one-machine panes show (`v` cycles)
        self.scenario = scenario
        for t in THEMES.values():
            self.register_theme(t)
        self.theme = theme_name(theme)
        self.screenshot_dir = screenshot_dir
        self.frame: Frame | None = None
        self.current_pane = 1
        self.layout_mode = ""
        self.first_frame_at: float | None = None  # perf_counter of the first frame shown (benchmarks)
        self.frames_shown = 0
        self.stepper = Stepper(
            scenario,
            self._publish_from_thread,
            self._status_from_thread,
            speed=speed,
            start_tick=start_tick,
            running=False,
            player_factory=player_factory,
        )
        self._start_running = running
        self.set_reactive(SwapApp.speed, self.stepper.speed)
        self._thread: threading.Thread | None = None
        self._text_shown_at = 0.0
        self._notice_files: set[str] = set()  # the files a live kernel's notices are about, as last shown
        self._screenshots = 0
        self.story = StoryControl(self)

    # -- stepper plumbing ------------------------------------------------------------------------------
    def _publish_from_thread(self, frame: Frame) -> None:
        self.post_message(SnapshotReady(frame))

    def _status_from_thread(self, text: str | None) -> None:
        self.post_message(StepperStatus(text))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        frame = message.frame
        self.frame = frame
        if (frame.at_end or frame.paused_by_beat) and self.running:
            self.running = False
        now = time.perf_counter()
        # While running, panes of numbers refresh at TEXT_HZ; maps, reclaim and the header at frame rate.
        self._apply(frame, everything=not self.running or now - self._text_shown_at >= 1 / TEXT_HZ)
        self.frames_shown += 1
        self._show_notices(getattr(frame.snapshot, "notices", ()))
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            if self._start_running:
                self.running = True
        self.call_after_refresh(self.stepper.ack)

    def _show_notices(self, notices: tuple[str, ...]) -> None:
        """A live kernel's notices (a file missing or odd, sampling stopped), shown when a file first has one."""
        files = {n.split(":", 1)[0]: n for n in notices}
        new = [n for f, n in files.items() if f not in self._notice_files]
        self._notice_files = set(files)
        if new:
            self.notify("\n".join(new), title="not read from this kernel", severity="warning", timeout=12)

    def _apply(self, frame: Frame, everything: bool) -> None:
        """Hand a frame down to the header, the panes and the inspector, in one repaint."""
        frame = frame.of(self.variant)
        headers = self.query(HeaderBar)
        if not headers:
            return  # shutting down: a live source's last frames can arrive after the widgets are gone
        with self.batch_update():
            headers.first().frame = frame
            self.story.show(frame)
            for pane in self.query(Pane):
                if everything or pane.EVERY_FRAME:
                    pane.frame = frame
            if everything:
                self._text_shown_at = time.perf_counter()
                self.query_one(Inspector).show_frame(frame)

    def on_stepper_status(self, message: StepperStatus) -> None:
        self.query_one(HeaderBar).status = message.text
        if self.stepper.error is not None:
            self.exit(return_code=1, message=f"swaptui: the model failed: {self.stepper.error!r}")

    # -- layout -----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar(self.scenario)
        yield TabStrip()
        with Container(id="panes"):
            for cls in PANE_CLASSES:
                yield cls()
        yield Inspector()
        yield Footer()

    def on_mount(self) -> None:
        header = self.query_one(HeaderBar)
        header.speed = self.speed
        self._apply_layout()
        self._choose(self.current_pane)
        # The stepper runs pure-Python model code between frames: hand the interpreter over every 2 ms
        # (not 5) so that a key pressed meanwhile is handled at once.
        sys.setswitchinterval(0.002)
        self._thread = threading.Thread(target=self.stepper.run, name="swaptui-stepper", daemon=True)
        self._thread.start()

    def on_unmount(self) -> None:
        self.stepper.stop()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size)

    def _apply_layout(self, size: Size | None = None) -> None:
        mode = layout_for(*(size or self.size))
        if mode == self.layout_mode:
            return
        self.layout_mode = mode
        panes = self.query_one("#panes")
        for m in ("wide", "medium", "narrow"):
            panes.set_class(m == mode, f"-{m}")
        self.screen.set_class(mode != "wide", "-tabbed")

    def _choose(self, number: int) -> None:
        """Make a pane the one on show in the tabbed layouts."""
        self.current_pane = number
        for pane in self.query(Pane):
            pane.set_class(pane.info.number == number, "-current")
        self.query_one("#panes").set_class(number == 2, "-solo")
        self.query_one(TabStrip).current = number

    def on_pane_chosen(self, message: PaneChosen) -> None:
        self.screen.minimize()
        self._choose(message.number)

    def watch_theme(self, theme: str) -> None:
        self.set_class(theme == "swaptui-projector", "-projector")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """State colours for Textual's own themes too (picked from the palette)."""
        return dict(DARK_STATES)

    def watch_running(self, running: bool) -> None:
        self.stepper.set_running(running)
        if self._is_mounted:  # App.is_mounted is a method about a widget (always true here); this is the flag
            self.query_one(HeaderBar).running = running
            if not running and self.frame is not None:
                self._apply(self.frame, everything=True)  # the panes of numbers catch up with the maps

    def watch_speed(self, speed: int) -> None:
        self.stepper.set_speed(speed)
        if self._is_mounted:
            self.query_one(HeaderBar).speed = speed

    # -- actions (one table: swaptui.ui.actions) -----------------------------------------------------------
    def action_toggle_run(self) -> None:
        """Run or pause."""
        if self.frame is not None and self.frame.at_end and not self.running:
            what = "scenario" if getattr(self.scenario, "source", "model") == "model" else "recording"
            self.notify(f"The {what} has ended: r restarts, b steps back.", timeout=3)
            return
        self.running = not self.running

    def action_step(self, n: int) -> None:
        """Pause and move n ticks forward."""
        self.running = False
        self.stepper.step(n)

    def action_step_back(self, n: int) -> None:
        """Pause and move n ticks back."""
        self.running = False
        self.stepper.back(n)

    def action_next_beat(self) -> None:
        """Run to the story's next beat."""
        self.story.next()

    def action_previous_beat(self) -> None:
        """Go back to the story's previous beat."""
        self.story.previous()

    def action_faster(self) -> None:
        """Double the speed."""
        self.speed = min(MAX_SPEED, self.speed * 2)

    def action_slower(self) -> None:
        """Halve the speed."""
        self.speed = max(MIN_SPEED, self.speed // 2)

    def action_restart(self) -> None:
        """Pause and go back to tick 0."""
        self.running = False
        self.stepper.restart()

    def action_go_to(self) -> None:
        """Ask for a tick or a time and go there."""
        last = self.frame.last_tick if self.frame else self.scenario.duration // self.scenario.tick

        def done(tick: int | None) -> None:
            if tick is not None:
                self.running = False
                self.stepper.go_to(tick)

        self.push_screen(GoToScreen(self.scenario.tick, last), done)

    def action_pane(self, number: int) -> None:
        """Focus and maximise a pane; the same key again restores the layout."""
        pane = self.query_one(f"#{PANE_BY_NUMBER[number].id}", Pane)
        if self.screen.maximized is pane:
            self.screen.minimize()
            return
        self._choose(number)
        target = pane.focus_target()
        target.focus()
        self.screen.maximize(pane, container=False)

    def action_back_out(self) -> None:
        """Close the inspector, else restore a maximised pane, else leave the focused pane."""
        inspector = self.query_one(Inspector)
        if inspector.display:
            inspector.display = False
        elif self.screen.maximized is not None:
            self.screen.minimize()
        else:
            self.screen.set_focus(None)

    def action_inspect(self) -> None:
        """Inspect what the focused map or list's cursor is on (the memory map's if none is focused)."""
        focused = self.focused
        if focused is not None and hasattr(focused, "action_inspect"):
            focused.action_inspect()
        else:
            self.query_one(MapView).action_inspect()

    def action_zoom(self, delta: int) -> None:
        """Zoom the memory map in or out."""
        view = self.query_one(MapView)
        view.zoom = max(0, min(MAX_ZOOM, view.zoom + delta))
        if view.frame is not None:
            self.query_one(MemoryMapPane).show_frame(view.frame)

    def action_dense(self) -> None:
        """Switch the memory map between glyph cells and dense half-block cells."""
        view = self.query_one(MapView)
        view.dense = not view.dense
        if view.frame is not None:
            self.query_one(MemoryMapPane).show_frame(view.frame)

    def action_filter(self) -> None:
        """Show the counters and focus their filter box."""
        if self.layout_mode != "wide":
            self._choose(7)
        self.query_one("#counters-filter", Input).focus()

    def action_next_variant(self) -> None:
        """Side by side: the one-machine panes show the next machine."""
        if self.frame is None or not self.frame.variants:
            self.notify("One machine: `swaptui FILE --designs A,B` opens two side by side.", timeout=3)
            return
        self.variant = (self.variant + 1) % len(self.frame.variants)
        self._apply(self.frame, everything=True)

    def action_next_theme(self) -> None:
        """Cycle the themes."""
        i = THEME_ORDER.index(self.theme) if self.theme in THEME_ORDER else -1
        self.theme = THEME_ORDER[(i + 1) % len(THEME_ORDER)]
        self.notify(f"theme: {self.theme.removeprefix('swaptui-')}", timeout=2)

    def action_help(self) -> None:
        """Show every key and glyph."""
        self.push_screen(HelpScreen())

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Deliver an SVG screenshot, by default under a name no other takes (Textual says where it went)."""
        directory = Path(path or self.screenshot_dir or os.getcwd())
        self.deliver_screenshot(filename or self.screenshot_name(directory), str(directory))

    def screenshot_name(self, directory: Path) -> str:
        """scenario, tick, theme and a count: two screenshots of one tick in two themes keep both."""
        tick = self.frame.tick if self.frame else 0
        slug = re.sub(r"[^a-z0-9]+", "-", self.scenario.name.lower()).strip("-") or "scenario"
        theme = self.theme.removeprefix("swaptui-")
        while True:
            self._screenshots += 1  # counted here too: a delivery still being written is not on disk yet
            name = f"swaptui-{slug}-tick{tick}-{theme}-{self._screenshots}.svg"
            if not (directory / name).exists():
                return name

    async def action_quit(self) -> None:
        """Stop the model and leave."""
        self.stepper.stop()
        self.exit(0)

    # -- messages from panes -------------------------------------------------------------------------
    def on_inspect(self, message: Inspect) -> None:
        inspector = self.query_one(Inspector)
        if not message.open and not inspector.display:
            return
        inspector.display = True
        inspector.inspect(message.kind, message.key)

    # -- command palette -------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action in the table, by its description, then those of Textual's own it does not replace."""
        for a in ACTIONS:
            if a.scope != "app" or not a.palette or a.action == "command_palette":
                continue
            yield SystemCommand(
                escape(f"{a.description}  (key: {a.keys_text})"),
                escape(a.description),
                lambda action=a.action: self.run_action(action),
            )
        for command in super().get_system_commands(screen):
            if command.title not in REPLACED_SYSTEM_COMMANDS:
                yield command
