"""Recorded and live kernel samples as a player: the same cursor (step, back, go to) the app drives over a model.

A `TracePlayer` holds a list of samples (shared/traces format: one JSON object per 100 ms or so,
with /proc/vmstat, buddyinfo, meminfo, swaps, PSI, zram ...). Its tick is the sample's index, so
stepping and seeking are lookups, never replays. Each sample becomes a `TraceSnapshot`: a Snapshot
with `source="trace"` (or "live") whose fields hold the kernel's own numbers where the kernel
exports them, and empty arrays where it does not (per-frame map, per-cluster swap occupancy,
XArray depth); panes check `source` and say so. `LivePlayer` samples this machine's /proc in a
background thread, appends as it goes, and can record the samples to a trace file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from swaptui.model.fragmentation import (
    free_area_by_migratetype as zone_free_area_by_migratetype,
)
from swaptui.model.machine import Event
from swaptui.model.memmap import FRAME_STATE_NAMES
from swaptui.model.page_alloc import MIGRATETYPE_NAMES
from swaptui.model.snapshot import SAMPLE_NAMES, DeviceView, ProcessView, Snapshot
from swaptui.model.vmstat import NAMES
from swaptui.output import OutputError, check_target, open_new, remove_partial
from swaptui.text import printable
from swaptui.traces import Trace, TraceError, check_sample

PAGE_KB = 4
PAGE_SIZE = PAGE_KB << 10
NR_ORDERS = 11
RECENT_EVENTS = 200
COLUMN = {name: i for i, name in enumerate(SAMPLE_NAMES)}
# The model has one merged zone: its zone counters are the sums of the kernel's per-zone ones.
ZONE_SUMS = {
    "pgalloc_normal": ("pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable"),
    "allocstall_normal": ("allocstall_dma", "allocstall_dma32", "allocstall_normal"),
}
ALLOCSTALLS = ("allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable")


@dataclass(frozen=True)
class TraceSnapshot(Snapshot):
    """A Snapshot of a real kernel: the raw sample too, and which counters the kernel filled."""

    kernel: dict = field(default_factory=dict)  # the sample as recorded (constants of the run merged in) + "zones"
    exported: frozenset = frozenset()  # names in vmstat.NAMES the kernel's files filled (the rest: not exported)
    phase: str = ""  # the workload's phase, if the trace records one
    progress: float | None = None  # its progress in that phase, 0..1
    notices: tuple[str, ...] = ()  # live: the files missing or odd when this sample was read (one line each)


@dataclass(frozen=True)
class SourceInfo:
    """What the header and the app need to know about a trace or a live session (it stands in for a Scenario)."""

    name: str
    source: str  # "trace" | "live"
    path: str
    kernel: str  # kernel release, e.g. 6.1.0-56-amd64
    memory: int  # bytes (MemTotal)
    tick: int  # nominal ns between samples
    duration: int  # ns the samples span (live: grows; the app asks the player)
    description: str = ""
    swap_text: str = ""  # e.g. "swap on /dev/zram0"
    record_path: str = ""  # live --record
    captions: tuple = ()

    @property
    def machine(self) -> SimpleNamespace:
        """machine.memory, as on a Scenario."""
        return SimpleNamespace(memory=self.memory)

    @property
    def swap(self) -> SimpleNamespace:
        """swap.design, as on a Scenario (the header shows the kernel instead)."""
        return SimpleNamespace(design="kernel")

    @property
    def ticks(self) -> int:
        return self.duration // max(1, self.tick)

    @property
    def loading_text(self) -> str:
        """What the header says while the player is built."""
        return f"reading {self.path}…" if self.source == "trace" else "taking the first sample of /proc…"


def kernel_release(version: str) -> str:
    """`Linux version 6.1.0-56-amd64 (...)` -> `6.1.0-56-amd64`."""
    parts = version.split()
    return parts[2] if len(parts) > 2 and parts[:2] == ["Linux", "version"] else version[:32]


def info_for_trace(trace: Trace) -> SourceInfo:
    """A SourceInfo from a trace and its meta."""
    meta = trace.meta
    memory = (
        meta.get("vm_memtotal_kb")
        or meta.get("meminfo_at_start_kb", {}).get("MemTotal")
        or trace.samples[0].get("meminfo_kb", {}).get("MemTotal")
        or (meta.get("constant", {}).get("meminfo_kb", {}).get("MemTotal") or 0)
    ) << 10
    interval = meta.get("interval_ms")
    times = [t for t in (sample_ms(s, i, None) for i, s in enumerate(trace.samples)) if t is not None]
    if not interval:
        interval = float(np.median(np.diff(times))) if len(times) > 1 else 100.0
        interval = interval if interval > 0 else 100.0
    span = int((times[-1] - times[0]) * 1e6) if len(times) > 1 else int(interval * 1e6 * (len(trace.samples) - 1))
    swaps = meta.get("swaps_at_start") or trace.samples[0].get("swaps") or []
    swap_text = "swap on " + ", ".join(s.get("dev", "?") for s in swaps) if swaps else "no swap"
    return SourceInfo(
        name=printable(trace.name),
        source="trace",
        path=printable(trace.path),
        kernel=printable(kernel_release(meta.get("kernel_version", "")) or "kernel"),
        memory=int(memory),
        tick=max(1, int(interval * 1e6)),
        duration=max(0, span),
        description=printable(meta.get("description", ""), keep_newlines=True),
        swap_text=printable(swap_text),
    )


# -- samples to snapshot fields --------------------------------------------------------------------------


def sample_ms(s: dict, index: int, interval_ms: float | None) -> float | None:
    """A sample's time in ms: t_ms (shared/traces, live), else t_ns (`swaptui run --json`), else index × interval."""
    t = s.get("t_ms")
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return float(t)
    t = s.get("t_ns")
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return t / 1e6
    return None if interval_ms is None else index * interval_ms


