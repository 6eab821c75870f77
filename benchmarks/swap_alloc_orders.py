"""Swap slot allocation throughput by folio order: slots per second for order 0, 4 and 9 (and ratios).

One SSD swap device (--clusters of 512 slots) is filled to --fill with folios of the measured order,
then each round frees --batch random live folios and allocates as many again, so the cluster lists
stay mixed, as under reclaim and swap-in. Order 0 is measured two ways: one folio per call
(alloc_folio(0), i.e. alloc(1)) and in vmscan's batches (alloc(n) for n pages at once). Only the
allocation calls are timed (process CPU time, best of --repeat). The simulated cost (ns per slot,
what the model charges the reclaiming task) is printed beside the host throughput.

    python benchmarks/swap_alloc_orders.py [--clusters N] [--fill F] [--batch B] [--rounds R] [--repeat K]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from swaptui.model.costs import DEFAULT_COSTS, backend_profile
from swaptui.model.swapfile import SwapSlots


def bench(
    order: int, batched: bool, clusters: int, fill: float, batch: int, rounds: int, seed: int = 1
) -> tuple[float, float, int]:
    """(slots per second of host CPU, simulated ns per slot, fallbacks) for one order."""
    rng = np.random.default_rng(seed)
    s = SwapSlots([("swap0", "ssd", backend_profile("ssd"), 5, clusters * 512, False)], ncpus=4, costs=DEFAULT_COSTS)
    nr = 1 << order
    live: list[np.ndarray] = []

    def allocate(n: int, cpu: int) -> tuple[list[np.ndarray], int]:
        if batched:
            got, cost = s.alloc(n * nr, cpu)
            return list(got.reshape(-1, 1)), cost
        out, cost = [], 0
        for _ in range(n):
            got, c = s.alloc_folio(order, cpu)
            cost += c
            if got.size:
                out.append(got)
        return out, cost

    target = int(s.total_swap_pages * fill) // nr
    while len(live) < target:
        got, _ = allocate(min(batch, target - len(live)), len(live) % 4)
        if not got:
            break
        live.extend(got)
    elapsed = 0.0
    slots = cost = 0
    for r in range(rounds):
        pick = np.sort(rng.choice(len(live), min(batch, len(live)), replace=False))[::-1]
        s.put_cache(np.concatenate([live[i] for i in pick]))
        for i in pick:
            live[i] = live[-1]
            live.pop()
        t0 = time.process_time()
        got, c = allocate(len(pick), r % 4)
        elapsed += time.process_time() - t0
        live.extend(got)
        slots += sum(len(g) for g in got)
        cost += c
    return slots / max(elapsed, 1e-9), cost / max(slots, 1), int(s.mthp_fallback[order])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusters", type=int, default=256, help="device size in 512-slot clusters")
    ap.add_argument("--fill", type=float, default=0.45, help="fraction of swap in use (below vm_swap_full)")
    ap.add_argument("--batch", type=int, default=32, help="folios freed and allocated per round")
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cases = [
        ("order 0, one folio per call", 0, False),
        ("order 0, vmscan batches", 0, True),
        ("order 4 (64 KiB mTHP)", 4, False),
        ("order 9 (2 MiB THP)", 9, False),
    ]
    results = {}
    for _ in range(args.repeat):  # interleaved, best of each
        for name, order, batched in cases:
            rounds = args.rounds if order < 9 else max(8, args.rounds // 8)
            batch = args.batch if order < 9 else max(1, args.batch // 8)
            rate, ns, fb = bench(order, batched, args.clusters, args.fill, batch, rounds)
            if name not in results or rate > results[name][0]:
                results[name] = (rate, ns, fb)
    base = results[cases[0][0]][0]
    print(f"{'case':32s} {'slots/s':>12s} {'x order 0':>10s} {'sim ns/slot':>12s} {'fallbacks':>10s}")
    for name, _, _ in cases:
        rate, ns, fb = results[name]
        print(f"{name:32s} {rate:12,.0f} {rate / base:10.1f} {ns:12.1f} {fb:10d}")


if __name__ == "__main__":
    main()
