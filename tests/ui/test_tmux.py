"""The app in a real terminal: tmux runs it, we type keys, read the screen back, resize, and quit."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from uihelpers import ROOT

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed; the real-terminal test needs it")
TICK = re.compile(r"tick ([\d,]+)/")


def tmux(*args: str) -> str:
    return subprocess.run([TMUX, *args], capture_output=True, text=True, check=True, timeout=20).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, predicate, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if predicate(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"screen never matched; last screen:\n{text}")


def tick_on(text: str) -> int | None:
    m = TICK.search(text)
    return int(m.group(1).replace(",", "")) if m else None


@contextlib.contextmanager
def app_in_tmux(tmp_path: Path, name: str, *args: str):
    """`swaptui ARGS` in a real 160x48 tmux window; yields (session, file its exit status is written to)."""
    session = f"swaptui-{name}-{os.getpid()}"
    done = tmp_path / "exit-status"
    # COLUMNS/LINES (set by some test runners) would override the real terminal size: unset them.
    command = (
        f"cd {shlex.quote(str(ROOT))} && env -u COLUMNS -u LINES {shlex.quote(sys.executable)} -m swaptui "
        f"{shlex.join(args)}; echo $? > {shlex.quote(str(done))}"
    )
    # Size the window first, then start the app in it, so the app's first look at the terminal sees 160x48.
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", "sleep 600")
    try:
        tmux("set-option", "-t", session, "window-size", "manual")
        tmux("resize-window", "-t", session, "-x", "160", "-y", "48")
        tmux("respawn-pane", "-k", "-t", session, command)
        yield session, done
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=20)


def quit_app(session: str, done: Path) -> None:
    """Press q and check the app exited with status 0."""
    tmux("send-keys", "-t", session, "q")
    deadline = time.monotonic() + 20
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done.exists() and done.read_text().strip() == "0"


def test_drive_the_app_in_tmux(tmp_path: Path) -> None:
    with app_in_tmux(tmp_path, "test", "scenarios/usemem-zram.yaml") as (session, done):
        first = wait_screen(session, lambda t: tick_on(t) == 0 and "paused" in t)
        assert "usemem on zram" in first and "Memory map" in first and "Swap clusters" in first
        tmux("send-keys", "-t", session, "n")
        wait_screen(session, lambda t: tick_on(t) == 1)
        tmux("send-keys", "-t", session, "Space")
        wait_screen(session, lambda t: "running" in t and (tick_on(t) or 0) > 5)
        tmux("send-keys", "-t", session, "Space")
        paused = wait_screen(session, lambda t: "paused" in t)
        time.sleep(0.5)
        paused = screen(session)
        stopped = tick_on(paused)
        assert stopped is not None and stopped > 5
        tmux("send-keys", "-t", session, "b")
        wait_screen(session, lambda t: tick_on(t) == stopped - 1)
        tmux("resize-window", "-t", session, "-x", "100", "-y", "30")
        # A capture can land mid-redraw (tab bar drawn, status line not yet): wait for the whole new frame,
        # tab bar and status line both, before reading its size and tick.
        small = wait_screen(session, lambda t: "1 memory" in t and "2 reclaim" in t and tick_on(t) is not None)
        lines = small.splitlines()
        assert len(lines) <= 30 and max(len(line) for line in lines) <= 100
        assert tmux("display-message", "-p", "-t", session, "#{window_width}x#{window_height}").strip() == "100x30"
        assert tick_on(small) == stopped - 1
        quit_app(session, done)


def test_two_designs_side_by_side_in_tmux(tmp_path: Path) -> None:
    """`swaptui FILE --designs classic,vswap` in a real 160x48 terminal: both named, stepping moves both."""
    with app_in_tmux(tmp_path, "sbs", "tests/ui/small-zram.yaml", "--designs", "classic,vswap") as (session, done):
        first = wait_screen(session, lambda t: tick_on(t) == 0 and "paused" in t)
        header = first.splitlines()[0]
        assert "swap.design" in header and "◆classic" in header and "vswap" in header
        assert "Δvswap" in first  # the counters' Δ column
        tmux("send-keys", "-t", session, "N", "N")
        stepped = wait_screen(session, lambda t: tick_on(t) == 200)
        # both machines moved: events from each, tagged, and each one-machine pane's Δ row
        assert re.search(r"s classic +[◆▲■✖○»]", stepped) and re.search(r"s vswap +[◆▲■✖○»]", stepped)
        assert "Δ vswap−classic" in stepped and "◆ classic" in stepped
        tmux("send-keys", "-t", session, "v")
        switched = wait_screen(session, lambda t: "Δ classic−vswap" in t and tick_on(t) is not None)
        assert "◆vswap" in switched.splitlines()[0] and tick_on(switched) == 200
        tmux("send-keys", "-t", session, "b")
        wait_screen(session, lambda t: tick_on(t) == 199)
        quit_app(session, done)
