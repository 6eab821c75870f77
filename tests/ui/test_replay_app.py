"""The app over a recorded or live kernel, through Pilot: the same keys step and seek, model-only panes say so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from uihelpers import run, settle, wait_for

from swaptui.procfs import Sampler
from swaptui.trace_player import LivePlayer, load_trace_player
from swaptui.ui.app import SwapApp

TRACES = Path(__file__).resolve().parents[2] / "traces"  # the recorded kernel traces in this repository
needs_proc = pytest.mark.skipif(not os.access("/proc/vmstat", os.R_OK), reason="no Linux /proc/vmstat to sample")
NOT_EXPORTED = "not exported by the kernel"


def text_of(app, selector: str) -> str:
    """What a text widget shows, as plain text."""
    return "\n".join(line.plain for line in app.query_one(selector)._lines)


def app_for(player, **kw) -> SwapApp:
    return SwapApp(player.info, player_factory=lambda _: player, **kw)


@needs_proc
def test_a_live_recording_replays_and_steps_with_the_scenario_keys(tmp_path: Path) -> None:
    f = tmp_path / "rec.jsonl"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "swaptui",
            "live",
            "--headless",
            "--record",
            str(f),
            "--samples",
            "3",
            "--interval",
            "50ms",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    player = load_trace_player(f)

    async def go():
        app = app_for(player)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            header = text_of(app, "#header")
            assert app.frame.tick == 0 and "sample 0/2" in header and "paused" in header
            assert "recorded kernel" in header and "3 samples, 50 ms apart" in header
            await pilot.press("n")
            await settle(app, pilot)
            assert app.frame.tick == 1 and "sample 1/2" in text_of(app, "#header")
            await pilot.press("right")
            await settle(app, pilot)
            assert app.frame.tick == 2 and app.frame.at_end and "end of samples" in text_of(app, "#header")
            await pilot.press("b")
            await settle(app, pilot)
            assert app.frame.tick == 1 and "sample 1/2" in text_of(app, "#header")
            assert app.frame.snapshot.source == "trace"
            # Panes whose data the kernel does not export say so instead of drawing zeros.
            assert "per-frame state (the memory map): " + NOT_EXPORTED in text_of(app, "#memory-kernel")
            assert "512-slot clusters, their lists and occupancy: " + NOT_EXPORTED in text_of(app, "#clusters-kernel")
            xarray = text_of(app, "#xarray .pane-body")
            assert "height, nodes: " + NOT_EXPORTED in xarray and "depth: " + NOT_EXPORTED in xarray
            assert "state: " + NOT_EXPORTED in text_of(app, "#watermarks .pane-body")
            assert "not exported by the kernel" in text_of(app, "#caches .pane-body")
            assert app.query_one("#memory-kernel").region.area > 0

    run(go())


def test_recorded_trace_runs_seeks_and_shows_the_kernels_counters() -> None:
    player = load_trace_player(TRACES / "usemem_zram.jsonl")

    async def go():
        app = app_for(player, start_tick=300)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            s = app.frame.snapshot
            assert app.frame.tick == 300 and app.frame.last_tick == 539
            header = text_of(app, "#header")
            assert "usemem_zram" in header and "Linux 6.1.0-56-amd64" in header and "workload phase reread" in header
            assert "zones summed" in text_of(app, "#watermarks .pane-body")
            swap = text_of(app, "#clusters-kernel")
            assert "/dev/zram0 (zram" in swap and "ratio" in swap
            assert "zsmalloc" in text_of(app, "#memory-kernel")
            assert len(app.frame.history) == 301 and app.frame.history.rate("pswpin") is not None
            await pilot.press("N")  # 100 samples forward
            await settle(app, pilot)
            assert app.frame.tick == 400 and app.frame.snapshot.counter("pswpin") > s.counter("pswpin")
            await pilot.press("space")
            await wait_for(lambda: app.frame.tick >= 404, pilot)
            await pilot.press("space")
            await settle(app, pilot)
            assert not app.running and app.frame.tick >= 404
            await pilot.press("r")
            await settle(app, pilot)
            assert app.frame.tick == 0 and "sample 0/539" in text_of(app, "#header")
            counters = app.query_one("CounterList")
            shown = [counters._row_data(app.frame, y) for y in range(len(counters.names))]
            rows = {row[0]: row[1] for row in shown}
            assert rows["nr_kernel_misc"] is None and rows["swaptui_xa_lookups"] is None  # shown as "not exported"
            assert rows["nr_free_pages"] == app.frame.snapshot.nr_free

    run(go())


@needs_proc
def test_live_app_follows_new_samples_and_steps_back_over_them() -> None:
    player = LivePlayer(Sampler(), 100_000_000)

    async def go():
        app = app_for(player, running=True)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(lambda: app.frame is not None and app.frame.tick >= 3, pilot, timeout=30)
            assert app.running and not app.frame.at_end
            assert "● live kernel" in text_of(app, "#header") and app.frame.snapshot.source == "live"
            await wait_for(lambda: app.frame.tick >= 5, pilot, timeout=30)  # it keeps following new samples
            await pilot.press("b", "b")
            await settle(app, pilot)
            shown = app.frame.tick
            assert not app.running and shown >= 3
            await pilot.pause(0.5)  # sampling goes on while paused; the cursor stays
            assert app.frame.tick == shown and app.frame.last_tick > shown + 2
            assert "paused" in text_of(app, "#header") and NOT_EXPORTED in text_of(app, "#memory-kernel")

    start = time.monotonic()
    try:
        run(go())
    finally:
        player.close()
    assert time.monotonic() - start < 60 and player.finished


def test_panes_say_what_a_recording_lacks_and_model_frames_show_no_notice(tmp_path: Path, small_scenario) -> None:
    from swaptui.player import Player
    from swaptui.ui.metrics import History
    from swaptui.ui.panes.caches import CachesPane
    from swaptui.ui.panes.watermarks import WatermarksPane
    from swaptui.ui.panes.xarray import XArrayPane
    from swaptui.ui.stepper import Frame

    # A series without zoneinfo, PSI or a meta file (what `swaptui run --json` writes): no watermarks to show.
    f = tmp_path / "series.jsonl"
    f.write_text(
        "".join(
            f'{{"tick": {i}, "t_ns": {i * 10_000_000}, "vmstat": {{"nr_free_pages": {900 - i}, '
            f'"pgscan_kswapd": {i * 50}}}}}\n'
            for i in range(5)
        )
    )
    p = load_trace_player(f)
    assert p.info.tick == 10_000_000 and p.snapshot_at(4).time_ns == 40_000_000
    frame = Frame(p.snapshot_at(4), History(*p.history_arrays(upto=4)), 4, True, 0.0, 1)
    text = WatermarksPane.describe(WatermarksPane(), frame, 50, 14).plain
    assert "watermarks: not in this recording" in text and "level unknown" in text and "above high" not in text
    assert "state: " + NOT_EXPORTED in text and "no PSI recorded" in text and "▶ scanning" in text
    # The model's own frames: no notice anywhere.
    player = Player(small_scenario)
    player.step(5)
    model = Frame(player.snapshot(), History.empty(), player.last_tick, False, 0.0, 1)
    for cls in (WatermarksPane, CachesPane, XArrayPane):
        assert NOT_EXPORTED not in cls.describe(cls(), model, 50, 14).plain
