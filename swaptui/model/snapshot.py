"""The read-only view of one tick handed to panes and reporters; it never refers back to live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.compaction import compaction_view
from swaptui.model.memmap import FRAME_ANON, FRAME_STATE_NAMES
from swaptui.model.vmstat import INDEX, NAMES

if TYPE_CHECKING:
    from swaptui.model.machine import Machine


@dataclass(frozen=True)
class ProcessView:
    """One task as the outside sees it."""

    pid: int
    name: str
    kind: str
    resident: int
    swapped: int
    npages: int
    exited: bool
    killed: bool


@dataclass(frozen=True)
class DeviceView:
    """One swap device: usage and cluster lists."""

    name: str
    kind: str
    prio: int
    pages: int
    inuse: int
    first_cluster: int
    nr_clusters: int


@dataclass(frozen=True)
class Snapshot:
    """Everything a view may show about one tick: counters, gauges, arrays (copies) and events."""

    tick: int
    time_ns: int
    scenario_name: str
    design: str
    counters: np.ndarray  # int64 per vmstat.NAMES
    watermarks: tuple[int, int, int]
    managed_pages: int
    nr_free: int
    pcp_count: int
    free_area: tuple[int, ...]  # nr_free per order
    kswapd_state: str
    kswapd_priority: int
    kswapd_failures: int
    frame_state: np.ndarray  # uint8 per frame (copy)
    frame_lru: np.ndarray  # int8 per frame (copy)
    state_counts: np.ndarray
    cluster_flags: np.ndarray  # uint8 per cluster (copy)
    cluster_count: np.ndarray  # int32 per cluster (copy)
    devices: tuple[DeviceView, ...]
    swap_cache_pages: int
    xa_nodes: int
    xa_depth_hist: np.ndarray
    zram_pool_pages: int
    processes: tuple[ProcessView, ...]
    events: tuple = field(default_factory=tuple)
    lru_sizes: tuple[int, int, int, int] = (0, 0, 0, 0)
    kswapd_order: int = 0
    cluster_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))  # per cluster (copy)
    percpu_offset: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.int64)
    )  # [cpu, order]: next slot or -1; last row is kswapd's
    xa_tree_heights: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # levels per swap-cache tree
    xa_entries: int = 0  # swap-cache XArray entries: folios and shadows
    xa_span_shift: int = 14  # each tree covers 2**xa_span_shift slots
    # Where the data comes from: "model" (a Machine), "trace" (a recorded kernel trace) or "live" (this
    # machine's /proc). Panes say "not exported by the kernel" for fields a trace or /proc cannot fill.
    source: str = "model"
    # Buddy free blocks per [order, migratetype] (/proc/pagetypeinfo), migratetypes as page_alloc.MIGRATETYPE_NAMES.
    free_area_mt: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    pageblock_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))  # per pageblock (copy)
    # Compaction state (compaction.CompactionState.view()): scanners, deferral, kcompactd, proactive score.
    compaction: dict = field(default_factory=dict)
    # zsmalloc per size class (zsmalloc.ZsPool.class_stats()): one row per class in use, or None without a pool.
    zs_classes: np.ndarray | None = None
    # Swap clusters per order on the nonfull and frag lists (swapfile.SwapSlots.clusters_by_order()).
    swap_clusters_by_order: dict = field(default_factory=dict)
    # The story's beats that have fired up to this tick (story.FiredBeat), oldest first.
    beats: tuple = ()

    def counter(self, name: str) -> int:
        """A counter by its /proc/vmstat name."""
        return int(self.counters[NAMES.index(name)])


def frame_state_counts(state: np.ndarray, previous: Snapshot | None = None) -> np.ndarray:
    """Frames per FRAME_* state: from a previous snapshot's counts and the frames that changed since, if given
    (8 frames compared at a time), else a compare-and-count per state (4x faster than bincount on uint8)."""
    n = len(FRAME_STATE_NAMES)
    if previous is None or len(previous.frame_state) != len(state) or len(state) % 8:
        return np.array([np.count_nonzero(state == k) for k in range(n)], dtype=np.int64)
    old = previous.frame_state
    words = np.flatnonzero(state.view(np.uint64) != old.view(np.uint64))
    if len(words) > len(state) // 64:
        return np.array([np.count_nonzero(state == k) for k in range(n)], dtype=np.int64)
    idx = (words[:, None] * 8 + np.arange(8)).ravel()
    return (
        previous.state_counts + np.bincount(state[idx], minlength=n)[:n] - np.bincount(old[idx], minlength=n)[:n]
    ).astype(np.int64)


def build_snapshot(m: Machine, recent_events: int = 200, previous: Snapshot | None = None) -> Snapshot:
    """Copy what the views need out of the machine, without changing it; `previous` (any earlier snapshot of
    the same machine) lets the frame-state counts be updated from what changed instead of recounted."""
    counts = frame_state_counts(m.memmap.state, previous)
    counters = m.vm.values.copy()
    # The gauges that need a pass over every frame, as Machine.update_full_gauges sets them.
    counters[INDEX["nr_anon_pages"]] = counts[FRAME_ANON]
    sp = m.spaces
    procs = []
    for p in m.procs:
        if p.kind == "slab":
            st = None
            res, swp = len(p.slab_frames), 0
        elif p.kind == "filecache":
            st = None
            res = int(np.count_nonzero(m.file_frame[p.file_base : p.file_base + p.npages] >= 0))
            swp = 0
        else:
            st = sp.state[p.base : p.base + p.npages]
            res = int(np.count_nonzero(st == 1))
            swp = int(np.count_nonzero(st == 2))
        procs.append(ProcessView(p.pid, p.name, p.kind, res, swp, p.npages, p.exited, p.killed))
    devs = tuple(
        DeviceView(d.name, d.kind, d.prio, d.pages, d.inuse, d.first_cluster, d.nr_clusters) for d in m.swap.devices
    )
    return Snapshot(
        tick=m.tick,
        time_ns=m.now,
        scenario_name=m.scenario.name,
        design=m.design,
        counters=counters,
        watermarks=m.watermarks(),
        managed_pages=m.zone.managed,
        nr_free=m.zone.nr_free_pages,
        pcp_count=m.zone.pcp_count,
        free_area=tuple(m.zone.buddy.nr_free),
        kswapd_state=m.kswapd.state,
        kswapd_priority=m.kswapd.priority,
        kswapd_failures=m.kswapd.failures,
        frame_state=m.memmap.state.copy(),
        frame_lru=m.memmap.lru.copy(),
        state_counts=counts,
        cluster_flags=m.swap.cluster_flags.copy(),
        cluster_count=m.swap.cluster_count.copy(),
        devices=devs,
        swap_cache_pages=m.swap_cache.nr_pages,
        xa_nodes=m.swap_cache.xa.node_count(),
        xa_depth_hist=m.swap_cache.depth_hist.copy(),
        zram_pool_pages=m.zram_frames_count,
        processes=tuple(procs),
        events=tuple(list(m.events)[-recent_events:]),
        lru_sizes=(m.lru_total(0), m.lru_total(1), m.lru_total(2), m.lru_total(3)),
        kswapd_order=m.kswapd.order,
        cluster_order=m.swap.cluster_order.copy(),
        percpu_offset=m.swap.percpu_offset.copy(),
        xa_tree_heights=m.swap_cache.xa.height(np.arange(m.swap_cache.xa.nr_trees)),
        xa_entries=int(m.swap_cache.xa.entries.sum()),
        xa_span_shift=m.swap_cache.xa.span_shift,
        free_area_mt=m.zone.buddy.free_area_by_migratetype(),
        pageblock_type=m.zone.pageblock_type.copy(),
        compaction=compaction_view(m),
        swap_clusters_by_order=m.phys.clusters_by_order(),
        zs_classes=m.zswap.pool.class_stats() if m.zswap is not None else None,
        beats=tuple(m.story.fired) if m.story is not None else (),
    )


XA_DEPTHS = 8
SAMPLE_NAMES: tuple[str, ...] = NAMES + tuple(f"swaptui_xa_lookups_depth{d}" for d in range(XA_DEPTHS))
"""What `sample_counters` returns, in order: the vmstat counters, then swap-cache lookups by XArray depth."""


def sample_counters(m: Machine) -> np.ndarray:
    """This tick's counters and lookup-depth histogram (a copy): cheap enough to take every tick, for rate series."""
    hist = np.zeros(XA_DEPTHS, dtype=np.int64)
    depth = m.swap_cache.depth_hist[:XA_DEPTHS]
    hist[: len(depth)] = depth
    return np.concatenate([m.vm.values, hist])
