"""The Machine's fields, typed: the model's `struct pglist_data`.

The Machine is assembled from parts that live beside the kernel files they mirror: swap_ops.py
(SwapPathsMixin), oom_kill.py (ExitAndOomMixin), and the functions of memory.py, vmscan.py,
filemap.py and compaction.py, which take the machine as `m`. Every field any of them reaches for is
declared here once, with its type, so mypy checks each access; Machine.__init__ fills them in.
Per-call reclaim state travels separately in vmscan's ScanControl, as `struct scan_control` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections import deque

    import numpy as np

    from swaptui.model.compaction import CompactionState, Kcompactd
    from swaptui.model.costs import CostTable
    from swaptui.model.lru import Lru, LruList
    from swaptui.model.machine import Event
    from swaptui.model.memcontrol import MemCgroups
    from swaptui.model.memmap import MemMap
    from swaptui.model.page_alloc import Zone, ZoneInfo
    from swaptui.model.page_io import IoQueue, ZramStore
    from swaptui.model.story import Story
    from swaptui.model.swap_state import SwapCacheBase
    from swaptui.model.swapfile import SwapSlots
    from swaptui.model.vmscan import Kswapd
    from swaptui.model.vmstat import VmStat
    from swaptui.model.vswap import VSwapSpace
    from swaptui.model.workload import AddressSpaces, Process
    from swaptui.model.zswap import Zswap
    from swaptui.scenario import Event as ScenarioEvent
    from swaptui.scenario import Scenario


class MachineState:
    """Declarations only (no values, nothing at run time): what a Machine holds, and of which type."""

    # Time and configuration.
    scenario: Scenario
    costs: CostTable
    tick_ns: int
    tick: int
    now: int
    check_invariants: bool
    ncpus: int
    swappiness: int
    vma_ra_enabled: bool
    page_cluster: int
    design: str  # "classic", "swap_table" or "vswap"
    kernel: str  # machine.kernel, a release in kernels.KNOWN_KERNELS
    features: dict[str, bool]  # kernels.features_of(kernel, machine.features)
    zeromap_enabled: bool  # swap_writepage diverts zero folios to the zeromap (6.12+)
    count_zeromap: bool  # swpout_zero / swpin_zero are counted (6.12+)
    large_swapin: bool  # mTHP swap-in on SWP_SYNCHRONOUS_IO devices (6.12+)
    notices: list[str]  # one line each: what-if design, behaviours the model cannot switch
    # Counters and the event log.
    vm: VmStat
    events: deque[Event]
    event_seq: int
    _event_last: dict[tuple[str, object], int]  # (kind, key) -> time of the last event logged
    series: list[dict[str, object]]
    pending_events: list[ScenarioEvent]
    pause_event_tick: int  # the tick a scripted pause ended on, or -1
    story: Story | None  # the scenario's beats and which have fired
    # Physical memory, the zone and the LRU lists.
    memmap: MemMap
    zone_layout: list[tuple[str, int]]
    min_free_kbytes: int
    zone_infos: list[ZoneInfo]
    zone: Zone
    kernel_pages: int
    lrus: Lru
    lru: list[LruList]  # the root cgroup's lruvec, indexed by LRU_INACTIVE_ANON .. LRU_ACTIVE_FILE
    lruvecs: list[list[LruList]]  # every cgroup's lruvec, by cgroup row (one, the root's, without cgroups)
    anon_cost: list[int]  # lruvec->anon_cost, by cgroup row
    file_cost: list[int]
    memcg: MemCgroups | None  # the mem_cgroup table; None when the scenario lists no cgroups
    last_pageout: int
    nonresident_age: int  # workingset's eviction clock
    # Swap: `swap` is what PTEs hold entries of (the physical slots, or vswap's virtual ones); `phys` is
    # always the physical allocator; `vswap` is `swap` under the vswap design and None otherwise.
    phys: SwapSlots
    swap: SwapSlots | VSwapSpace
    vswap: VSwapSpace | None
    swap_cache: SwapCacheBase
    zram: ZramStore | None
    zswap: Zswap | None
    writeout_failed: np.ndarray
    zram_frames: np.ndarray
    zram_frames_count: int
    io: dict[int, IoQueue]  # by device index, for devices that are not synchronous
    swap_has_rotational: bool
    swapin_readahead_hits: int
    ra_prev_offset: int
    last_readahead_pages: int
    # Workloads and the kernel threads.
    procs: list[Process]
    spaces: AddressSpaces
    file_frame: np.ndarray  # frame of each file page, -1 when not cached
    file_shadow: np.ndarray  # workingset shadow of each evicted file page, -1 when none
    kswapd: Kswapd
    compaction: CompactionState
    kcompactd: Kcompactd
    kswapd_cpu: int

    if TYPE_CHECKING:
        # Defined by Machine itself; declared here for the mixins that log events.
        def event(self, now: int, kind: str, text: str, key: object = None, min_gap_ns: int = 20_000_000) -> None:
            """Log an event (Machine.event)."""

        def lruvec(self, memcg: int) -> list[LruList]:
            """The cgroup's lruvec (Machine.lruvec)."""

        def lru_list(self, lid: int) -> LruList:
            """The LRU list with this id (Machine.lru_list)."""

        def lru_add(self, lru: int, frames: np.ndarray) -> None:
            """Frames onto their own cgroup's list `lru` (Machine.lru_add)."""

        def lru_remove(self, frames: np.ndarray) -> None:
            """Frames off whichever lists they are on (Machine.lru_remove)."""

        def lru_total(self, lru: int) -> int:
            """The node's count on list `lru` (Machine.lru_total)."""
