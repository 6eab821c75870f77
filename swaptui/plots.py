"""Figures (`--plot`, the `plot` extra): a sweep's column against a swept key, and a run's or a comparison's
counters over time. matplotlib is imported only when a figure is drawn; every figure is sized to be read
at 800 px wide (in a mail to linux-mm) and written whole or not at all by output.write_bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from swaptui.output import write_bytes

if TYPE_CHECKING:
    from swaptui.report import SeriesRecorder

EXTENSIONS = (".png", ".svg")
DPI = 100
WIDTH_IN = 8.0  # x DPI = 800 px

# The panels of a series plot: (title, ((counter, line style), ...)). The line style tells two counters of a
# panel apart (a legend in the panel says which is which); the colour tells the designs apart. Every counter
# is one of report.PLOTTED.
PANELS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("free pages (nr_free_pages)", (("nr_free_pages", "-"),)),
    ("pages swapped out and in", (("pswpout", "-"), ("pswpin", "--"))),
    ("pages scanned, kswapd and direct", (("pgscan_kswapd", "-"), ("pgscan_direct", "--"))),
    ("pages reclaimed, kswapd and direct", (("pgsteal_kswapd", "-"), ("pgsteal_direct", "--"))),
    ("direct reclaim entries (allocstall_movable)", (("allocstall_movable", "-"),)),
    ("anon refaults (workingset_refault_anon)", (("workingset_refault_anon", "-"),)),
)


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out: str, force: bool) -> None:
    """Render the figure as PNG or SVG (by the name's extension) and write it atomically."""
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="svg" if out.endswith(".svg") else "png", dpi=DPI)
    finally:
        plt.close(fig)
    write_bytes(out, buf.getvalue(), force)


def plot_series(series: dict[str, SeriesRecorder], title: str, subtitle: str, out: str, force: bool) -> None:
    """Small multiples of the counters that matter over simulated time, one line per design (by colour)."""
    plt = _pyplot()
    from matplotlib.ticker import EngFormatter, MaxNLocator

    rows = math.ceil(len(PANELS) / 2)
    fig, axes = plt.subplots(rows, 2, figsize=(WIDTH_IN, 2.25 * rows + 0.9), dpi=DPI, sharex=True, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    data = {design: recorder.series() for design, recorder in series.items()}
    for ax, (panel, counters) in zip(axes.flat, PANELS):
        for i, (design, values) in enumerate(data.items()):
            seconds = series[design].seconds
            for counter, style in counters:
                ax.plot(seconds, values[counter], style, color=colours[i % len(colours)], linewidth=1.4)
        if counters[0][0] == "nr_free_pages":
            _, low, high = next(iter(series.values())).watermarks
            ax.axhspan(low, high, color="0.5", alpha=0.25, linewidth=0)
            ax.annotate(
                "low–high watermarks", (1, high), xycoords=("axes fraction", "data"), xytext=(-3, 3),
                textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.3",
            )  # fmt: skip
        if len(counters) > 1:
            ax.legend(
                [plt.Line2D([], [], color="0.3", linestyle=style, linewidth=1.4) for _, style in counters],
                [counter for counter, _ in counters],
                loc="upper left", fontsize=8, frameon=False, handlelength=2.5,
            )  # fmt: skip
        ax.set_title(panel, fontsize=9, loc="left")
        # Counts of pages and events: whole-number ticks (no "800m" on an axis up to 1), five or so of them.
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=True))
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes.flat[len(PANELS) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("simulated time (s)", fontsize=8)
        ax.set_xlim(left=0)
    handles = [plt.Line2D([], [], color=colours[i % len(colours)], linewidth=2) for i in range(len(data))]
    fig.legend(handles, list(data), loc="outside lower center", ncol=len(data), fontsize=9, frameon=False)
    fig.suptitle(f"{title}\n{subtitle}", fontsize=10, x=0.01, ha="left")
    _save(fig, out, force)


def plot_sweep(
    rows: list[dict[str, Any]], keys: Sequence[str], x: str, counter: str, title: str, out: str, force: bool
) -> None:
    """Plot a column's mean (± sd over seeds) against a swept key, one line per value of the other keys."""
    plt = _pyplot()
    others = [k for k in keys if k != x]
    order: list[str] = []
    lines: dict[tuple[str, ...], dict[str, list[float]]] = {}
    for row in sorted(rows, key=lambda r: (int(r["point"]), int(r["seed"]))):
        if str(row[x]) not in order:
            order.append(str(row[x]))
        if row.get("error"):
            continue
        lines.setdefault(tuple(str(row[k]) for k in others), {}).setdefault(str(row[x]), []).append(float(row[counter]))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 4.5), dpi=DPI)
    for other, points in lines.items():
        xs = [order.index(v) for v in order if v in points]
        means = [sum(points[v]) / len(points[v]) for v in order if v in points]
        sds = [
            math.sqrt(sum((p - m) ** 2 for p in points[v]) / (len(points[v]) - 1)) if len(points[v]) > 1 else 0.0
            for v, m in zip((v for v in order if v in points), means)
        ]
        label = ", ".join(f"{k}={v}" for k, v in zip(others, other)) or counter
        ax.errorbar(xs, means, yerr=sds, marker="o", capsize=3, label=label)
    ax.set_xticks(range(len(order)), order)
    ax.set_xlabel(x)
    ax.set_ylabel(counter)
    ax.set_title(f"{title}: {counter} by {x} (mean ± sd over seeds)", fontsize=10)
    ax.grid(True, alpha=0.3)
    if others:
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out, force)
