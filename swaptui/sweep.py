"""`swaptui sweep`: a grid of scenario variants times seeds, run in parallel, one tidy row per run.

The grid is every combination of the `--set` values; each point runs `seeds` times, with seeds
scenario seed + 0, 1, ... A row holds the point's values, the seed, every /proc/vmstat event counter's
delta over the run (named as the kernel names them), the metrics `compare` reports (kswapd share,
runtime, CPU per reclaimer, metadata bytes), the wall time and, if the run failed, the error. The
model is deterministic, so a row depends only on the point and the seed, wherever it ran.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

from swaptui.compare import METRICS
from swaptui.model.vmstat import GAUGES, NAMES
from swaptui.scenario import Scenario, ScenarioError, format_key
from swaptui.variants import SetError, Setting, describe, try_settings

COUNTER_COLUMNS: tuple[str, ...] = tuple(n for n in NAMES if n not in GAUGES and not n.startswith("swaptui_"))
"""The /proc/vmstat event counters the model keeps, as deltas over the run."""
METRIC_COLUMNS: tuple[str, ...] = (
    *(key for key, _, _ in METRICS if key not in NAMES and key != "allocstall"),
    "simulated_s",
)
"""compare's metrics that are not plain counters (kswapd share, runtime, CPU per reclaimer, metadata bytes)."""
TRAILING_COLUMNS = ("ticks", "wall_s", "error")
FAIL_ENV = "SWAPTUI_SWEEP_FAIL"
"""Tests only: a point label (`key=value,...` and ` seed=N`) to fail in the worker; `kill:` in front kills it."""


@dataclass(frozen=True)
class Task:
    """One run of the grid: the point's values (as given), its seed index, and the scenario to run."""

    point: int
    values: tuple[str, ...]
    seed: int
    scenario: Scenario
    ticks: int
    label: str

    @property
    def key(self) -> tuple[tuple[str, ...], int]:
        """What identifies the run in a results file: the point's values and the seed."""
        return self.values, self.seed


def columns(keys: Iterable[str]) -> list[str]:
    """The table's columns, in order, for the swept keys."""
    return ["point", *keys, "seed", *COUNTER_COLUMNS, *METRIC_COLUMNS, *TRAILING_COLUMNS]


def build_grid(
    data: dict[str, Any], settings: list[Setting], seeds: int, ticks: int | None = None, duration: int | None = None
) -> list[Task]:
    """Every point of the grid times every seed, each validated by the scenario's schema before anything
    runs; SetError (one line naming the --set) for a value or a combination the schema refuses. Each point
    runs `ticks` ticks, or `duration` ns at its own tick, or else its own scenario's duration."""
    tasks = []
    combos = itertools.product(*(list(zip(s.texts, s.values)) for s in settings))
    for point, combo in enumerate(combos):
        label = ",".join(f"{s.key}={text}" for s, (text, _) in zip(settings, combo))
        scenario = try_settings(data, [(s.path, value) for s, (_, value) in zip(settings, combo)])
        if isinstance(scenario, ScenarioError):
            raise SetError(describe(scenario, _blame(data, settings, combo, scenario.issues[0])))
        run_ticks = (
            ticks if ticks is not None else duration // scenario.tick if duration is not None else scenario.ticks
        )
        if run_ticks < 1:
            raise SetError(f"{label or 'the scenario'}: --duration: expected at least one tick ({scenario.tick} ns)")
        for i in range(seeds):
            seeded = scenario.model_copy(update={"seed": scenario.seed + i})
            values = tuple(text for text, _ in combo)
            tasks.append(Task(point, values, scenario.seed + i, seeded, run_ticks, f"{label} seed={scenario.seed + i}"))
    return tasks


def _blame(data: dict[str, Any], settings: list[Setting], combo: tuple[tuple[str, Any], ...], issue: Any) -> str:
    """The --set a refused point's problem comes from: the one whose key it is at, if that value alone is
    refused the same way; else the whole combination."""
    for setting, (text, value) in zip(settings, combo):
        if issue.key == format_key(setting.path):
            alone = try_settings(data, [(setting.path, value)])
            if isinstance(alone, ScenarioError) and (alone.issues[0].key, alone.issues[0].message) == (
                issue.key,
                issue.message,
            ):
                return setting.shown(text)
    return " ".join(s.shown(text) for s, (text, _) in zip(settings, combo)) or "the scenario"


