"""The cost table: what each kernel operation costs in simulated nanoseconds, and the swap backends.

Costs drive the dynamics: every operation charges its cost to whoever runs it (a task's CPU budget or
kswapd's), so a path that costs more makes reclaim slower and pushes work into direct reclaim. The
figures are order-of-magnitude values for a ~3 GHz x86-64 core; they are inputs, not fitted outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CostTable:
    """Simulated CPU cost of each operation, in ns."""

    # Page faults and user work.
    fault_entry: int = 400  # exception entry/exit, VMA lookup, PTE lock
    clear_page: int = 250  # zeroing a fresh anonymous page
    touch_write: int = 220  # the workload writing one 4 KiB page
    touch_read: int = 160  # the workload reading (verifying) one 4 KiB page
    zap_pte: int = 40  # zap_pte_range per PTE: clear it, rmap/counter updates, TLB batching
    swapin_map: int = 350  # do_swap_page bookkeeping: PTE install, rmap, swap_free
    file_read_copy: int = 300  # copying one page of a file read to user space
    # Page allocator.
    buddy_page: int = 40  # per page taken from or given to the buddy lists
    pcp_page: int = 15  # per page taken from or freed to a per-CPU list
    slab_alloc: int = 150  # a slab refill's per-page work (kmem_cache bookkeeping)
    alloc_slowpath: int = 600  # entering __alloc_pages_slowpath (wake kswapd, retries)
    # Reclaim.
    lru_isolate: int = 50  # isolating one folio from an LRU list
    folio_referenced: int = 250  # rmap walk to test and clear the accessed bits
    try_to_unmap: int = 300  # rmap walk to replace the PTE by a swap entry
    pageout_submit: int = 600  # building and submitting a write bio
    remove_mapping: int = 150  # __remove_mapping and freeing the folio
    lru_putback: int = 30  # putting a folio back on an LRU list
    deactivate_page: int = 120  # shrink_active_list, per folio
    reclaim_entry: int = 1500  # do_try_to_free_pages / balance_pgdat pass set-up
    zero_check: int = 120  # is_folio_zero_filled on a non-zero page (early exit)
    zero_check_full: int = 300  # scanning a whole zero page
    # Swap slot allocation and the swap cache.
    cluster_lock: int = 25  # ci->lock acquire/release
    si_lock: int = 40  # si->lock for a cluster list move
    swap_map_scan_slot: int = 4  # inspecting one swap_map byte in cluster_scan_range
    slot_alloc: int = 60  # per slot handed out (swap_map write, counters)
    slot_free: int = 50  # per slot freed (swap_entries_free)
    xa_hop: int = 20  # one XArray level (xas_descend): a dependent load
    xa_lock: int = 40  # xa_lock_irq for a swap-cache store
    xa_node_alloc: int = 200  # allocating an xa_node (576 B)
    table_access: int = 10  # swap table: one dependent load into the cluster's array
    shadow_work: int = 60  # workingset_eviction / workingset_refault arithmetic
    readahead_page: int = 250  # swap readahead: allocating and queueing one extra page
    zs_compact_object: int = 200  # zs_compact moving one object: copy it, update its handle
    # Compaction and migration.
    compact_entry: int = 2000  # compact_zone set-up and teardown (lru_add_drain, cached positions)
    compact_migrate_scan_page: int = 15  # isolate_migratepages_block looking at one page
    compact_free_scan_page: int = 8  # isolate_freepages_block looking at one page
    migrate_page: int = 2500  # migrate_folio for a base page: unmap, copy 4 KiB, remap, TLB flush
    # Per backend: compression and device submission are in BackendProfile.


@dataclass(frozen=True)
class BackendProfile:
    """How a swap device kind behaves: synchronous or queued, latency, bandwidth, CPU per page."""

    kind: str
    synchronous: bool  # SWP_SYNCHRONOUS_IO: zram, pmem, brd
    rotational: bool
    read_latency_ns: int
    write_latency_ns: int
    bandwidth_bytes_per_s: int
    cpu_write_ns: int  # CPU per page written (compression for zram, memcpy for pmem)
    cpu_read_ns: int  # CPU per page read (decompression for zram)
    compresses: bool = False
    solidstate: bool = True
    queue_pages: int = 1024  # pages that may be queued before a submitter blocks


BACKENDS: dict[str, BackendProfile] = {
    # zram: synchronous, compresses in the caller's context; compressed pages take RAM.
    "zram": BackendProfile("zram", True, False, 0, 0, 0, cpu_write_ns=1200, cpu_read_ns=450, compresses=True),
    # pmem/brd: synchronous memcpy.
    "pmem": BackendProfile("pmem", True, False, 0, 0, 0, cpu_write_ns=500, cpu_read_ns=400),
    # NVMe/SATA SSD: queued I/O.
    "ssd": BackendProfile("ssd", False, False, 80_000, 30_000, 1_500_000_000, cpu_write_ns=0, cpu_read_ns=0),
    # HDD: rotational, long latency, low bandwidth.
    "hdd": BackendProfile("hdd", False, True, 6_000_000, 6_000_000, 150_000_000, cpu_write_ns=0, cpu_read_ns=0,
                          solidstate=False, queue_pages=256),
}

# Per-page compression cost relative to lz4 (zram/zswap compressor); zram's base figures are lz4's.
COMPRESSOR_SCALE: dict[str, float] = {"lz4": 1.0, "lzo-rle": 1.6, "zstd": 4.0}


def backend_profile(kind: str, compressor: str = "lzo-rle") -> BackendProfile:
    """Return the profile of a device kind, with zram's CPU costs scaled by its compressor."""
    base = BACKENDS[kind]
    if not base.compresses:
        return base
    scale = COMPRESSOR_SCALE.get(compressor, 1.0)
    return replace(base, cpu_write_ns=int(base.cpu_write_ns * scale), cpu_read_ns=int(base.cpu_read_ns * scale))


DEFAULT_COSTS = CostTable()
