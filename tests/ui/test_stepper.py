"""The stepper thread without Textual: it moves the Player to a target, and stepping back shows exactly what was shown."""

from __future__ import annotations

import threading
import time

import pytest

from swaptui.ui.stepper import Stepper


class Harness:
    """Runs a Stepper in a thread with a publish callback that acknowledges at once."""

    def __init__(self, scenario, **kw) -> None:
        self.frames = []
        self.statuses = []
        self.stepper = Stepper(scenario, self._publish, self.statuses.append, **kw)
        self.thread = threading.Thread(target=self.stepper.run, daemon=True)
        self.thread.start()

    def _publish(self, frame) -> None:
        self.frames.append(frame)
        self.stepper.ack()

    def settle(self, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        time.sleep(0.01)
        while time.monotonic() < deadline:
            s = self.stepper
            if s.player is not None and s.idle.is_set() and not s._commands and self.frames:
                return self.frames[-1]
            time.sleep(0.01)
        raise AssertionError("stepper did not settle")

    def close(self) -> None:
        self.stepper.stop()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def harness(small_scenario):
    h = Harness(small_scenario)
    yield h
    h.close()


def test_first_frame_is_tick_zero_then_steps_move_the_target(harness) -> None:
    assert harness.settle().tick == 0
    harness.stepper.step(1)
    assert harness.settle().tick == 1
    harness.stepper.step(100)
    f = harness.settle()
    assert f.tick == 101
    assert len(f.history) == 102  # one sample per tick


def test_step_back_shows_the_same_counters_as_before(harness) -> None:
    harness.settle()
    harness.stepper.step(150)
    harness.settle()
    seen = {f.tick: f.snapshot for f in harness.frames}
    harness.stepper.back(1)
    f = harness.settle()
    assert f.tick == 149
    if 149 in seen:
        assert (f.snapshot.counters == seen[149].counters).all()
    harness.stepper.step(1)
    f = harness.settle()
    assert f.tick == 150 and (f.snapshot.counters == seen[150].counters).all()


def test_an_uncached_rewind_replays_to_identical_counters(harness) -> None:
    harness.settle()
    harness.stepper.step(120)
    harness.settle()
    at_120 = harness.frames[-1].snapshot
    harness.stepper.step(180)
    harness.settle()
    harness.stepper._cache.clear()  # force a real replay from a checkpoint
    harness.stepper.go_to(120)
    f = harness.settle()
    assert f.tick == 120 and harness.stepper.player.tick == 120
    assert (f.snapshot.counters == at_120.counters).all()
    assert (f.snapshot.frame_state == at_120.frame_state).all()
    assert (f.snapshot.cluster_count == at_120.cluster_count).all()


def test_running_advances_and_pausing_stops_where_it_is(harness) -> None:
    harness.settle()
    s = harness.stepper
    s.set_speed(2000)
    s.set_running(True)
    time.sleep(0.5)
    s.set_running(False)
    f = harness.settle()
    assert f.tick > 10
    assert s.player.tick == f.tick == s.target


def test_go_to_clamps_to_the_scenario(harness) -> None:
    harness.settle()
    harness.stepper.go_to(10**9)
    f = harness.settle()
    assert f.tick == f.last_tick and f.at_end
    harness.stepper.go_to(-5)
    assert harness.settle().tick == 0


def test_start_tick_is_honoured(small_scenario) -> None:
    h = Harness(small_scenario, start_tick=40)
    try:
        assert h.settle().tick == 40
        assert h.statuses[0].startswith("building the machine")
    finally:
        h.close()
