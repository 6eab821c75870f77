"""zsmalloc and zswap throughput: microseconds per object for batched malloc/free and store/load.

A pool is filled to a steady population, then each round allocates (stores) a batch and frees
(loads) a batch of random live objects, so the population stays put and the fullness lists stay
mixed, as under reclaim and swap-in. Sizes are the model's compressed-page sizes (log-normal around
PAGE_SIZE / ratio, see workload.draw_content) with a few incompressible pages. Stores go to a run of
consecutive free swap slots (as cluster allocation hands them out) or, with --random-keys, to random
ones; loads are of random stored keys. The rounds' random choices are drawn before timing starts,
and a quarter as many untimed rounds first take the pool past its one-off growth (handle table,
arena segments) into steady state.

Times are process CPU time (time.process_time), each figure the best of --repeat runs (interleaved
over the batch sizes, so that a spell of contention from other work spoils one run, not all). By default
caches stay as the previous call left them; --flush sweeps an 8 MiB buffer before every timed call,
as if the rest of the model had run in between.

    python benchmarks/zsmalloc_throughput.py [--population N] [--rounds R] [--ratio X] [--raw F]
                                             [--random-keys] [--flush] [--repeat K] [--batches B ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.zsmalloc import ZsPool
from swaptui.model.zswap import Zswap

_SWEEP = np.zeros(1 << 20, dtype=np.int64)  # 8 MiB


def flush_caches() -> None:
    """Touch more memory than the L2 and most of an L3 slice hold."""
    np.add(_SWEEP, 1, out=_SWEEP)


def draw_sizes(rng: np.random.Generator, n: int, ratio: float, raw: float) -> np.ndarray:
    """Compressed sizes as the model draws them, with a fraction `raw` of incompressible pages."""
    mean = PAGE_SIZE / ratio
    sizes = np.clip(rng.lognormal(np.log(mean) - 0.02, 0.2, n), 64, PAGE_SIZE).astype(np.int64)
    sizes[rng.random(n) < raw] = PAGE_SIZE
    return sizes


def bench_pool(
    batch: int, population: int, rounds: int, ratio: float, raw: float, flush: bool = False
) -> tuple[float, float]:
    """(µs per object of malloc, µs per object of free) at this batch size."""
    rng = np.random.default_rng(1)
    pool = ZsPool()
    live = pool.malloc(draw_sizes(rng, population, ratio, raw))
    # Each round frees `batch` random slots of `live` and refills them with its new handles.
    warmup = max(4, rounds // 4)
    work = [
        (draw_sizes(rng, batch, ratio, raw), rng.choice(population, batch, replace=False))
        for _ in range(warmup + rounds)
    ]
    t_malloc = t_free = 0.0
    for i, (sizes, pick) in enumerate(work):
        if i == warmup:
            t_malloc = t_free = 0.0
        if flush:
            flush_caches()
        t0 = time.process_time()
        new = pool.malloc(sizes)
        t1 = time.process_time()
        gone = live[pick]
        if flush:
            flush_caches()
        t2 = time.process_time()
        pool.free(gone)
        t3 = time.process_time()
        live[pick] = new
        t_malloc += t1 - t0
        t_free += t3 - t2
    n = rounds * batch
    return 1e6 * t_malloc / n, 1e6 * t_free / n


def bench_zswap(
    batch: int, population: int, rounds: int, ratio: float, raw: float, random_keys: bool = False, flush: bool = False
) -> tuple[float, float]:
    """(µs per page of store, µs per page of load) at this batch size, with the XArray index."""
    rng = np.random.default_rng(2)
    nr_keys = 1 << 20  # 4 GiB of swap: 64 XArrays
    z = Zswap(totalram_pages=1 << 24, nr_keys=nr_keys)  # a limit the benchmark never reaches
    used = np.zeros(nr_keys, dtype=bool)
    first = rng.choice(nr_keys, population, replace=False)
    used[first] = True
    z.store(first, draw_sizes(rng, population, ratio, raw))
    # Plan the rounds first: the keys each stores and loads, as the model's swap slots would go.
    warmup = max(4, rounds // 4)
    work = []
    cursor = 0
    for _ in range(warmup + rounds):
        if random_keys:
            keys = rng.choice(np.flatnonzero(~used), batch, replace=False)
        else:  # the next free slots from a scanning cursor, as cluster allocation hands them out
            window = np.flatnonzero(~used[cursor : cursor + 8 * batch])[:batch]
            if len(window) < batch:
                cursor = 0
                window = np.flatnonzero(~used[: 8 * batch])[:batch]
            keys = window + cursor
            cursor = int(keys[-1]) + 1
        used[keys] = True
        gone = rng.choice(np.flatnonzero(used), batch, replace=False)
        used[gone] = False
        work.append((keys, draw_sizes(rng, batch, ratio, raw), gone))
    t_store = t_load = 0.0
    for i, (keys, sizes, gone) in enumerate(work):
        if i == warmup:
            t_store = t_load = 0.0
        if flush:
            flush_caches()
        t0 = time.process_time()
        stored, _ = z.store(keys, sizes)
        t1 = time.process_time()
        if flush:
            flush_caches()
        t2 = time.process_time()
        hit, _ = z.load(gone)
        t3 = time.process_time()
        assert stored.all() and hit.all()
        t_store += t1 - t0
        t_load += t3 - t2
    n = rounds * batch
    return 1e6 * t_store / n, 1e6 * t_load / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=100_000, help="live objects kept in the pool")
    ap.add_argument("--rounds", type=int, default=0, help="rounds per batch size (default: ~32k objects)")
    ap.add_argument("--ratio", type=float, default=3.0, help="mean compression ratio")
    ap.add_argument("--raw", type=float, default=0.05, help="fraction of incompressible pages")
    ap.add_argument("--batches", type=int, nargs="*", default=[16, 64, 512])
    ap.add_argument("--random-keys", action="store_true", help="store to random free slots")
    ap.add_argument("--flush", action="store_true", help="sweep 8 MiB before each timed call")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is shown")
    args = ap.parse_args()
    keys = "random" if args.random_keys else "consecutive"
    caches = "flushed before each call" if args.flush else "warm"
    print(
        f"population {args.population}, ratio {args.ratio}, raw {args.raw:.0%}, {keys} store keys, "
        f"caches {caches}: µs per object (CPU time, best of {args.repeat})"
    )
    print(f"{'batch':>6} {'malloc':>8} {'free':>8} {'store':>8} {'load':>8}")
    best: dict[int, list[float]] = {b: [float("inf")] * 4 for b in args.batches}
    for _ in range(args.repeat):  # repeats interleaved, so that a busy spell spoils one, not all
        for b in args.batches:
            rounds = args.rounds or max(20, 32768 // b)
            pool = bench_pool(b, args.population, rounds, args.ratio, args.raw, args.flush)
            zs = bench_zswap(b, args.population, rounds, args.ratio, args.raw, args.random_keys, args.flush)
            best[b] = [min(x, y) for x, y in zip(best[b], pool + zs)]
    for b in args.batches:
        m, f, s, ld = best[b]
        print(f"{b:>6} {m:>8.2f} {f:>8.2f} {s:>8.2f} {ld:>8.2f}")


if __name__ == "__main__":
    main()
