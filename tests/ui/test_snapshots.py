"""Snapshot tests of the main screen: two scenarios, paused at tick 1500, at 80x24, 100x30 and 160x48.

Deterministic: the model is seeded, the app is paused (no achieved-rate figures), the header has no
clock, and nothing blinks. Update the baselines with `pytest tests/ui --snapshot-update` and look
at the SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

import pytest
from uihelpers import SCENARIOS, settle

from swaptui.scenario import load_scenario
from swaptui.ui.app import SwapApp

TICK = 1500


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["usemem-zram", "usemem-ssd"])
def test_main_screen(snap_compare, name: str, size: tuple[int, int]) -> None:
    app = SwapApp(load_scenario(SCENARIOS / f"{name}.yaml"), start_tick=TICK)

    async def run_before(pilot) -> None:
        await settle(app, pilot, timeout=180)
        assert app.frame.tick == TICK

    assert snap_compare(app, terminal_size=size, run_before=run_before)
