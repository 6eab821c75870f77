"""The model core's cost per page event across access patterns, machine sizes and swap designs.

For each cell (workload x RAM size x design) the script builds the scenario, runs until the workload has
filled memory once (the warm-up), then measures CPU time over a fixed number of page events (faults, swap-outs
and swap-ins; touches of resident pages are counted apart and never as events). It prints page events per
CPU-second for the current core and, with `--against-numpy`, for the frozen numpy core (tests/numpy_core) on
the same cell in the same run, and the ratio between them.

    python benchmarks/core_grid.py [--sizes 1,4] [--workloads usemem,hotcold] [--designs classic,vswap]
                                   [--events 200000] [--against-numpy]

Workloads: usemem (one sequential writer, then a re-read), hotcold (90 % of accesses to a hot eighth),
zipf (s = 1.0), tasks16 (16 small hot/cold processes) and thp (usemem with THP always, so faults go
through the huge-page allocator and compaction). Every workload overcommits RAM 1.5x with zram swap of twice RAM.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from swaptui.scenario import load_scenario_text

WORKLOADS = {
    "usemem": "  - {{name: usemem, kind: usemem, size: {total}MiB, passes: 2}}\n",
    "hotcold": "  - {{name: hotcold, kind: hotcold, size: {total}MiB, hot_size: {hot}MiB, hot_fraction: 0.9}}\n",
    "zipf": "  - {{name: zipf, kind: zipf, size: {total}MiB, zipf_s: 1.0}}\n",
    "tasks16": (
        "  - {{name: task, kind: hotcold, size: {per16}MiB, hot_size: {hot16}MiB, hot_fraction: 0.9, processes: 16}}\n"
    ),
    "thp": "  - {{name: usemem, kind: usemem, size: {total}MiB, passes: 2}}\n",
}

TEMPLATE = """\
name: grid {workload} {gib} GiB {design}
seed: 1
tick: 1ms
duration: 1h
machine: {{memory: {gib}GiB, cpus: 17{thp}}}
swap:
  design: {design}
  devices:
    - {{name: zram0, kind: zram, size: {swap}GiB}}
workloads:
"""


def scenario_text(workload: str, gib: int, design: str) -> str:
    """The cell's scenario."""
    total = int(gib * 1024 * 1.5)
    text = TEMPLATE.format(
        workload=workload, gib=gib, design=design, swap=2 * gib, thp=", thp: always" if workload == "thp" else ""
    )
    return text + WORKLOADS[workload].format(
        total=total, hot=total // 8, per16=max(1, total // 16), hot16=max(1, total // 128)
    )


def machine_class(core: str) -> Any:
    """The current core's Machine, or the frozen numpy core's."""
    if core == "numpy":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from numpy_core.machine import Machine as NumpyMachine

        return NumpyMachine
    from swaptui.model.machine import Machine

    return Machine


def measure(core: str, workload: str, gib: int, design: str, events: int) -> tuple[float, int]:
    """Page events per CPU-second after the warm-up, and the events measured."""
    machine = machine_class(core)(load_scenario_text(scenario_text(workload, gib, design), check_memory=False))
    warm = int(machine.zone.managed * 0.9)
    while machine.vm["swaptui_page_events"] < warm and not all(p.exited for p in machine.procs):
        machine.step(10)
    start = machine.vm["swaptui_page_events"]
    t0 = time.process_time()
    while machine.vm["swaptui_page_events"] - start < events and not all(p.exited for p in machine.procs):
        machine.step(10)
    cpu = time.process_time() - t0
    done = machine.vm["swaptui_page_events"] - start
    return (done / cpu if cpu > 0 else 0.0), done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,4,16,64", help="RAM sizes in GiB, comma-separated")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    ap.add_argument("--designs", default="classic,swap_table,vswap")
    ap.add_argument("--events", type=int, default=200_000, help="page events measured per cell after warm-up")
    ap.add_argument("--against-numpy", action="store_true", help="also run the frozen numpy core, and the ratio")
    args = ap.parse_args()
    cores = ["compiled", "numpy"] if args.against_numpy else ["compiled"]
    head = f"{'workload':<9} {'RAM':>5} {'design':<11} {'events/s':>12}"
    if args.against_numpy:
        head += f" {'numpy core':>12} {'ratio':>7}"
    print(head)
    for workload in args.workloads.split(","):
        for gib in (int(s) for s in args.sizes.split(",")):
            for design in args.designs.split(","):
                rates = [measure(core, workload, gib, design, args.events)[0] for core in cores]
                line = f"{workload:<9} {gib:>3}Gi {design:<11} {rates[0]:>12,.0f}"
                if args.against_numpy:
                    line += f" {rates[1]:>12,.0f} {rates[0] / rates[1]:>6.2f}x"
                print(line, flush=True)


if __name__ == "__main__":
    main()
