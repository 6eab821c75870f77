"""Swap metadata bytes per design, static and dynamic (kernel-model.md §9, §10.4, §15.5).

Per-structure sizes, and where each comes from:
- classic (<= 6.17): `swap_map` 1 B and `swap_cgroup` 2 B per slot, `swap_cluster_info` 64 B per
  cluster (static); the swap cache's XArray and zswap's XArray hold one 8-byte slot pointer per
  entry (dynamic). This is the accounting of the vswap v5 cover letter's table (25 MB static for
  32 GB; +8 B per used slot, +8 more with zswap).
- swap table: phase II (mm-stable) keeps `swap_map` and `swap_cgroup` (3 B/slot) and a 96-byte
  cluster_info; phase III drops `swap_map` (2 B/slot); phase IV moves memcg ids into per-cluster
  tables allocated only for charged slots (no memcg in this model, so none) and keeps 32 B per
  cluster. Every phase allocates one 4 KiB table (512 x 8 B) per cluster in use (Kairui's table in
  the v5 thread: P2 25.5/89.5 MB, P3 17.5/81.5, P4 0.5/64.5 for 32 GB at 0 %/100 %).
- vswap: a 24-byte `swp_desc` per virtual slot in use (allocated per 512-slot virtual cluster) and
  a 64-byte `vswap_cluster`; disk-backed slots also use the physical allocator's two bitmaps (2
  bits per physical slot, static) and an 8-byte reverse-map entry per physical slot in use.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOTS_PER_CLUSTER = 512
TABLE_BYTES = SLOTS_PER_CLUSTER * 8


@dataclass(frozen=True)
class SwapMetadata:
    """Bytes of swap metadata: static (sized by the device) and dynamic (grows with use)."""

    static: int
    dynamic: int

    @property
    def total(self) -> int:
        return self.static + self.dynamic


def classic_metadata(nr_slots: int, cache_entries: int, zswap_entries: int = 0) -> SwapMetadata:
    """The old design: swap_map + swap_cgroup + cluster_info; XArray pointers for cache and zswap."""
    clusters = -(-nr_slots // SLOTS_PER_CLUSTER)
    return SwapMetadata(static=nr_slots * 3 + clusters * 64, dynamic=cache_entries * 8 + zswap_entries * 8)


SWAP_TABLE_STATIC = {"p2": (3, 96), "p3": (2, 96), "p4": (0, 32)}  # (bytes per slot, bytes per cluster)


def swap_table_metadata(nr_slots: int, tables: int, phase: str = "p2") -> SwapMetadata:
    """The swap table: static per-slot maps by phase, one 4 KiB table per cluster in use."""
    per_slot, per_cluster = SWAP_TABLE_STATIC[phase]
    clusters = -(-nr_slots // SLOTS_PER_CLUSTER)
    return SwapMetadata(static=nr_slots * per_slot + clusters * per_cluster, dynamic=tables * TABLE_BYTES)


def vswap_metadata(nr_physical_slots: int, virtual_clusters: int, physical_in_use: int) -> SwapMetadata:
    """vswap: descriptors per virtual cluster, reverse map per physical slot in use, physical bitmaps."""
    return SwapMetadata(
        static=nr_physical_slots * 2 // 8,
        dynamic=virtual_clusters * (SLOTS_PER_CLUSTER * 24 + 64) + physical_in_use * 8,
    )
