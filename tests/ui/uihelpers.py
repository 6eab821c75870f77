"""Helpers for the app's tests: scenario paths and waiting until the stepper and the screen are settled."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SMALL = HERE / "small-zram.yaml"
SCENARIOS = ROOT / "scenarios"


async def settle(app, pilot, timeout: float = 60.0) -> None:
    """Wait until the stepper has nothing left to do and the app shows its last frame."""
    deadline = time.monotonic() + timeout
    stepper = app.stepper
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        if (
            stepper.player is not None
            and stepper.idle.is_set()
            and not stepper._commands
            and app.frame is not None
            and app.frame.seq == stepper._seq
        ):
            await pilot.pause()
            return
        if stepper.error is not None:
            raise stepper.error
    raise AssertionError(
        f"the stepper did not settle within {timeout} s (tick "
        f"{app.frame.tick if app.frame else None}, target {stepper.target})"
    )


async def wait_for(predicate, pilot, timeout: float = 20.0) -> None:
    """Wait until predicate() is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached in time")


def run(coro):
    """Run a coroutine to completion (the tests are plain functions)."""
    return asyncio.run(coro)


def screen_text(app) -> str:
    """The whole screen as plain text, as a terminal of the app's size shows it (borders and their titles too)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
