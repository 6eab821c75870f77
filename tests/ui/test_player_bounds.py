"""The Player's memory is bounded: checkpoints capped and thinned, dropped machines freed; rewinds stay exact."""

from __future__ import annotations

import gc
import random

import numpy as np
import pytest

from swaptui.model.machine import Machine
from swaptui.model.snapshot import sample_counters
from swaptui.player import Player, thinning_victim


def state(m: Machine) -> tuple[np.ndarray, np.ndarray]:
    """What must be identical at one tick however it was reached: the counters and every frame's state."""
    return sample_counters(m).copy(), m.memmap.state.copy()


def live_machines() -> int:
    """Machines the interpreter still holds, garbage not yet collected included."""
    return sum(isinstance(o, Machine) for o in gc.get_objects())


def test_thinning_keeps_the_count_and_spaces_checkpoints_by_distance() -> None:
    ticks: list[int] = []
    for t in range(200, 40_001, 200):
        ticks = sorted([*ticks, t])
        if len(ticks) > 12:
            ticks.remove(thinning_victim(ticks, present=t, every=200))
    assert len(ticks) == 12 and ticks[-1] == 40_000
    gaps = np.diff([0, *ticks])
    assert gaps[-1] == 200  # the present's neighbourhood stays dense
    assert (np.diff(gaps[::-1]) >= 0).all()  # and the spacing only grows with distance from it
    assert gaps[0] > 16 * gaps[-1]


@pytest.fixture(scope="module")
def forward(small_scenario) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The state at every tick up to 400, from one uninterrupted run."""
    m = Machine(small_scenario)
    out = {0: state(m)}
    for _ in range(400):
        m.step()
        out[m.tick] = state(m)
    return out


def test_seeks_and_restarts_stay_within_the_cap_and_reproduce_the_forward_run(small_scenario, forward) -> None:
    p = Player(small_scenario, checkpoint_every=10, max_checkpoints=5)
    rng = random.Random(3)
    p.step(400)
    for i in range(30):
        assert len(p.checkpoints) <= 5
        assert all(k % 10 == 0 and 0 < k <= 400 for k in p.checkpoints)
        target = rng.randint(0, 400)
        if i % 5 == 4:
            p.restart()
            assert p.tick == 0
            p.step(target)
        else:
            p.go_to(target)
        assert p.tick == target
        got, want = state(p.machine), forward[target]
        assert (got[0] == want[0]).all() and (got[1] == want[1]).all(), f"tick {target} differs after thinning"
        p.back(1)
        got, want = state(p.machine), forward[max(0, target - 1)]
        assert (got[0] == want[0]).all() and (got[1] == want[1]).all()
    assert len(p.checkpoints) <= 5


def test_the_byte_budget_caps_the_count_too(small_scenario) -> None:
    p = Player(small_scenario, checkpoint_every=10, checkpoint_budget=1, max_checkpoints=50)
    assert p.max_checkpoints == 1  # never fewer than one
    p.step(200)
    assert len(p.checkpoints) == 1


def test_restarts_and_seeks_leave_no_machine_behind(small_scenario) -> None:
    """A machine holds reference cycles: the ones replaced by a seek or dropped as checkpoints must not pile up."""
    p = Player(small_scenario, checkpoint_every=10, max_checkpoints=3)
    gc.collect()
    before = live_machines()
    gc.disable()  # as if the collector's thresholds never came round: nothing but the Player frees them
    try:
        for _ in range(8):
            p.step(60)
            p.go_to(15)
            p.restart()
        p.step(100)
        # The live machine and its checkpoints; the dropped checkpoints' arrays are freed at once, the
        # shells (a few KiB) may wait for the collector.
        assert live_machines() - before <= len(p.checkpoints) + 30
        held = sum(
            o.memmap.state.nbytes
            for o in gc.get_objects()
            if isinstance(o, Machine) and isinstance(getattr(o.memmap, "state", None), np.ndarray)
        )
        assert held <= (len(p.checkpoints) + 1) * p.machine.memmap.state.nbytes
    finally:
        gc.enable()


def test_the_mmap_threshold_is_pinned_on_glibc() -> None:
    """Without it, glibc's adaptive threshold puts freed checkpoints' arrays on a heap that fragments."""
    import platform

    from swaptui.player import fix_mmap_threshold

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt's M_MMAP_THRESHOLD is glibc's")
    assert fix_mmap_threshold()
