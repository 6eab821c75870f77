"""Check the model against a recorded kernel: counter deltas side by side, and series against progress.

The counts that follow from the workload (pswpout, pswpin, refaults, major faults, readahead)
should land within 20 % of the kernel's, and kswapd's share of reclaim within 0.1. Series are
compared against workload progress, because emulation distorts the traces' wall time.

A trace recorded in a memory cgroup (its samples carry a `memcg` block) is held to the memcg targets:
pswpout, pswpin, pgscan_anon, pgsteal_anon, workingset_refault_anon, swap_ra, swap_ra_hit and the
cgroup's pgmajfault within 10 %, and pgsteal_kswapd, pgsteal_direct and allocstall exactly 0 (limit
reclaim counts none of them); the cgroup's memory.stat and failcnt are set beside one model cgroup's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

from swaptui.model.machine import Machine
from swaptui.text import markup_safe
from swaptui.traces import Trace

COUNTERS = (
    "pswpout",
    "pswpin",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "pgscan_kswapd",
    "pgscan_direct",
    "allocstall",
    "swap_ra",
    "swap_ra_hit",
    "workingset_refault_anon",
    "pgmajfault",
    "pgfault",
)
# Counts that follow from the workload rather than from timing: these carry the ±20 % target.
WORKLOAD_COUNTS = ("pswpout", "pswpin", "workingset_refault_anon", "pgmajfault", "swap_ra", "swap_ra_hit")
TOLERANCE = 0.20
SHARE_TOLERANCE = 0.10
MEMCG_COUNTERS = ("pgscan_anon", "pgsteal_anon")  # shown (and targeted) for memcg traces
MEMCG_WORKLOAD_COUNTS = (
    "pswpout",
    "pswpin",
    "pgscan_anon",
    "pgsteal_anon",
    "workingset_refault_anon",
    "swap_ra",
    "swap_ra_hit",
)
MEMCG_TOLERANCE = 0.10
MEMCG_ZERO = ("pgsteal_kswapd", "pgsteal_direct", "allocstall")  # global reclaim only: 0 under a memcg limit
CGROUP_FIGURES = ("pgmajfault", "pgfault", "workingset_refault_anon", "pgpgin", "pgpgout", "failcnt", "memsw_failcnt")
CGROUP_TARGETS = ("pgmajfault",)
SERIES = ("pswpout", "pswpin", "pgsteal_kswapd", "pgsteal_direct")
BINS = 40


@dataclass
class ModelRun:
    """Counter series of a model run sampled against workload progress."""

    progress: np.ndarray
    counters: dict[str, np.ndarray]
    ticks: int
    cgroup: str | None = None  # the model cgroup compared with the trace's memcg block
    cgroup_start: dict[str, int] | None = None
    cgroup_end: dict[str, int] | None = None


def model_counter(m: Machine, name: str) -> int:
    if name == "allocstall":
        return m.vm["allocstall_movable"] + m.vm["allocstall_normal"]
    return m.vm[name]


def run_model(m: Machine, max_ticks: int, every: int = 20, cgroup: str | None = None) -> ModelRun:
    """Step until every task exits (or max_ticks), sampling counters and progress (and, given a cgroup, its
    figures at the start and the end)."""
    from swaptui.model.memcontrol import report

    def figures() -> dict[str, int] | None:
        if cgroup is None or m.memcg is None:
            return None
        return report(m.memcg, m.memcg.index(cgroup))

    start = figures()
    total = sum(p.planned_accesses() for p in m.procs if p.kind in ("usemem", "memlab")) or 1
    prog: list[float] = []
    series: dict[str, list[int]] = {c: [] for c in COUNTERS + MEMCG_COUNTERS}

    def sample() -> None:
        done = sum(p.touched for p in m.procs if p.kind in ("usemem", "memlab"))
        prog.append(min(1.0, done / total))
        for c in COUNTERS + MEMCG_COUNTERS:
            series[c].append(model_counter(m, c))

    sample()
    while m.tick < max_ticks and not all(p.exited for p in m.procs):
        m.step(every)
        sample()
    return ModelRun(
        np.maximum.accumulate(np.array(prog)),
        {c: np.array(v) for c, v in series.items()},
        m.tick,
        cgroup,
        start,
        figures(),
    )


def share(kswapd: float, direct: float) -> float:
    return kswapd / (kswapd + direct) if kswapd + direct else 0.0


def comparison_rows(run: ModelRun, trace: Trace) -> list[tuple[str, int, int, float | None, bool | None]]:
    """(counter, model delta, kernel delta, ratio model/kernel, within target or None if untargeted)."""
    rows = []
    memcg = trace.has_memcg()
    targets, tolerance = (MEMCG_WORKLOAD_COUNTS, MEMCG_TOLERANCE) if memcg else (WORKLOAD_COUNTS, TOLERANCE)
    for c in COUNTERS + (MEMCG_COUNTERS if memcg else ()):
        mv = int(run.counters[c][-1] - run.counters[c][0])
        kv = trace.delta(c)
        ratio = mv / kv if kv else None
        ok = None
        if c in targets:
            ok = (abs(ratio - 1) <= tolerance) if ratio is not None else (mv == 0)
        elif memcg and c in MEMCG_ZERO:
            ok = mv == 0 and kv == 0
        rows.append((c, mv, kv, ratio, ok))
    return rows


def cgroup_rows(run: ModelRun, trace: Trace) -> list[tuple[str, int, int, float | None, bool | None]]:
    """The trace's memcg block (memory.stat, failcnt) beside the model cgroup's, as comparison_rows."""
    if run.cgroup_start is None or run.cgroup_end is None or not trace.has_memcg():
        return []
    rows = []
    for c in CGROUP_FIGURES:
        mv = run.cgroup_end[c] - run.cgroup_start[c]
        kv = trace.memcg_delta(c)
        ratio = mv / kv if kv else None
        ok = None
        if c in CGROUP_TARGETS:
            ok = (abs(ratio - 1) <= MEMCG_TOLERANCE) if ratio is not None else (mv == 0)
        rows.append((f"{run.cgroup}: {c}", mv, kv, ratio, ok))
    return rows


def shares(run: ModelRun, trace: Trace) -> tuple[float, float]:
    """kswapd's share of reclaim in the model and in the kernel."""
    mk = int(run.counters["pgsteal_kswapd"][-1] - run.counters["pgsteal_kswapd"][0])
    md = int(run.counters["pgsteal_direct"][-1] - run.counters["pgsteal_direct"][0])
    return share(mk, md), share(trace.delta("pgsteal_kswapd"), trace.delta("pgsteal_direct"))


