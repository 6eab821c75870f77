"""`swaptui serve` in a real browser: Debian's headless Chromium, driven by Playwright with the system browser
(no browser download). The page is loaded, the app's panes awaited on the terminal's screen buffer, keys
pressed (steps, run and pause), a screenshot taken and looked at (the panes' borders and titles are drawn
where the buffer says), a map cell clicked, and the window resized.

A missing browser fails the test (`apt-get install chromium`; .ci/run installs it)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from uihelpers import SMALL

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TICK = re.compile(r"tick ([\d,]+)/")
# textual-serve's page keeps its xterm.js Terminal in a local; the test's copy of the script also hands it
# to the page's window, so the test can read the screen buffer (what the terminal shows, cell by cell).
MAKE_TERMINAL = re.compile(r"const (\w+)=new (\w+)\((\w+),\{ping:(\w+)\}\);")
READ_SCREEN = """() => {
    const t = window.__swaptuiTerminal && window.__swaptuiTerminal.terminal;
    if (!t) return null;
    const rows = [];
    for (let i = 0; i < t.rows; i++) rows.push(t.buffer.active.getLine(i).translateToString(true));
    const screen = document.querySelector('.xterm-screen').getBoundingClientRect();
    return {rows, cols: t.cols, x: screen.x, y: screen.y, width: screen.width, height: screen.height};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """The processes whose parent is pid (the shells textual-serve starts, one per page)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def tick_of(rows: list[str]) -> int | None:
    m = TICK.search(rows[0]) if rows else None
    return int(m.group(1).replace(",", "")) if m else None


class Screen:
    """The page's terminal, read through its screen buffer."""

    def __init__(self, page) -> None:
        self.page = page
        self.last: dict | None = None

    def read(self) -> dict | None:
        self.last = self.page.evaluate(READ_SCREEN)
        return self.last

    def wait(self, predicate, what: str, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.read()
            if screen is not None and predicate(screen["rows"]):
                return screen
            time.sleep(0.1)
        shown = "\n".join(self.last["rows"]) if self.last else "(no terminal in the page)"
        raise AssertionError(f"the page never showed {what}; it showed:\n{shown}")


def find(rows: list[str], text: str) -> tuple[int, int]:
    """Row and column of text on the screen."""
    for y, row in enumerate(rows):
        if (x := row.find(text)) >= 0:
            return y, x
    raise AssertionError(f"{text!r} is not on the screen")


def pane_box(rows: list[str], title: str) -> tuple[int, int, int, int]:
    """The cells (top, left, bottom, right) of the pane whose border carries title: from its ╭ corner along
    the top border to ╮, and down the left border to ╰."""
    y, x = find(rows, title)
    left = rows[y].rfind("╭", 0, x)
    right = rows[y].find("╮", x)
    bottom = next(r for r in range(y + 1, len(rows)) if rows[r][left] == "╰")
    assert left >= 0 and right > x and rows[bottom][right] == "╯", f"no box around {title!r}"
    return y, left, bottom, right


@pytest.mark.slow
def test_the_served_app_in_headless_chromium(tmp_path: Path) -> None:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)"
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "swaptui", "serve", str(SMALL), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        start_new_session=True,  # its own process group, as a shell gives a command: ^C reaches the whole group
    )
    assert server.stdout is not None and server.stderr is not None
    out: list[str] = []
    started = threading.Event()

    def read_stdout() -> None:
        for line in server.stdout:
            out.append(line)
            started.set()
        started.set()

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    origin = f"http://127.0.0.1:{port}"
    try:
        assert started.wait(120) and out and out[0].startswith(f"serving {SMALL} at {origin} "), out
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"),  # a fresh user-data directory
                executable_path=CHROMIUM,
                headless=True,
                args=ARGS,
                viewport={"width": 1600, "height": 960},
            )
            try:
                page = browser.new_page()
                patched = []

                def route(route) -> None:
                    """Only this server is reached (the page also asks a web font service: refused); the
                    page's script is handed its terminal to the window."""
                    url = route.request.url
                    if not url.startswith(origin + "/"):
                        route.abort()
                    elif url.endswith("/textual.js"):
                        response = route.fetch()
                        body, count = MAKE_TERMINAL.subn(
                            r"const \1=new \2(\3,{ping:\4});window.__swaptuiTerminal=\1;", response.text()
                        )
                        patched.append(count)
                        route.fulfill(response=response, body=body)
                    else:
                        route.continue_()

                page.route("**/*", route)
                page.goto(origin + "/")
                screen = Screen(page)
                first = screen.wait(
                    lambda rows: tick_of(rows) == 0 and "paused" in rows[0] and "Swap clusters" in "\n".join(rows),
                    "the app's panes at tick 0, paused",
                    timeout=300,  # a cold start compiles the model's kernels
                )
                assert patched == [1], "textual-serve's textual.js changed: the test cannot find its Terminal"
                text = "\n".join(first["rows"])
                assert "small usemem on zram" in first["rows"][0]
                for title in ("1 Memory map", "2 Watermarks & reclaim", "3 Swap clusters", "7 Counters"):
                    assert title in text
                assert first["cols"] >= 150, "the terminal should fill the 1600 px wide page"

                page.focus(".xterm-helper-textarea")  # where xterm.js takes the keyboard (a click would inspect)
                page.keyboard.press("n")  # step one tick
                screen.wait(lambda rows: tick_of(rows) == 1, "tick 1 after n")
                page.keyboard.press("Shift+N")  # step 100 ticks
                screen.wait(lambda rows: tick_of(rows) == 101, "tick 101 after N")
                page.keyboard.press("b")  # one tick back
                screen.wait(lambda rows: tick_of(rows) == 100, "tick 100 after b")
                page.keyboard.press(" ")  # run
                running = screen.wait(
                    lambda rows: "running" in rows[0] and (tick_of(rows) or 0) > 110, "the model running"
                )
                page.keyboard.press(" ")  # pause
                paused = screen.wait(lambda rows: "paused" in rows[0], "the model paused again")
                time.sleep(0.5)
                paused = screen.wait(lambda rows: "paused" in rows[0], "the model paused")
                stopped = tick_of(paused["rows"])
                assert stopped is not None and stopped >= (tick_of(running["rows"]) or 0)
                time.sleep(0.5)
                again = screen.wait(lambda rows: True, "the screen")
                assert tick_of(again["rows"]) == stopped, "paused, the tick should stay put"

                shot = tmp_path / "serve.png"
                page.screenshot(path=str(shot))
                (tmp_path / "screen.json").write_text(json.dumps(again))  # beside it, what the buffer held
                check_picture(Image, ImageStat, shot, again)

                # The mouse: a click on a memory map cell opens the inspector on its frames.
                top, left, _, _ = pane_box(again["rows"], "Memory map")
                cell_w, cell_h = again["width"] / again["cols"], again["height"] / len(again["rows"])
                page.mouse.click(again["x"] + (left + 3.5) * cell_w, again["y"] + (top + 2.5) * cell_h)
                screen.wait(lambda rows: "Frames " in "\n".join(rows), "the inspector on the clicked frames")
                page.keyboard.press("Escape")
                screen.wait(lambda rows: "Frames " not in "\n".join(rows), "the inspector closed")
                # A smaller window: the terminal follows it and the app lays itself out again, as tabs.
                page.set_viewport_size({"width": 1000, "height": 600})
                small = screen.wait(
                    lambda rows: len(rows) < 40 and "1 memory" in "\n".join(rows) and "2 reclaim" in "\n".join(rows),
                    "the tabbed layout after a resize",
                )
                assert small["cols"] < 120 and all(len(row) <= small["cols"] for row in small["rows"])
                assert tick_of(small["rows"]) == stopped
                pids = children_of(server.pid)
                assert pids, "textual-serve should be running the app for the page"
            finally:
                browser.close()
        os.killpg(server.pid, signal.SIGINT)  # ^C at a terminal: the server stops, and so does each app it started
        server.wait(timeout=60)
        reader.join(timeout=10)
        errors = server.stderr.read()
        assert server.returncode == 0 and "Traceback" not in errors and "Traceback" not in "".join(out), errors
        assert out[-1] == "stopped\n", out
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in pids), "an app outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def check_picture(Image, ImageStat, shot: Path, screen: dict) -> None:
    """The screenshot shows the app as the buffer has it: the terminal fills the page; each pane's title is in
    ink where the buffer puts it, its side borders are drawn, and blank cells are blank; the memory map's body is
    painted in many colours."""
    image = Image.open(shot).convert("RGB")
    rows, cols = screen["rows"], screen["cols"]
    cell_w, cell_h = screen["width"] / cols, screen["height"] / len(rows)
    assert image.width == 1600 and screen["width"] > 0.9 * image.width

    def cells(top: int, left: int, bottom: int, right: int):
        """The picture of the cells from (top, left) to (bottom, right), inclusive."""
        box = (
            round(screen["x"] + left * cell_w),
            round(screen["y"] + top * cell_h),
            round(screen["x"] + (right + 1) * cell_w),
            round(screen["y"] + (bottom + 1) * cell_h),
        )
        return image.crop(box)

    def spread(picture) -> float:
        return max(ImageStat.Stat(picture).stddev)

    assert spread(image) > 10, "the screenshot is one flat colour"
    for title in ("Memory map", "Swap clusters", "Watermarks & reclaim", "Counters", "Events"):
        top, left, bottom, right = pane_box(rows, title)
        y, x = find(rows, title)
        assert spread(cells(y, x, y, x + len(title) - 1)) > 20, f"no text drawn for {title!r}"
        for side in (left, right):
            assert spread(cells(top + 1, side, bottom - 1, side)) > 5, f"no border drawn beside {title!r}"
    y, x = next((y, row.find(" " * 12)) for y, row in enumerate(rows) if y > 2 and " " * 12 in row)
    assert spread(cells(y, x, y, x + 11)) < 3, f"ink where the buffer has blanks (row {y}, column {x})"
    top, left, bottom, right = pane_box(rows, "Memory map")
    colours = cells(top + 1, left + 1, bottom - 1, right - 1).getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 4, "the memory map is drawn in one or two colours: its cells are missing"
