"""`swaptui serve`: its refusals (no extra, a bad scenario, a port in use) before any server starts, the
command it serves, and ^C. tests/ui/test_browser.py drives the served app in Chromium."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from clihelpers import swaptui

from swaptui import serve as serve_module

SMALL = Path(__file__).resolve().parents[1] / "ui" / "small-zram.yaml"


@pytest.fixture
def no_server(monkeypatch):
    """Fail the test if `swaptui serve` gets as far as starting a server."""

    def refuse(*args, **kwargs):
        raise AssertionError("the server was started")

    monkeypatch.setattr(serve_module, "serve", refuse)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch, no_server) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # `import textual_serve` now fails, as without it
    r = swaptui("serve", str(SMALL))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        "swaptui: serve: needs textual_serve, an optional extra: pip install 'swaptui[serve]'"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-scenario.yaml",),
        ("BAD",),  # a scenario file with a bad value
        (str(SMALL), "--at", "99s"),  # past the end of the scenario
        (str(SMALL), "--speed", "0"),
    ],
)
def test_a_bad_scenario_gives_what_the_app_gives_and_no_server(tmp_path: Path, args, no_server) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("memory: 128MiB", "memory: lots"))
    args = tuple(str(bad) if a == "BAD" else a for a in args)
    served, opened = swaptui("serve", *args), swaptui(*args)
    assert served.returncode == opened.returncode == 2
    assert served.stderr == opened.stderr and len(served.stderr.splitlines()) == 1
    assert served.stderr.startswith("swaptui: ") and "Traceback" not in served.stderr
    if args[0] == str(bad):
        assert served.stderr.startswith(f"swaptui: {bad}:7:11: machine.memory: expected a size")


def test_a_port_in_use_is_one_line(no_server) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = swaptui("serve", str(SMALL), "--port", str(port))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [f"swaptui: --port: 127.0.0.1:{port} is in use; pick another port with --port N"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "0"), "swaptui: --port: expected a port from 1 to 65535; got 0"),
        (("--port", "70000"), "swaptui: --port: expected a port from 1 to 65535; got 70000"),
        # TEST-NET-1: a well-formed address no interface here has (and no name to look up)
        (("--host", "192.0.2.1"), "swaptui: --host/--port: cannot listen on 192.0.2.1:8000: "),
    ],
)
def test_where_it_cannot_listen_is_one_line(args, message, no_server) -> None:
    r = swaptui("serve", str(SMALL), *args)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and r.stderr.startswith(message)


def test_it_serves_this_python_running_the_app_with_the_same_options(monkeypatch, tmp_path: Path) -> None:
    """The served command is `sys.executable -m swaptui FILE` with the app's options that were given (the file
    by its absolute path, --port and --host left out); the URL is printed once the socket listens."""
    calls = []

    def fake_serve(command: str, sock: socket.socket, title: str, started) -> None:
        calls.append((command, sock.getsockname(), title))
        started(serve_module.url_of(sock))

    monkeypatch.setattr(serve_module, "serve", fake_serve)
    monkeypatch.chdir(SMALL.parent)
    port = free_port()
    r = swaptui("serve", SMALL.name, "--port", str(port), "--speed", "8", "--at", "5", "--run", "--theme", "light")
    assert r.returncode == 0, r.stderr
    [(command, address, title)] = calls
    assert shlex.split(command) == [
        *(sys.executable, "-m", "swaptui", str(SMALL)),
        *("--theme", "light", "--speed", "8", "--at", "5", "--run"),
    ]
    assert address == ("127.0.0.1", port) and title == f"swaptui {SMALL.name}"
    assert r.stdout.splitlines() == [
        f"serving {SMALL.name} at http://127.0.0.1:{port} (each browser tab runs its own app; ^C stops)",
        "stopped",
    ]
    # A bundled scenario goes by its name (the served Python finds it as this one does); defaults are left out.
    calls.clear()
    assert swaptui("serve", "usemem-zram", "--port", str(port)).returncode == 0
    assert shlex.split(calls[0][0]) == [sys.executable, "-m", "swaptui", "usemem-zram"]
    # Side by side goes through too, checked first: a bad --designs is refused before anything listens.
    calls.clear()
    r = swaptui("serve", "usemem-zram", "--port", str(port), "--designs", "classic,vswap", "--set", "seed=3")
    assert r.returncode == 0, r.stderr
    assert shlex.split(calls[0][0])[3:] == ["usemem-zram", "--designs", "classic,vswap", "--set", "seed=3"]
    calls.clear()
    r = swaptui("serve", "usemem-zram", "--port", str(port), "--designs", "classic,nope")
    assert r.returncode == 2 and not calls and "--designs" in r.stderr and len(r.stderr.splitlines()) == 1


def test_the_served_app_has_a_screen_under_the_web_driver(monkeypatch) -> None:
    """textual-serve runs the app over pipes with its web driver: that is its screen, not a missing terminal."""
    from swaptui import cli

    assert not cli._has_terminal()  # pytest's standard input is no terminal
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert cli._has_terminal()


def test_interrupt_stops_the_server_cleanly(tmp_path: Path) -> None:
    """^C (SIGINT) and SIGTERM end `swaptui serve` with exit 0 and no traceback (one handler takes both; the
    browser test sends SIGINT with a page connected)."""
    for sig in (signal.SIGTERM,):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "swaptui", "serve", str(SMALL), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()  # blocks until the socket listens (or the process ends)
            assert line.startswith(f"serving {SMALL} at http://127.0.0.1:{port} "), line + server.stderr.read()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
                client.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                page = b""
                deadline = time.monotonic() + 60
                while chunk := client.recv(65536):
                    page += chunk
                    assert time.monotonic() < deadline
            assert page.startswith(b"HTTP/1.1 200") and f"ws://127.0.0.1:{port}/ws".encode() in page
            server.send_signal(sig)
            out, err = server.communicate(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert server.returncode == 0 and out == "stopped\n" and err == "", textwrap.shorten(err, 2000)
