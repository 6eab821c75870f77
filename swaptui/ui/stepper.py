"""The stepper: the one thread that owns the Player, so the UI never waits on the model.

The UI sends commands (run, pause, speed, step, back, go to, restart) that only move a target
tick; the stepper's loop moves the Player towards it and publishes `Frame`s — a Snapshot plus the
recent per-tick counter history — at most ~30 per second. It builds a new frame only once the UI
has shown the previous one (`ack`), so a slow terminal costs frames, never a queue of stale ones.
When the model cannot keep up with the speed, it steps as many ticks as a frame's budget allows and
drops the rest rather than building a debt.

Stepping back restores the Player's nearest checkpoint and replays silently; recently shown
snapshots are kept, so a step back shows its frame at once while the replay catches up. No Textual
import: the loop talks to the app through two callbacks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from swaptui.model.snapshot import Snapshot, sample_counters
from swaptui.player import Player
from swaptui.ui.metrics import History, HistoryRing

FPS = 30
MIN_SPEED = 1
MAX_SPEED = 16384
DEFAULT_SPEED = 64
SNAPSHOT_CACHE_BYTES = 160 << 20
STEP_BUDGET = 0.6  # share of a frame interval spent stepping the model


@dataclass(frozen=True, eq=False)
class Frame:
    """What the UI shows for one moment: a snapshot, the counter history up to it, and the player's position."""

    snapshot: Snapshot
    history: History
    last_tick: int
    at_end: bool
    achieved: float  # ticks per wall second while running (0 when paused)
    seq: int

    @property
    def tick(self) -> int:
        return self.snapshot.tick


def snapshot_bytes(s: Snapshot) -> int:
    """Approximate memory a cached snapshot holds."""
    return s.frame_state.nbytes + s.frame_lru.nbytes + s.cluster_flags.nbytes + s.cluster_count.nbytes + 4096