def _check_sample(s: dict, where: str) -> None:
    """Validate a sample (recorded or live) against the one trace schema, traces.Sample."""
    check_sample(s, where)


def counter_row(s: dict, vmstat: dict) -> tuple[np.ndarray, set[str]]:
    """The sample's counters in SAMPLE_NAMES order, and which of vmstat.NAMES the kernel's files filled."""
    row = np.zeros(len(SAMPLE_NAMES), dtype=np.int64)
    exported = set()
    for name in NAMES:
        if name in ZONE_SUMS:
            keys = [k for k in ZONE_SUMS[name] if k in vmstat]
            if keys:
                row[COLUMN[name]] = sum(vmstat[k] for k in keys)
                exported.add(name)
        elif name in vmstat:
            row[COLUMN[name]] = vmstat[name]
            exported.add(name)
    swaps = s.get("swaps")
    if swaps is not None:
        row[COLUMN["swaptui_swap_used"]] = sum(r["used_kb"] for r in swaps) // PAGE_KB
        row[COLUMN["swaptui_swap_total"]] = sum(r["size_kb"] for r in swaps) // PAGE_KB
        exported |= {"swaptui_swap_used", "swaptui_swap_total"}
    zram = s.get("zram")
    if isinstance(zram, dict) and "orig_data_size" in zram:
        row[COLUMN["swaptui_zram_stored"]] = zram["orig_data_size"] // PAGE_SIZE
        row[COLUMN["swaptui_zram_same"]] = zram.get("same_pages", 0)
        exported |= {"swaptui_zram_stored", "swaptui_zram_same"}
    zswap = s.get("zswap")
    meminfo = s.get("meminfo_kb", {})
    if isinstance(zswap, dict) and "pool_total_size" in zswap:
        row[COLUMN["swaptui_zswap_pool_pages"]] = zswap["pool_total_size"] // PAGE_SIZE
        row[COLUMN["swaptui_zswap_stored"]] = zswap.get("stored_pages", 0)
        exported |= {"swaptui_zswap_pool_pages", "swaptui_zswap_stored"}
    elif "Zswap" in meminfo and "Zswapped" in meminfo:
        row[COLUMN["swaptui_zswap_pool_pages"]] = meminfo["Zswap"] // PAGE_KB
        row[COLUMN["swaptui_zswap_stored"]] = meminfo["Zswapped"] // PAGE_KB
        exported |= {"swaptui_zswap_pool_pages", "swaptui_zswap_stored"}
    return row, exported


def sum_zones(per_zone: dict[str, list[int]], width: int = NR_ORDERS) -> tuple[int, ...]:
    """Per-order lists of every zone, added (the model's one merged zone)."""
    out = [0] * width
    for counts in per_zone.values():
        for order, n in enumerate(counts[:width]):
            out[order] += int(n)
    return tuple(out)


