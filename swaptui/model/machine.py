"""Machine: builds the subsystems from a Scenario, advances one tick at a time and emits Snapshots.

The tick, in order (ARCHITECTURE.md): scripted events; I/O completions; each runnable task spends
its share of the tick (faults, allocation, direct reclaim, swap-ins); kswapd spends its own; gauges
and the snapshot are updated. Everything is seeded from the scenario, so the same scenario gives
the same run tick for tick.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swaptui.model import kernels
from swaptui.model.compaction import CompactionState, Kcompactd, compact_node
from swaptui.model.costs import CostTable, backend_profile, costs_for_cpu, cpu_factor
from swaptui.model.filemap import reclaim_file_folios
from swaptui.model.lru import LruList, lru_del, new_lru
from swaptui.model.memcontrol import UNMODELLED_CGROUP_FILES, MemCgroups
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_KERNEL,
    FRAME_RESERVED,
    LRU_ACTIVE_FILE,
    LRU_INACTIVE_ANON,
    LRU_INACTIVE_FILE,
    NR_LRU_LISTS,
    PAGE_SIZE,
    new_memmap,
)
from swaptui.model.memory import run_task
from swaptui.model.oom_kill import ExitAndOomMixin
from swaptui.model.page_alloc import (
    MIGRATE_UNMOVABLE,
    PAGEBLOCK_ORDER,
    WMARK_HIGH,
    WMARK_LOW,
    WMARK_MIN,
    Zone,
    calculate_min_free_kbytes,
    recommended_min_free_kbytes,
    setup_per_zone_wmarks,
    zone_split,
)
from swaptui.model.page_io import IoQueue, ZramStore
from swaptui.model.snapshot import Snapshot, build_snapshot
from swaptui.model.story import Story, beat_specs
from swaptui.model.swap_state import ClassicSwapCache, SwapCacheBase, VSwapCache
from swaptui.model.swap_table import SwapTableCache
from swaptui.model.swapfile import SwapSlots
from swaptui.model.vmscan import Kswapd, ScanControl
from swaptui.model.vmstat import VmStat
from swaptui.model.vswap import VSwapSpace
from swaptui.model.workload import AddressSpaces, build_processes
from swaptui.model.zswap import Zswap

if TYPE_CHECKING:
    from swaptui.model.metadata import SwapMetadata
    from swaptui.scenario import Scenario

MIB_PAGES = (1 << 20) // PAGE_SIZE
MAX_EVENTS = 2000
TICK_SLICES = 1  # tasks and kswapd alternate this many times per tick; kswapd also catches up on demand


@dataclass(frozen=True)
class Event:
    """Something that happened, and why, in the kernel's terms."""

    time_ns: int
    tick: int
    kind: str
    text: str