PHASE_COUNTERS = ("pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pgscan_direct", "allocstall")


def at_progress(progress: np.ndarray, values: np.ndarray, x: float) -> float:
    """A cumulative counter's value where progress reaches x. At 0 the first value; at 1 the last, so reclaim
    after the last access (while the workload unmaps and exits) counts in the last phase."""
    if x <= 0 or len(values) < 2:
        return float(values[0]) if len(values) else 0.0
    if x >= 1:
        return float(values[-1])
    return float(np.interp(x, progress, values))


def phase_deltas(progress: np.ndarray, counters: dict[str, np.ndarray], n: int) -> list[dict[str, float]]:
    """The reclaim counters' increase in each of n equal stretches of progress (for usemem: its passes)."""
    edges = [i / n for i in range(n + 1)]
    return [
        {c: at_progress(progress, counters[c], b) - at_progress(progress, counters[c], a) for c in PHASE_COUNTERS}
        for a, b in pairwise(edges)
    ]


def scan_ratio(d: dict[str, float], who: str) -> float | None:
    """Folios scanned per folio reclaimed, by kswapd or by direct reclaim (None when nothing was reclaimed)."""
    steal = d[f"pgsteal_{who}"]
    return d[f"pgscan_{who}"] / steal if steal else None


def phase_rows(run: ModelRun, trace: Trace) -> list[tuple[str, dict[str, float], dict[str, float]]]:
    """(phase name, model deltas, kernel deltas) for each of the trace's workload phases."""
    names = trace.phases()
    if len(names) < 2:
        return []
    model = phase_deltas(run.progress, run.counters, len(names))
    kprog = trace.progress()
    kernel = phase_deltas(kprog, {c: trace.counter(c) for c in PHASE_COUNTERS}, len(names))
    return list(zip(names, model, kernel))


