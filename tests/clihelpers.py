"""Run the `swaptui` command line in this process: `main(argv)` with its output captured.

Starting a Python (and importing numpy and numba) for every command cost most of the CLI tests' time;
only tests about the process itself (`python -m swaptui`, signals) start one.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest import mock

from swaptui.cli import main


@dataclass(frozen=True)
class Result:
    """What a command left: its exit status and everything it wrote (as subprocess.CompletedProcess has)."""

    returncode: int
    stdout: str
    stderr: str


def swaptui(*args: str) -> Result:
    """Run `swaptui ARGS` in-process with no terminal: standard input is empty and not a TTY, as under
    `subprocess.run(..., stdin=DEVNULL)`. argparse's exits (usage errors, --version) become exit statuses."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), mock.patch("sys.stdin", io.StringIO()):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


ZRAM = "{name: z0, kind: zram, size: 64MiB}"
SSD = "{name: d0, kind: ssd, size: 64MiB}"


def tiny_scenario(name: str, device: str = SSD, seed: int = 4, duration: str = "300ms", tail: str = "") -> str:
    """The CLI tests' small scenario: 40 MiB of usemem, two passes, in 48 MiB over one 64 MiB device; `tail`
    is YAML appended after the workloads (a compare: list, say)."""
    return (
        f"name: {name}\nseed: {seed}\ntick: 1ms\nduration: {duration}\nmachine: {{memory: 48MiB, cpus: 2}}\n"
        f"swap:\n  devices:\n    - {device}\nworkloads:\n  - {{name: um, kind: usemem, size: 40MiB, passes: 2}}\n"
        + tail
    )