def auto_reserved_pages(pages: int) -> int:
    """RAM the buddy allocator never sees: memmap (64 B per page), the kernel image and firmware (~48 MiB)."""
    return min(pages // 4, pages * 64 // PAGE_SIZE + 48 * MIB_PAGES)


def auto_kernel_pages(managed: int) -> int:
    """Pages the kernel holds once booted: slab, page tables, stacks (~16 MiB + 2.5%)."""
    return min(managed // 4, 16 * MIB_PAGES + managed // 40)


class DesignNotBuilt(ValueError):
    """The scenario asks for a swap design the model does not have yet."""


def make_swap_cache(design: str, nr_slots: int, costs: CostTable) -> SwapCacheBase:
    """The swap cache of a design whose entries are physical slots."""
    if design == "classic":
        return ClassicSwapCache(nr_slots, costs)
    if design == "swap_table":
        return SwapTableCache(nr_slots, costs)
    raise DesignNotBuilt(f"unknown swap design {design!r}")


class Machine(ExitAndOomMixin):
    """The whole simulated machine: memory, reclaim, swap, workloads, counters.

    Its fields are declared, typed, in machine_state.MachineState (the model's `struct pglist_data`);
    the swap paths (swap_ops.SwapPathsMixin) and the exit and OOM paths (oom_kill.ExitAndOomMixin) are
    methods over them, and memory.py, vmscan.py, filemap.py and compaction.py take the machine as `m`.
    """

    def __init__(self, scenario: Scenario, costs: CostTable | None = None, check_invariants: bool = False) -> None:
        s = scenario
        mc = s.machine
        self.scenario = s
        self.costs = costs or costs_for_cpu(mc.cpu)
        self.tick_ns = s.tick
        self.tick = 0
        self.now = 0
        self.check_invariants = check_invariants
        self.ncpus = mc.cpus
        self.swappiness = mc.swappiness
        self.vma_ra_enabled = mc.vma_ra_enabled
        self.page_cluster = s.swap.page_cluster
        self.design = s.swap.design
        # The kernel release's behaviours (kernels.BEHAVIOURS), with machine.features applied.
        self.kernel = mc.kernel
        self.features = kernels.features_of(mc.kernel, mc.features)
        self.zeromap_enabled = self.features["zeromap"]
        self.count_zeromap = self.features["swpout_zero"]
        self.large_swapin = self.features["mthp_swapin_sync_io"]
        self.notices = kernels.notices(mc.kernel, self.design, self.features)

        self.vm = VmStat()
        self.events = deque(maxlen=MAX_EVENTS)
        self.event_seq = 0
        self._event_last = {}

        # Physical memory and the zone.
        pages = mc.memory // PAGE_SIZE
        reserved = auto_reserved_pages(pages) if mc.reserved == "auto" else mc.reserved // PAGE_SIZE
        managed = pages - reserved
        self.memmap = new_memmap(pages)
        self.zone_layout = zone_split(managed, pages)
        thp_on = mc.thp != "never"
        if mc.min_free_kbytes == "auto":
            mfk = calculate_min_free_kbytes(managed * 4)
            if thp_on:
                mfk = max(mfk, recommended_min_free_kbytes(len(self.zone_layout), managed))
        else:
            mfk = int(mc.min_free_kbytes)
        self.min_free_kbytes = mfk
        self.zone_infos = setup_per_zone_wmarks(self.zone_layout, mfk, mc.watermark_scale_factor)
        wmark = (
            sum(z.wmark_min for z in self.zone_infos),
            sum(z.wmark_low for z in self.zone_infos),
            sum(z.wmark_high for z in self.zone_infos),
        )
        self.zone = Zone(
            "Normal",
            pages,
            self.memmap.state,
            managed,
            wmark,
            self.ncpus,
            mc.watermark_boost_factor,
            memmap=self.memmap,
            vm=self.vm.values,
        )
        low_res = min(256, reserved)
        rest = reserved - low_res
        image = rest // 2
        res_idx = np.concatenate(
            [
                np.arange(low_res),
                np.arange(4096, 4096 + image) if pages > 4096 + image else np.arange(low_res, low_res + image),
                np.arange(pages - (rest - image), pages),
            ]
        )
        res_idx = np.unique(res_idx)[:reserved]
        self.memmap.state[res_idx] = FRAME_RESERVED
        free_idx = np.flatnonzero(self.memmap.state != FRAME_RESERVED)
        self.zone.claim_boot_pages(free_idx)
        kpages = auto_kernel_pages(managed) if mc.kernel_used == "auto" else mc.kernel_used // PAGE_SIZE
        kframes = self.zone.alloc(kpages, MIGRATE_UNMOVABLE)
        self.memmap.state[kframes] = FRAME_KERNEL
        self.kernel_pages = len(kframes)
        self.zone.pgalloc = 0
        self.zone.drain()  # the boot CPU's leftover per-CPU pages
        self.zone.watermark_boost = 0
        self.zone.boosted_flag = False

        # Memory cgroups (memcontrol.py): none unless the scenario lists some. Each cgroup has its own lruvec:
        # LRU list ids memcg * NR_LRU_LISTS + lru; the root's are 0..3.
        nr_memcg = len(s.cgroups) + 1 if s.cgroups else 1
        self.lrus = new_lru(NR_LRU_LISTS * nr_memcg)
        self.lruvecs = [
            [LruList(c * NR_LRU_LISTS + i, self.memmap, self.lrus) for i in range(NR_LRU_LISTS)]
            for c in range(nr_memcg)
        ]
        self.lru = self.lruvecs[0]
        self.anon_cost = [0] * nr_memcg
        self.file_cost = [0] * nr_memcg
        self.last_pageout = 0
        self.nonresident_age = 0

        # Swap.
        devs = [
            (
                d.name,
                d.kind,
                backend_profile(d.kind, d.compressor or "lzo-rle", mc.cpu),  # zram's default comp_algorithm
                d.priority,
                d.size // PAGE_SIZE,
                d.discard,
            )
            for d in s.swap.devices
        ]
        self.phys = SwapSlots(devs, self.ncpus, self.costs)
        self.procs, nr_vpages, nr_file_pages = build_processes(s, s.seed, self.ncpus)
        if self.design == "vswap":
            o = s.swap.vswap
            self.vswap = VSwapSpace(
                self.phys,
                nr_vpages,
                self.ncpus,
                self.costs,
                cache_only_bit=o.cache_only_bit,
                batch_cgroup_check=o.batch_cgroup_check,
                lookup_cache=o.lookup_cache,
            )
            self.swap = self.vswap
            self.swap_cache = VSwapCache(self.swap.nr_slots, self.costs, self.vswap)
            self.phys.reclaim_cache_only = self.reclaim_cache_only_physical
        else:
            self.swap = self.phys
            self.vswap = None
            self.swap_cache = make_swap_cache(self.design, self.swap.nr_slots, self.costs)
            if self.design == "swap_table":
                # Swap table phase II (7.0) removed the SYNC_IO swap-cache bypass; phase I (6.18) keeps it.
                self.swap_cache.bypass_sync_io = not self.features["swap_table_phase2"]
            self.phys.reclaim_cache_only = self.reclaim_cache_only
        self.zram = ZramStore(self.phys.nr_slots) if any(d.kind == "zram" for d in s.swap.devices) else None
        z = s.swap.zswap
        self.zswap = (
            Zswap(
                totalram_pages=managed,
                nr_keys=self.swap.nr_slots,
                max_pool_percent=z.max_pool_percent,
                accept_threshold_percent=z.accept_threshold_percent,
                compressor=z.compressor,
                shrinker_enabled=z.shrinker_enabled
                and self.features["zswap_shrinker"]
                and self.features["zsmalloc_writeback"],
                costs=self.costs,
                index="descriptor" if self.design == "vswap" else "xarray",
                writeback=self.features["zsmalloc_writeback"],
                shrink_loop=self.features["zswap_shrink_loop"],
                zpool=z.zpool or ("zsmalloc" if self.features["zswap_zsmalloc_default"] else "zbud"),
            )
            if z.enabled
            else None
        )
        self.writeout_failed = np.zeros(0, dtype=np.int64)
        self.zram_frames = np.zeros(0, dtype=np.int64)
        self.zram_frames_count = 0
        self.io = {}
        for i, d in enumerate(self.swap.devices):
            if not d.profile.synchronous:
                self.io[i] = IoQueue(
                    d.profile.read_latency_ns,
                    d.profile.write_latency_ns,
                    d.profile.bandwidth_bytes_per_s,
                    d.profile.queue_pages,
                )
        self.swap_has_rotational = any(d.profile.rotational for d in self.swap.devices)
        self.swapin_readahead_hits = 4
        self.ra_prev_offset = 0
        self.last_readahead_pages = 0

        self.memcg = None
        if s.cgroups:
            self.memcg = MemCgroups(s.cgroups, pages, self.swap.nr_slots, self.ncpus, mc.swappiness)
            self.zone.on_free = self.memcg.uncharge_frames
            for cg in s.cgroups:
                # Set to anything but the default (max; writeback 1): a limit the model would not enforce.
                defaults = {"memory.zswap.writeback": 1}
                kept = [k for k in UNMODELLED_CGROUP_FILES if k in cg.files and cg.files[k] != defaults.get(k, -1)]
                if kept:
                    self.notices.append(
                        f"cgroup {cg.name}: {', '.join(kept)} kept but not modelled yet (the model does not charge "
                        "zswap to cgroups, nor run soft-limit reclaim)"
                    )

        # Workloads.
        self.spaces = AddressSpaces(nr_vpages)
        self.file_frame = np.full(nr_file_pages, -1, dtype=np.int64)
        self.file_shadow = np.full(nr_file_pages, -1, dtype=np.int64)
        self.kswapd = Kswapd()
        self.kswapd.cost_per_page *= cpu_factor(mc.cpu, "kernel")  # its first estimate, refined as it runs
        self.compaction = CompactionState(len(self.zone.pageblock_type))
        self.kcompactd = Kcompactd()
        self.kswapd_cpu = self.ncpus  # its own slot in the per-CPU swap cluster cache
        self.series = []
        self.pending_events = sorted(s.events, key=lambda e: e.at)
        self.pause_event_tick = -1  # the tick a scripted `do: pause` ended on (the app stops there)
        self._update_gauges()
        # A story's beats (scenario `beats:`) fire on this machine's own ticks, so checkpoints carry them.
        self.story = Story(beat_specs(s.beats)) if s.beats else None
        if self.story is not None:
            self.story.after_tick(self)

    # -- events -------------------------------------------------------------------------------------
    def event(self, now: int, kind: str, text: str, key: object = None, min_gap_ns: int = 20_000_000) -> None:
        """Log an event; repeated events of one kind and key are kept at most one per min_gap_ns."""
        if key is not None:
            last = self._event_last.get((kind, key))
            if last is not None and now - last < min_gap_ns:
                return
            self._event_last[(kind, key)] = now
        self.event_seq += 1
        self.events.append(Event(now, self.tick, kind, text))

    # -- reclaim policy hooks used by vmscan ----------------------------------------------------------
    def decay_costs(self, memcg: int = 0) -> None:
        """lru_note_cost's decay on one lruvec: halve both costs once they exceed a quarter of its LRU pages."""
        from swaptui.model.vmscan import lru_sizes

        total = sum(lru_sizes(self, memcg, hierarchical=True))
        if self.anon_cost[memcg] + self.file_cost[memcg] > total // 4 + 1:
            self.anon_cost[memcg] //= 2
            self.file_cost[memcg] //= 2

    def file_is_tiny(self, sc: ScanControl) -> bool:
        """prepare_scan_count's file_is_tiny for global reclaim (the node's lists)."""
        from swaptui.model.vmscan import lru_sizes

        sizes = lru_sizes(self, 0, hierarchical=True)
        file = sizes[LRU_INACTIVE_FILE] + sizes[LRU_ACTIVE_FILE]
        return (
            file + self.zone.nr_free_pages <= self.zone.wmark_pages(WMARK_HIGH)
            and not self.may_deactivate(LRU_INACTIVE_ANON)
            and (sizes[LRU_INACTIVE_ANON] >> sc.priority) > 0
        )

    def may_deactivate(self, inactive_lru: int, target: int = 0) -> bool:
        """sc->may_deactivate: the target lruvec's inactive list is low relative to its active one."""
        from swaptui.model.vmscan import inactive_is_low

        return inactive_is_low(self, inactive_lru, target)

    # -- per-cgroup lruvecs ---------------------------------------------------------------------------
    def lruvec(self, memcg: int) -> list[LruList]:
        """mem_cgroup_lruvec: the cgroup's four LRU lists (the root's without cgroups)."""
        return self.lruvecs[memcg]

    def lru_list(self, lid: int) -> LruList:
        """The LRU list with this id (memcg * NR_LRU_LISTS + lru)."""
        return self.lruvecs[lid // NR_LRU_LISTS][lid % NR_LRU_LISTS]

    def lru_add(self, lru: int, frames: np.ndarray) -> None:
        """lruvec_add_folio on folio_lruvec: each frame onto list `lru` of its own cgroup's lruvec."""
        if self.memcg is None or not len(frames):
            self.lru[lru].add(frames)
            return
        ids = self.memcg.frame_memcg[frames]
        first = int(ids[0])
        if (ids == first).all():
            self.lruvecs[max(first, 0)][lru].add(frames)
            return
        for c in np.unique(ids).tolist():
            self.lruvecs[max(c, 0)][lru].add(frames[ids == c])

    def lru_remove(self, frames: np.ndarray) -> None:
        """lruvec_del_folio: take frames off whichever lists they are on."""
        if len(frames):
            lru_del(self.memmap, self.lrus, np.asarray(frames, dtype=np.int64))

    def lru_total(self, lru: int) -> int:
        """Pages on list `lru` over every cgroup's lruvec (the node's count)."""
        return int(self.lrus.nr[lru::NR_LRU_LISTS].sum()) if self.memcg is not None else len(self.lru[lru])

    # -- time ---------------------------------------------------------------------------------------
    def runnable(self) -> list:
        return [p for p in self.procs if p.started(self.now) and not p.exited and p.sleep_until <= self.now]

    def step(self, n: int = 1) -> None:
        """Advance n ticks."""
        for _ in range(n):
            self._tick()

    def _tick(self) -> None:
        now = self.now
        while self.pending_events and self.pending_events[0].at <= now:
            self._scripted(self.pending_events.pop(0), now)
        self.complete_io(now)
        if self.swap.pending_discard:
            self.swap.run_discards()
        self.swap.run_reclaim_work()
        tasks = self.runnable()
        runners = len(tasks) + (1 if self.kswapd.state == "running" else 0)
        share = self.tick_ns if runners <= self.ncpus else self.tick_ns * self.ncpus // runners
        # Rotate the order tasks run in, so no task is always first to the free pages.
        if tasks:
            r = self.tick % len(tasks)
            tasks = tasks[r:] + tasks[:r]
        for p in tasks:
            p.throttled = False
            p.debt_ns += share
        # Tasks and kswapd run on different CPUs at once: interleave them in slices of the tick.
        slice_ns = share // TICK_SLICES
        for k in range(TICK_SLICES):
            t = now + k * slice_ns
            for p in tasks:
                if p.exited or p.throttled:
                    continue
                budget = min(p.debt_ns, slice_ns)
                if budget <= 0:
                    continue
                used = run_task(self, p, t, budget)
                p.debt_ns -= used
            self.kswapd.cpu_fraction = share / self.tick_ns
            self.kswapd.run_until(self, t + slice_ns)
            self.kcompactd.run_until(self, t + slice_ns)
        if self.zswap is not None and self.zswap.shrink_wanted:
            self.zswap_shrink_worker(now)
        for p in tasks:
            # Unused time does not carry over; overrun (a stall) does, as debt.
            p.debt_ns = 0 if p.throttled else min(0, p.debt_ns)
        self.tick += 1
        self.now += self.tick_ns
        self._update_gauges()
        if self.story is not None:
            self.story.after_tick(self)
        if self.check_invariants:
            from swaptui.model.invariants import check_all

            check_all(self)

    def _scripted(self, ev, now: int) -> None:
        if ev.do == "drop_caches":
            frames = self.file_frame[self.file_frame >= 0]
            lids = self.memmap.lru[frames]
            for lid in np.unique(lids[lids >= 0]).tolist():
                self.lru_list(lid).remove(frames[lids == lid])
            sc = ScanControl(nr_to_reclaim=len(frames))
            reclaim_file_folios(self, frames, sc)
            self.event(now, "script", f"drop_caches: dropped {len(frames)} page-cache pages")
        elif ev.do == "compact":
            compact_node(self, now)
        elif ev.do == "reclaim":
            from swaptui.model.memcontrol import memory_reclaim

            memory_reclaim(self, ev.cgroup, ev.amount // PAGE_SIZE, ev.swappiness, now)
        elif ev.do == "pause":
            self.pause_event_tick = self.tick + 1  # this tick's step ends on it
            self.event(now, "script", "pause requested by the scenario")

    def done(self) -> bool:
        """True when the scenario's duration has elapsed."""
        return self.now >= self.scenario.duration

    # -- counters and snapshot ----------------------------------------------------------------------
    def _update_gauges(self) -> None:
        vm = self.vm
        vm.set("nr_free_pages", self.zone.nr_free_pages)
        for i, name in enumerate(("nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file")):
            vm.set(name, self.lru_total(i))
        vm.set("nr_swapcached", self.swap_cache.nr_pages)
        vm.set("nr_zspages", self.zram_frames_count)
        if self.zswap is not None:
            zc = self.zswap.counters()
            for name in ("zswpout", "zswpin", "zswpwb"):
                vm.set(name, zc[name])
            vm.set("swaptui_zswap_pool_pages", self.zswap.pool_pages())
            vm.set("swaptui_zswap_stored", self.zswap.entries())
        if self.vswap is not None:
            vm.set("swaptui_vswap_lookup_hits", self.vswap.lookup_hits)
            vm.set("swaptui_vswap_lookup_misses", self.vswap.lookup_misses)
            vm.set("swaptui_vswap_clusters", self.vswap.virtual_clusters())
        elif isinstance(self.swap_cache, SwapTableCache):
            vm.set("swaptui_swap_tables", self.swap_cache.tables(self.swap.cluster_count))
        vm.set("nr_kernel_misc", self.kernel_pages)
        vm.set("nr_file_pages", int((self.file_frame >= 0).sum()) if len(self.file_frame) else 0)
        vm.set("nr_writeback", sum(q.pages_in_flight() for q in self.io.values()))
        vm.set("swaptui_swap_used", self.phys.used())
        vm.set("swaptui_swap_total", self.swap.total_swap_pages)
        vm.set("swaptui_xa_lookups", self.swap_cache.lookups)
        vm.set("swaptui_xa_hops", self.swap_cache.hops)
        vm.set("swaptui_zram_stored", self.zram.stored if self.zram else 0)
        vm.set("swaptui_zram_same", self.zram.same_pages if self.zram else 0)
        vm.set("swaptui_slow_path_allocs", self.swap.slow_path_allocs)
        vm.set("pgalloc_normal", self.zone.pgalloc)
        vm.set("swaptui_extfrag_events", self.zone.extfrag_events)
        vm.set("swaptui_pageblock_claims", self.zone.pageblock_claims)
        vm.set("swaptui_watermark_boost", self.zone.watermark_boost)
        vm.set("pgfree", self.zone.pgfree)

    def update_full_gauges(self) -> np.ndarray:
        """Gauges that need a pass over every frame (render time only); returns frames per state."""
        counts = self.memmap.state_counts()
        self.vm.set("nr_anon_pages", int(counts[FRAME_ANON]))
        return counts

    def snapshot(self) -> Snapshot:
        """The read-only view of this tick for panes and reporters."""
        return build_snapshot(self)

    def swap_metadata(self) -> SwapMetadata:
        """Swap metadata bytes (static, dynamic) of this machine's design, from its current state."""
        from swaptui.model.metadata import classic_metadata, swap_table_metadata

        if isinstance(self.swap_cache, SwapTableCache):
            return swap_table_metadata(self.swap.nr_slots, self.swap_cache.tables(self.swap.cluster_count))
        if self.vswap is not None:
            from swaptui.model.metadata import vswap_metadata

            return vswap_metadata(self.phys.nr_slots, self.vswap.virtual_clusters(), self.phys.used())
        return classic_metadata(
            self.swap.nr_slots, self.swap_cache.entries(), self.zswap.entries() if self.zswap is not None else 0
        )

    def lookup_depths(self) -> dict[str, np.ndarray]:
        """Every lookup this design made, by kind, as a histogram over XArray depth (bin 0: no tree walked).

        classic: the swap cache's XArrays; swap_table: its per-cluster tables (depth 0); vswap: each kind of
        descriptor access through the cluster map. zswap's own trees are a kind of their own where it has them."""
        out: dict[str, np.ndarray] = {}
        if self.vswap is not None:
            for kind, hist in sorted(self.vswap.depth_by_kind.items()):
                out[f"vswap {kind}"] = hist.copy()
        else:
            name = "swap table" if self.design == "swap_table" else "swap cache xarray"
            out[name] = self.swap_cache.depth_hist.copy()
        if self.zswap is not None and self.design != "vswap":
            out["zswap tree"] = self.zswap.depth_hist.copy()
        return out

    def count_folio_split(self, order: int) -> None:
        """A large folio was split into base pages (thp_split_page counts PMD-size ones)."""
        if order == PAGEBLOCK_ORDER:
            self.vm.add("thp_split_page")

    def after_alloc(self, now: int) -> None:
        """rmqueue's tail: a fallback that boosted the watermark (ZONE_BOOSTED_WATERMARK) wakes kswapd."""
        if self.zone.boosted_flag:
            self.zone.boosted_flag = False
            self.kswapd.wake(self, 0, now)

    def watermarks(self) -> tuple[int, int, int]:
        """(min, low, high) of the simulated zone, boost included."""
        z = self.zone
        return z.wmark_pages(WMARK_MIN), z.wmark_pages(WMARK_LOW), z.wmark_pages(WMARK_HIGH)
