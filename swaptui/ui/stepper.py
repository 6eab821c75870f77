"""The stepper: the one thread that owns the Player, so the UI never waits on the model.

The UI sends commands (run, pause, speed, step, back, go to) that only move a target tick; the
stepper's loop moves towards it and publishes `Frame`s — a Snapshot plus the recent per-tick
counter history — at most ~30 per second. It builds a frame only once the UI has shown the previous
one (`ack`), and does not step the model meanwhile, so the two never fight for the interpreter and
a slow terminal costs frames, never a queue of stale ones. Each frame's stepping budget is what is
left of a frame interval after the UI's and the snapshot's measured cost: when the model cannot
keep up with the speed it steps fewer ticks per frame and drops the rest.

Going back: snapshots shown recently are kept, so while paused a step back to one of them just
shows it again and the Player stays where it is; other ticks (or running again from an earlier
tick) restore the Player's nearest checkpoint and replay, and that replay keeps snapshots of the
few ticks before its target so that the next steps back are instant too. No Textual import: the
loop talks to the app through two callbacks.

The player may also be a recorded or live kernel (swaptui.trace_player): it says `random_access`,
so any tick is a lookup (no checkpoints, no replay) and it keeps its own counter history.

Side by side (swaptui.lockstep.LockstepPlayer), the player moves 2 or 3 machines at once: the stepper
keeps a history ring per machine, caches the tuple of their snapshots per tick (one byte budget for
all of them), and each frame carries every machine's snapshot and history (`Frame.variants`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from swaptui.lockstep import LockstepPlayer
from swaptui.model.snapshot import Snapshot, build_snapshot, sample_counters
from swaptui.player import Player
from swaptui.trace_player import LivePlayer, TracePlayer
from swaptui.ui.metrics import History, HistoryRing

FPS = 30  # the frame rate the stepping budget aims for
MAX_FPS = 40  # frames are never closer together than this (light frames leave the CPU idle)
MIN_SPEED = 1
MAX_SPEED = 16384
DEFAULT_SPEED = 64
SNAPSHOT_CACHE_BYTES = 160 << 20
PREFETCH_BACK = 16  # snapshots kept from a replay's last ticks (fewer on big machines)
STEP_BUDGET = 0.4  # at most this share of a frame interval is spent stepping the model
SCHEDULING_MARGIN = 0.003  # seconds of each frame left for waking threads and handing over the interpreter
HISTORY_SAMPLES = 1024  # per-tick samples handed to the panes with each frame
SLOW_REWIND = 50  # replays longer than this many ticks say so in the header


@dataclass(frozen=True)
class VariantView:
    """One machine of a side-by-side frame: its name, snapshot and counter history."""

    name: str
    snapshot: Snapshot
    history: History


@dataclass(frozen=True, eq=False)
class Frame:
    """What the UI shows for one moment: a snapshot, the counter history up to it, and where the run is.

    Side by side, `variants` holds every machine's view (the same tick on each) and `shown` says which
    of them `snapshot` and `history` are; a single machine has no variants."""

    snapshot: Snapshot
    history: History
    last_tick: int
    at_end: bool
    achieved: float  # ticks per wall second while running (0 when paused)
    seq: int
    variants: tuple[VariantView, ...] = ()
    shown: int = 0
    key: str = ""  # the scenario keys that set the variants apart (`swap.design`)
    paused_by_beat: bool = False  # running stopped here: a beat with pause: true fired, or a do: pause event

    @property
    def tick(self) -> int:
        return self.snapshot.tick

    def of(self, i: int) -> Frame:
        """The frame as variant i sees it (this frame if there are no variants, or i is the one shown)."""
        if not self.variants or i == self.shown:
            return self
        v = self.variants[i % len(self.variants)]
        return replace(self, snapshot=v.snapshot, history=v.history, shown=i % len(self.variants))


def snapshot_bytes(s: Snapshot) -> int:
    """Approximate memory a cached snapshot holds."""
    return s.frame_state.nbytes + s.frame_lru.nbytes + s.cluster_flags.nbytes + s.cluster_count.nbytes + 4096


class Stepper:
    """Moves a Player towards a target tick in its own thread and publishes frames."""

    def __init__(
        self,
        scenario,
        publish: Callable[[Frame], None],
        status: Callable[[str | None], None] = lambda s: None,
        *,
        speed: int = DEFAULT_SPEED,
        start_tick: int = 0,
        running: bool = False,
        fps: int = FPS,
        player_factory: Callable[[Any], Player | TracePlayer | LockstepPlayer] = Player,
    ) -> None:
        self.scenario = scenario
        self._publish_cb = publish
        self._status_cb = status
        self.frame_interval = 1.0 / fps
        self.player: Player | TracePlayer | LockstepPlayer | None = None  # built by the thread, first thing in run()
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
        self._rings = [HistoryRing()]  # one per machine (built with the player)
        self._cache: OrderedDict[int, tuple[Snapshot, ...]] = OrderedDict()  # each machine's snapshot, by tick
        self._cache_bytes = 0
        self._view: tuple[Snapshot, ...] | None = None  # cached snapshots shown while the player is ahead of them
        self._published_tick = -1
        self._published_last = -1  # the player's last tick when the last frame was published (live: it grows)
        self._seq = 0
        self._run_marks: deque[tuple[float, int]] = deque(maxlen=64)
        self._ui_time = 0.0  # moving average: publish to ack (the UI applying and painting a frame)
        self._snapshot_time = 0.0  # moving average: building a snapshot
        self._published_at = 0.0
        self._tick_time = 0.0  # moving average: one model tick
        self._last_built: tuple[Snapshot, ...] = ()
        self._next_frame = 0.0  # while running, the next frame starts no earlier than this
        self._until_beat: int | None = None  # moving forwards until this beat (0-based) has fired
        self._paused_by_beat = False
        self.idle = threading.Event()  # set while there is nothing left to do (tests wait on it)
        self.error: BaseException | None = None

    # -- commands (any thread) -------------------------------------------------------------------------
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

    def to_beat(self, index: int) -> None:
        """Move to the tick story beat `index` fires at: run the model until it fires if it has not yet."""
        self._send("beat", index)

    def ack(self) -> None:
        """The UI has shown the last frame: the next one may be built."""
        if not self._acked.is_set():
            self._ui_time = 0.8 * self._ui_time + 0.2 * (time.perf_counter() - self._published_at)
        self._acked.set()
        self._wake.set()

    def stop(self) -> None:
        """End the loop at the next tick boundary."""
        self._stop.set()
        self._wake.set()

    # -- the loop (stepper thread) -----------------------------------------------------------------------
    def run(self) -> None:
        """The thread's body: build the player, then move and publish until stopped."""
        try:
            self._status_cb(
                getattr(self.scenario, "loading_text", None)
                or f"building the machine ({self.scenario.machine.memory >> 20:,} MiB of RAM)…"
            )
            self.player = p = self._factory(self.scenario)
            if isinstance(p, LivePlayer):
                p.on_sample = self._wake.set  # a live player's new samples wake the loop
            self._rings = [HistoryRing() for _ in self._machines()]
            self._record()
            self.target = min(self.target, p.last_tick)
            self._move(deadline=None)
            self._status_cb(None)
            self._publish()
            while not self._stop.is_set():
                self._iterate()
        except BaseException as error:  # the app shows it and exits
            self.error = error
            self._status_cb(f"the model failed: {type(error).__name__}: {error}")
        finally:
            close = getattr(self.player, "close", None)
            if close is not None:
                close()

    @property
    def shown_tick(self) -> int:
        """The tick the UI should be showing now."""
        return self._view[0].tick if self._view is not None else self._source.tick

    @property
    def _source(self) -> Player | TracePlayer | LockstepPlayer:
        """The player; every method that asks runs on the thread after run() has built it."""
        assert self.player is not None, "the stepper's player is built by its thread"
        return self.player

    def _iterate(self) -> None:
        start = time.perf_counter()
        self._drain()
        if self._stop.is_set():
            return
        if not self._acked.is_set():
            # The UI has not shown the last frame yet: wait rather than compete with it for the interpreter.
            self._wake.wait(self.frame_interval)
            self._wake.clear()
            return
        p = self._source
        if self.running and start < self._next_frame:
            # At most MAX_FPS frames a second: the rest of the interval is idle (commands still wake us).
            self._wake.wait(self._next_frame - start)
            self._wake.clear()
            return
        if self.running:
            self._next_frame = start + 1.0 / MAX_FPS
            dt = start - self._last_run
            self._last_run = start
            self._owed = min(self._owed + self.speed * dt, max(1.0, self.speed * self.frame_interval * 2))
            whole = int(self._owed)
            self._owed -= whole
            # Never more than two frames' worth ahead of the model: drop ticks, not frames.
            self.target = min(
                p.last_tick, self.target + whole, p.tick + max(1, int(self.speed * self.frame_interval * 2))
            )
        self._move(deadline=start + self.step_budget())
        if self.running:
            self._run_marks.append((time.perf_counter(), p.tick))
            if p.at_end():
                self.running = False
        if self.shown_tick != self._published_tick or p.last_tick != self._published_last:
            self._publish()
        moving = self.running or self.shown_tick != self.target
        if not moving and not self._commands and self._acked.is_set():
            self.idle.set()
        if moving:
            pause = start + self.frame_interval - time.perf_counter()
            if pause > 0 and self._acked.is_set():
                self._wake.wait(pause)
        elif not self._commands:
            self._wake.wait(None if self._acked.is_set() else self.frame_interval)
        self._wake.clear()

    def step_budget(self) -> float:
        """Seconds of model stepping per frame: what a frame has left after the UI and the snapshot."""
        left = self.frame_interval - self._ui_time - self._snapshot_time - SCHEDULING_MARGIN
        return min(self.frame_interval * STEP_BUDGET, max(0.004, left))

    def _drain(self) -> None:
        p = self._source
        while self._commands:
            kind, value = self._commands.popleft()
            self._until_beat = None
            if kind == "beat":
                story = _story(p)
                if story is None or not 0 <= value < len(story.beats):
                    continue
                self.running = False
                if value < len(story.fired):
                    self.target = story.fired[value].tick  # fired already (the player may be ahead of the view)
                else:
                    self._until_beat = value
                    self.target = p.last_tick
            elif kind == "run":
                if value and not self.running:
                    # Run on from what is on screen (the player may be ahead of it after a step back).
                    self.target = self.shown_tick
                    self._last_run = time.perf_counter()
                    self._owed = 0.0
                    self._run_marks.clear()
                elif not value and self.running:
                    self.target = self.shown_tick  # stop where we are, not where running was heading
                self.running = bool(value) and not (p.at_end() and self.shown_tick >= p.last_tick)
            elif kind == "speed":
                self.speed = max(MIN_SPEED, min(MAX_SPEED, int(value)))
            elif kind == "step":
                self.target = max(0, min(p.last_tick, self.target + int(value)))
            elif kind == "goto":
                self.target = max(0, min(p.last_tick, int(value)))

    def _machines(self) -> tuple[Any, ...]:
        """The machines the player moves (none for a recorded source: it keeps its own history)."""
        p = self._source
        if isinstance(p, TracePlayer):
            return ()
        return p.machines if isinstance(p, LockstepPlayer) else (p.machine,)

    def _snapshots(self) -> tuple[Snapshot, ...]:
        """Every machine's snapshot of the player's tick."""
        p = self._source
        return p.snapshots() if isinstance(p, LockstepPlayer) else (p.snapshot(),)

    def _record(self) -> None:
        for ring, m in zip(self._rings, self._machines()):
            ring.append(m.tick, m.now, sample_counters(m))

    def _move(self, deadline: float | None) -> None:
        """Head for the target: show a cached snapshot, replay from a checkpoint, or step forwards until the deadline."""
        p = self._source
        if self.target < p.tick:
            cached = self._cache.get(self.target)
            if cached is not None and not self.running:
                self._view = cached
                return
            self._rewind()
            return
        self._view = None
        while p.tick < self.target and not self._stop.is_set():
            t0 = time.perf_counter()
            if not p.step(1):
                self.target = p.tick
                break
            self._record()
            if self._beat_stop(p):
                break
            now = time.perf_counter()
            self._tick_time = 0.9 * self._tick_time + 0.1 * (now - t0)
            if deadline is not None and now + self._tick_time >= deadline:
                break
            if self._commands:
                break

    def _beat_stop(self, p: Player | TracePlayer | LockstepPlayer) -> bool:
        """After a forward step: stop on the beat being headed for, pause on a beat that asks to, or on the tick
        a scripted `do: pause` event ran."""
        if self.running and getattr(getattr(p, "machine", None), "pause_event_tick", -1) == p.tick:
            self.running = False
            self._paused_by_beat = True  # (the frame's flag tells the app a run stopped by itself)
            self.target = p.tick
            return True
        story = _story(p)
        if story is None:
            return False
        if self._until_beat is not None and len(story.fired) > self._until_beat:
            self._until_beat = None
            self.target = p.tick
            return True
        if self.running and story.paused_at(p.tick):
            self.running = False
            self._paused_by_beat = True
            self.target = p.tick
            return True
        return False

    def _rewind(self) -> None:
        """Restore the nearest checkpoint at or before the target and replay to it, keeping the last few snapshots."""
        p = self._source
        self._view = None
        while p.tick > self.target and not self._stop.is_set():
            target = self.target
            for ring in self._rings:
                ring.truncate_after(target)
            # A recorded source is random access; the model replays from a checkpoint (tick 0 is rebuilt, not stored).
            base = target if isinstance(p, TracePlayer) else max((k for k in p.checkpoints if k <= target), default=0)
            slow = target - base > SLOW_REWIND
            if slow:
                self._status_cb(f"rewinding to tick {target:,}: replaying {target - base:,} ticks from a checkpoint…")
            p.go_to(base)
            self._record()
            keep = self._prefetch_count()
            while p.tick < self.target and not self._stop.is_set():
                p.step(1)
                self._record()
                if self.target - p.tick <= keep and p.tick < self.target:
                    self._remember(self._snapshots())
                if self._commands:
                    self._drain()
            if slow:
                self._status_cb(None)

    def _prefetch_count(self) -> int:
        if not self._cache:
            return PREFETCH_BACK
        size = sum(snapshot_bytes(s) for s in next(reversed(self._cache.values())))
        return max(0, min(PREFETCH_BACK, SNAPSHOT_CACHE_BYTES // (8 * size)))

    def _achieved(self) -> float:
        if not self.running or len(self._run_marks) < 2:
            return 0.0
        (t0, k0), (t1, k1) = self._run_marks[0], self._run_marks[-1]
        return (k1 - k0) / (t1 - t0) if t1 > t0 else 0.0

    def _publish(self) -> None:
        p = self._source
        snapshots = self._view if self._view is not None else self._cache.get(p.tick)
        if snapshots is None:
            t0 = time.perf_counter()
            if isinstance(p, TracePlayer):
                snapshots = (p.snapshot(),)
            else:
                # The last snapshots built let the frame counts be updated, not recounted (same as p.snapshot()).
                previous = self._last_built or (None,) * len(self._rings)
                snapshots = tuple(build_snapshot(m, previous=b) for m, b in zip(self._machines(), previous))
                self._last_built = snapshots
            self._snapshot_time = 0.8 * self._snapshot_time + 0.2 * (time.perf_counter() - t0)
        self._remember(snapshots)
        snapshot = snapshots[0]
        if isinstance(p, TracePlayer):
            histories = [History(*p.history_arrays(HISTORY_SAMPLES, upto=snapshot.tick))]
        else:
            histories = []
            for ring, s in zip(self._rings, snapshots):
                ring.amend(s.tick, s.counters)  # gauges a snapshot computes and a tick does not
                histories.append(ring.view(HISTORY_SAMPLES, upto=s.tick))
        names = p.names if isinstance(p, LockstepPlayer) and len(p.names) > 1 else ()
        self._seq += 1
        frame = Frame(
            snapshot,
            histories[0],
            p.last_tick,
            snapshot.tick >= p.last_tick and p.at_end(),
            self._achieved(),
            self._seq,
            variants=tuple(VariantView(*v) for v in zip(names, snapshots, histories)),
            key=p.key if names and isinstance(p, LockstepPlayer) else "",
            paused_by_beat=self._paused_by_beat,
        )
        self._paused_by_beat = False
        self._published_tick = snapshot.tick
        self._published_last = p.last_tick
        self._acked.clear()
        self._published_at = time.perf_counter()
        self._publish_cb(frame)

    def _remember(self, snapshots: tuple[Snapshot, ...]) -> None:
        tick = snapshots[0].tick
        if tick in self._cache:
            self._cache.move_to_end(tick)
            return
        self._cache[tick] = snapshots
        self._cache_bytes += sum(snapshot_bytes(s) for s in snapshots)
        while self._cache_bytes > SNAPSHOT_CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= sum(snapshot_bytes(s) for s in old)


def _story(p: Player | TracePlayer | LockstepPlayer):
    """The story of a model player's machine (None for a recorded or live kernel, or without beats)."""
    return getattr(getattr(p, "machine", None), "story", None)
