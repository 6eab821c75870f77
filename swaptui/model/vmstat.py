"""Counters named exactly as in /proc/vmstat (plus swaptui_* extras), each with a one-line description."""

from __future__ import annotations

import numpy as np

# (name, description). Event counters only grow; gauges (marked in GAUGES) are set each tick.
COUNTERS: tuple[tuple[str, str], ...] = (
    ("nr_free_pages", "Free pages on the buddy lists (per-CPU lists excluded), all zones."),
    ("nr_inactive_anon", "Anonymous pages on the inactive LRU list."),
    ("nr_active_anon", "Anonymous pages on the active LRU list."),
    ("nr_inactive_file", "Page-cache pages on the inactive LRU list."),
    ("nr_active_file", "Page-cache pages on the active LRU list."),
    ("nr_anon_pages", "Anonymous pages mapped by processes."),
    ("nr_file_pages", "Page-cache pages, including the swap cache."),
    ("nr_swapcached", "Pages in the swap cache (a copy in memory of a swap slot)."),
    ("nr_writeback", "Pages under writeback to a swap device."),
    ("nr_zspages", "Pages held by zsmalloc pools (zram and zswap)."),
    ("nr_kernel_misc", "Unmovable kernel pages the model holds fixed (slab, page tables, stacks)."),
    ("pgpgin", "KiB read from block devices (swap reads count here too)."),
    ("pgpgout", "KiB written to block devices (swap writes count here too)."),
    ("pswpin", "Pages read in from a swap device (not zswap, not zero pages)."),
    ("pswpout", "Pages written out to a swap device (not zswap, not zero pages)."),
    ("pgalloc_normal", "Pages allocated from the buddy allocator (the model's single merged zone)."),
    ("pgfree", "Pages freed back to the page allocator."),
    ("pgactivate", "Folios moved from the inactive to the active list."),
    ("pgdeactivate", "Folios moved from the active to the inactive list."),
    ("pgfault", "Page faults, minor and major."),
    ("pgmajfault", "Major faults: the fault had to wait for a read from swap or a file."),
    ("pgrefill", "Folios scanned on the active lists (shrink_active_list)."),
    ("pgreuse", "Write faults that reused a page in place."),
    ("pgsteal_kswapd", "Pages reclaimed (freed) by kswapd."),
    ("pgsteal_direct", "Pages reclaimed (freed) by direct reclaim in allocating tasks."),
    ("pgscan_kswapd", "Pages scanned on the inactive lists by kswapd."),
    ("pgscan_direct", "Pages scanned on the inactive lists by direct reclaim."),
    ("pgscan_direct_throttle", "Direct reclaimers throttled because free pages fell below half of min."),
    ("pgscan_anon", "Anonymous pages scanned (kswapd and direct)."),
    ("pgscan_file", "File pages scanned (kswapd and direct)."),
    ("pgsteal_anon", "Anonymous pages reclaimed."),
    ("pgsteal_file", "File pages reclaimed."),
    ("pgrotated", "Pages rotated to the inactive tail when their writeback completed."),
    ("pageoutrun", "kswapd balance_pgdat runs."),
    ("kswapd_low_wmark_hit_quickly", "kswapd was woken again during its short nap (low watermark hit)."),
    ("kswapd_high_wmark_hit_quickly", "kswapd's nap ended with the node still below high."),
    ("allocstall_movable", "Direct reclaim entries for movable (user) allocations."),
    ("allocstall_normal", "Direct reclaim entries for kernel allocations."),
    ("workingset_refault_anon", "Anonymous pages faulted back in that had a shadow entry."),
    ("workingset_refault_file", "File pages read back in that had a shadow entry."),
    ("workingset_activate_anon", "Refaulted anonymous pages activated (refault distance < workingset)."),
    ("workingset_activate_file", "Refaulted file pages activated."),
    ("workingset_restore_anon", "Activated anonymous refaults that were workingset pages when evicted."),
    ("workingset_restore_file", "Activated file refaults that were workingset pages when evicted."),
    ("workingset_nodereclaim", "Shadow-entry nodes reclaimed (not modelled: stays 0)."),
    ("swap_ra", "Pages read by swap readahead (the faulting page excluded)."),
    ("swap_ra_hit", "Faults that found a readahead page in the swap cache."),
    ("zswpout", "Pages stored in zswap (compressed in RAM instead of written to the device)."),
    ("zswpin", "Pages loaded back from zswap (exclusive load: the compressed copy is dropped)."),
    ("zswpwb", "Pages zswap wrote back to the swap device to shrink its pool."),
    ("swpin_zero", "Zero pages swapped in from the zeromap (no I/O)."),
    ("swpout_zero", "Zero pages swapped out to the zeromap (no I/O)."),
    ("nr_vmscan_write", "Pages written by reclaim (pageout)."),
    ("nr_vmscan_immediate_reclaim", "Pages under writeback that reclaim marked for immediate reclaim."),
    ("oom_kill", "Processes killed by the OOM killer."),
    ("compact_migrate_scanned", "Pages the migrate scanner of direct or manual compaction looked at."),
    ("compact_free_scanned", "Pages the free scanner of direct or manual compaction looked at."),
    ("compact_isolated", "Pages compaction isolated, to migrate (movable) or as targets (free)."),
    ("compact_stall", "Direct compaction attempts by allocating tasks (a zone neither skipped nor deferred)."),
    ("compact_fail", "Direct compaction attempts after which the allocation still failed."),
    ("compact_success", "Direct compaction attempts after which the allocation succeeded."),
    ("compact_daemon_wake", "kcompactd runs (woken for an order, or proactive compaction)."),
    ("compact_daemon_migrate_scanned", "Pages kcompactd's migrate scanner looked at."),
    ("compact_daemon_free_scanned", "Pages kcompactd's free scanner looked at."),
    ("pgmigrate_success", "Pages migrated (by compaction)."),
    ("pgmigrate_fail", "Pages compaction isolated but could not migrate."),
    ("thp_fault_alloc", "Faults that mapped a newly allocated transparent huge page (order 9)."),
    ("thp_fault_fallback", "THP faults that could not get an order-9 page and fell back to base pages."),
    ("thp_split_page", "Huge pages split into base pages (here: when swap-out found no free cluster)."),
    ("thp_swpout", "Huge pages swapped out whole, into one free swap cluster."),
    ("thp_swpout_fallback", "Huge pages that were split before swap-out because no swap cluster was free."),
    (
        "swaptui_mthp_fault_alloc",
        "Faults that mapped a new mTHP folio below PMD size (hugepages-*kB/stats/anon_fault_alloc).",
    ),
    ("swaptui_mthp_fault_fallback", "mTHP faults that fell back to a smaller order (stats/anon_fault_fallback)."),
    ("swaptui_mthp_swpin", "mTHP folios swapped in whole from a synchronous device (hugepages-*kB/stats/swpin)."),
    ("swaptui_mthp_swpout", "Large folios below PMD size (mTHP) swapped out whole (hugepages-*kB/stats/swpout)."),
    (
        "swaptui_mthp_swpout_fallback",
        "mTHP folios split before swap-out: no slots of their order (stats/swpout_fallback).",
    ),
    (
        "swaptui_extfrag_events",
        "Allocations that fell back to another migratetype's pageblock (mm_page_alloc_extfrag).",
    ),
    ("swaptui_pageblock_claims", "Fallbacks that claimed (re-tagged) a whole pageblock."),
    ("swaptui_watermark_boost", "Current watermark boost of the zone, pages (after fragmenting fallbacks)."),
    (
        "swaptui_zs_pages_compacted",
        "zsmalloc pages freed by compaction (the zsmalloc shrinker under reclaim; pages_compacted).",
    ),
    ("swaptui_unmap_free_ns", "Simulated time tasks spent unmapping and freeing memory (munmap, exit), ns."),
    (
        "swaptui_compact_capture",
        "Direct compactions that captured the block they freed (compaction_capture; the kernel has no counter).",
    ),
    ("swaptui_compact_ns", "Simulated CPU time spent in direct and manual compaction, ns."),
    ("swaptui_kcompactd_cpu_ns", "Simulated CPU time spent by kcompactd, ns."),
    ("swaptui_kswapd_cpu_ns", "Simulated CPU time spent by kswapd, ns."),
    ("swaptui_direct_reclaim_ns", "Simulated CPU time tasks spent in direct reclaim, ns."),
    ("swaptui_task_io_wait_ns", "Simulated time tasks waited for swap reads, ns."),
    ("swaptui_throttle_ns", "Simulated time tasks slept throttled in direct reclaim, ns."),
    ("swaptui_task_cpu_ns", "Simulated CPU time tasks spent, ns (including faults and reclaim)."),
    ("swaptui_pages_touched", "Page accesses the workloads completed (throughput)."),
    ("swaptui_page_events", "Page events: faults + swap-outs + swap-ins + frees."),
    ("swaptui_swap_used", "Swap slots in use, all devices."),
    ("swaptui_swap_total", "Swap slots, all devices."),
    ("swaptui_xa_lookups", "Swap-cache XArray lookups and stores."),
    ("swaptui_xa_hops", "XArray levels walked by those lookups."),
    ("swaptui_zram_stored", "Pages stored in zram (compressed or same-filled)."),
    ("swaptui_zram_same", "Pages zram stored as same-filled (no pool memory)."),
    ("swaptui_swap_alloc_fail", "Swap slot allocations that failed (devices full)."),
    (
        "swaptui_zram_write_failed",
        (
            "zram writes that failed because zsmalloc found no free page (zram's "
            "failed_writes): the folio stays dirty on the inactive list."
        ),
    ),
    ("swaptui_vswap_lookup_hits", "vswap: descriptor lookups served by the per-CPU lookup cache (no XArray walk)."),
    ("swaptui_vswap_lookup_misses", "vswap: descriptor lookups that walked the virtual cluster map."),
    ("swaptui_vswap_clusters", "vswap: virtual clusters in the cluster map."),
    ("swaptui_swap_tables", "swap_table: swap tables allocated (one 4 KiB page per cluster in use)."),
    ("swaptui_zswap_pool_pages", "zswap: pages in its zsmalloc pool."),
    ("swaptui_zswap_stored", "zswap: pages stored."),
    ("swaptui_slow_path_allocs", "Swap slot allocations that took the slow path (new cluster)."),
)

