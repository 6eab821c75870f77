"""Model throughput: page events per second for usemem at 1 GiB and 16 GiB of RAM.

Swap is twice RAM (zram), the workload overcommits RAM 1.5x and writes then re-reads its memory.
Prints page events/s (faults + swap-outs + swap-ins + frees) for each size and the ratio
16 GiB / 1 GiB: a tick's cost should grow with its events, not with the machine's size.

    python benchmarks/model_throughput.py [--seconds S] [--backend zram|ssd] [--processes N]
"""

from __future__ import annotations

import argparse
import time

from swaptui.model.machine import Machine
from swaptui.scenario import load_scenario_text

TEMPLATE = """\
name: bench {gib} GiB
seed: 1
tick: {tick}
duration: 1h
machine: {{memory: {gib}GiB, cpus: {cpus}}}
swap:
  devices:
    - {{name: swap0, kind: {backend}, size: {swap}GiB}}
workloads:
  - {{name: usemem, kind: usemem, size: {per_proc}MiB, processes: {procs}, passes: 2}}
"""


def measure(gib: int, backend: str, procs: int, seconds: float, tick: str = "1ms") -> tuple[float, int, float, int]:
    """Run until `seconds` of wall time pass; returns (events/s, events, wall s, ticks)."""
    per_proc = int(gib * 1024 * 1.5 / procs)
    text = TEMPLATE.format(
        tick=tick, gib=gib, cpus=max(4, procs + 1), backend=backend, swap=2 * gib, per_proc=per_proc, procs=procs
    )
    m = Machine(load_scenario_text(text, check_memory=False))
    # Warm up past the first fill so the measurement covers reclaim and swap, not only faults.
    warm_pages = int(m.zone.managed * 0.9)
    while m.vm["swaptui_page_events"] < warm_pages:
        m.step(10)
    start_events = m.vm["swaptui_page_events"]
    start_tick = m.tick
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds and not all(p.exited for p in m.procs):
        m.step(10)
    wall = time.perf_counter() - t0
    events = m.vm["swaptui_page_events"] - start_events
    return events / wall, events, wall, m.tick - start_tick


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="wall seconds to measure per size")
    ap.add_argument("--backend", default="zram", choices=["zram", "ssd", "pmem"])
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--tick", default="1ms", help="simulated tick (the scenario's `tick`)")
    args = ap.parse_args()
    results = {}
    for gib in (1, 16):
        rate, events, wall, ticks = measure(gib, args.backend, args.processes, args.seconds, args.tick)
        results[gib] = rate
        print(
            f"{gib:>2} GiB RAM, {2 * gib} GiB {args.backend}, usemem {1.5 * gib:g} GiB x{args.processes}, "
            f"tick {args.tick}: "
            f"{rate:,.0f} page events/s ({events:,} events in {wall:.1f} s, {ticks} ticks)"
        )
    print(f"ratio 16 GiB / 1 GiB: {results[16] / results[1]:.2f}")


if __name__ == "__main__":
    main()
