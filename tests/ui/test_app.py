"""The app driven by keys and the mouse through Pilot, on a small scenario."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from uihelpers import ROOT, SMALL, run, screen_text, settle, wait_for

from swaptui.model.swapfile import CLUSTER_FLAG_NAMES
from swaptui.ui.actions import ACTIONS
from swaptui.ui.app import SwapApp
from swaptui.ui.dialogs import GoToScreen, parse_tick
from swaptui.ui.help import HelpScreen
from swaptui.ui.inspector import Inspector
from swaptui.ui.panes import PANES
from swaptui.ui.panes.base import Pane
from swaptui.ui.panes.clusters import ClusterView
from swaptui.ui.panes.counters import CounterList
from swaptui.ui.panes.memory_map import MapView
from swaptui.ui.stepper import DEFAULT_SPEED


def text_of(widget) -> str:
    """What a text widget shows, as plain text."""
    return "\n".join(line.plain for line in widget._lines)


def test_starts_paused_at_tick_zero_and_n_steps_one_tick(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            assert app.frame.tick == 0 and not app.running
            assert "paused" in text_of(app.query_one("#header"))
            await pilot.press("n")
            await settle(app, pilot)
            assert app.frame.tick == 1
            await pilot.press("right")
            await settle(app, pilot)
            assert app.frame.tick == 2
            await pilot.press("N")
            await settle(app, pilot)
            assert app.frame.tick == 102
            assert "tick 102/2,000" in text_of(app.query_one("#header"))

    run(go())


def test_b_steps_back_to_the_same_counters(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("N")
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            at_100 = app.frame  # tick 100 was shown on the way, tick 101 now
            await pilot.press("n")
            await settle(app, pilot)
            seen = app.frame
            assert seen.tick == 102
            await pilot.press("b", "left")
            await settle(app, pilot)
            assert app.frame.tick == 100
            await pilot.press("n", "n")
            await settle(app, pilot)
            assert app.frame.tick == 102
            assert (app.frame.snapshot.counters == seen.snapshot.counters).all()
            assert (app.frame.snapshot.frame_state == seen.snapshot.frame_state).all()
            app.stepper._cache.clear()  # now a real replay from a checkpoint
            await pilot.press("b")
            await settle(app, pilot)
            assert app.frame.tick == 101
            assert (app.frame.snapshot.counters == at_100.snapshot.counters).all()

    run(go())


def test_space_runs_then_pauses_and_speed_keys_double_and_halve(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            assert app.speed == DEFAULT_SPEED
            await pilot.press("plus", "plus")
            assert app.speed == DEFAULT_SPEED * 4
            await pilot.press("minus")
            assert app.speed == DEFAULT_SPEED * 2
            await pilot.press("space")
            assert app.running
            await wait_for(lambda: app.frame.tick > 5, pilot)
            assert "running" in text_of(app.query_one("#header"))
            await pilot.press("space")
            assert not app.running
            await settle(app, pilot)
            stopped = app.frame.tick
            await pilot.pause(0.3)
            assert app.frame.tick == stopped and app.stepper.player.tick == stopped
            for _ in range(20):
                await pilot.press("minus")
            assert app.speed == 1

    run(go())


def test_g_goes_to_a_tick_or_a_time_and_r_restarts(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("g")
            assert isinstance(app.screen, GoToScreen)
            await pilot.press(*"250", "enter")
            await settle(app, pilot)
            assert app.frame.tick == 250
            await pilot.press("g", *"0.1s", "enter")
            await settle(app, pilot)
            assert app.frame.tick == 100
            await pilot.press("g", *"abc", "enter")
            assert isinstance(app.screen, GoToScreen)  # a bad entry keeps the dialog open
            await pilot.press("escape")
            assert not isinstance(app.screen, GoToScreen)
            await pilot.press("r")
            await settle(app, pilot)
            assert app.frame.tick == 0

    run(go())


def test_parse_tick() -> None:
    assert parse_tick("1,500", 1_000_000, 20_000) == 1500
    assert parse_tick("1.5s", 1_000_000, 20_000) == 1500
    with pytest.raises(ValueError):
        parse_tick("30000", 1_000_000, 20_000)
    with pytest.raises(ValueError):
        parse_tick("soon", 1_000_000, 20_000)


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_number_keys_focus_and_maximise_each_pane(small_scenario, size) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            for p in PANES:
                await pilot.press(str(p.number))
                pane = app.query_one(f"#{p.id}", Pane)
                assert app.screen.maximized is pane
                assert app.focused is not None and pane in app.focused.ancestors_with_self
                assert pane.region.width >= size[0] - 2
                await pilot.press(str(p.number))
                assert app.screen.maximized is None
            await pilot.press("4", "escape")
            assert app.screen.maximized is None

    run(go())


def test_help_lists_every_action_and_closes(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shown = str(app.screen.query_one("#help-text").render())
            for a in ACTIONS:
                assert a.description in shown, a.description
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    run(go())


def test_help_scrolls_with_the_keys_at_once(small_scenario) -> None:
    """No Tab first: ↓ and pgdn scroll the help as soon as it opens, home goes back to the top."""

    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            scroll = app.screen.query_one("#help")
            assert app.focused is scroll and scroll.max_scroll_y > 0 and scroll.scroll_y == 0
            await pilot.press("down")
            await wait_for(lambda: scroll.scroll_y == 1, pilot)
            await pilot.press("pagedown")
            await wait_for(lambda: scroll.scroll_y > 10, pilot)
            await pilot.press("home")
            await wait_for(lambda: scroll.scroll_y == 0, pilot)

    run(go())


def test_nothing_is_cut_at_160x48(small_scenario) -> None:
    """The fragmentation score, the cluster legend and the task's swapped pages fit their panes whole at 160x48."""

    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("N")
            await settle(app, pilot)
            screen = screen_text(app)
            assert "…" not in screen and "(% of" not in screen
            assert "◌ isolated  ▲ cached ─╯" in screen  # the legend's last entry, whole, in the bottom border
            verdict = r"(✓ at or below low|◐ between the marks|▲ above high: compacts)"
            assert re.search(rf"│ score +\d+% · marks \d+/\d+ {verdict} *│", screen), screen
            assert re.search(r"│ [\d.]+ [KMG]iB resident · [\d.]+ [KMG]iB swapped +│", screen), screen
            assert re.search(r"│ pageblk +█ \d+ unmov  ▒ \d+ reclaim  ░ \d+ movable *│", screen), screen
            assert "█ resident ▒ swapped · untouched" in screen

    run(go())