GAUGES = frozenset(
    {
        "nr_free_pages",
        "nr_inactive_anon",
        "nr_active_anon",
        "nr_inactive_file",
        "nr_active_file",
        "nr_anon_pages",
        "nr_file_pages",
        "nr_swapcached",
        "nr_writeback",
        "nr_zspages",
        "nr_kernel_misc",
        "swaptui_swap_used",
        "swaptui_swap_total",
        "swaptui_vswap_clusters",
        "swaptui_swap_tables",
        "swaptui_zswap_pool_pages",
        "swaptui_zswap_stored",
        "swaptui_watermark_boost",
    }
)

NAMES: tuple[str, ...] = tuple(n for n, _ in COUNTERS)
HELP: dict[str, str] = dict(COUNTERS)
INDEX: dict[str, int] = {n: i for i, n in enumerate(NAMES)}


class VmStat:
    """The counter array with name-based access; one int64 per counter."""

    def __init__(self) -> None:
        self.values = np.zeros(len(NAMES), dtype=np.int64)

    def add(self, name: str, n: int = 1) -> None:
        """Add n to an event counter."""
        self.values[INDEX[name]] += n

    def set(self, name: str, n: int) -> None:
        """Set a gauge."""
        self.values[INDEX[name]] = n

    def __getitem__(self, name: str) -> int:
        return int(self.values[INDEX[name]])
