"""`swaptui check`, `schema`, `scenarios` and `--version`: in-process through main(argv), and once as a process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clihelpers import Result, swaptui

from swaptui import __version__
from swaptui.model.kernels import DEFAULT_KERNEL

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

GOOD = textwrap.dedent(
    """\
    name: cli test
    tick: 1ms
    duration: 20s
    machine:
      memory: 1GiB
      cpus: 4
    swap:
      devices:
        - {name: zram0, kind: zram, size: 2GiB}
    workloads:
      - name: usemem
        kind: usemem
        size: 1GiB
    """
)


def _swaptui(*args: str) -> Result:
    """Run `swaptui ARGS` in-process and capture its output."""
    return swaptui(*args)


@pytest.mark.parametrize("name", ["usemem-zram.yaml", "usemem-ssd.yaml", "hotcold-ssd.yaml"])
def test_check_bundled_scenario_passes(name: str) -> None:
    """A good scenario exits 0 with a one-line summary on stdout; stderr has only the kernel's notices (these
    scenarios ask for the classic design, which the default kernel runs as a what-if)."""
    path = str(SCENARIOS / name)
    result = _swaptui("check", path)
    assert result.returncode == 0, result.stderr
    (notice,) = result.stderr.splitlines()
    assert notice.startswith("swaptui: notice: swap.design classic") and "what-if" in notice
    (line,) = result.stdout.splitlines()
    assert line.startswith(f'ok: {path} \u2014 "')
    assert line.endswith(f"(1 GiB RAM, 1 swap device, 20000 ticks of 1 ms, kernel {DEFAULT_KERNEL})")


BAD = [
    # (id, yaml text, line, key)
    ("yaml-syntax", GOOD.replace("  cpus: 4", "   cpus: 4"), 6, ""),
    ("unknown-key", GOOD.replace("cpus: 4", "cpuz: 4"), 6, "machine.cpuz"),
    ("wrong-type", GOOD.replace("cpus: 4", "cpus: many"), 6, "machine.cpus"),
    ("bad-unit", GOOD.replace("size: 1GiB", "size: 1GiBs"), 13, "workloads[0].size"),
    ("missing-unit", GOOD.replace("memory: 1GiB", "memory: 1024"), 5, "machine.memory"),
    ("zero-size", GOOD.replace("size: 1GiB", "size: 0B"), 13, "workloads[0].size"),
    ("tick-out-of-range", GOOD.replace("tick: 1ms", "tick: 1h"), 2, "tick"),
    (
        "too-many-ticks",
        GOOD.replace("tick: 1ms", "tick: 10us").replace("duration: 20s", "duration: 1000s"),
        3,
        "duration",
    ),
    ("event-after-end", GOOD + "events:\n  - {at: 30s, do: compact}\n", 15, "events[0].at"),
    ("duplicate-workload", GOOD + "  - {name: usemem, kind: usemem, size: 1GiB}\n", 14, "workloads[1].name"),
    ("duplicate-yaml-key", GOOD + "tick: 2ms\n", 14, "tick"),
    ("missing-key", GOOD.replace("  memory: 1GiB\n", ""), 4, "machine.memory"),
    ("hot-size-on-usemem", GOOD + "    hot_size: 1MiB\n", 14, "workloads[0].hot_size"),
    ("too-big-for-host", GOOD.replace("size: 2GiB", "size: 64TiB"), 9, "swap.devices[0].size"),
]


@pytest.mark.parametrize(("text", "line", "key"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_check_bad_scenario_fails_cleanly(tmp_path: Path, text: str, line: int, key: str) -> None:
    """A bad scenario exits 2 with file:line and the key on stderr, and no traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = _swaptui("check", str(path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"{path}:{line}:" in result.stderr
    assert key in result.stderr
    assert all(row.startswith("swaptui: ") for row in result.stderr.splitlines())


def test_check_missing_file(tmp_path: Path) -> None:
    """A missing file exits 2 naming the file, without a traceback."""
    path = tmp_path / "absent.yaml"
    result = _swaptui("check", str(path))
    assert result.returncode == 2
    assert f"{path}: no such file" in result.stderr and "Traceback" not in result.stderr


def test_bare_file_checks_then_needs_a_terminal(tmp_path: Path) -> None:
    """`swaptui FILE` validates the file, then opens the app, which needs a terminal (tests/ui drive it in one)."""
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = _swaptui(str(path))
    assert result.returncode == 2
    assert "the app needs a terminal" in result.stderr and "swaptui run" in result.stderr


def test_schema_prints_json(tmp_path: Path) -> None:
    """`swaptui schema` prints a JSON schema; --out writes the same to a file."""
    result = _swaptui("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "properties" in schema and "machine" in schema["properties"]
    out = tmp_path / "schema.json"
    assert _swaptui("schema", "--out", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


def test_version_and_usage_errors() -> None:
    """--version prints the version; an unknown subcommand is a usage error (exit 2)."""
    result = _swaptui("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"swaptui {__version__}")
    assert _swaptui("chekc").returncode == 2


def test_python_dash_m_swaptui_is_the_command() -> None:
    """`python -m swaptui` runs the same main() as a process: --version, and a bad file's exit status 2."""
    result = subprocess.run(
        [sys.executable, "-m", "swaptui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, f"swaptui {__version__}", "")
    from importlib.metadata import version

    assert __version__ == version("swaptui")  # one place: the installed metadata, from pyproject.toml
    result = subprocess.run(
        [sys.executable, "-m", "swaptui", "check", "/nonexistent/x.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2 and result.stderr == "swaptui: /nonexistent/x.yaml: no such file\n"


def test_main_returns_exit_status_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns the exit status instead of exiting, so other code can call it."""
    from swaptui.cli import main

    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert main(["check", str(tmp_path / "absent.yaml")]) == 2
    assert main([]) == 2
    assert "ok:" in capsys.readouterr().out