def by_progress(progress: np.ndarray, values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Counter increase per progress bin (values cumulative): where in the workload the events happen."""
    edges = np.linspace(0, 1, bins + 1)
    at = np.interp(edges, progress, values - values[0]) if len(progress) > 1 else np.zeros(bins + 1)
    return np.diff(at)


def render(run: ModelRun, trace: Trace, scenario_name: str) -> tuple[str, bool]:
    """The report: the table, the shares, and model/kernel sparklines against progress; and pass/fail."""
    from rich.console import Console
    from rich.table import Table

    from swaptui.ui.metrics import sparkline

    buf = io.StringIO()
    con = Console(file=buf, width=130, color_system=None)
    table = Table(title=f"{markup_safe(scenario_name)} vs kernel trace {markup_safe(trace.name)} (deltas over the run)")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("counter", "left"),
        ("model", "right"),
        ("kernel", "right"),
        ("model/kernel", "right"),
        ("target", "left"),
    )
    for col, just in columns:
        table.add_column(col, justify=just)
    passed = True
    memcg = trace.has_memcg()
    for c, mv, kv, ratio, ok in comparison_rows(run, trace) + cgroup_rows(run, trace):
        band = "= 0" if memcg and c in MEMCG_ZERO else "±10 %" if memcg else "±20 %"
        target = "—" if ok is None else (f"ok ({band})" if ok else f"MISS ({band})")
        passed &= ok is not False
        table.add_row(c, f"{mv:,}", f"{kv:,}", f"{ratio:.3f}" if ratio is not None else "—", target)
    con.print(table)
    ms, ks = shares(run, trace)
    share_ok = abs(ms - ks) <= SHARE_TOLERANCE
    passed &= share_ok
    con.print(
        f"kswapd share of reclaim: model {ms:.3f}, kernel {ks:.3f} "
        f"({'ok' if share_ok else 'MISS'}, target ±{SHARE_TOLERANCE})"
    )
    rows = phase_rows(run, trace)
    if rows:
        ph = Table(title="reclaim by workload phase (model / kernel)")
        for col in ("phase", "kswapd share", "kswapd scanned/reclaimed", "direct scanned/reclaimed", "allocstall"):
            ph.add_column(col, justify="left" if col == "phase" else "right")

        def pair(a: float | None, b: float | None, fmt: str) -> str:
            return " / ".join("—" if v is None else format(v, fmt) for v in (a, b))

        for name, md, kd in rows:
            ph.add_row(
                name,
                pair(
                    share(md["pgsteal_kswapd"], md["pgsteal_direct"]),
                    share(kd["pgsteal_kswapd"], kd["pgsteal_direct"]),
                    ".3f",
                ),
                pair(scan_ratio(md, "kswapd"), scan_ratio(kd, "kswapd"), ".2f"),
                pair(scan_ratio(md, "direct"), scan_ratio(kd, "direct"), ".2f"),
                pair(md["allocstall"], kd["allocstall"], ",.0f"),
            )
        con.print(ph)
    con.print(
        f"\nper {100 // BINS * 1 if BINS <= 100 else 1}% of workload progress "
        f"({BINS} bins, 0 → 100 %; both rows scaled to the larger):"
    )
    kprog = trace.progress()
    for c in SERIES:
        mb = by_progress(run.progress, run.counters[c].astype(float))
        kb = by_progress(kprog, trace.counter(c).astype(float))
        top = max(mb.max(initial=0), kb.max(initial=0))
        con.print(f"  {c:15s} model  {sparkline(mb, len(mb), 0, top)}")
        con.print(f"  {'':15s} kernel {sparkline(kb, len(kb), 0, top)}")
    con.print("PASS: every target met" if passed else "Some targets missed (see MISS above).")
    return buf.getvalue(), passed
