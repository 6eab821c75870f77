"""The bundled real-usemem scenarios against the recorded kernel traces in traces/: every target `swaptui validate` sets.

This is issue 6's acceptance check. The counts that follow from the workload must land within 20 % of the
kernel's and kswapd's share of reclaim within 0.1, with the scenarios as shipped (the recording machine's
qemu-tcg CPU profile, the 6.1 kernel's rules), not with anything tuned per trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median

import pytest

from swaptui.model.machine import Machine
from swaptui.scenario import load_scenario, load_scenario_text
from swaptui.traces import load_trace
from swaptui.validate import WORKLOAD_COUNTS, render, run_model, share, shares

pytestmark = pytest.mark.slow  # full runs of 1.5 GiB usemem scenarios

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "traces"


@pytest.mark.parametrize("prefix", ["real", "memlab"])
@pytest.mark.parametrize("backend", ["disk", "zram"])
def test_real_usemem_scenario_meets_every_target_of_its_trace(backend: str, prefix: str) -> None:
    """real-usemem-*: usemem with a compress ratio; memlab-usemem-*: the trace's own memlab command line."""
    scenario = load_scenario(ROOT / "scenarios" / f"{prefix}-usemem-{backend}.yaml")
    trace = load_trace(TRACES / f"usemem_{backend}.jsonl")
    run = run_model(Machine(scenario), scenario.ticks)
    text, passed = render(run, trace, scenario.name)
    assert passed, text
    model_share, kernel_share = shares(run, trace)
    assert abs(model_share - kernel_share) <= 0.1


RUNS = ROOT / "benchmarks" / "tcg" / "usemem_runs.jsonl"


def quiet_kernel_runs(backend: str, size_mib: int) -> list[dict]:
    """The usemem runs recorded in the traces' guest setup on this project's machine (benchmarks/tcg), keeping
    only those recorded while nothing else ran on the host: a busy host starves a vCPU thread, and the
    kswapd/direct split then swings (0.17 to 0.9 on the same run) while the counts hold within 2 %."""
    runs = [json.loads(line) for line in RUNS.read_text().splitlines()]
    return [r for r in runs if r["backend"] == backend and r["size_mib"] == size_mib and r["host_quiet"]]


@pytest.mark.parametrize("backend, size_mib", [("zram", 1280), ("zram", 1792), ("disk", 1280)])
def test_other_sizes_meet_the_targets_against_kernel_runs_not_in_traces(backend: str, size_mib: int) -> None:
    # Out of sample: the same scenario with usemem's size changed, against real runs of that size.
    runs = quiet_kernel_runs(backend, size_mib)
    assert len(runs) >= 2
    text = (ROOT / "scenarios" / f"real-usemem-{backend}.yaml").read_text()
    assert "size: 1536MiB" in text
    scenario = load_scenario_text(text.replace("size: 1536MiB", f"size: {size_mib}MiB"))
    run = run_model(Machine(scenario), scenario.ticks)
    model = {c: int(run.counters[c][-1] - run.counters[c][0]) for c in WORKLOAD_COUNTS}
    for c in WORKLOAD_COUNTS:
        kernel = median(r["total"][c] for r in runs)
        if kernel:
            assert abs(model[c] / kernel - 1) <= 0.2, (c, model[c], kernel)
        else:
            assert model[c] == 0, c
    model_share = share(int(run.counters["pgsteal_kswapd"][-1]), int(run.counters["pgsteal_direct"][-1]))
    kernel_share = median(share(r["total"]["pgsteal_kswapd"], r["total"]["pgsteal_direct"]) for r in runs)
    assert abs(model_share - kernel_share) <= 0.1, (model_share, kernel_share)


@pytest.mark.parametrize("backend", ["zram", "disk"])
def test_native_memcg_scenario_against_its_trace(backend: str) -> None:
    """real-native-usemem-*: Linux 6.18, a 24 GiB machine, the workload in a 1 GiB v1 cgroup. Limit reclaim only:
    pgsteal_kswapd = pgsteal_direct = allocstall = 0 as in the kernel, and the memcg targets (±10 %) met: all of
    them on zram; on disk all but pswpout, which the model overshoots (README: 1.107, a missing swap-slot rule)."""
    from swaptui.validate import cgroup_rows, comparison_rows

    scenario = load_scenario(ROOT / "scenarios" / f"real-native-usemem-{backend}.yaml")
    trace = load_trace(TRACES / f"native_usemem_{backend}.jsonl")
    run = run_model(Machine(scenario), scenario.ticks, cgroup="swaptrace")
    rows = {name: ok for name, _, _, _, ok in comparison_rows(run, trace) + cgroup_rows(run, trace)}
    known_miss = {"pswpout"} if backend == "disk" else set()
    missed = {name for name, ok in rows.items() if ok is False}
    assert missed == known_miss, render(run, trace, scenario.name)[0]
    assert rows["pgsteal_kswapd"] and rows["pgsteal_direct"] and rows["allocstall"]
    assert rows["swaptrace: pgmajfault"]
