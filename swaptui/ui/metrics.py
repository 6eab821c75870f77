"""Pure numbers for the panes: fragmentation indices, per-second rates, hit ratios, sparklines, captions.

No Textual import: everything here is plain Python and numpy, unit-tested on its own. The
fragmentation formulas live in the model (swaptui.model.fragmentation, the kernel's mm/vmstat.c in
its integer arithmetic); their names are re-exported here for the panes, with `contig_page_info`
standing for `fill_contig_page_info`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from swaptui.model.fragmentation import (  # noqa: F401  (re-exported: the names the panes and tests use)
    MAX_PAGE_ORDER,
    NR_PAGE_ORDERS,
    ContigPageInfo,
    fragmentation_index,
    unusable_free_index,
)
from swaptui.model.fragmentation import fill_contig_page_info as contig_page_info  # noqa: F401
from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.page_alloc import PAGEBLOCK_ORDER  # noqa: F401
from swaptui.model.snapshot import SAMPLE_NAMES
from swaptui.units import format_size

SPARK = "▁▂▃▄▅▆▇█"
INDEX = {name: i for i, name in enumerate(SAMPLE_NAMES)}


# -- fragmentation (formulas: swaptui.model.fragmentation) --------------------------------------------


# -- counter history ---------------------------------------------------------------------------------


class HistoryRing:
    """Per-tick counter samples of the cursor's recent past, kept by the stepper (not thread-shared)."""

    def __init__(self, capacity: int = 2048, width: int = len(SAMPLE_NAMES)) -> None:
        self.capacity = capacity
        self.ticks = np.zeros(capacity, dtype=np.int64)
        self.times = np.zeros(capacity, dtype=np.int64)
        self.values = np.zeros((capacity, width), dtype=np.int64)
        self.start = 0
        self.size = 0

    def _pos(self, i: int) -> int:
        return (self.start + i) % self.capacity

    @property
    def last_tick(self) -> int:
        """The newest sample's tick, or -1."""
        return int(self.ticks[self._pos(self.size - 1)]) if self.size else -1

    def append(self, tick: int, time_ns: int, values: np.ndarray) -> None:
        """Add a sample; samples must come in increasing tick order (older or equal ticks are ignored)."""
        if self.size and tick <= self.last_tick:
            return
        if self.size == self.capacity:
            self.start = (self.start + 1) % self.capacity
            self.size -= 1
        p = self._pos(self.size)
        self.ticks[p] = tick
        self.times[p] = time_ns
        self.values[p] = values
        self.size += 1

    def amend(self, tick: int, values: np.ndarray) -> None:
        """Overwrite the leading columns of the sample at `tick` (if it is the newest), e.g. with a snapshot's gauges."""
        if self.size and self.last_tick == tick:
            self.values[self._pos(self.size - 1), : len(values)] = values

    def truncate_after(self, tick: int) -> None:
        """Forget samples newer than `tick` (after a rewind, they are the future)."""
        while self.size and self.last_tick > tick:
            self.size -= 1

    def view(self, last: int | None = None, upto: int | None = None) -> History:
        """A read-only copy of the newest `last` samples (all by default) at or before tick `upto`, oldest first."""
        end = self.size
        if upto is not None:
            ordered = self.ticks[(self.start + np.arange(self.size)) % self.capacity]
            end = int(np.searchsorted(ordered, upto, side="right"))
        n = end if last is None else min(last, end)
        idx = (self.start + np.arange(end - n, end)) % self.capacity
        return History(self.ticks[idx], self.times[idx], self.values[idx])


