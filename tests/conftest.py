"""Shared test helpers: small scenarios built from keyword arguments."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from swaptui.model.machine import Machine
from swaptui.scenario import load_scenario_text


def small_scenario_yaml(
    memory: str = "64MiB",
    devices: str = "- {name: d0, kind: ssd, size: 128MiB}",
    workloads: str = "- {name: um, kind: usemem, size: 48MiB, passes: 2}",
    extra_machine: str = "",
    extra_swap: str = "",
    duration: str = "2s",
    seed: int = 1,
    cpus: int = 2,
) -> str:
    """A small scenario's YAML text."""
    head = textwrap.dedent(f"""\
        name: test
        seed: {seed}
        tick: 1ms
        duration: {duration}
        machine: {{memory: {memory}, cpus: {cpus}{extra_machine}}}
        swap:
        """)
    swap = textwrap.indent(
        textwrap.dedent(extra_swap).strip() + "\ndevices:\n" if extra_swap.strip() else "devices:\n", "  "
    )
    return head + swap + textwrap.indent(devices, "    ") + "\nworkloads:\n" + textwrap.indent(workloads, "  ") + "\n"


@pytest.fixture
def make_machine():
    """Build a Machine from small_scenario_yaml keyword arguments."""

    def build(check_invariants: bool = True, **kw) -> Machine:
        return Machine(
            load_scenario_text(small_scenario_yaml(**kw), check_memory=False), check_invariants=check_invariants
        )

    return build


sys.path.insert(0, str(Path(__file__).parent))  # the frozen numpy core, importable as numpy_core
