"""Every story and every bundled scenario with beats, run headless: each beat fires, in order, at the first tick
(after the previous beat's) at which its trigger holds, with the trigger evaluated here tick by tick from the
machine's own counters, event log and processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from swaptui.model.machine import Machine
from swaptui.model.story import EVENTS, Observation, beat_specs, holds, phases
from swaptui.model.vmstat import INDEX
from swaptui.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
STORIES = sorted((SCENARIOS / "stories").glob("*.yaml"))
WITH_BEATS = [p for p in sorted(SCENARIOS.glob("*.yaml")) if "\nbeats:" in p.read_text()]
FAST = {"swap-metadata.yaml"}  # the one story short enough for the fast suite (450 ticks on 256 MiB)


class Watcher:
    """Which events happened in each tick, read straight off the machine (not through its Story)."""

    def __init__(self, m: Machine, names: set[str]) -> None:
        self.names = names
        self.seq = m.event_seq
        self.logged = {n: 0 for n in names if n in EVENTS and EVENTS[n].log}
        self.last = {n: self.count(m, n) for n in names}
        self.seen: set[str] = set()

    def count(self, m: Machine, name: str) -> int:
        source = EVENTS.get(name)
        if source is not None and source.log is not None:
            return self.logged[name]
        if source is not None and source.tally is not None:
            return source.tally(m)
        return int(m.vm.values[INDEX[name]])

    def observe(self, m: Machine) -> Observation:
        new = list(m.events)[len(m.events) - min(m.event_seq - self.seq, len(m.events)) :]
        self.seq = m.event_seq
        for name in self.logged:
            kind, prefix = EVENTS[name].log  # type: ignore[misc]
            self.logged[name] += sum(1 for e in new if e.kind == kind and e.text.startswith(prefix))
        happened = set()
        for name in self.names:
            now = self.count(m, name)
            if now > self.last[name]:
                happened.add(name)
            self.last[name] = now
        self.seen |= happened
        return Observation(m.tick, m.now, m.vm.values, frozenset(happened), frozenset(self.seen), lambda: phases(m))


def check_story(path: Path) -> None:
    scenario = load_scenario(path)
    specs = beat_specs(scenario.beats)
    assert specs
    m = Machine(scenario)
    watcher = Watcher(m, set().union(*(s.trigger.events() for s in specs)))
    held: list[list[int]] = [[] for _ in specs]  # per beat, the ticks its trigger held at
    while True:
        obs = watcher.observe(m)
        for k, spec in enumerate(specs):
            if holds(spec.trigger, obs):
                held[k].append(m.tick)
        if m.done() or (m.story is not None and len(m.story.fired) == len(specs)):
            break  # past the last beat nothing more is checked
        m.step()
    expected, after = [], -1
    for k, ticks in enumerate(held):
        later = [t for t in ticks if t > after]
        assert later, f"{path.name}: beat {k + 1} ({specs[k].trigger.text}) never holds after tick {after}"
        after = later[0]
        expected.append(after)
    assert m.story is not None
    assert [b.tick for b in m.story.fired] == expected
    assert [b.index for b in m.story.fired] == list(range(len(specs)))
    assert all("{" not in b.text for b in m.story.fired)


def test_there_are_at_least_six_stories_of_8_to_15_beats() -> None:
    assert len(STORIES) >= 6
    for path in STORIES:
        scenario = load_scenario(path)
        assert 8 <= len(scenario.beats) <= 15, path.name
        assert scenario.name.startswith("story: "), path.name
        assert not scenario.captions


def test_no_bundled_scenario_keeps_clock_timed_captions() -> None:
    for path in sorted(SCENARIOS.glob("*.yaml")):
        assert not load_scenario(path).captions, path.name


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=() if p.name in FAST else pytest.mark.slow, id=f"stories/{p.stem}") for p in STORIES]
    + [pytest.param(p, marks=pytest.mark.slow, id=p.stem) for p in WITH_BEATS],
)
def test_each_beat_fires_at_the_first_tick_its_trigger_holds(path: Path) -> None:
    check_story(path)