def free_area_by_migratetype(pagetype_free: dict) -> np.ndarray:
    """[order, migratetype] free blocks over every zone, migratetypes as page_alloc.MIGRATETYPE_NAMES."""
    out = np.zeros((NR_ORDERS, len(MIGRATETYPE_NAMES)), dtype=np.int64)
    for per_type in pagetype_free.values():
        out += zone_free_area_by_migratetype(per_type)[:NR_ORDERS]
    return out


def zone_totals(zones: dict) -> tuple[tuple[int, int, int], int]:
    """((min, low, high), managed) summed over the zones."""
    mn, lo, hi = (sum(int(z.get(k, 0)) for z in zones.values()) for k in ("min", "low", "high"))
    return (mn, lo, hi), sum(int(z.get("managed", 0)) for z in zones.values())


def device_views(swaps: list[dict]) -> tuple[DeviceView, ...]:
    """/proc/swaps rows as devices (per-cluster state is not exported: no clusters)."""
    out = []
    for r in swaps:
        dev = str(r.get("dev", "?"))
        kind = "zram" if os.path.basename(dev).startswith("zram") else r.get("type", "?")
        out.append(
            DeviceView(
                dev, kind, int(r.get("prio", 0)), int(r["size_kb"]) // PAGE_KB, int(r["used_kb"]) // PAGE_KB, 0, 0
            )
        )
    return tuple(out)


def derive_events(
    i: int,
    time_ns: int,
    s: dict,
    prev: dict | None,
    row: np.ndarray,
    prev_row: np.ndarray | None,
    prev_delta: np.ndarray | None,
    wm: tuple[int, int, int],
) -> list[Event]:
    """What changed between two samples, told as events (the kernel logs none: these are read off the counters)."""
    out = []
    phase = s.get("phase")
    if phase and (prev is None or prev.get("phase") != phase) and phase != "-":
        out.append(Event(time_ns, i, "script", f"workload phase: {phase}"))
    if prev_row is None:
        return out
    delta = row - prev_row
    before = prev_delta if prev_delta is not None else np.zeros_like(delta)

    def d(name: str, v: np.ndarray = delta) -> int:
        return int(v[COLUMN[name]])

    stalls = d("allocstall_movable") + d("allocstall_normal")
    stalls_before = d("allocstall_movable", before) + d("allocstall_normal", before)
    free, free_before = int(row[COLUMN["nr_free_pages"]]), int(prev_row[COLUMN["nr_free_pages"]])
    wmin, low, _ = wm
    if low and free <= low < free_before:
        out.append(Event(time_ns, i, "kswapd", f"free pages fell below low ({free:,} ≤ {low:,}): kswapd is woken"))
    if wmin and free <= wmin < free_before:
        out.append(Event(time_ns, i, "direct", f"free pages fell below min ({free:,} ≤ {wmin:,})"))
    if d("pgscan_kswapd") and not d("pgscan_kswapd", before):
        out.append(
            Event(
                time_ns,
                i,
                "kswapd",
                f"kswapd reclaiming: scanned {d('pgscan_kswapd'):,}, "
                f"stole {d('pgsteal_kswapd'):,} since the last sample",
            )
        )
    elif not d("pgscan_kswapd") and d("pgscan_kswapd", before):
        out.append(Event(time_ns, i, "kswapd", "kswapd stopped scanning"))
    if stalls and not stalls_before:
        out.append(
            Event(
                time_ns,
                i,
                "direct",
                f"direct reclaim: {stalls:,} allocation stalls, stole {d('pgsteal_direct'):,} since the last sample",
            )
        )
    if d("oom_kill"):
        out.append(Event(time_ns, i, "oom", f"OOM killer: {d('oom_kill')} process(es) killed"))
    if prev is not None and "workload_proc" in prev and "workload_proc" not in s:
        out.append(Event(time_ns, i, "exit", "the workload exited"))
    return out


class Series:
    """A growable per-sample table: counters (SAMPLE_NAMES) and times, appended by one thread, sliced by another."""

    def __init__(self, capacity: int = 1024) -> None:
        self.values = np.zeros((capacity, len(SAMPLE_NAMES)), dtype=np.int64)
        self.times = np.zeros(capacity, dtype=np.int64)
        self.size = 0

    def append(self, time_ns: int, row: np.ndarray) -> None:
        if self.size == len(self.times):
            # A new buffer: slices handed out before keep the old one, so readers never see a half copy.
            self.values = np.concatenate([self.values, np.zeros_like(self.values)])
            self.times = np.concatenate([self.times, np.zeros_like(self.times)])
        self.values[self.size] = row
        self.times[self.size] = time_ns
        self.size += 1


