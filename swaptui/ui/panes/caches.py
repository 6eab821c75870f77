"""Pane 5, cache hit rates: swap cache, readahead, zswap, the per-CPU cluster cache, vswap's lookup cache."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from textual.content import Content

from swaptui.ui.metrics import History, format_percent, sparkline
from swaptui.ui.panes.base import TextPane, from_kernel, lines, not_modelled, row
from swaptui.ui.stepper import Frame

# (name, hit counters, total counters, how it is counted)
RATES = (
    ("swap cache", ("swap_ra_hit",), ("swap_ra_hit", "pgmajfault"), "ra_hit/(ra_hit+majflt)"),
    ("readahead", ("swap_ra_hit",), ("swap_ra",), "swap_ra_hit/swap_ra"),
    ("workingset", ("workingset_activate_anon",), ("workingset_refault_anon",), "activate/refault"),
)
SLOTS = ("pswpout", "swpout_zero")


def cluster_cache_ratio(h: History) -> float | None:
    """Share of swap slots allocated without the slow path (from a CPU's cached cluster), over the rate window."""
    slots = sum(h.delta(n) for n in SLOTS)
    return 1 - h.delta("swaptui_slow_path_allocs") / slots if slots > 0 else None


def cluster_cache_series(h: History, points: int) -> np.ndarray:
    """That share per time bucket (NaN where nothing was swapped out)."""
    if len(h) < 2:
        return np.zeros(0)
    edges = np.unique(np.linspace(0, len(h) - 1, min(points, len(h) - 1) + 1).round().astype(int))
    slow = np.diff(h.column("swaptui_slow_path_allocs")[edges])
    slots = np.diff(np.add.reduce([h.column(n) for n in SLOTS])[edges])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(slots > 0, 1 - slow / np.maximum(slots, 1), np.nan)


def zswap_line(h: History, line: Callable[[str, float | None, np.ndarray, str], Content], points: int) -> Content:
    """zswap's hit rate: swap-ins it served of all swap-ins (the model and a real kernel count it alike)."""
    hits, total = ("zswpin",), ("zswpin", "pswpin")
    return line("zswap", h.ratio(hits, total), h.ratio_series(hits, total, points), "zswpin/(zswpin+pswpin)")


class CachesPane(TextPane):
    """Each cache: its hit rate now (over 0.1 s simulated), a sparkline of it, and how it is counted."""

    PANE_ID = "caches"

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        h = frame.history
        spark_w = max(4, min(32, width - 12 - 5 - 2 - 24))

        def line(name: str, ratio: float | None, series: np.ndarray, how: str) -> Content:
            return row(
                (name.ljust(12), "bold"),
                (format_percent(ratio).rjust(5), "bold"),
                "  ",
                (sparkline(series, spark_w, 0, 1), "$primary"),
                ("  " + how, "$text-muted"),
            )

        out = [
            line(name, h.ratio(hits, total), h.ratio_series(hits, total, spark_w), how)
            for name, hits, total, how in RATES
        ]
        if from_kernel(frame):
            return self._kernel(frame, out, line, spark_w, width, height)
        out.insert(
            2, line("cpu cluster", cluster_cache_ratio(h), cluster_cache_series(h, spark_w), "1 − slow-path/slots")
        )
        if frame.snapshot.counter("zswpout") or frame.snapshot.counter("swaptui_zswap_pool_pages"):
            out.insert(2, zswap_line(h, line, spark_w))
        else:
            out.insert(2, row(("zswap".ljust(12), "bold"), "    —  ", not_modelled("off (swap.zswap.enabled)")))
        if frame.snapshot.design == "vswap":
            hits, total = ("swaptui_vswap_lookup_hits",), ("swaptui_vswap_lookup_hits", "swaptui_vswap_lookup_misses")
            out.append(
                line(
                    "vswap lookup",
                    h.ratio(hits, total),
                    h.ratio_series(hits, total, spark_w),
                    "per-CPU MRU cluster hits",
                )
            )
        else:
            out.append(
                row(("vswap lookup".ljust(12), "bold"), "    —  ", not_modelled(f"design is {frame.snapshot.design}"))
            )
        out.append(row(("now: last 0.1 s simulated · —: nothing to count", "$text-muted")))
        return lines(*[r.truncate(width) for r in out], height=height)

    def _kernel(self, frame: Frame, out: list[Content], line, spark_w: int, width: int, height: int) -> Content:
        """A real kernel's caches: the per-CPU cluster cache is not counted in /proc/vmstat; vswap is not upstream."""
        h = frame.history
        s = frame.snapshot
        muted = "$text-muted italic"
        out.insert(2, row(("cpu cluster".ljust(12), "bold"), "    —  ", ("not exported by the kernel", muted)))
        if s.counter("zswpout") or s.counter("zswpin"):
            out.insert(2, zswap_line(h, line, spark_w))
        elif "zswpout" in getattr(s, "exported", ()):
            out.insert(2, row(("zswap".ljust(12), "bold"), "    —  ", ("no stores (zswpout = 0)", muted)))
        else:
            out.insert(2, row(("zswap".ljust(12), "bold"), "    —  ", ("zswpout not exported", muted)))
        out.append(row(("vswap lookup".ljust(12), "bold"), "    —  ", ("not in this kernel", muted)))
        out.append(row(("now: the last sample interval (0.1 s or more) · —: nothing to count", "$text-muted")))
        return lines(*[r.truncate(width) for r in out], height=height)
