"""Run one scenario on the compiled core and on the frozen numpy core side by side and find where they part.

The compiled core is a port of the numpy core: the same rules, the same order of operations, the same random
streams, so every counter must agree after every tick. `first_divergence` returns None when they do, else the
first tick (and the counters) where they differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy_core.machine import Machine as NumpyMachine

from swaptui.model.machine import Machine
from swaptui.model.vmstat import NAMES


@dataclass
class Divergence:
    """Where two runs of one scenario first disagree."""

    tick: int
    counters: dict[str, tuple[int, int]]  # name: (compiled, numpy)
    events: tuple[list[str], list[str]] | None = None

    def __str__(self) -> str:
        lines = [f"tick {self.tick}: " + ", ".join(f"{k} {a} != {b}" for k, (a, b) in self.counters.items())]
        if self.events is not None:
            lines.append(f"events: compiled {self.events[0][-3:]} / numpy {self.events[1][-3:]}")
        return "\n".join(lines)


def first_divergence(scenario, ticks: int, every: int = 1, check_invariants: bool = False) -> Divergence | None:
    """Step both cores `ticks` ticks, comparing every counter every `every` ticks (and the event log at the end)."""
    a = Machine(scenario, check_invariants=check_invariants)
    b = NumpyMachine(scenario)
    done = 0
    while done < ticks:
        k = min(every, ticks - done)
        a.step(k)
        b.step(k)
        done += k
        va, vb = a.vm.values, b.vm.values
        if not np.array_equal(va, vb):
            diff = {n: (int(x), int(y)) for n, x, y in zip(NAMES, va, vb) if x != y}
            return Divergence(a.tick, diff)
    ea = [e.text for e in a.events]
    eb = [e.text for e in b.events]
    if ea != eb:
        return Divergence(a.tick, {}, (ea, eb))
    return None