class TracePlayer:
    """A cursor over recorded samples, with the interface the app's Stepper drives (tick = sample index)."""

    random_access = True  # any sample is a lookup: the stepper needs no checkpoints or history ring
    live = False

    def __init__(self, trace: Trace, info: SourceInfo | None = None, source: str = "trace") -> None:
        self.trace = trace
        self.info = info or info_for_trace(trace)
        self.source = source
        self.checkpoints: dict = {}
        self.replayed_ticks = 0
        self._lock = threading.Lock()
        self._cursor = 0
        self._samples: list[dict] = []
        self._exported: list[frozenset] = []
        self._series = Series(max(16, len(trace.samples)))
        self._events: list[Event] = []
        self._event_ticks: list[int] = []
        self._t0: float | None = None
        self._prev: tuple[dict, np.ndarray, np.ndarray | None] | None = None
        self._peak_workload = 0
        self._workload_from: int | None = None  # the first sample with workload_proc
        self._last_procs: list | None = None
        constant = trace.meta.get("constant", {})
        self._constant_vmstat = constant.get("vmstat", {}) if isinstance(constant, dict) else {}
        self._constant_meminfo = constant.get("meminfo_kb", {}) if isinstance(constant, dict) else {}
        self._meta_zones = trace.meta.get("zone_watermarks_pages") or {}
        self._interval_ms = self.info.tick / 1e6
        self._snapshot: Snapshot | None = None
        lines = getattr(trace, "lines", None) or list(range(1, len(trace.samples) + 1))
        for n, s in zip(lines, trace.samples):
            self._append(s, f"{trace.path}:{n}")

    # -- building -------------------------------------------------------------------------------------
    def _append(self, raw: dict, where: str) -> None:
        """Check a sample, merge the run's constants into it, and add its counters and events."""
        _check_sample(raw, where)
        s = dict(raw)
        s["vmstat"] = {**self._constant_vmstat, **raw.get("vmstat", {})}
        if isinstance(raw.get("procs"), list):
            self._last_procs = raw["procs"]
        elif self._last_procs is not None:
            s["procs"] = self._last_procs  # the sampler scans processes at most once a second: carry the last scan
        if "meminfo_kb" in raw or self._constant_meminfo:
            s["meminfo_kb"] = {**self._constant_meminfo, **raw.get("meminfo_kb", {})}
        if "zones" not in s and self._meta_zones:
            s["zones"] = self._meta_zones
        t = sample_ms(s, len(self._samples), self._interval_ms)
        if t is None:
            raise TraceError(f"{where}: t_ms: expected the sample's time in ms; got none")
        if self._t0 is None:
            self._t0 = t
        time_ns = round((t - self._t0) * 1e6)
        if self._series.size and time_ns < self._series.times[self._series.size - 1]:
            raise TraceError(f"{where}: t_ms: expected a time at or after the previous sample's; got {t}")
        row, exported = counter_row(s, s["vmstat"])
        wp = s.get("workload_proc")
        if isinstance(wp, dict):
            if self._workload_from is None:
                self._workload_from = len(self._samples)
            footprint = (wp.get("RssAnon_kb", 0) + wp.get("VmSwap_kb", 0)) // PAGE_KB
            self._peak_workload = max(self._peak_workload, footprint)
        i = len(self._samples)
        prev = self._prev
        wm, _ = zone_totals(s.get("zones", {}))
        events = derive_events(
            i, time_ns, s, prev[0] if prev else None, row, prev[1] if prev else None, prev[2] if prev else None, wm
        )
        with self._lock:
            self._samples.append(s)
            self._exported.append(frozenset(exported))
            self._series.append(time_ns, row)
            for e in events:
                self._events.append(e)
                self._event_ticks.append(i)
        self._prev = (s, row, row - prev[1] if prev else None)

    # -- the cursor -------------------------------------------------------------------------------------
    @property
    def tick(self) -> int:
        return self._cursor

    @property
    def last_tick(self) -> int:
        """The newest sample's index."""
        return len(self._samples) - 1

    @property
    def time_ns(self) -> int:
        return int(self._series.times[self._cursor])

    def at_end(self) -> bool:
        return self._cursor >= self.last_tick

    def step(self, n: int = 1) -> int:
        """Move up to n samples forward; returns how many."""
        done = max(0, min(n, self.last_tick - self._cursor))
        self._cursor += done
        return done

    def go_to(self, tick: int) -> None:
        """Move to a sample (clamped to the recorded ones)."""
        self._cursor = max(0, min(int(tick), self.last_tick))

    def back(self, n: int = 1) -> None:
        self.go_to(self._cursor - n)

    def restart(self) -> None:
        self.go_to(0)

    def tick_at(self, time_ns: int) -> int:
        """The last sample taken at or before `time_ns` after the first."""
        times = self._series.times[: len(self._samples)]
        return max(0, int(np.searchsorted(times, time_ns, side="right")) - 1)

    # -- what the stepper publishes ---------------------------------------------------------------------
    def history_arrays(
        self, last: int | None = None, upto: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ticks, times, counters) of the samples up to `upto`, the newest `last` of them (read-only views)."""
        with self._lock:
            end = (self.last_tick if upto is None else min(upto, self.last_tick)) + 1
            lo = 0 if last is None else max(0, end - last)
            return np.arange(lo, end, dtype=np.int64), self._series.times[lo:end], self._series.values[lo:end]

    def snapshot(self) -> Snapshot:
        """The snapshot of the sample under the cursor (built once per move)."""
        if self._snapshot is None or self._snapshot.tick != self._cursor:
            self._snapshot = self.snapshot_at(self._cursor)
        return self._snapshot

    def snapshot_at(self, i: int) -> TraceSnapshot:
        """Sample i as a Snapshot: the kernel's numbers where it exports them, empty arrays where it does not."""
        with self._lock:
            s = self._samples[i]
            exported = self._exported[i]
            counters = self._series.values[i].copy()
            time_ns = int(self._series.times[i])
            hi = int(np.searchsorted(self._event_ticks, i, side="right"))
            events = tuple(self._events[max(0, hi - RECENT_EVENTS) : hi])
        counters = counters[: len(NAMES)]
        vm = s["vmstat"]
        zones = s.get("zones", {})
        wm, managed = zone_totals(zones)
        if not managed:
            managed = s.get("meminfo_kb", {}).get("MemTotal", 0) // PAGE_KB
        raw_zram = s.get("zram")
        zram: dict = raw_zram if isinstance(raw_zram, dict) else {}
        pool = zram.get("mem_used_total", 0) // PAGE_SIZE if zram else 0
        pagetype = s.get("pagetype_free")
        raw_prog = s.get("progress")
        prog: dict = raw_prog if isinstance(raw_prog, dict) else {}
        total = prog.get("total") or 0
        return TraceSnapshot(
            tick=i,
            time_ns=time_ns,
            scenario_name=self.info.name,
            design="kernel",
            counters=counters,
            watermarks=wm,
            managed_pages=int(managed),
            nr_free=int(vm.get("nr_free_pages", 0)),
            pcp_count=sum(int(z.get("pcp_count", 0)) for z in zones.values()),
            free_area=sum_zones(s.get("buddyinfo", {})),
            kswapd_state="unknown",
            kswapd_priority=0,
            kswapd_failures=0,
            frame_state=np.zeros(0, dtype=np.uint8),
            frame_lru=np.zeros(0, dtype=np.int8),
            state_counts=np.zeros(len(FRAME_STATE_NAMES), dtype=np.int64),
            cluster_flags=np.zeros(0, dtype=np.uint8),
            cluster_count=np.zeros(0, dtype=np.int32),
            devices=device_views(s.get("swaps", [])),
            swap_cache_pages=int(vm.get("nr_swapcached", 0)),
            xa_nodes=0,
            xa_depth_hist=np.zeros(0, dtype=np.int64),
            zram_pool_pages=int(pool),
            processes=self._processes(i, s),
            events=events,
            lru_sizes=(
                int(vm.get("nr_inactive_anon", 0)),
                int(vm.get("nr_active_anon", 0)),
                int(vm.get("nr_inactive_file", 0)),
                int(vm.get("nr_active_file", 0)),
            ),
            source=self.source,
            free_area_mt=free_area_by_migratetype(pagetype)
            if isinstance(pagetype, dict)
            else np.zeros((0, 0), dtype=np.int64),
            kernel=s,
            exported=exported,
            phase=str(s.get("phase") or ""),
            progress=min(1.0, prog.get("done", 0) / total) if total else None,
            notices=self._notices_at(i),
        )

    def _notices_at(self, i: int) -> tuple[str, ...]:
        """What could not be read for sample i (a recorded trace: nothing)."""
        return ()

    def _processes(self, i: int, s: dict) -> tuple[ProcessView, ...]:
        wp = s.get("workload_proc")
        meta = self.trace.meta
        name = printable((meta.get("workload_argv") or ["workload"])[0])
        if isinstance(wp, dict):
            res, swp = wp.get("RssAnon_kb", 0) // PAGE_KB, wp.get("VmSwap_kb", 0) // PAGE_KB
            return (ProcessView(-1, name, "workload", res, swp, max(self._peak_workload, res + swp), False, False),)
        if self._workload_from is not None and i > self._workload_from:
            killed = bool(meta.get("workload_exit", {}).get("killed"))
            return (ProcessView(-1, name, "workload", 0, 0, self._peak_workload, True, killed),)
        rows = s.get("procs") or []
        return tuple(
            ProcessView(
                int(p.get("pid", -1)),
                printable(p.get("comm", "?")),
                "process",
                int(p.get("RssAnon_kb", 0)) // PAGE_KB,
                int(p.get("VmSwap_kb", 0)) // PAGE_KB,
                (int(p.get("RssAnon_kb", 0)) + int(p.get("VmSwap_kb", 0))) // PAGE_KB,
                False,
                False,
            )
            for p in rows
            if isinstance(p, dict)
        )

    def close(self) -> None:
        """Nothing to stop for a recorded trace."""


