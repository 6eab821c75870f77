"""`swaptui kernels`, and the kernel keys through `check` and `run`: in-process through main(argv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swaptui.cli import main
from swaptui.model import kernels

SCENARIO = """\
name: kernels cli
tick: 1ms
duration: 5ms
machine: {{memory: 64MiB, cpus: 2{machine}}}
swap:
  devices: [{{name: d0, kind: ssd, size: 128MiB}}]
workloads: [{{name: um, kind: usemem, size: 16MiB}}]
"""


def test_kernels_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kernels"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["feature", *kernels.KNOWN_KERNELS, "modelled"]
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2 : 2 + len(kernels.BEHAVIOURS)]}
    assert set(rows) == set(kernels.FEATURE_NAMES)
    assert rows["zeromap"][: len(kernels.KNOWN_KERNELS)] == ["-", "-", "-", "yes", "yes", "yes", "yes"]
    assert rows["swap_slot_cache"][-3:] == ["no", "(always", "off)"]
    assert "source: commit 0ca0c24e3211" in out and f"default kernel {kernels.DEFAULT_KERNEL}" in out


def _write(tmp_path: Path, machine: str) -> str:
    path = tmp_path / "k.yaml"
    path.write_text(SCENARIO.format(machine=machine))
    return str(path)


def test_check_refuses_an_unquoted_kernel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, ", kernel: 6.12")
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and "machine.kernel:" in err and 'quote it: kernel: "6.12"' in err


def test_check_refuses_unknown_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", _write(tmp_path, ', kernel: "5.4", features: {slot_cache: false}')]) == 2
    err = capsys.readouterr().err
    assert "machine.kernel: unknown kernel '5.4'; expected one of: 6.1, 6.6" in err
    assert "machine.features.slot_cache: unknown feature 'slot_cache'" in err and "swap_slot_cache" in err


def test_run_prints_what_is_not_mainline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", _write(tmp_path, ', kernel: "6.1"')]) == 0
    err = capsys.readouterr().err
    assert "swaptui: notice: kernel 6.1: not modelled" in err and "swap_slot_cache (off)" in err
