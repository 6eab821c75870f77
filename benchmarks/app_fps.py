"""Frame rate of the live app with every pane live, headless at 160x48, for a 1 GiB and a 16 GiB scenario.

Prints, per scenario: time to the app's first paint and to its first model frame (the machine is
built in the stepper thread, so the first paint does not wait for it); then, running at top speed
from a tick in the reclaim phase, frames per second and ms per frame (the model's steps included:
the stepper and the UI share one process and one GIL), ticks per second achieved, and how long a
key takes to be handled and shown. Headless means Textual composes every frame but writes no
escape codes; a real terminal adds the cost of writing them.

    python benchmarks/app_fps.py [--seconds 8] [--only 1g|16g]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swaptui.scenario import load_scenario  # noqa: E402
from swaptui.ui.app import SwapApp  # noqa: E402
from swaptui.ui.stepper import MAX_SPEED  # noqa: E402

# (scenario, a tick inside its reclaim phase: kswapd and direct reclaim busy, clusters filling)
SCENARIOS = {
    "1g": (ROOT / "scenarios" / "usemem-zram.yaml", 300),
    "16g": (ROOT / "benchmarks" / "usemem-zram-16g.yaml", 3600),
}


async def first_frame(path: Path, size: tuple[int, int] = (160, 48)) -> tuple[float, float]:
    """Seconds from launch to the app's first paint, and to its first frame of the model (tick 0)."""
    scenario = load_scenario(path)
    launched = time.perf_counter()
    app = SwapApp(scenario)
    async with app.run_test(size=size) as pilot:
        painted = time.perf_counter() - launched
        while app.first_frame_at is None:
            await asyncio.sleep(0.005)
        shown = app.first_frame_at - launched
        await pilot.press("q")
    return painted, shown


async def measure(path: Path, start: int, seconds: float, size: tuple[int, int] = (160, 48)) -> dict[str, float]:
    """Run the app flat out from a tick in the reclaim phase and return its figures."""
    figures: dict[str, float] = {}
    figures["first_paint_s"], figures["first_frame_s"] = await first_frame(path, size)
    app = SwapApp(load_scenario(path), speed=MAX_SPEED, start_tick=start)
    async with app.run_test(size=size) as pilot:
        while app.frame is None or app.frame.tick < start:
            await asyncio.sleep(0.02)
        await pilot.pause(0.2)
        await pilot.press("space")
        await asyncio.sleep(1.0)  # warm up: caches, first layouts
        frames0, tick0, t0 = app.frames_shown, app.frame.tick, time.perf_counter()
        while time.perf_counter() - t0 < seconds and not app.frame.at_end:  # the end of the run stops the clock
            await asyncio.sleep(0.01)
        frames, ticks, wall = app.frames_shown - frames0, app.frame.tick - tick0, time.perf_counter() - t0
        figures["seconds"] = wall
        stepper = app.stepper
        figures["ui_ms"] = stepper._ui_time * 1000  # moving averages kept by the stepper
        figures["snapshot_ms"] = stepper._snapshot_time * 1000
        figures["step_ms"] = stepper.step_budget() * 1000
        figures["fps"] = frames / wall
        figures["ms_per_frame"] = wall / max(1, frames) * 1000
        figures["ticks_per_s"] = ticks / wall
        figures["tick_reached"] = app.frame.tick
        if app.frame.at_end:  # measure keys while running, not at the end
            await pilot.press("g", *str(start), "enter", "space")
            await asyncio.sleep(0.5)
        # Key latency while running flat out: from posting the key to the action, and to the next refresh.
        handled: list[float] = []
        shown: list[float] = []
        for key in ("minus", "plus") * 5:
            before = app.speed
            sent = time.perf_counter()
            app.simulate_key(key)
            while app.speed == before:
                await asyncio.sleep(0.0005)
            handled.append(time.perf_counter() - sent)
            done = asyncio.Event()
            app.call_after_refresh(done.set)
            await done.wait()
            shown.append(time.perf_counter() - sent)
            await asyncio.sleep(0.1)
        figures["key_handled_ms"] = statistics.median(handled) * 1000
        figures["key_handled_max_ms"] = max(handled) * 1000
        figures["key_shown_ms"] = statistics.median(shown) * 1000
        figures["key_shown_max_ms"] = max(shown) * 1000
        await pilot.press("q")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="how long to run flat out per scenario")
    parser.add_argument("--only", choices=tuple(SCENARIOS), help="one scenario only")
    args = parser.parse_args()
    print(
        f"{'scenario':<8} {'paint':>7} {'1st frame':>9} {'fps':>6} {'ms/frame':>9} {'ticks/s':>8} "
        f"{'key→action':>11} {'key→screen':>11}"
    )
    for name, (path, start) in SCENARIOS.items():
        if args.only and name != args.only:
            continue
        f = asyncio.run(measure(path, start, args.seconds))
        print(
            f"{name:<8} {f['first_paint_s']:>6.2f}s {f['first_frame_s']:>8.2f}s {f['fps']:>6.1f} "
            f"{f['ms_per_frame']:>8.1f}  {f['ticks_per_s']:>7.0f} "
            f"{f['key_handled_ms']:>5.1f} ({f['key_handled_max_ms']:.0f}) {f['key_shown_ms']:>5.1f} ({f['key_shown_max_ms']:.0f})"
            f"   per frame: UI {f['ui_ms']:.1f} ms, snapshot {f['snapshot_ms']:.1f} ms, stepping ≤ {f['step_ms']:.1f} ms"
        )
    print("fps, ms/frame, ticks/s: running at top speed from a tick in the reclaim phase (1g: 300, 16g: 3600)")
    print("key columns: median ms (max ms) over 10 presses of - and + while running at top speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