def test_palette_lists_each_command_once(small_scenario) -> None:
    """Textual's own quit, keys and screenshot are not listed beside ours: each command once, in our words."""

    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.pause(0.5)
            listed = app.screen.query_one(CommandList)
            titles = [str(listed.get_option_at_index(i).hit.text) for i in range(listed.option_count)]
            assert len(titles) > 10
            assert len(titles) == len(set(titles)), titles
            for word in ("quit", "help", "screenshot"):
                named = [t for t in titles if word in t.lower()]
                assert len(named) == 1, (word, named)
            assert "Keys" not in titles and "Theme" in titles  # Textual's theme picker has no twin of ours

    run(go())


def test_palette_offers_every_app_action(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for a in ACTIONS:
                if a.scope == "app" and a.palette and a.action != "command_palette":
                    assert any(a.description in t for t in titles), a.description
            await pilot.press("ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.pause(0.3)  # the palette lists every command (a bad title would fail here)
            await pilot.press(*"100 ticks forward")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.frame.tick == 100 and not isinstance(app.screen, CommandPalette)

    run(go())


def test_clicking_a_cluster_opens_the_inspector(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario, start_tick=150)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            inspector = app.query_one(Inspector)
            assert not inspector.display
            view = app.query_one(ClusterView)
            await pilot.click(ClusterView, offset=(0, 0))
            await pilot.pause()
            assert inspector.display and inspector.selection == ("cluster", (0, 1))
            text = text_of(inspector.query_one("#inspector-body"))
            assert "Cluster 0" in text and "/512" in text
            assert any(name in text for name in CLUSTER_FLAG_NAMES)
            await pilot.press("right")  # the cursor moves and the inspector follows
            await pilot.pause()
            assert inspector.selection == ("cluster", (1, 2)) and view.cursor == 1
            await pilot.press("escape")
            assert not inspector.display

    run(go())


def test_a_counter_opens_the_inspector_with_its_help(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario, start_tick=150)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("7")
            assert isinstance(app.focused, CounterList)
            lst = app.query_one(CounterList)
            await pilot.press("down", "enter")
            inspector = app.query_one(Inspector)
            assert inspector.display and inspector.selection == ("counter", lst.names[1])
            text = text_of(inspector.query_one("#inspector-body"))
            assert lst.names[1] in text and "value" in text
            await pilot.press("slash", *"pswp")
            assert lst.names == ["pswpin", "pswpout"]

    run(go())


def test_memory_map_cell_inspector_zoom_and_dense(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario, start_tick=100)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            view = app.query_one(MapView)
            fpc, cols = view.frames_per_cell, view.cols
            await pilot.click(MapView, offset=(2, 1))
            await pilot.pause()
            kind, (lo, hi) = app.query_one(Inspector).selection
            assert kind == "frame" and hi - lo == fpc and lo == (cols + 2) * fpc
            text = text_of(app.query_one(Inspector).query_one("#inspector-body"))
            assert f"Frames {lo:,}" in text and "%" in text
            await pilot.press("escape")  # close the inspector: the map gets its width back
            await pilot.pause()
            assert view.frames_per_cell == fpc
            await pilot.press("right_square_bracket")
            assert view.zoom == 1 and view.frames_per_cell < fpc
            await pilot.press("left_square_bracket", "d")
            assert view.dense and view.frames_per_cell <= fpc

    run(go())


def test_themes_cycle_and_apply(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario, theme="projector")
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            assert app.theme == "swaptui-projector" and app.has_class("-projector")
            seen = {app.theme}
            for _ in range(4):
                await pilot.press("t")
                seen.add(app.theme)
            assert seen == {"swaptui-dark", "swaptui-light", "swaptui-projector", "swaptui-colourblind"}
            assert app.theme == "swaptui-projector"

    run(go())


def test_s_saves_a_screenshot(small_scenario, tmp_path: Path) -> None:
    async def go():
        app = SwapApp(small_scenario, screenshot_dir=str(tmp_path))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("s")
            await wait_for(lambda: len(list(tmp_path.glob("*.svg"))) == 1, pilot)
        files = list(tmp_path.glob("*.svg"))
        assert len(files) == 1 and files[0].name == "swaptui-small-usemem-on-zram-tick0-dark-1.svg"
        assert "<svg" in files[0].read_text()

    run(go())


def test_screenshots_of_one_tick_in_two_themes_keep_both(small_scenario, tmp_path: Path) -> None:
    """s, t, s at one tick: two files (tick, theme and a count in the name); a file already there is kept."""

    async def go():
        (tmp_path / "swaptui-small-usemem-on-zram-tick0-light-2.svg").write_text("an older one")
        app = SwapApp(small_scenario, screenshot_dir=str(tmp_path))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("s", "t", "s")
            await wait_for(lambda: len(list(tmp_path.glob("*.svg"))) == 3, pilot)
            await pilot.press("t", "t", "t", "s")  # back to dark
            await wait_for(lambda: len(list(tmp_path.glob("*.svg"))) == 4, pilot)
        names = sorted(f.name for f in tmp_path.glob("*.svg"))
        assert names == [
            "swaptui-small-usemem-on-zram-tick0-dark-1.svg",
            "swaptui-small-usemem-on-zram-tick0-dark-4.svg",
            "swaptui-small-usemem-on-zram-tick0-light-2.svg",
            "swaptui-small-usemem-on-zram-tick0-light-3.svg",
        ]
        assert (tmp_path / "swaptui-small-usemem-on-zram-tick0-light-2.svg").read_text() == "an older one"
        assert all("<svg" in (tmp_path / n).read_text() for n in names if n != names[2])

    run(go())


def test_q_quits(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("q")
            await pilot.pause()
            assert app.return_code == 0
        assert app.stepper._stop.is_set()

    run(go())


def test_tab_strip_switches_panes_in_small_terminals(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.layout_mode == "medium"
            assert app.query_one("#memory").display and not app.query_one("#clusters").region.area
            await pilot.click("#tabs", offset=(25, 0))  # "3 clusters"
            await pilot.pause()
            assert app.current_pane == 3 and app.query_one("#clusters").region.area
            await pilot.resize_terminal(160, 48)
            await pilot.pause()
            assert app.layout_mode == "wide"
            assert all(app.query_one(f"#{p.id}").region.area for p in PANES)

    run(go())


def test_a_bad_scenario_opens_no_app_and_prints_what_check_prints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("cpus: 2", "cpuz: 2"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    opened = subprocess.run(
        [sys.executable, "-m", "swaptui", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    checked = subprocess.run(
        [sys.executable, "-m", "swaptui", "check", str(bad)], capture_output=True, text=True, timeout=60, env=env
    )
    assert opened.returncode == checked.returncode == 2
    assert opened.stderr == checked.stderr and "machine.cpuz" in opened.stderr
    assert opened.stdout == ""


def test_the_header_names_an_emulated_cpu_profile(small_scenario) -> None:
    """A scenario on the qemu-tcg profile says so in the header; a native one does not clutter it."""

    async def go(scenario, expect: bool):
        app = SwapApp(scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            assert ("cpu qemu-tcg" in text_of(app.query_one("#header"))) is expect

    run(go(small_scenario, False))
    tcg = small_scenario.machine.model_copy(update={"cpu": "qemu-tcg"})
    run(go(small_scenario.model_copy(update={"machine": tcg}), True))
