"""The Player owns time: step forwards, step back, go to any tick, restart; one cursor over a run.

Stepping back restores the nearest checkpoint at or before the target (a deep copy of the whole
machine, taken every `checkpoint_every` ticks; tick 0 is rebuilt from the scenario instead) and
replays forward; the model is deterministic, so the replayed ticks are the ticks that were shown.
Checkpoints are kept within a memory budget by dropping every other one when the budget is
reached, so older history costs longer replays rather than more memory.
"""

from __future__ import annotations

import copy

import numpy as np

from swaptui.model.machine import Machine
from swaptui.model.snapshot import Snapshot

DEFAULT_CHECKPOINT_EVERY = 200
DEFAULT_CHECKPOINT_BUDGET = 768 << 20


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


class Player:
    """Time control over one machine: step, back, go_to, restart, with checkpoints for rewind."""

    def __init__(
        self,
        scenario,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_budget: int = DEFAULT_CHECKPOINT_BUDGET,
    ) -> None:
        self.scenario = scenario
        self.machine = Machine(scenario)
        self.checkpoint_every = max(1, checkpoint_every)
        self.checkpoint_budget = checkpoint_budget
        # Tick 0 needs no copy: the model is deterministic, so it is rebuilt from the scenario.
        self.checkpoints: dict[int, Machine] = {}
        self._checkpoint_bytes = machine_bytes(self.machine)
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
        if (len(self.checkpoints) + 1) * self._checkpoint_bytes > self.checkpoint_budget:
            keep = sorted(self.checkpoints)
            for k in keep[1::2]:
                del self.checkpoints[k]
            self.checkpoint_every *= 2
            if t % self.checkpoint_every:
                return
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