@dataclass(frozen=True, eq=False)
class History:
    """Samples in tick order: `values[i]` are the counters (SAMPLE_NAMES) at `ticks[i]` (simulated `times[i]` ns)."""

    ticks: np.ndarray
    times: np.ndarray
    values: np.ndarray

    @classmethod
    def empty(cls) -> History:
        """No samples yet."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, len(SAMPLE_NAMES)), np.int64))

    def __len__(self) -> int:
        return len(self.ticks)

    def column(self, name: str) -> np.ndarray:
        """One counter's samples."""
        return self.values[:, INDEX[name]]

    def _window_start(self, window_ns: int) -> int:
        """Index of the oldest sample inside the window ending at the newest one (at least one step back)."""
        if len(self.ticks) < 2:
            return 0
        lo = int(np.searchsorted(self.times, self.times[-1] - window_ns, side="left"))
        return min(lo, len(self.ticks) - 2)

    def rate(self, name: str, window_ns: int = 100_000_000) -> float | None:
        """Per simulated second over the window ending now (None with fewer than two samples)."""
        rates = self.rates(window_ns)
        return None if rates is None else float(rates[INDEX[name]])

    def rates(self, window_ns: int = 100_000_000) -> np.ndarray | None:
        """Every counter's change per simulated second over the window ending now."""
        if len(self.ticks) < 2:
            return None
        lo = self._window_start(window_ns)
        dt = int(self.times[-1] - self.times[lo])
        if dt <= 0:
            return None
        return (self.values[-1] - self.values[lo]) * (1e9 / dt)

    def delta(self, name: str, window_ns: int = 100_000_000) -> int:
        """A counter's change over the window ending now."""
        if len(self.ticks) < 2:
            return 0
        lo = self._window_start(window_ns)
        col = INDEX[name]
        return int(self.values[-1, col] - self.values[lo, col])

    def per_tick(self, name: str, window_ns: int = 100_000_000) -> float | None:
        """A counter's mean change per tick over the window ending now (None with fewer than two samples)."""
        if len(self.ticks) < 2:
            return None
        lo = self._window_start(window_ns)
        ticks = int(self.ticks[-1] - self.ticks[lo])
        return self.delta(name, window_ns) / ticks if ticks > 0 else None

    def rate_series(self, name: str, points: int) -> np.ndarray:
        """Per-second rate in up to `points` equal time buckets over the whole history, oldest first."""
        return self._bucketed(lambda lo, hi: self._rate_between(name, lo, hi), points)

    def ratio_series(self, hits: Sequence[str], total: Sequence[str], points: int) -> np.ndarray:
        """sum(hits)/sum(total) per time bucket (NaN where nothing happened)."""

        def ratio(lo: int, hi: int) -> float:
            h = sum(int(self.values[hi, INDEX[n]] - self.values[lo, INDEX[n]]) for n in hits)
            t = sum(int(self.values[hi, INDEX[n]] - self.values[lo, INDEX[n]]) for n in total)
            return h / t if t > 0 else float("nan")

        return self._bucketed(ratio, points)

    def value_series(self, name: str, points: int) -> np.ndarray:
        """A gauge's value at the end of each of up to `points` buckets."""
        return self._bucketed(lambda lo, hi: float(self.values[hi, INDEX[name]]), points)

    def ratio(self, hits: Sequence[str], total: Sequence[str], window_ns: int = 100_000_000) -> float | None:
        """sum(hits)/sum(total) over the window ending now, None when nothing happened."""
        t = sum(self.delta(n, window_ns) for n in total)
        if t <= 0:
            return None
        return sum(self.delta(n, window_ns) for n in hits) / t

    def _rate_between(self, name: str, lo: int, hi: int) -> float:
        dt = int(self.times[hi] - self.times[lo])
        if dt <= 0:
            return 0.0
        col = INDEX[name]
        return float(self.values[hi, col] - self.values[lo, col]) * 1e9 / dt

    def _bucketed(self, fn, points: int) -> np.ndarray:
        n = len(self.ticks)
        if n < 2 or points <= 0:
            return np.zeros(0)
        edges = np.linspace(0, n - 1, min(points, n - 1) + 1).round().astype(int)
        edges = np.unique(edges)
        return np.array([fn(int(a), int(b)) for a, b in pairwise(edges)], dtype=float)

    def all_rate_series(self, points: int) -> np.ndarray:
        """Every counter's per-second rate per time bucket: shape (buckets, counters)."""
        n = len(self.ticks)
        if n < 2 or points <= 0:
            return np.zeros((0, self.values.shape[1]))
        edges = np.unique(np.linspace(0, n - 1, min(points, n - 1) + 1).round().astype(int))
        dv = (self.values[edges[1:]] - self.values[edges[:-1]]).astype(float)
        dt = (self.times[edges[1:]] - self.times[edges[:-1]]).astype(float)
        dt[dt <= 0] = np.inf
        return dv * (1e9 / dt)[:, None]


# -- small text helpers -------------------------------------------------------------------------------


def sparkline(
    values: Sequence[float] | np.ndarray, width: int, lo: float | None = None, hi: float | None = None
) -> str:
    """Values (the newest last) as block characters, right-aligned in `width`; NaN shows as a gap."""
    vals = np.asarray(values, dtype=float)[-width:] if width > 0 else np.zeros(0)
    if len(vals) == 0:
        return " " * max(0, width)
    finite = vals[np.isfinite(vals)]
    if len(finite) == 0:
        return " " * (width - len(vals)) + "·" * len(vals)
    lo = float(finite.min()) if lo is None else lo
    hi = float(finite.max()) if hi is None else hi
    span = hi - lo
    out = []
    for v in vals:
        if not np.isfinite(v):
            out.append("·")
        elif span <= 0:
            out.append(SPARK[0] if v <= lo else SPARK[-1])
        else:
            k = int((min(max(v, lo), hi) - lo) / span * (len(SPARK) - 1) + 0.5)
            out.append(SPARK[k])
    return " " * (width - len(out)) + "".join(out)


def format_rate(rate: float | None) -> str:
    """A per-second rate, compact: 812/s, 12.3k/s, 1.20M/s ('—' when unknown)."""
    if rate is None or not np.isfinite(rate):
        return "—"
    a = abs(rate)
    sign = "-" if rate < 0 else ""
    if a >= 10e6:
        return f"{sign}{a / 1e6:.0f}M/s"
    if a >= 1e6:
        return f"{sign}{a / 1e6:.2f}M/s"
    if a >= 10e3:
        return f"{sign}{a / 1e3:.0f}k/s"
    if a >= 1e3:
        return f"{sign}{a / 1e3:.1f}k/s"
    if a >= 10 or a == 0:
        return f"{sign}{a:.0f}/s"
    return f"{sign}{a:.1f}/s"


def format_pages(pages: int) -> str:
    """Pages as bytes (4 KiB pages)."""
    return format_size(pages * PAGE_SIZE, figures=3)


def format_percent(ratio: float | None) -> str:
    """0.923 -> ' 92%'; None -> '  —'."""
    if ratio is None or not np.isfinite(ratio):
        return "  —"
    return f"{ratio * 100:3.0f}%"


def caption_at(captions: Sequence, time_ns: int) -> str | None:
    """The scenario caption shown at `time_ns`: from its `at` until its `until`, or until the next caption."""
    ordered = sorted(captions, key=lambda c: c.at)
    shown = None
    for i, c in enumerate(ordered):
        if c.at > time_ns:
            break
        end = c.until if c.until is not None else (ordered[i + 1].at if i + 1 < len(ordered) else None)
        if end is None or time_ns < end:
            shown = c.text
    return shown
