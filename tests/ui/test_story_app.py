"""A story played in the app through Pilot: enter runs to each beat, backspace goes back, pause: true stops a run."""

from __future__ import annotations

from uihelpers import HERE, run, settle, wait_for

from swaptui.scenario import load_scenario
from swaptui.ui.app import SwapApp
from swaptui.ui.help import help_text
from swaptui.ui.panes.base import Pane
from swaptui.ui.panes.counters import CounterList

STORY = HERE / "small-story.yaml"


def header_text(app) -> str:
    return "\n".join(line.plain for line in app.query_one("#header")._lines)


def beat_of(app):
    beats = app.frame.snapshot.beats
    return beats[-1] if beats else None


def highlighted(app) -> list[str]:
    return [p.info.id for p in app.query(Pane) if p.has_class("-beat")]


def test_enter_plays_the_story_beat_by_beat() -> None:
    scenario = load_scenario(STORY)

    async def go():
        app = SwapApp(scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            assert "1/6  usemem starts." in header_text(app)  # at: 0s has fired at tick 0
            shown = [beat_of(app).tick]
            for k in range(1, 6):
                await pilot.press("enter")
                await settle(app, pilot)
                beat = beat_of(app)
                assert beat.index == k and app.frame.tick == beat.tick and not app.running
                assert f"{k + 1}/6  {beat.text}" in header_text(app)
                spec = scenario.beats[k]
                assert highlighted(app) == ([spec.pane] if spec.pane else [])
                assert app.query_one(CounterList).beat_counter == spec.counter
                shown.append(beat.tick)
            assert shown == sorted(set(shown))
            assert "kswapd wakes with" in scenario.beats[1].text and "{" not in beat_of(app).text
            await pilot.press("enter")  # past the last beat: a notice, nothing moves
            await settle(app, pilot)
            assert app.frame.tick == shown[-1]
            await pilot.press("backspace")
            await settle(app, pilot)
            assert app.frame.tick == shown[-2] and beat_of(app).index == 4
            assert highlighted(app) == ["tasks"]
            await pilot.press("backspace", "backspace")
            await settle(app, pilot)
            assert app.frame.tick == shown[2] and "3/6  Direct reclaim: allocstall_movable" in header_text(app)
            assert app.query_one(CounterList).beat_counter == "allocstall_movable"
            await pilot.press("enter")  # the next beat fired already: a seek forward to its tick
            await settle(app, pilot)
            assert app.frame.tick == shown[3]

    run(go())


def test_a_run_pauses_where_a_pause_beat_fires() -> None:
    scenario = load_scenario(STORY)

    async def go():
        app = SwapApp(scenario, speed=4096)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("space")
            await wait_for(lambda: app.frame is not None and app.frame.tick > 0, pilot)
            await wait_for(lambda: not app.running, pilot, timeout=60)
            await settle(app, pilot)
            beat = beat_of(app)
            assert beat.index == 2 and beat.pause and app.frame.tick == beat.tick  # stopped on the beat's tick
            assert "3/6  Direct reclaim" in header_text(app) and "paused" in header_text(app)
            await pilot.press("space")  # runs on, past beat 4 (no pause), to beat 5 (pause)
            # (the run may reach beat 5 between two polls, so wait for the tick to move, not for "running")
            await wait_for(lambda: app.frame.tick > beat.tick, pilot)
            await wait_for(lambda: not app.running, pilot, timeout=60)
            await settle(app, pilot)
            assert beat_of(app).index == 4 and app.frame.tick == beat_of(app).tick

    run(go())


def test_help_lists_the_story_keys() -> None:
    text = help_text().plain
    assert "Story" in text and "enter" in text and "backspace" in text and "next beat" in text


def test_a_run_pauses_on_a_scripted_pause_event(tmp_path) -> None:
    """`events: [{at: T, do: pause}]` stops a run on the tick the event ran (it was logged but ignored)."""
    text = (HERE / "small-zram.yaml").read_text()
    assert "events:" not in text
    path = tmp_path / "pause.yaml"
    path.write_text(text + "events:\n  - {at: 40ms, do: pause}\n")
    scenario = load_scenario(path)

    async def go():
        app = SwapApp(scenario, speed=4096)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("space")
            await wait_for(lambda: app.frame is not None and app.frame.tick > 0, pilot)
            await wait_for(lambda: not app.running, pilot, timeout=60)
            await settle(app, pilot)
            assert app.frame.tick == 41  # the step of tick 40 (t = 40 ms) ran the event
            await pilot.press("space")  # runs on past it
            await wait_for(lambda: app.frame.tick > 60, pilot, timeout=60)

    run(go())
