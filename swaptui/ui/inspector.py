"""The inspector: what a selected frame cell, swap cluster or counter is, what it means, and its recent history.

It stays open beside the panes and follows the frames (ten times a second while running), so you can
select a cluster, press space and watch it fill. For a counter its history is the run's per-tick
samples; for a cell or a cluster, the values it has seen while open (a small ring).
"""

from __future__ import annotations

import textwrap
from collections import deque

import numpy as np
from textual.containers import VerticalScroll
from textual.content import Content

from swaptui.model.swapfile import CLUSTER_FLAG_NAMES, SWAPFILE_CLUSTER
from swaptui.model.vmstat import GAUGES, HELP, INDEX
from swaptui.ui.cells import (
    CLUSTER_MEANING,
    DISPLAY_GLYPHS,
    DISPLAY_KEYS,
    DISPLAY_MEANING,
    DISPLAY_NAMES,
    NR_DISPLAY,
    cached_clusters,
    cell_counts,
)
from swaptui.ui.metrics import format_rate, sparkline
from swaptui.ui.panes.base import FittedText
from swaptui.ui.stepper import Frame
from swaptui.units import format_size

HISTORY = 64


def wrapped(text: str, width: int, style: str = "") -> list[Content]:
    """A paragraph as lines of at most `width` cells."""
    return [Content.styled(line, style) for line in textwrap.wrap(text, max(10, width))] or [Content("")]


