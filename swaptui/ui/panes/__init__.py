"""The panes, one module each; this registry numbers them (the 1-9 keys) without importing any widget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaneInfo:
    """A pane's number (its key), DOM id, title and the short name on the tab strip."""

    number: int
    id: str
    title: str
    short: str


PANES: tuple[PaneInfo, ...] = (
    PaneInfo(1, "memory", "Memory map", "memory"),
    PaneInfo(2, "watermarks", "Watermarks & reclaim", "reclaim"),
    PaneInfo(3, "clusters", "Swap clusters", "clusters"),
    PaneInfo(4, "xarray", "XArray & lookups", "xarray"),
    PaneInfo(5, "caches", "Cache hit rates", "caches"),
    PaneInfo(6, "fragmentation", "Fragmentation", "frag"),
    PaneInfo(7, "counters", "Counters (/proc/vmstat)", "counters"),
    PaneInfo(8, "events", "Events", "events"),
    PaneInfo(9, "tasks", "Tasks", "tasks"),
)
PANE_BY_ID = {p.id: p for p in PANES}
PANE_BY_NUMBER = {p.number: p for p in PANES}
