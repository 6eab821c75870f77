"""Side by side (`swaptui FILE --designs A,B` / `--set KEY=A,B`): machines in lockstep, in the app and headless."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from clihelpers import swaptui
from uihelpers import SMALL, run, screen_text, settle

from swaptui.compare import collect, run_designs
from swaptui.lockstep import Lineup, LockstepPlayer, read_options
from swaptui.model.vmstat import NAMES
from swaptui.player import DEFAULT_CHECKPOINT_BUDGET, Player
from swaptui.scenario import load_scenario
from swaptui.ui.app import SwapApp
from swaptui.ui.panes.base import Pane

DATA = yaml.safe_load(SMALL.read_text())
# compare's metrics that are plain /proc/vmstat counters: the app's counters pane must show the same numbers.
SAME_AS_COUNTERS = {
    "pswpout": "pswpout",
    "pswpin": "pswpin",
    "pgsteal_kswapd": "pgsteal_kswapd",
    "pgsteal_direct": "pgsteal_direct",
    "allocstall": "allocstall_movable",
    "swap_ra": "swap_ra",
    "zswpout": "zswpout",
    "swpout_zero": "swpout_zero",
    "pgmigrate_success": "pgmigrate_success",
}


def lineup(designs: str | None = "classic,vswap", *sets: str) -> Lineup:
    return read_options(DATA, designs, list(sets))


def counter(snapshot, name: str) -> int:
    return int(snapshot.counters[NAMES.index(name)])


# -- the variants -----------------------------------------------------------------------------------------


def test_designs_is_short_for_set_swap_design() -> None:
    a, b = lineup("classic,vswap"), lineup(None, "swap.design=classic,vswap")
    assert [v.name for v in a.variants] == [v.name for v in b.variants] == ["classic", "vswap"]
    assert a.key == b.key == "swap.design"
    assert [v.scenario.swap.design for v in a.variants] == ["classic", "vswap"]
    assert len({v.scenario.seed for v in a.variants}) == 1


def test_a_set_of_one_value_applies_to_every_variant_and_dotted_keys_resolve_by_the_schema() -> None:
    up = lineup("swap_table,vswap", "machine.swappiness=100")
    assert [v.scenario.machine.swappiness for v in up.variants] == [100, 100]
    up = lineup(None, "machine.swappiness=10,100")  # any key, not just the design
    assert up.key == "machine.swappiness" and [v.name for v in up.variants] == ["10", "100"]


def test_the_players_share_one_checkpoint_budget_and_checkpoint_the_same_ticks() -> None:
    up = lineup("classic,swap_table,vswap")
    player = LockstepPlayer(up.variants, checkpoint_every=20, max_checkpoints=5)
    assert all(p.checkpoint_budget == DEFAULT_CHECKPOINT_BUDGET // 3 for p in player.players)
    player.step(400)
    keys = [sorted(p.checkpoints) for p in player.players]
    assert keys[0] == keys[1] == keys[2] and len(keys[0]) == 5
    assert sorted(player.checkpoints) == keys[0]
    assert player.checkpoint_bytes <= DEFAULT_CHECKPOINT_BUDGET


def test_lockstep_machines_match_compare_and_survive_a_rewind() -> None:
    """The app's machines (the lockstep player, stepped one tick at a time, rewound and replayed) report
    exactly what headless `compare` reports for the same scenario and designs."""
    ticks = 400
    up = lineup("classic,vswap")
    player = LockstepPlayer(up.variants, checkpoint_every=50)
    player.step(ticks - 30)
    player.go_to(120)  # back: restore a checkpoint and replay
    player.step(ticks - 120)
    assert player.tick == ticks
    expected = run_designs(load_scenario(SMALL), ["classic", "vswap"], ticks)
    for name, machine in zip(player.names, player.machines):
        assert collect(machine) == expected[name], name
    # and they differ where the designs differ (else the test would prove nothing)
    assert expected["classic"]["lookups_by_kind"] != expected["vswap"]["lookups_by_kind"]


# -- the command line --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (
            ["--designs", "classic,foo"],
            "swaptui: --designs foo: swap.design: expected one of: classic, swap_table, vswap",
        ),
        (["--designs", "vswap"], "--designs vswap: expected 2 or 3 different designs"),
        (["--designs", "classic,classic"], "--designs classic,classic: a value is given twice"),
        (
            ["--designs", "classic,swap_table,vswap", "--set", "machine.swappiness=10,20"],
            "side by side runs 2 or 3 machines; these values make 6",
        ),
        (["--set", "machine.swapiness=10,20"], "unknown key 'swapiness' in machine; did you mean 'swappiness'?"),
        (["--set", "swap.design"], "--set swap.design: expected KEY=VALUE[,VALUE...]"),
        (["--designs", "classic,vswap", "--set", "swap.design=vswap"], "--designs: is short for --set swap.design"),
        (["--set", "tick=1ms,2ms"], "side by side steps every machine one tick at a time"),
        (["--set", "machine.swappiness=10,20", "--set", "machine.swappiness=30"], "expected each key once"),
    ],
)
def test_bad_side_by_side_options_are_one_line_and_exit_2(args: list[str], expect: str) -> None:
    r = swaptui(str(SMALL), *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and expect in r.stderr, r.stderr


def test_good_side_by_side_options_get_as_far_as_needing_a_terminal() -> None:
    r = swaptui(str(SMALL), "--designs", "classic,vswap")
    assert r.returncode == 2 and "the app needs a terminal" in r.stderr


# -- the app -----------------------------------------------------------------------------------------------


def test_the_app_runs_both_designs_in_lockstep(tmp_path: Path) -> None:
    up = lineup("classic,vswap")
    expected = run_designs(load_scenario(SMALL), ["classic", "vswap"], 200)

    async def go():
        app = SwapApp(up.scenario, lineup=up, screenshot_dir=str(tmp_path))
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot, timeout=180)
            header = screen_text(app).splitlines()[0]
            assert "classic" in header and "vswap" in header and "swap.design" in header
            await pilot.press("N", "N")
            await settle(app, pilot, timeout=180)
            frame = app.frame
            assert frame.tick == 200 and [v.snapshot.tick for v in frame.variants] == [200, 200]
            assert [v.snapshot.design for v in frame.variants] == ["classic", "vswap"]
            # the app's counters are compare's, machine by machine
            for v in frame.variants:
                for metric, name in SAME_AS_COUNTERS.items():
                    assert counter(v.snapshot, name) == expected[v.name][metric], (v.name, name)
            a, b = (v.snapshot.counters for v in frame.variants)
            assert not np.array_equal(a, b)  # the designs differ, and so do their counters
            text = screen_text(app)
            # the counters pane: a column per machine and a Δ column, with the numbers in them
            assert "classic" in text and "Δvswap" in text
            pswpout = [counter(v.snapshot, "pswpout") for v in frame.variants]
            row = next(
                line.split("│")[-2]
                for line in text.splitlines()
                if line.count("│") >= 2 and " pswpout " in line.split("│")[-2]
            )
            assert f"{pswpout[0]:,}" in row and f"{pswpout[1]:,}" in row
            if pswpout[1] != pswpout[0]:
                assert f"{pswpout[1] - pswpout[0]:+,}" in row
            # a one-machine pane names its machine, and v switches it
            xarray = app.query_one("#xarray", Pane)
            assert "classic" in xarray.border_title and "vswap" not in xarray.border_title
            assert "Δ vswap−classic" in text
            await pilot.press("v")
            await settle(app, pilot, timeout=180)
            assert "vswap" in xarray.border_title and xarray.frame.snapshot.design == "vswap"
            assert "Δ classic−vswap" in screen_text(app)
            # stepping back moves both, to the same tick, to the same counters as before
            await pilot.press("b")
            await settle(app, pilot, timeout=180)
            assert [v.snapshot.tick for v in app.frame.variants] == [199, 199]
            await pilot.press("n")
            await settle(app, pilot, timeout=180)
            assert all(
                np.array_equal(v.snapshot.counters, w.snapshot.counters)
                for v, w in zip(app.frame.variants, frame.variants)
            )
            # the event log names each event's machine
            events = app.query_one("#events", Pane)
            lines = [s for s in screen_text(app).splitlines() if "s classic " in s or "s vswap " in s]
            assert lines, "no tagged events on screen"
            assert "tagged by machine" in events.border_title
            # going to a tick and restarting move both
            await pilot.press("r")
            await settle(app, pilot, timeout=180)
            assert [v.snapshot.tick for v in app.frame.variants] == [0, 0]
            await pilot.press("g", *"50", "enter")
            await settle(app, pilot, timeout=180)
            assert [v.snapshot.tick for v in app.frame.variants] == [50, 50]
            await pilot.press("s")
            await settle(app, pilot, timeout=180)
            await pilot.pause(0.5)

    run(go())
    assert list(tmp_path.glob("*.svg"))


def test_v_on_one_machine_says_how_to_get_two(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot, timeout=180)
            await pilot.press("v")
            await pilot.pause(0.2)
            assert app.variant == 0 and app.frame.variants == ()
            assert any("--designs" in str(n.message) for n in app._notifications)

    run(go())


def test_a_single_player_has_the_budget_unshared() -> None:
    assert Player(load_scenario(SMALL)).checkpoint_budget == DEFAULT_CHECKPOINT_BUDGET


def test_merged_events_and_delta_rows_come_from_each_machine() -> None:
    from swaptui.ui.lockstep import delta_rows, format_delta, merged_events
    from swaptui.ui.metrics import HistoryRing
    from swaptui.ui.stepper import Frame, VariantView

    player = LockstepPlayer(lineup("classic,vswap").variants)
    player.step(300)
    snaps = player.snapshots()
    history = HistoryRing().view(8, upto=300)
    views = tuple(VariantView(n, s, history) for n, s in zip(player.names, snaps))
    frame = Frame(snaps[0], history, player.last_tick, False, 0.0, 1, variants=views, key="swap.design")
    merged = merged_events(frame)
    assert {i for i, _ in merged} == {0, 1}
    assert [e.time_ns for _, e in merged] == sorted(e.time_ns for _, e in merged)
    ones = [e for i, e in merged if i == 1]  # machine 1's events, in its own order, the newest of them
    assert ones == list(snaps[1].events[-len(ones) :])
    (row,) = delta_rows(frame, "watermarks", 200)
    d = counter(snaps[1], "pgsteal_direct") - counter(snaps[0], "pgsteal_direct")
    assert row.plain.startswith("Δ vswap−classic:") and f"direct {format_delta(d, '')}" in row.plain
    (row,) = delta_rows(frame.of(1), "watermarks", 200)
    assert row.plain.startswith("Δ classic−vswap:") and f"direct {format_delta(-d, '')}" in row.plain
    assert format_delta(0, "pages") == "±0" and format_delta(-256, "pages") == "−1.00 MiB"
    assert format_delta(1_500_000_000, "ns") == "+1.500 s"