class Inspector(VerticalScroll):
    """A side panel about one thing: ("frame", (lo, hi)), ("cluster", (lo, hi)) or ("counter", name)."""

    def __init__(self) -> None:
        super().__init__(id="inspector")
        self.border_title = "Inspector"
        self.border_subtitle = "esc closes"
        self.selection: tuple[str, tuple[int, int] | str] | None = None
        self.frame: Frame | None = None
        self._seen: deque[tuple[int, float]] = deque(maxlen=HISTORY)

    def compose(self):
        yield FittedText(id="inspector-body")

    def inspect(self, kind: str, key: tuple[int, int] | str) -> None:
        """Show something new; its history starts now."""
        if self.selection != (kind, key):
            self._seen.clear()
        self.selection = (kind, key)
        self.refresh_view()

    def show_frame(self, frame: Frame) -> None:
        """Follow a new frame."""
        self.frame = frame
        if self.display and self.selection is not None:
            self.refresh_view()

    def refresh_view(self) -> None:
        """Rebuild the text from the selection and the current frame."""
        if self.frame is None or self.selection is None:
            return
        frame = self.frame
        kind, key = self.selection
        width = max(20, self.content_size.width or 40)
        if kind == "frame" and isinstance(key, tuple):
            body = self._frames(frame, *key, width)
        elif kind == "cluster" and isinstance(key, tuple):
            body = self._clusters(frame, *key, width)
        else:
            body = self._counter(frame, str(key), width)
        self.query_one("#inspector-body", FittedText).show(body)

    def _remember(self, frame: Frame, value: float) -> np.ndarray:
        tick = frame.snapshot.tick
        if self._seen and self._seen[-1][0] > tick:
            self._seen.clear()  # the cursor went back in time
        if not self._seen or self._seen[-1][0] != tick:
            self._seen.append((tick, value))
        return np.array([v for _, v in self._seen], dtype=float)

    def _frames(self, frame: Frame, lo: int, hi: int, width: int) -> Content:
        s = frame.snapshot
        counts = cell_counts(s.frame_state, s.frame_lru, lo, hi)
        n = max(1, hi - lo)
        used = int(counts.sum() - counts[0] - counts[1])
        history = self._remember(frame, used / n)
        out = [
            Content.styled(f"Frames {lo:,}–{hi - 1:,}", "bold"),
            Content(
                f"PFN {lo:#x}–{hi - 1:#x} · {format_size(n * 4096, figures=3)} · pageblock {lo // 512:,}"
                f"{'–' + format(((hi - 1) // 512), ',') if (hi - 1) // 512 != lo // 512 else ''}"
            ),
            Content(""),
        ]
        for d in np.argsort(-counts, kind="stable"):
            if counts[d] == 0:
                continue
            out.append(
                Content.assemble(
                    (DISPLAY_GLYPHS[d], f"bold $frame-{DISPLAY_KEYS[d]}"),
                    f" {DISPLAY_NAMES[d]:<14}",
                    (f"{int(counts[d]):>8,}", "bold"),
                    f" {counts[d] / n * 100:5.1f}%",
                )
            )
        out.append(Content(""))
        out.append(Content.styled("in use (not free or pcp) while open:", "$text-muted"))
        out.append(Content.styled(sparkline(history, min(HISTORY, width), 0, 1), "$primary"))
        out.append(Content(""))
        for d in range(NR_DISPLAY):
            if counts[d]:
                out += wrapped(DISPLAY_MEANING[d], width, "$text-muted")
        return Content("\n").join(out)

    def _clusters(self, frame: Frame, lo: int, hi: int, width: int) -> Content:
        s = frame.snapshot
        cached, owners = cached_clusters(s.percpu_offset, len(s.cluster_flags))
        ncpus = s.percpu_offset.shape[0] - 1 if s.percpu_offset.size else 0
        counts = s.cluster_count[lo:hi]
        fill = float(counts.sum()) / (SWAPFILE_CLUSTER * max(1, hi - lo))
        history = self._remember(frame, fill)
        dev = next((d for d in s.devices if d.first_cluster <= lo < d.first_cluster + d.nr_clusters), None)
        out = []
        if hi - lo == 1:
            flag = int(s.cluster_flags[lo])
            name = CLUSTER_FLAG_NAMES[flag]
            who = owners.get(lo, [])
            cpu_names = ", ".join("kswapd" if c == ncpus else f"CPU {c}" for c in who)
            out += [
                Content.styled(f"Cluster {lo:,}", "bold"),
                *wrapped(
                    f"device {dev.name} ({dev.kind}), its cluster {lo - dev.first_cluster:,} of {dev.nr_clusters:,}"
                    if dev
                    else "device —",
                    width,
                ),
                Content(f"slots {lo * SWAPFILE_CLUSTER:,}–{(lo + 1) * SWAPFILE_CLUSTER - 1:,}"),
                Content(""),
                Content.assemble(("list   ", "$text-muted"), (name, f"bold $cluster-{name}")),
                Content.assemble(
                    ("count  ", "$text-muted"),
                    (f"{int(counts[0])}/{SWAPFILE_CLUSTER}", "bold"),
                    f" ({fill * 100:.0f}% used)",
                ),
                Content.assemble(
                    ("order  ", "$text-muted"), (f"{int(s.cluster_order[lo]) if len(s.cluster_order) else 0}", "bold")
                ),
                Content.assemble(
                    ("cached ", "$text-muted"),
                    (f"▲ by {cpu_names}" if who else "no CPU caches it", "bold" if who else ""),
                ),
                Content(""),
                *wrapped(CLUSTER_MEANING.get(name, ""), width, "$text-muted"),
            ]
        else:
            flags = np.bincount(s.cluster_flags[lo:hi], minlength=len(CLUSTER_FLAG_NAMES))
            out += [
                Content.styled(f"Clusters {lo:,}–{hi - 1:,} (one cell)", "bold"),
                Content(f"device {dev.name}" if dev else ""),
                Content(f"slots {lo * SWAPFILE_CLUSTER:,}–{hi * SWAPFILE_CLUSTER - 1:,} · {fill * 100:.0f}% used"),
                Content(""),
                *[Content(f"{CLUSTER_FLAG_NAMES[k]:<8} {int(flags[k]):>6,}") for k in range(len(flags)) if flags[k]],
                Content(f"CPU-cached {int(cached[lo:hi].sum())}"),
            ]
        out += [
            Content(""),
            Content.styled("fill while open:", "$text-muted"),
            Content.styled(sparkline(history, min(HISTORY, width), 0, 1), "$primary"),
        ]
        return Content("\n").join(out)

    def _counter(self, f: Frame, name: str, width: int) -> Content:
        h = f.history
        value = f.snapshot.counter(name)
        rate = h.rate(name)
        gauge = name in GAUGES
        self._remember(f, value)
        points = min(HISTORY, width - 2)
        series = h.value_series(name, points) if gauge else h.rate_series(name, points)
        col = h.column(name) if len(h) else np.zeros(0)
        out = [
            Content.styled(name, "bold"),
            Content.styled("gauge: set every tick" if gauge else "event counter: only grows", "$text-muted"),
            Content(""),
            *wrapped(HELP.get(name, ""), width),
            Content(""),
            Content.assemble(("value  ", "$text-muted"), (f"{value:,}", "bold")),
            Content.assemble(
                ("Δ/s    ", "$text-muted"), (format_rate(rate), "bold"), ("  over 0.1 s simulated", "$text-muted")
            ),
            Content.assemble(
                ("range  ", "$text-muted"),
                f"{int(col.min()):,} … {int(col.max()):,}" if len(col) else "—",
                (f"  over the last {len(h)} ticks", "$text-muted"),
            ),
            Content(""),
            Content.styled("value over time" if gauge else "rate over time", "$text-muted"),
            Content.styled(sparkline(series, points, 0), "$primary"),
            Content.styled(f"/proc/vmstat index {INDEX[name]}", "$text-muted"),
        ]
        return Content("\n").join(out)
