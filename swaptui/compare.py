"""`swaptui compare`: the same scenario and seed under several swap designs, one table of results.

Nothing differs between the runs but the design, so every difference in the table comes from where
the designs' code paths differ (kernel-model.md §15) and what those paths cost.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from swaptui.model.machine import Machine
from swaptui.report import SeriesRecorder

# A design's results: scalar metrics by name, and "lookups_by_kind" (a depth histogram per kind of lookup).
Metrics = dict[str, float | dict[str, list[int]]]

BUILT_DESIGNS = ("classic", "swap_table", "vswap")

# (key, label, unit) of the compared metrics, in table order.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("runtime_s", "workload runtime (until the last task exits)", "s"),
    ("throughput", "workload throughput", "pages/s"),
    ("kswapd_cpu_s", "kswapd CPU", "s"),
    ("direct_cpu_s", "direct reclaim CPU", "s"),
    ("free_s", "unmap/exit free time", "s"),
    ("pgsteal_kswapd", "pgsteal_kswapd", ""),
    ("pgsteal_direct", "pgsteal_direct", ""),
    ("kswapd_share", "kswapd share of reclaim", ""),
    ("allocstall", "allocstall_movable", ""),
    ("pswpout", "pswpout", ""),
    ("pswpin", "pswpin", ""),
    ("swap_ra", "swap_ra", ""),
    ("swap_ra_hit_rate", "swap_ra_hit / swap_ra", ""),
    ("lookups", "swap-cache lookups", ""),
    ("mean_depth", "mean lookup depth", "levels"),
    ("metadata_static", "swap metadata, static", "bytes"),
    ("metadata_dynamic", "swap metadata, dynamic", "bytes"),
    ("zswpout", "zswpout", ""),
    ("zswpin", "zswpin", ""),
    ("zswpwb", "zswpwb", ""),
    ("swpout_zero", "swpout_zero", ""),
    ("vswap_lookup_hit_rate", "vswap lookup cache hit rate", ""),
    ("pgmigrate_success", "pgmigrate_success", ""),
    ("compact_stall", "compact_stall", ""),
    ("compact_daemon_wake", "compact_daemon_wake", ""),
    ("kcompactd_cpu_s", "kcompactd CPU", "s"),
    ("thp_fault_fallback", "thp_fault_fallback", ""),
)


def collect(m: Machine) -> Metrics:
    """The compared metrics of a finished run."""
    v = m.vm
    ends = [p.exit_ns if p.exited else m.now for p in m.procs]
    sim_s = (max(ends) if ends else m.now) / 1e9 or 1.0
    steal_k, steal_d = v["pgsteal_kswapd"], v["pgsteal_direct"]
    cache = m.swap_cache
    meta = m.swap_metadata()
    return {
        "runtime_s": sim_s,
        "throughput": v["swaptui_pages_touched"] / sim_s,
        "kswapd_cpu_s": v["swaptui_kswapd_cpu_ns"] / 1e9,
        "kcompactd_cpu_s": v["swaptui_kcompactd_cpu_ns"] / 1e9,
        "free_s": v["swaptui_unmap_free_ns"] / 1e9,
        "compact_stall": v["compact_stall"],
        "compact_daemon_wake": v["compact_daemon_wake"],
        "thp_fault_fallback": v["thp_fault_fallback"],
        "direct_cpu_s": v["swaptui_direct_reclaim_ns"] / 1e9,
        "pgsteal_kswapd": steal_k,
        "pgsteal_direct": steal_d,
        "kswapd_share": steal_k / (steal_k + steal_d) if steal_k + steal_d else 0.0,
        "allocstall": v["allocstall_movable"],
        "pswpout": v["pswpout"],
        "pswpin": v["pswpin"],
        "swap_ra": v["swap_ra"],
        "swap_ra_hit_rate": v["swap_ra_hit"] / v["swap_ra"] if v["swap_ra"] else 0.0,
        "lookups": cache.lookups,
        "mean_depth": cache.hops / cache.lookups if cache.lookups else 0.0,
        "metadata_static": meta.static,
        "metadata_dynamic": meta.dynamic,
        "zswpout": v["zswpout"],
        "zswpin": v["zswpin"],
        "zswpwb": v["zswpwb"],
        "swpout_zero": v["swpout_zero"],
        "vswap_lookup_hit_rate": (
            m.vswap.lookup_hits / (m.vswap.lookup_hits + m.vswap.lookup_misses)
            if m.vswap is not None and m.vswap.lookup_hits
            else 0.0
        ),
        "pgmigrate_success": v["pgmigrate_success"],
        "lookups_by_kind": {k: [int(x) for x in h] for k, h in m.lookup_depths().items()},
    }


def run_designs(
    scenario,
    designs: list[str],
    ticks: int,
    progress: Callable[[str, int], None] | None = None,
    series: dict[str, SeriesRecorder] | None = None,
    every: int = 1,
) -> dict[str, Metrics]:
    """Run the scenario once per design for `ticks` ticks; metrics by design. Given a `series` dict, also
    keep each design's plotted counters every `every` ticks in it (by design)."""
    results: dict[str, Metrics] = {}
    for design in designs:
        s = scenario.model_copy(update={"swap": scenario.swap.model_copy(update={"design": design})})
        m = Machine(s)
        recorder = SeriesRecorder(every) if series is not None else None
        if recorder:
            recorder.row(m)
        done = 0
        while done < ticks:
            n = min(100 - done % 100, ticks - done)
            if recorder:
                n = min(n, every - done % every)
            m.step(n)
            done += n
            if recorder:
                recorder.row(m)
            if progress and (done % 100 == 0 or done == ticks):
                progress(design, done)
        if recorder and series is not None:
            recorder.finish(m)
            series[design] = recorder
        results[design] = collect(m)
    return results


