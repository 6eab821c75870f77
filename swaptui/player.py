"""The Player owns time: step forwards, step back, go to any tick, restart; one cursor over a run.

Stepping back restores the nearest checkpoint at or before the target (a deep copy of the whole
machine, taken every `checkpoint_every` ticks; tick 0 is rebuilt from the scenario instead) and
replays forward; the model is deterministic, so the replayed ticks are the ticks that were shown.
Checkpoints are capped: at most `max_checkpoints` of them, and no more than `checkpoint_budget`
bytes' worth (at least one). Past the cap, a new checkpoint replaces the one whose loss costs least
for its distance from the present tick — the one with the smallest (gap it leaves) / (distance from
the present) — so checkpoints stay dense near the cursor and their spacing grows with distance
from it, roughly geometrically. Older history costs longer replays, never more memory, however
long the session and however many seeks and restarts.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import gc
import sys

import numpy as np

from swaptui.model.machine import Machine
from swaptui.model.snapshot import Snapshot

DEFAULT_CHECKPOINT_EVERY = 200
DEFAULT_MAX_CHECKPOINTS = 12
DEFAULT_CHECKPOINT_BUDGET = 384 << 20
MMAP_THRESHOLD = 128 << 10  # glibc's default before it adapts; M_MMAP_THRESHOLD is mallopt's -3
_M_MMAP_THRESHOLD = -3


@functools.cache
def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold at 128 KiB (once per process); True if it took.

    glibc raises the threshold to the size of each mmapped block freed (up to 32 MiB), so after the
    first dropped checkpoint or replaced machine, arrays of a few MiB come from the heap instead,
    and a long session of copies and frees fragments it: in benchmarks/app_memory.py RSS grew
    to twice what is live. A fixed threshold keeps big arrays mmapped and returned on free.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def machine_bytes(m: Machine) -> int:
    """Approximate memory held by a machine's arrays (what a checkpoint costs)."""
    seen: set[int] = set()
    total = 0

    def walk(obj: object, depth: int) -> None:
        nonlocal total
        if depth > 3 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes
        elif isinstance(obj, (list, tuple)):
            for x in obj:
                walk(x, depth + 1)
        elif isinstance(obj, dict):
            for x in obj.values():
                walk(x, depth + 1)
        elif hasattr(obj, "__dict__"):
            for x in vars(obj).values():
                walk(x, depth + 1)

    walk(m, 0)
    return total


def thinning_victim(ticks: list[int], present: int, every: int) -> int:
    """The checkpoint (of sorted `ticks`) to drop: the smallest gap left behind for its distance from `present`.

    Dropping checkpoint k merges the gaps on its two sides (tick 0, rebuilt from the scenario, is the
    leftmost neighbour; the newest has a mirrored gap on its right). Dividing by the distance from the
    present keeps spacing proportional to distance; ties drop the older one.
    """
    best, best_score = ticks[0], float("inf")
    for i, k in enumerate(ticks):
        left = ticks[i - 1] if i else 0
        right = ticks[i + 1] if i + 1 < len(ticks) else 2 * k - left
        score = (right - left) / (abs(present - k) + every)
        if score < best_score:
            best, best_score = k, score
    return best


def release_arrays(obj: object, depth: int = 0, seen: set[int] | None = None) -> None:
    """Free the data of the numpy arrays an object owns, in place; only for an object nothing else uses
    (a dropped checkpoint), which must never be read again."""
    seen = set() if seen is None else seen
    if depth > 6 or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        if obj.flags.owndata and obj.base is None:
            obj.resize(0, refcheck=False)
        return
    if isinstance(obj, (str, bytes, int, float, type)):
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        children: list[object] = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    else:
        children = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
        for slot in getattr(type(obj), "__slots__", ()):
            children.append(getattr(obj, slot, None))
    for x in children:
        release_arrays(x, depth + 1, seen)


class Player:
    """Time control over one machine: step, back, go_to, restart, with checkpoints for rewind."""

    def __init__(
        self,
        scenario,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_budget: int = DEFAULT_CHECKPOINT_BUDGET,
        max_checkpoints: int = DEFAULT_MAX_CHECKPOINTS,
    ) -> None:
        fix_mmap_threshold()
        self.scenario = scenario
        self.machine = Machine(scenario)
        self.checkpoint_every = max(1, checkpoint_every)
        self.checkpoint_budget = checkpoint_budget
        # Tick 0 needs no copy: the model is deterministic, so it is rebuilt from the scenario.
        self.checkpoints: dict[int, Machine] = {}
        self._checkpoint_bytes = machine_bytes(self.machine)
        self.max_checkpoints = max(1, min(max_checkpoints, checkpoint_budget // max(1, self._checkpoint_bytes)))
        self._snapshot: Snapshot | None = None
        self.replayed_ticks = 0  # ticks recomputed by rewinds (for the status line and tests)

    @property
    def tick(self) -> int:
        return self.machine.tick

    @property
    def last_tick(self) -> int:
        """The scenario's final tick."""
        return self.scenario.duration // self.scenario.tick

    def at_end(self) -> bool:
        return self.machine.tick >= self.last_tick

    def snapshot(self) -> Snapshot:
        """The current tick's snapshot (built once per tick)."""
        if self._snapshot is None or self._snapshot.tick != self.machine.tick:
            self._snapshot = self.machine.snapshot()
        return self._snapshot

    def _maybe_checkpoint(self) -> None:
        t = self.machine.tick
        if t % self.checkpoint_every or t in self.checkpoints:
            return
        if len(self.checkpoints) >= self.max_checkpoints:
            victim = thinning_victim(sorted([*self.checkpoints, t]), present=t, every=self.checkpoint_every)
            if victim == t:
                return  # the new one would be the first to go: not worth a copy
            # A machine holds reference cycles, so a dropped copy waits for a full collection: free its
            # arrays (nearly all of its bytes) now. A checkpoint is never shared: restoring one copies it.
            release_arrays(self.checkpoints.pop(victim))
        self.checkpoints[t] = copy.deepcopy(self.machine)

    def step(self, n: int = 1) -> int:
        """Advance up to n ticks (not past the scenario's end); returns ticks advanced."""
        done = 0
        while done < n and not self.at_end():
            self.machine.step()
            done += 1
            self._maybe_checkpoint()
        return done

    def go_to(self, tick: int) -> None:
        """Move the cursor to `tick` (clamped to [0, last_tick]), replaying from a checkpoint if behind."""
        tick = max(0, min(tick, self.last_tick))
        if tick < self.machine.tick:
            base = max((k for k in self.checkpoints if k <= tick), default=0)
            self.machine = copy.deepcopy(self.checkpoints[base]) if base else Machine(self.scenario)
            # The machine left behind holds reference cycles, so only a full collection frees it (36 MB on a
            # 1 GiB machine): collect now, or every seek and restart leaves one more behind.
            gc.collect()
            self.replayed_ticks += tick - base
        while self.machine.tick < tick:
            self.machine.step()
            self._maybe_checkpoint()

    def back(self, n: int = 1) -> None:
        """Step n ticks back."""
        self.go_to(self.machine.tick - n)

    def restart(self) -> None:
        """Back to tick 0."""
        self.go_to(0)
