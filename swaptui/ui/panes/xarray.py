"""Pane 4, XArray and lookups: the active swap design's trees, their depth and nodes, lookups per tick by depth."""

from __future__ import annotations

import numpy as np
from textual.content import Content

from swaptui.model.xarray import XA_NODE_BYTES
from swaptui.ui.metrics import format_pages, format_rate, sparkline
from swaptui.ui.panes.base import TextPane, from_kernel, label, lines, not_exported, row
from swaptui.ui.stepper import Frame
from swaptui.units import format_size


class XArrayPane(TextPane):
    """How deep a swap-cache lookup walks, and what the tree costs in memory."""

    PANE_ID = "xarray"

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        if from_kernel(frame):
            return self._kernel(frame, width, height)
        s = frame.snapshot
        h = frame.history
        hist = s.xa_depth_hist
        per_tick = np.array([h.per_tick(f"swaptui_xa_lookups_depth{d}") or 0.0 for d in range(4)])
        heights = np.bincount(s.xa_tree_heights, minlength=4) if len(s.xa_tree_heights) else np.zeros(4, int)
        trees = len(s.xa_tree_heights)
        span = 1 << s.xa_span_shift
        lookups = h.rate("swaptui_xa_lookups")
        hops = h.delta("swaptui_xa_hops")
        looks = h.delta("swaptui_xa_lookups")
        per = hops / looks if looks else None
        top = max(1.0, float(per_tick.max()))
        depth_parts = []
        for d in range(4):
            v = float(per_tick[d])
            depth_parts.append(
                Content.assemble(
                    (f"d{d} ", "$text-muted"), (sparkline([v], 1, 0, top), "$primary"), (f" {v:,.0f}", "bold")
                )
            )
        design = s.design
        what = {
            "classic": f": an XArray per {span * 4096 >> 20} MiB of swap",
            "swap_table": ": per-cluster tables, no XArray (depth 0, 2 loads)",
            "vswap": ": vswap_cluster_map, keyed by virtual cluster id",
        }.get(design, "")
        out = [
            row(label("design"), (design, "bold"), (what, "$text-muted")),
            row(
                label("trees"),
                (f"{trees:,}", "bold"),
                (" by height ", "$text-muted"),
                *[(f"{d}:{int(heights[d]):,} ", "" if heights[d] else "$text-muted") for d in range(4)],
            ),
            row(
                label("nodes"),
                (f"{s.xa_nodes:,}", "bold"),
                f" xa_node · {format_size(s.xa_nodes * XA_NODE_BYTES, figures=3)}",
            ),
            row(
                label("entries"),
                (f"{s.xa_entries:,}", "bold"),
                (" = folios ", "$text-muted"),
                f"{s.swap_cache_pages:,}",
                (" + shadows ", "$text-muted"),
                f"{max(0, s.xa_entries - s.swap_cache_pages):,}",
            )
            if design == "classic"
            else row(
                label("entries"),
                (f"{s.xa_entries:,}", "bold"),
                (" clusters in the map" if design == "vswap" else " (no XArray)", "$text-muted"),
            ),
            row(
                label("lookups"),
                (format_rate(lookups), "bold"),
                " · ",
                (f"{per:.2f}" if per is not None else "—", "bold"),
                " hops each",
            ),
            row(label("per tick"), Content("  ").join(depth_parts)),
            row(label("by depth"), *[(f"d{d} {int(hist[d]):,}  ", "$text-muted") for d in range(min(4, len(hist)))]),
        ]
        if design == "swap_table":
            out.append(
                row(
                    label("tables"),
                    (f"{s.counter('swaptui_swap_tables'):,}", "bold"),
                    f" × 4 KiB = {format_size(s.counter('swaptui_swap_tables') * 4096, figures=3)}",
                )
            )
        elif design == "vswap":
            hits, miss = s.counter("swaptui_vswap_lookup_hits"), s.counter("swaptui_vswap_lookup_misses")
            out.append(
                row(
                    label("vclust"),
                    (f"{s.counter('swaptui_vswap_clusters'):,}", "bold"),
                    f" × 12 KiB descriptors = {format_size(s.counter('swaptui_vswap_clusters') * 12352, figures=3)}",
                )
            )
            out.append(
                row(label("lkcache"), (f"{hits:,}", "bold"), " hits · ", (f"{miss:,}", "bold"), " walks (lookup_cache)")
            )
        return lines(*[r.truncate(width) for r in out], height=height)

    def _kernel(self, frame: Frame, width: int, height: int) -> Content:
        """A real kernel: the swap cache's size and readahead are counted; its XArray's shape and lookups are not."""
        s = frame.snapshot
        h = frame.history
        out = [
            row(label("design"), ("kernel", "bold"), (" · its swap cache gives counts only", "$text-muted")),
            row(
                label("cache"),
                (f"{s.swap_cache_pages:,}", "bold"),
                f" pages · {format_pages(s.swap_cache_pages)}",
                (" nr_swapcached", "$text-muted"),
            ),
            row(
                label("swap_ra"),
                (format_rate(h.rate("swap_ra")), "bold"),
                " pages · ",
                (format_rate(h.rate("swap_ra_hit")), "bold"),
                " hits",
            ),
            row(label("trees"), not_exported("height, nodes")),
            row(label("lookups"), not_exported("depth")),
        ]
        return lines(*[r.truncate(width) for r in out], height=height)