def load_trace_player(path: str | Path) -> TracePlayer:
    """Read a trace file and build its player; a bad file raises TraceError naming the file and line."""
    from swaptui.traces import load_trace

    p = Path(path)
    if p.name.endswith(".meta.json"):
        raise TraceError(
            f"{p}: this is a trace's setup file; expected the samples beside it, "
            f"{p.name.removesuffix('.meta.json')}.jsonl"
        )
    if p.suffix in (".yaml", ".yml"):
        raise TraceError(
            f"{p}: expected a recorded trace (NAME.jsonl, one JSON sample per line); "
            f"a scenario opens with `swaptui {p}`"
        )
    return TracePlayer(load_trace(p))


# -- live -----------------------------------------------------------------------------------------------


class TraceWriter:
    """Writes samples as JSON lines (shared/traces format) and NAME.meta.json beside them.

    Both paths are checked before anything is created (an existing file is refused unless `force`, a
    device or other non-regular file always). The samples stream into the file, and the meta file says
    `complete: false` until `close`, so a recording cut short by a crash is still a readable trace; a
    write that fails (a full disk) removes both files and raises OutputError.
    """

    def __init__(self, path: str | Path, meta: dict, force: bool = False) -> None:
        self.path = Path(path)
        self.meta_path = self.path.with_name(self.path.name.removesuffix(".jsonl") + ".meta.json")
        self.meta = dict(meta)
        self.count = 0
        check_target(self.path, force)
        try:
            check_target(self.meta_path, force)
        except OutputError as error:
            raise OutputError(f"{error} (the meta file written beside {self.path.name})") from None
        self._out = open_new(self.path, force)
        try:
            self._write_meta(complete=False)
        except OutputError:
            self.abort()
            raise

    def _write_meta(self, complete: bool) -> None:
        self.meta.update(n_samples=self.count, complete=complete)
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.meta_path)
        except OSError as error:
            remove_partial(tmp)
            raise OutputError(f"{self.meta_path}: cannot write: {error.strerror or error}") from None

    def write(self, sample: dict) -> None:
        """Append one sample; a failed write removes the recording and raises OutputError."""
        try:
            self._out.write(json.dumps(sample, separators=(",", ":")) + "\n")
            self._out.flush()
        except OSError as error:
            self.abort()
            raise OutputError(
                f"{self.path}: cannot write: {error.strerror or error}; "
                f"the recording ({self.count:,} samples) is removed"
            ) from None
        self.count += 1

    def abort(self) -> None:
        """Stop and remove what was written (the samples and the meta file)."""
        with contextlib.suppress(OSError):
            self._out.close()
        remove_partial(self.path, self.meta_path, self.meta_path.with_name(self.meta_path.name + ".tmp"))

    @property
    def closed(self) -> bool:
        return self._out.closed

    def close(self, unavailable: dict | None = None) -> None:
        """Finish the recording: close the samples and mark the meta file complete (OutputError if that fails)."""
        if self._out.closed:
            return
        try:
            self._out.close()
        except OSError as error:
            self.abort()
            raise OutputError(
                f"{self.path}: cannot write: {error.strerror or error}; the recording is removed"
            ) from None
        if unavailable is not None:
            self.meta["unreadable"] = dict(unavailable)
        try:
            self._write_meta(complete=True)
        except OutputError as error:
            self.abort()
            raise OutputError(f"{error}; the recording is removed") from None