class Stepper:
    """Moves a Player towards a target tick in its own thread and publishes frames."""

    def __init__(self, scenario, publish: Callable[[Frame], None], status: Callable[[str | None], None] = lambda s: None,
                 *, speed: int = DEFAULT_SPEED, start_tick: int = 0, running: bool = False, fps: int = FPS,
                 player_factory: Callable[[object], Player] = Player) -> None:
        self.scenario = scenario
        self._publish_cb = publish
        self._status_cb = status
        self.frame_interval = 1.0 / fps
        self.player: Player | None = None
        self._factory = player_factory
        self._commands: deque[tuple] = deque()
        self._wake = threading.Event()
        self._acked = threading.Event()
        self._acked.set()
        self._stop = threading.Event()
        self.running = running
        self.speed = max(MIN_SPEED, min(MAX_SPEED, speed))
        self.target = max(0, start_tick)
        self._owed = 0.0
        self._last_run = time.perf_counter()
        self._ring = HistoryRing()
        self._cache: OrderedDict[int, Snapshot] = OrderedDict()
        self._cache_bytes = 0
        self._published_tick = -1
        self._dirty = True
        self._seq = 0
        self._run_marks: deque[tuple[float, int]] = deque(maxlen=64)
        self.idle = threading.Event()  # set while nothing is left to do (tests wait on it)
        self.error: BaseException | None = None

    # -- commands (any thread) -----------------------------------------------------------------------
    def _send(self, *command: object) -> None:
        self.idle.clear()
        self._commands.append(command)
        self._wake.set()

    def set_running(self, running: bool) -> None:
        """Run or pause."""
        self._send("run", running)

    def set_speed(self, speed: int) -> None:
        """Ticks per second of wall time while running."""
        self._send("speed", speed)

    def step(self, n: int = 1) -> None:
        """Move the target n ticks forward."""
        self._send("step", n)

    def back(self, n: int = 1) -> None:
        """Move the target n ticks back."""
        self._send("step", -n)

    def go_to(self, tick: int) -> None:
        """Move the target to a tick."""
        self._send("goto", tick)

    def restart(self) -> None:
        """Back to tick 0."""
        self._send("goto", 0)

    def ack(self) -> None:
        """The UI has shown the last frame: the next one may be built."""
        self._acked.set()
        self._wake.set()

    def stop(self) -> None:
        """End the loop (at the next tick boundary)."""
        self._stop.set()
        self._wake.set()

    # -- the loop (stepper thread) ----------------------------------------------------------------------
    def run(self) -> None:
        """The thread's body: build the player, then move and publish until stopped."""
        try:
            self._status_cb(f"building the machine ({self.scenario.machine.memory >> 20:,} MiB of RAM)…")
            self.player = self._factory(self.scenario)
            self._record()
            self.target = min(self.target, self.player.last_tick)
            self._advance(deadline=None)
            self._status_cb(None)
            self._publish(force=True)
            while not self._stop.is_set():
                self._iterate()
        except BaseException as error:  # reported to the UI, which shows it and exits
            self.error = error
            self._status_cb(f"the model failed: {type(error).__name__}: {error}")
            raise

    def _iterate(self) -> None:
        start = time.perf_counter()
        self._drain()
        if self._stop.is_set():
            return
        p = self.player
        if self.running:
            dt = start - self._last_run
            self._last_run = start
            self._owed = min(self._owed + self.speed * dt, max(1.0, self.speed * self.frame_interval * 2))
            whole = int(self._owed)
            self._owed -= whole
            self.target = min(p.last_tick, max(self.target, p.tick) + whole)
            # Never let the target run ahead of what two frames can step: drop ticks, not frames.
            self.target = min(self.target, p.tick + max(1, int(self.speed * self.frame_interval * 2)))
            if p.at_end():
                self.running = False
        self._advance(deadline=start + self.frame_interval * STEP_BUDGET)
        if self.running:
            self._run_marks.append((time.perf_counter(), p.tick))
        if self.player.tick != self._published_tick:
            self._dirty = True
        if self._dirty and self._acked.is_set():
            self._publish()
        busy = self.running or p.tick != self.target or (self._dirty and not self._acked.is_set())
        if not busy and not self._commands:
            self.idle.set()
        if self.running or p.tick != self.target:
            pause = start + self.frame_interval - time.perf_counter()
            if pause > 0:
                self._wake.wait(pause)
        elif not self._commands:
            self._wake.wait(None if not self._dirty else 0.05)
        self._wake.clear()

    def _drain(self) -> None:
        p = self.player
        while self._commands:
            kind, value = self._commands.popleft()
            if kind == "run":
                self.running = bool(value) and not p.at_end()
                self._last_run = time.perf_counter()
                self._owed = 0.0
                self._run_marks.clear()
                self._dirty = True
            elif kind == "speed":
                self.speed = max(MIN_SPEED, min(MAX_SPEED, int(value)))
            elif kind == "step":
                self.target = max(0, min(p.last_tick, self.target + int(value)))
            elif kind == "goto":
                self.target = max(0, min(p.last_tick, int(value)))

    def _record(self) -> None:
        m = self.player.machine
        self._ring.append(m.tick, m.now, sample_counters(m))

    def _advance(self, deadline: float | None) -> None:
        """Move the player towards the target: forwards until the deadline, backwards by a silent replay."""
        p = self.player
        if p.tick > self.target:
            self._rewind()
            return
        while p.tick < self.target and not self._stop.is_set():
            if not p.step(1):
                self.target = p.tick
                break
            self._record()
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if self._commands:
                break

    def _rewind(self) -> None:
        """Restore the nearest checkpoint at or before the target and replay to it, showing a cached frame at once."""
        p = self.player
        while p.tick > self.target and not self._stop.is_set():
            target = self.target
            self._ring.truncate_after(target)
            cached = self._cache.get(target)
            if cached is not None and self._acked.is_set():
                self._publish(cached)
            elif cached is None:
                self._status_cb(f"rewinding to tick {target:,}: replaying from a checkpoint…")
            base = max(k for k in p.checkpoints if k <= target)
            p.go_to(base)
            self._record()
            while p.tick < self.target and not self._stop.is_set():
                p.step(1)
                self._record()
                if self._commands:
                    self._drain()
            if cached is None:
                self._status_cb(None)
        self._dirty = self._published_tick != p.tick

    def _achieved(self) -> float:
        if not self.running or len(self._run_marks) < 2:
            return 0.0
        (t0, k0), (t1, k1) = self._run_marks[0], self._run_marks[-1]
        return (k1 - k0) / (t1 - t0) if t1 > t0 else 0.0

    def _publish(self, snapshot: Snapshot | None = None, force: bool = False) -> None:
        p = self.player
        if snapshot is None:
            snapshot = self._cache.get(p.tick) or p.snapshot()
        self._remember(snapshot)
        self._seq += 1
        frame = Frame(snapshot, self._ring.view(1024), p.last_tick, snapshot.tick >= p.last_tick,
                      self._achieved(), self._seq)
        self._published_tick = snapshot.tick
        self._dirty = snapshot.tick != p.tick
        self._acked.clear()
        self._publish_cb(frame)

    def _remember(self, s: Snapshot) -> None:
        if s.tick in self._cache:
            self._cache.move_to_end(s.tick)
            return
        self._cache[s.tick] = s
        self._cache_bytes += snapshot_bytes(s)
        while self._cache_bytes > SNAPSHOT_CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= snapshot_bytes(old)