def run_task(task: Task) -> dict[str, Any]:
    """Run one point and seed to a row (without the swept keys); an exception, or running out of memory, is
    caught and kept in the row's error, so one bad point never stops a sweep."""
    start = time.perf_counter()
    row: dict[str, Any] = {"point": task.point, "seed": task.seed, "ticks": task.ticks}
    try:
        row |= _measure(task)
        row["error"] = ""
    except MemoryError:
        row["error"] = "MemoryError: ran out of memory"
    except Exception as error:
        row["error"] = f"{type(error).__name__}: {error}".replace("\n", " ")
    row["wall_s"] = round(time.perf_counter() - start, 3)
    return row


def _measure(task: Task) -> dict[str, Any]:
    """Step the machine and gather its counter deltas and compare's metrics."""
    from swaptui.compare import collect
    from swaptui.model.machine import Machine

    injected = os.environ.get(FAIL_ENV, "")
    if injected.removeprefix("kill:") == task.label:
        if injected.startswith("kill:"):
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("injected failure (SWAPTUI_SWEEP_FAIL)")
    machine = Machine(task.scenario)
    before = {name: machine.vm[name] for name in COUNTER_COLUMNS}
    for done in range(0, task.ticks, 100):
        machine.step(min(100, task.ticks - done))
    metrics = collect(machine)
    row: dict[str, Any] = {name: int(machine.vm[name] - before[name]) for name in COUNTER_COLUMNS}
    row |= {key: metrics[key] for key in METRIC_COLUMNS if key in metrics}
    row["simulated_s"] = machine.now / 1e9
    return row


def _died_row(task: Task, why: str) -> dict[str, Any]:
    """The row of a run whose worker process died before it could report."""
    return {"point": task.point, "seed": task.seed, "ticks": task.ticks, "wall_s": 0.0, "error": why}


DIED = "worker process died (killed by a signal; out of memory?)"


def run_local(tasks: list[Task], jobs: int) -> Generator[tuple[Task, dict[str, Any]]]:
    """Run the tasks on a pool of `jobs` processes, yielding (task, row) as each finishes. A worker that
    dies breaks the pool: the runs it left unfinished are run again one per process, so the one that
    kills its worker is named and the others still complete."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    if jobs == 1 and not os.environ.get(FAIL_ENV, "").startswith("kill:"):
        for task in tasks:
            yield task, run_task(task)
        return
    yielded: set[Any] = set()
    pool = ProcessPoolExecutor(max_workers=jobs)
    futures = {pool.submit(run_task, task): task for task in tasks}
    left = set(futures)
    try:
        while left:
            finished, left = wait(left, return_when=FIRST_COMPLETED)
            for future in finished:
                row = future.result()
                yielded.add(future)
                yield futures[future], row
    except BrokenProcessPool:
        pool.shutdown(wait=True)
    except BaseException:  # ^C, or the consumer stopped: end the runs in flight, start no more
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    for future, task in futures.items():  # alone in a process each: a death now is this run's own
        if future in yielded:
            continue
        with ProcessPoolExecutor(max_workers=1) as alone:
            try:
                yield task, alone.submit(run_task, task).result()
            except BrokenProcessPool:
                yield task, _died_row(task, DIED)


def run_dask(tasks: list[Task], address: str, jobs: int) -> Generator[tuple[Task, dict[str, Any]]]:
    """Run the tasks on a dask.distributed cluster (`local`: a LocalCluster of `jobs` single-threaded worker
    processes), yielding (task, row) as each finishes; a run whose workers kept dying is an error row."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True) if address == "local" else None
    try:
        with Client(cluster if cluster is not None else address) as client:
            futures = {
                client.submit(run_task, task, key=f"swaptui-sweep-{i}", pure=False): task
                for i, task in enumerate(tasks)
            }
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield task, future.result()
                except Exception as error:  # KilledWorker: the scheduler gave up on it
                    yield task, _died_row(task, f"{type(error).__name__}: {error}".replace("\n", " "))
    finally:
        if cluster is not None:
            cluster.close()