class LivePlayer(TracePlayer):
    """This machine's kernel, sampled every `interval_ns` in a background thread; a cursor over what was sampled.

    Samples are taken on a fixed cadence (procfs.Cadence: slots from one start, missed slots skipped).
    Each sample's snapshot carries the sampler's notices (files missing or odd then). If sampling or the
    recording fails, sampling stops and `error` says why in one line (a failed recording is removed).
    """

    live = True

    def __init__(
        self,
        sampler,
        interval_ns: int,
        writer: TraceWriter | None = None,
        samples: int | None = None,
        info: SourceInfo | None = None,
    ) -> None:
        from swaptui.procfs import Cadence

        self.sampler = sampler
        self.interval_ns = interval_ns
        self.writer = writer
        self.limit = samples
        self.on_sample: Callable[[], None] = lambda: None  # the stepper sets this to be woken by new samples
        self.sample_ms: list[float] = []  # the time each sample took to read
        self.error: str | None = None
        self.cadence = Cadence(interval_ns / 1e9)
        self._notices: list[tuple[str, ...]] = []
        self._stop = threading.Event()
        first = self._take()
        name = os.uname().nodename
        memory = first.get("meminfo_kb", {}).get("MemTotal", 0) << 10
        info = info or SourceInfo(
            name=f"live: {name}",
            source="live",
            path=str(getattr(sampler, "proc", "/proc")),
            kernel=os.uname().release,
            memory=memory,
            tick=interval_ns,
            duration=0,
            swap_text=_swap_text(first.get("swaps", [])),
            record_path=str(writer.path) if writer else "",
        )
        super().__init__(Trace(Path("/proc"), [first], {}), info, source="live")
        self._thread = threading.Thread(target=self._run, name="swaptui-sampler", daemon=True)
        if not self.finished:
            self._thread.start()

    @property
    def finished(self) -> bool:
        """Sampling has stopped (the --samples limit was reached, the player was closed, or sampling failed)."""
        return (
            self._stop.is_set()
            or self.error is not None
            or (self.limit is not None and len(self._samples) >= self.limit)
        )

    def at_end(self) -> bool:
        return self.finished and self._cursor >= self.last_tick

    def _take(self) -> dict:
        s = self.sampler.sample()
        self.sample_ms.append(s.get("sample_ms", 0.0))
        self._notices.append(tuple(getattr(self.sampler, "notices", {}).values()))
        if self.writer is not None:
            self.writer.write(s)
        return s

    def _notices_at(self, i: int) -> tuple[str, ...]:
        notices = self._notices[i] if i < len(self._notices) else ()
        return (*notices, self.error) if self.error and i >= self.last_tick else notices

    def _run(self) -> None:
        while not self._stop.is_set() and (self.limit is None or len(self._samples) < self.limit):
            if self.cadence.wait(self._stop.wait):
                break
            try:
                self._append(self._take(), f"/proc sample {len(self._samples)}")
            except (TraceError, OutputError, OSError, ValueError) as error:
                self.error = f"sampling stopped: {error}"
                break
            self.on_sample()
        self._finish()
        self.on_sample()

    def _finish(self) -> None:
        """Close the recording once; a failure to finish it is the player's error."""
        if self.writer is not None and not self.writer.closed:
            try:
                self.writer.close(self.sampler.unavailable)
            except OutputError as error:
                self.error = str(error)

    def close(self) -> None:
        """Stop sampling and finish the recording."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        else:
            self._finish()


def _swap_text(swaps: list[dict]) -> str:
    return "swap on " + ", ".join(s.get("dev", "?") for s in swaps) if swaps else "no swap"
