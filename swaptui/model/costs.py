"""The cost table: what each kernel operation costs in simulated nanoseconds, and the swap backends.

Costs drive the dynamics: every operation charges its cost to whoever runs it (a task's CPU budget or
kswapd's), so a path that costs more makes reclaim slower and pushes work into direct reclaim. The
figures are order-of-magnitude values for a ~3 GHz x86-64 core; they are inputs, not fitted outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


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
    # zswap and its zsmalloc pool (lz4 figures; zswap scales compression by COMPRESSOR_SCALE).
    zswap_compress: int = 4000  # compressing one 4 KiB page (crypto_acomp, lz4)
    zswap_decompress: int = 800  # decompressing one page (lz4)
    zswap_copy_page: int = 300  # copying a raw (incompressible) page into or out of its zsmalloc object
    zswap_entry_alloc: int = 60  # zswap_entry_cache_alloc / free (slab)
    zs_malloc: int = 150  # zs_malloc: pool lock, find_get_zspage, obj_malloc, fix_fullness_group
    zs_free: int = 120  # zs_free: pool lock, obj_free, fix_fullness_group
    zswap_lru: int = 40  # list_lru add or del under the lru lock
    # Per backend: zram's compression and device submission are in BackendProfile.


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
    "hdd": BackendProfile(
        "hdd",
        False,
        True,
        6_000_000,
        6_000_000,
        150_000_000,
        cpu_write_ns=0,
        cpu_read_ns=0,
        solidstate=False,
        queue_pages=256,
    ),
}

# Per-page compression cost relative to lz4 (zram/zswap compressor); zram's base figures are lz4's.
# lzo-rle is lzo with zero runs run-length encoded (lib/lzo, 5.1: faster on zero-rich pages, the same
# otherwise); the model has no figure of its own for plain lzo, so it takes lzo-rle's (a simplification).
COMPRESSOR_SCALE: dict[str, float] = {"lz4": 1.0, "lzo": 1.6, "lzo-rle": 1.6, "zstd": 4.0}


# -- CPU profiles ----------------------------------------------------------------------------------
# The figures above are for a native core. A kernel run under QEMU's TCG (software emulation, as the
# shared traces were recorded) is slower by a different factor for different kinds of code, while the
# devices (host files behind virtio) keep their speed. A profile scales each class of CPU cost:
#   kernel:     every kernel operation in the table but (de)compression
#   user:       the workload's own user-mode work on a page (touch_write, touch_read)
#   compress:   compression (zram's backend figure, zswap's)
#   decompress: decompression (likewise)
# Device latency and bandwidth are never scaled.
# qemu-tcg's factors are measured, not fitted to the traces: benchmarks/tcg/fit_profile.py solves them from
# per-page times of first-touch faults, MADV_PAGEOUT and swap-in on zram and disk, and user-mode page
# writes and reads, timed inside the traces' own guest setup (benchmarks/tcg/README.md, measured.jsonl).
CPU_PROFILES: dict[str, dict[str, float]] = {
    "native": {},
    "qemu-tcg": {"kernel": 15.8, "user": 7.8, "compress": 7.2, "decompress": 12.9},
}
USER_COSTS = ("touch_write", "touch_read")
COMPRESS_COSTS = ("zswap_compress",)
DECOMPRESS_COSTS = ("zswap_decompress",)


def cost_class(name: str) -> str:
    """The CPU class a cost-table entry belongs to."""
    if name in USER_COSTS:
        return "user"
    if name in COMPRESS_COSTS:
        return "compress"
    if name in DECOMPRESS_COSTS:
        return "decompress"
    return "kernel"


def cpu_factor(cpu: str, cls: str) -> float:
    """How much slower than native a CPU profile runs one class of code."""
    return CPU_PROFILES[cpu].get(cls, 1.0)


def costs_for_cpu(cpu: str = "native") -> CostTable:
    """The cost table for a CPU profile: each entry scaled by its class's factor."""
    if not CPU_PROFILES[cpu]:
        return DEFAULT_COSTS
    return replace(
        DEFAULT_COSTS,
        **{
            f.name: round(getattr(DEFAULT_COSTS, f.name) * cpu_factor(cpu, cost_class(f.name)))
            for f in fields(CostTable)
        },
    )


def backend_profile(kind: str, compressor: str = "lzo-rle", cpu: str = "native") -> BackendProfile:
    """Return the profile of a device kind, with zram's CPU costs scaled by its compressor and CPU profile."""
    base = BACKENDS[kind]
    if base.compresses:
        algo = COMPRESSOR_SCALE.get(compressor, 1.0)
        write, read = algo * cpu_factor(cpu, "compress"), algo * cpu_factor(cpu, "decompress")
    else:
        write = read = cpu_factor(cpu, "kernel")  # pmem's memcpy; queued devices charge no CPU per page
    if write == read == 1.0:
        return base
    return replace(base, cpu_write_ns=round(base.cpu_write_ns * write), cpu_read_ns=round(base.cpu_read_ns * read))


DEFAULT_COSTS = CostTable()