def _fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{int(value):,}"


def _scalar(metrics: Metrics, key: str) -> float:
    value = metrics[key]
    if isinstance(value, dict):
        raise TypeError(f"metric {key!r} is not a number")
    return value


def _cells(results: dict[str, Metrics], key: str) -> list[str]:
    """A metric's value under each design, with its difference against the first."""
    designs = list(results)
    ref = _scalar(results[designs[0]], key)
    cells = []
    for d in designs:
        value = _scalar(results[d], key)
        cell = _fmt(value)
        if d != designs[0] and ref:
            cell += f" ({(value - ref) / ref:+.1%})"
        cells.append(cell)
    return cells


def render_markdown(results: dict[str, Metrics], title: str) -> str:
    """The comparison as a markdown table that pastes into a mail: a row per metric, a column per design."""
    from swaptui.text import markdown_table, printable

    rows = [[label, *_cells(results, key), unit] for key, label, unit in METRICS]
    return f"**{printable(title)}**\n\n" + markdown_table(["metric", *results, "unit"], rows)


def render(results: dict[str, Metrics], title: str) -> str:
    """The comparison as a table: a row per metric, a column per design, differences against the first."""
    from rich.console import Console
    from rich.table import Table

    designs = list(results)
    table = Table(title=title)
    table.add_column("metric")
    for d in designs:
        table.add_column(d, justify="right")
    table.add_column("unit")
    for key, label, unit in METRICS:
        table.add_row(label, *_cells(results, key), unit)
    depth = Table(title="lookups by kind and XArray depth (d0 = no tree walked)")
    depth.add_column("design")
    depth.add_column("kind of lookup")
    depth.add_column("lookups", justify="right")
    depth.add_column("mean depth", justify="right")
    depth.add_column("by depth d0 d1 d2 d3 ...")
    for d in designs:
        by_kind = results[d].get("lookups_by_kind", {})
        for kind, hist in by_kind.items() if isinstance(by_kind, dict) else ():
            n = sum(hist)
            mean = sum(i * x for i, x in enumerate(hist)) / n if n else 0.0
            last = max((i for i, x in enumerate(hist) if x), default=0)
            depth.add_row(d, kind, f"{n:,}", f"{mean:.2f}", " ".join(f"{x:,}" for x in hist[: last + 1]))
    buf = io.StringIO()
    console = Console(file=buf, width=140, color_system=None)
    console.print(table)
    console.print(depth)
    return buf.getvalue()
