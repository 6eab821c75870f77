"""Headless output: step a machine, stream per-tick counter series to JSON lines / CSV, summarise.

Series rows carry every /proc/vmstat-named counter (cumulative values) so that a user can diff
any two rows as they would two reads of /proc/vmstat. Output is deterministic: the same scenario
and seed give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from swaptui.model.machine import Machine
from swaptui.model.memcontrol import REPORT_HELP, reports
from swaptui.model.vmstat import GAUGES, HELP, INDEX, NAMES
from swaptui.output import TextSink
from swaptui.text import markup_safe


@dataclass
class SeriesWriter:
    """Writes one row per sampled tick to optional JSON-lines and CSV streams."""

    json_out: TextSink | None = None
    csv_out: TextSink | None = None
    every: int = 1

    def __post_init__(self) -> None:
        self._csv = csv.writer(self.csv_out, lineterminator="\n") if self.csv_out else None
        self._cgroup_columns: list[tuple[str, str]] | None = None

    def row(self, m: Machine) -> None:
        """Write the machine's current counters if this tick is sampled."""
        if m.tick % self.every:
            return
        values = [int(v) for v in m.vm.values]
        cgroups = reports(m.memcg) if m.memcg is not None else None
        if self.json_out:
            rec: dict[str, object] = {"tick": m.tick, "t_ns": m.now, "vmstat": dict(zip(NAMES, values))}
            if cgroups is not None:
                rec["memcg"] = cgroups  # each cgroup's usage, failcnt, memory.stat and memory.events
            self.json_out.write(json.dumps(rec, separators=(",", ":")) + "\n")
        if self._csv:
            if self._cgroup_columns is None:
                self._cgroup_columns = [(name, key) for name, figures in (cgroups or {}).items() for key in figures]
                extra = [f"memcg.{name}.{key}" for name, key in self._cgroup_columns]
                self._csv.writerow(["tick", "t_ns", *NAMES, *extra])
            more = [cgroups[name][key] for name, key in self._cgroup_columns] if cgroups else []
            self._csv.writerow([m.tick, m.now, *values, *more])


# The counters `--plot` draws (swaptui.plots.PANELS), sampled by SeriesRecorder.
PLOTTED: tuple[str, ...] = (
    "nr_free_pages",
    "pswpout",
    "pswpin",
    "pgscan_kswapd",
    "pgscan_direct",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "allocstall_movable",
    "workingset_refault_anon",
)

PLOT_POINTS = 1000
"""About this many samples per plotted line: more cannot be told apart at 800 px."""


def plot_every(ticks: int) -> int:
    """The sampling stride for a plot of `ticks` ticks."""
    return max(1, ticks // PLOT_POINTS)


class SeriesRecorder:
    """Keeps the plotted counters of every `every`-th tick in memory (and the last tick's, by finish)."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self.seconds: list[float] = []
        self.rows: list[np.ndarray] = []
        self.watermarks: tuple[int, int, int] = (0, 0, 0)
        self._index = np.array([INDEX[name] for name in PLOTTED])
        self._last_tick = -1

    def row(self, m: Machine) -> None:
        """Keep the machine's current counters if this tick is sampled."""
        if m.tick % self.every == 0:
            self._keep(m)

    def finish(self, m: Machine) -> None:
        """Keep the last tick (if the stride skipped it) and the machine's watermarks."""
        if m.tick != self._last_tick:
            self._keep(m)
        self.watermarks = m.watermarks()

    def _keep(self, m: Machine) -> None:
        self.seconds.append(m.now / 1e9)
        self.rows.append(m.vm.values[self._index].copy())
        self._last_tick = m.tick

    def series(self) -> dict[str, np.ndarray]:
        """Each plotted counter's samples, by name."""
        table = np.array(self.rows, dtype=np.int64).reshape(len(self.rows), len(PLOTTED))
        return {name: table[:, i] for i, name in enumerate(PLOTTED)}


def run_machine(
    m: Machine,
    ticks: int,
    writer: SeriesWriter | None = None,
    progress: Callable[[int], None] | None = None,
    recorder: SeriesRecorder | None = None,
) -> None:
    """Step `ticks` ticks, writing the series (and keeping a plot's) and reporting progress every 100 ticks."""
    if writer:
        writer.row(m)
    if recorder:
        recorder.row(m)
    for i in range(ticks):
        m.step()
        if writer:
            writer.row(m)
        if recorder:
            recorder.row(m)
        if progress and (i + 1) % 100 == 0:
            progress(i + 1)
    if recorder:
        recorder.finish(m)
    if progress:
        progress(ticks)


def summary_rows(m: Machine, show_all: bool = False) -> list[tuple[str, int, str]]:
    """(name, value, help) for the final table: every counter that moved, or all of them."""
    m.update_full_gauges()
    rows = []
    for name, value in zip(NAMES, m.vm.values.tolist()):
        if show_all or value or name in ("pswpin", "pswpout", "allocstall_movable", "oom_kill"):
            rows.append((name, int(value), HELP[name] + (" (gauge)" if name in GAUGES else "")))
    return rows


def render_summary(m: Machine, wall_s: float, show_all: bool = False) -> str:
    """The final report as text: headline figures and a rich table of counters."""
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None, force_terminal=False)
    v = m.vm
    steal_k, steal_d = v["pgsteal_kswapd"], v["pgsteal_direct"]
    share = steal_k / (steal_k + steal_d) if steal_k + steal_d else 0.0
    events = v["swaptui_page_events"]
    console.print(
        f"[bold]{markup_safe(m.scenario.name)}[/bold] · design {m.design} · {m.tick} ticks = "
        f"{m.now / 1e9:.3f} s simulated in {wall_s:.2f} s wall "
        f"({events / wall_s if wall_s > 0 else 0:,.0f} page events/s)"
    )
    console.print(
        f"kswapd share of reclaim {share:.2f} · swap used {v['swaptui_swap_used']} of "
        f"{v['swaptui_swap_total']} slots · free {v['nr_free_pages']} pages "
        f"(min/low/high {'/'.join(str(x) for x in m.watermarks())})"
    )
    table = Table(title="/proc/vmstat counters (cumulative)", show_lines=False)
    table.add_column("counter")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    for name, value, text in summary_rows(m, show_all):
        table.add_row(name, f"{value:,}", text)
    console.print(table)
    if m.memcg is not None:
        cgroups = reports(m.memcg)
        ct = Table(title="memory cgroups (memory.stat, memory.events, v1 failcnt; cumulative)", show_lines=False)
        ct.add_column("counter")
        for name in cgroups:
            ct.add_column(markup_safe(name), justify="right")
        ct.add_column("meaning")
        keys = list(next(iter(cgroups.values())))
        for key in keys:
            vals = [figures[key] for figures in cgroups.values()]
            if show_all or any(vals) or key in ("usage_in_bytes", "failcnt", "events.max", "events.oom_kill"):
                ct.add_row(key, *(f"{v:,}" for v in vals), REPORT_HELP[key])
        console.print(ct)
    for e in list(m.events)[-5:]:
        console.print(f"{e.time_ns / 1e9:9.3f}s  {e.text}")
    if m.story is not None:
        console.print(f"beats: {len(m.story.fired)} of {len(m.story.beats)} fired", markup=False)
        for b in m.story.fired:
            console.print(f"  {b.index + 1:2}  tick {b.tick:>7,}  {b.time_ns / 1e9:8.3f}s  {b.text}", markup=False)
    return buf.getvalue()
