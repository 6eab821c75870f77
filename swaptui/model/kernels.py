"""Kernel versions: which swap and reclaim behaviours each mainline release has, and the switch each sets.

One table, BEHAVIOURS, lists every behaviour that changed between the releases the model knows: its name
(`machine.features` takes these names), the first release that has it (`since`) or the first that no
longer has it (`until`), the commit or series, and the model switch it sets. A behaviour the model does
not implement is still listed, with `switch=None` and `model_has` saying what the model always does
instead; a run on a kernel that differs there gets a one-line notice rather than a pretence.

Every version below was checked against the kernel's own files at that version (mainline trees, or
stable trees of that release where no mainline snapshot could be read; `verified` names what was read).
Where a release between two snapshots could not be read, the bracket is given and the version rests on
the commit's merge window from ../shared/reference/kernel-versions.md. The snapshots carry no git
history, so commit ids are those of kernel-versions.md: the versions were read, the ids were not.

Trees read (one snapshot each): v6.1-rc7, v6.2.1, v6.5, v6.8, v6.11.11, v6.12 (6.12.0 and 6.12.19),
v6.13.2, v6.14, v6.17, v6.18.35. What they settle of the rows kernel-versions.md marks UNCONFIRMED:

- 6.1 one-page-per-work shrink: confirmed (v6.1-rc7 mm/zswap.c shrink_worker: one
  zpool_shrink(pool->zpool, 1, NULL); queued only when zswap_is_full(); while reached_full and not
  zswap_can_accept() a store is rejected with no new shrink; v6.2.1 the same; v6.5 queues there too
  and loops, with e0228d590beb's series). zpool_shrink() on zsmalloc in v6.1 is -EINVAL.
- zsmalloc writeback 6.2: confirmed (v6.2.1 mm/zsmalloc.c zs_zpool_shrink; none in v6.1-rc7).
- shrink_worker reclaiming down to the accept threshold (Takero Funaki's fixes), "6.11-6.12": in
  v6.11.11 (loop `while (zswap_total_pages() > thr)`), not in v6.8 (`while (!zswap_can_accept())`);
  a stable tree, so 6.11 with a backport not excluded. Not a switch here: both stop at the threshold.
- large folios in zswap_store 6.13: confirmed (v6.12.19 rejects folio_test_large; v6.13.2 has
  zswap_store_page).
- default zpool zbud -> zsmalloc "~6.7-6.9": after 6.5 (v6.5 mm/Kconfig default ZBUD), by 6.8 (v6.8
  default ZSMALLOC); 6.6/6.7 not read.
- swpout_zero / swpin_zero "6.13": corrected to 6.12 (v6.12.0 include/linux/vm_event_item.h and
  mm/page_io.c count SWPOUT_ZERO / SWPIN_ZERO).
- zbud and z3fold "deprecated 6.13": z3fold is CONFIG_Z3FOLD_DEPRECATED already in v6.11.11 (not in
  v6.8); zbud is never marked deprecated (v6.14 mm/Kconfig). Both removed between v6.14 and v6.17
  (6.15 by the mm commit dates). zpool removed in 6.18 (mm/zpool.c in v6.17, not in v6.18.35).
- HDD path unified 6.14: confirmed (v6.13.2 scan_swap_map_slots scans lowest_bit/scan_base with
  LATENCY_LIMIT; v6.14 calls cluster_alloc_swap() for every device).
- swap slot cache removed 6.15: mm/swap_slots.c in v6.14, gone in v6.17 (6.15 by the commit date;
  v6.15 itself not read, id 0ff67f990bd4 not checked).
- __rmqueue_claim / __rmqueue_steal 6.15 and vm.defrag_mode 6.15: absent in v6.14, present in v6.17
  (defrag_mode, try_to_claim_block, __rmqueue_claim); 6.15 by the merge window.
- swap table phase I 6.18: confirmed (mm/swap_table.h in v6.18.35, not in v6.17).
- per-order cluster lists 6.12: confirmed (nonfull_clusters/frag_clusters in v6.12.19, not v6.11.11).
- mTHP swap-in 6.12 confirmed (alloc_swap_folio in v6.12.0 mm/memory.c, not v6.11.11); mTHP swap-out
  and freelist hygiene by 6.11 (in v6.11.11, not v6.8).
- zswpwb 6.8: the counter is in v6.8 include/linux/vm_event_item.h; the commit id was not checked.
- swappiness= for memory.reclaim "6.9": between v6.8 (absent) and v6.11.11 (present).
  SWAPPINESS_ANON_ONLY "6.15-6.16": between v6.14 (absent) and v6.17 (present).
- Not settled (no tree of the release, or not a file-level fact): the MGLRU rows, THP defrag,
  memory.swap.max 4.5, zeromap-into-swap-table and phase IV (not mainline), the -rc of each change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

KNOWN_KERNELS = ("6.1", "6.6", "6.8", "6.12", "6.15", "6.18", "7.0")
"""The mainline releases `machine.kernel` accepts, oldest first."""
DEFAULT_KERNEL = "7.0"
"""The newest release modelled: the kernel a scenario runs when it names none."""


def parse_version(text: str) -> tuple[int, int]:
    """Parse a release such as "6.12" into (6, 12), so releases compare in order."""
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


@dataclass(frozen=True)
class Behaviour:
    """One behaviour that changed between releases, where it came from, and how the model follows it."""

    name: str
    description: str
    source: str
    since: str | None = None  # first release with it; None: older than every release in KNOWN_KERNELS
    until: str | None = None  # first release without it (removed); None: still there
    switch: str | None = None  # what the model switches; None: not modelled
    model_has: bool = True  # without a switch: whether the model always has it (True) or never (False)
    verified: str = ""  # the kernel files read to date it

    def present_in(self, kernel: str) -> bool:
        """Whether the release has this behaviour."""
        version = parse_version(kernel)
        if self.since is not None and version < parse_version(self.since):
            return False
        return self.until is None or version < parse_version(self.until)

    @property
    def modelled(self) -> bool:
        """Whether the model can run it both ways."""
        return self.switch is not None

    @property
    def dates(self) -> str:
        """The release span in words: '6.12+', 'until 6.15', '6.10+'."""
        if self.until is not None:
            return f"{self.since}..{self.until}" if self.since else f"until {self.until}"
        return f"{self.since}+" if self.since else "all"


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "zsmalloc_writeback",
        "zswap on zsmalloc writes back at the pool limit (zsmalloc gets the zpool shrink hook); before, "
        "only zbud and z3fold could evict, so a full zsmalloc pool just rejects to the device.",
        "Nhat Pham, series 'Implement writeback for zsmalloc' (late 2022)",
        since="6.2",
        switch="Zswap.writeback: without it shrink_worker's zpool_shrink fails (reject_reclaim_fail)",
        verified="v6.1-rc7 mm/zpool.c zpool_shrink() returns -EINVAL without driver->shrink, and "
        "mm/zsmalloc.c has no .shrink in zs_zpool_driver; v6.2.1 mm/zsmalloc.c has "
        "zs_zpool_shrink() -> zs_reclaim_page()",
    ),
    Behaviour(
        "zswap_shrink_loop",
        "zswap keeps its own LRU (zswap_reclaim_entry) and shrink_worker writes back until "
        "zswap_can_accept(); before, each pool-limit hit queued one zpool_shrink(pool, 1) (one page, LRU in "
        "zbud/z3fold) and stores were rejected to the device until usage fell below accept_threshold_percent.",
        "commits f999f38b4e6f 'mm: zswap: add pool shrinking mechanism', e0228d590beb 'mm: zswap: shrink "
        "until can accept' (series 'mm: zswap: move writeback LRU from zpool to zswap')",
        since="6.5",
        switch="Zswap.shrink_loop: which rejected stores queue the worker, and one attempt or a loop "
        "(without it, an attempt that can write back takes one entry for zs_reclaim_page's zspage)",
        verified="v6.1-rc7 and v6.2.1 mm/zswap.c: shrink_worker() makes one zpool_shrink(pool->zpool, 1, "
        "NULL), queued only from the zswap_is_full() branch of zswap_frontswap_store() (a store rejected "
        "while reached_full and !zswap_can_accept() queues nothing); v6.5 mm/zswap.c: that branch does "
        "goto shrink too, and shrink_worker() loops zswap_reclaim_entry() while (!zswap_can_accept())",
    ),
    Behaviour(
        "zswap_shrinker",
        "A memcg- and NUMA-aware shrinker writes cold zswap entries back under memory pressure, before the "
        "pool limit (zswap.shrinker_enabled; Kconfig default off).",
        "commit b5ba474f3f51 'zswap: shrink zswap pool based on memory pressure' (Nhat Pham)",
        since="6.8",
        switch="Zswap.shrinker_enabled (and swap.zswap.shrinker_enabled)",
        verified="v6.8 mm/Kconfig has ZSWAP_SHRINKER_DEFAULT_ON (default n); v6.5 has no shrinker",
    ),
    Behaviour(
        "zswap_same_filled",
        "zswap stores pages filled with one repeated word as the value alone (same_filled_pages), with no "
        "compression and no pool space.",
        "Srividya Desireddy, 'zswap: Zero-filled pages handling' (4.14); removed by the zeromap series, "
        "patch 'mm: remove code to handle same filled pages'",
        until="6.12",
        model_has=False,
        verified="v6.11.11 mm/zswap.c zswap_is_folio_same_filled(); v6.12 mm/zswap.c has none",
    ),
    Behaviour(
        "zeromap",
        "swap_writepage() finds all-zero folios, sets their bits in the device's si->zeromap and does no "
        "I/O and no zswap store; swap_read_folio() fills them with zeros. Without it zero pages are written "
        "like any other (zram stores them as same-filled pages).",
        "commit 0ca0c24e3211 'mm: store zero pages to be swapped out in a bitmap' (Usama Arif)",
        since="6.12",
        switch="swap_writepage's zero check (Machine.zeromap)",
        verified="v6.12 mm/page_io.c swap_zeromap_folio_set(); v6.11.11 mm/page_io.c has no zeromap",
    ),
    Behaviour(
        "swpout_zero",
        "The swpout_zero / swpin_zero vm events (and memcg memory.stat keys) count the zero pages the "
        "zeromap kept from I/O.",
        "commit e7ac4daeed91 'mm: count zeromap read and set for swapout and swapin' (Barry Song)",
        since="6.12",
        switch="the swpout_zero/swpin_zero counters (Machine.count_zeromap)",
        verified="v6.12 (6.12.0) include/linux/vm_event_item.h SWPIN_ZERO, SWPOUT_ZERO; mm/page_io.c "
        "count_vm_events(SWPOUT_ZERO, nr_pages); not 6.13 as kernel-versions.md guessed",
    ),
    Behaviour(
        "zswap_large_folio",
        "zswap_store() takes a large folio page by page (zswap_store_page); before, it rejected large "
        "folios. The model's zswap always stores base pages one by one.",
        "Kanchana P Sridhar, series 'mm: zswap swap-out of large folios' v10 (Oct 2024)",
        since="6.13",
        model_has=True,
        verified="v6.12.19 mm/zswap.c zswap_store(): if (folio_test_large(folio)) reject; v6.13.2 mm/zswap.c "
        "zswap_store_page()",
    ),
    Behaviour(
        "zbud",
        "The zbud zpool: at most 2 compressed objects per page (zswap.zpool=zbud; the default pool up to "
        "6.6, zsmalloc from 6.7). Before 6.5 it keeps the LRU zswap writes back from, a page (both "
        "buddies) at a time.",
        "'mm: zbud: remove zbud' (Yosry Ahmed), mm commit dated 2025-03-16, 6.15 merge window",
        until="6.15",
        switch="swap.zswap.zpool: zbud (refused on kernels without it); model/zbud.py",
        verified="mm/zbud.c in v6.14, not in v6.17 (6.15 from the merge window); v6.5 mm/Kconfig default "
        "ZSWAP_ZPOOL_DEFAULT_ZBUD, v6.8 ZSWAP_ZPOOL_DEFAULT_ZSMALLOC; zbud is not marked deprecated in "
        "v6.14 mm/Kconfig",
    ),
    Behaviour(
        "zswap_zsmalloc_default",
        "zswap's default zpool (CONFIG_ZSWAP_ZPOOL_DEFAULT) is zsmalloc; before, zbud.",
        "'zswap: change zswap's default allocator to zsmalloc' (Nhat Pham, posted 8 Sep 2023, after the 6.6 "
        "merge window's mm pull: 6.7)",
        since="6.7",
        switch="the default swap.zswap.zpool when a scenario names none",
        verified="v6.5 mm/Kconfig: default ZSWAP_ZPOOL_DEFAULT_ZBUD; v6.8 mm/Kconfig: default "
        "ZSWAP_ZPOOL_DEFAULT_ZSMALLOC if MMU; the patch adds exactly that line (6.6 and 6.7 Kconfig not read: "
        "6.7 is from the posting date)",
    ),
    Behaviour(
        "z3fold",
        "The z3fold zpool: at most 3 compressed objects per page (deprecated, CONFIG_Z3FOLD_DEPRECATED, "
        "by 6.11). The model's zswap pool is zsmalloc only.",
        "'mm: z3fold: remove z3fold' (mm tree, 6.15 merge window)",
        until="6.15",
        model_has=False,
        verified="mm/z3fold.c in v6.14, not in v6.17; Z3FOLD_DEPRECATED in v6.11.11 mm/Kconfig, not in v6.8",
    ),
    Behaviour(
        "freelist_migratetype_hygiene",
        "Free pages always sit on their pageblock's migratetype list; block conversion moves every free "
        "page, and a fallback claims the whole block or takes exactly the requested chunk.",
        "Johannes Weiner, series 'mm: page_alloc: freelist migratetype hygiene'",
        since="6.10",
        model_has=True,
        verified="v6.11.11 mm/page_alloc.c move_freepages_block_isolate(), find_large_buddy(); v6.8 has "
        "neither (no 6.9/6.10 tree read: 6.10 from kernel-versions.md)",
    ),
    Behaviour(
        "mthp_swapout",
        "add_to_swap() gets contiguous swap entries for a whole mTHP (swpout / swpout_fallback per size), "
        "at first from free clusters only.",
        "commit 845982eb264b 'mm: swap: allow storage of all mTHP orders' (Ryan Roberts)",
        since="6.10",
        model_has=True,
        verified="v6.11.11 include/linux/huge_mm.h MTHP_STAT_SWPOUT; v6.8 has none (no 6.9/6.10 tree read: "
        "6.10 from kernel-versions.md)",
    ),
    Behaviour(
        "mthp_cluster_lists",
        "Clusters record their order; per-order nonfull_clusters and frag_clusters lists (and a full list) "
        "replace the swap_map scan on SSDs. The model runs the 6.18 search order.",
        "Chris Li, series 'mm: swap: mTHP swap allocator base on swap cluster order' v5 (Jul 2024)",
        since="6.12",
        model_has=True,
        verified="v6.12.19 mm/swapfile.c nonfull_clusters/frag_clusters; v6.11.11 mm/swapfile.c has neither",
    ),
    Behaviour(
        "mthp_swapin_sync_io",
        "do_swap_page() swaps a whole mTHP back in on SWP_SYNCHRONOUS_IO devices (zram) when the PTE range "
        "is consistent; other devices swap in order 0.",
        "Barry Song, series 'mm: enable large folios swap-in support' v9 (Sep 2024)",
        since="6.12",
        switch="swapin_large_folio (Machine.large_swapin)",
        verified="v6.12 (6.12.0) mm/memory.c alloc_swap_folio(); none in v6.11.11",
    ),
    Behaviour(
        "swap_hdd_cluster_allocator",
        "Rotational devices use the cluster allocator too; the old scan_swap_map path (lowest_bit, "
        "LATENCY_LIMIT) is gone. The model has one allocator for every device.",
        "Kairui Song, series 'mm, swap: rework of swap allocator locks' (Jan 2025)",
        since="6.14",
        model_has=True,
        verified="v6.13.2 mm/swapfile.c scan_swap_map_slots() scans lowest_bit/scan_base with LATENCY_LIMIT; "
        "v6.14 scan_swap_map_slots() only calls cluster_alloc_swap()",
    ),
    Behaviour(
        "swap_slot_cache",
        "Per-CPU caches of swap slots (mm/swap_slots.c) batch allocation and delay frees; after it, a "
        "per-CPU cluster is the fast path and freed entries go straight back. The model has no slot cache.",
        "'mm, swap: remove swap slot cache' (Kairui Song), mm commit dated 2025-03-16, 6.15 merge window",
        until="6.15",
        model_has=False,
        verified="mm/swap_slots.c in v6.14, not in v6.17; v6.17 mm/swapfile.c struct percpu_swap_cluster",
    ),
    Behaviour(
        "rmqueue_claim_steal",
        "__rmqueue() splits into __rmqueue_claim() (try_to_claim_block: the whole pageblock) and "
        "__rmqueue_steal() (the smallest fallback buddy), instead of stealing single pages from the "
        "biggest buddy.",
        "commit c2f6ea38fc1b 'mm: page_alloc: don't steal single pages from biggest buddy'; Brendan Jackman, "
        "'mm/page_alloc: Some clarifications for migratetype fallback'",
        since="6.15",
        model_has=True,
        verified="v6.14 mm/page_alloc.c has no __rmqueue_claim; v6.17 has __rmqueue_claim, "
        "try_to_claim_block (6.15 from the merge window)",
    ),
    Behaviour(
        "swap_table_phase1",
        "The swap cache is a per-cluster swap table (one page of atomic longs per 512-slot cluster) under "
        "the cluster lock, replacing the XArray address spaces: the default swap.design becomes swap_table.",
        "series 'mm, swap: introduce swap table as swap cache (phase I)' v4 (Kairui Song, Sep 2025)",
        since="6.18",
        switch="the default swap.design (classic before, swap_table from it on)",
        verified="v6.18.35 mm/swap_table.h; v6.17 has no mm/swap_table.h (and still mm/zpool.c, removed in 6.18)",
    ),
    Behaviour(
        "swap_table_phase2",
        "Every swap-in goes through the swap cache: SWP_SYNCHRONOUS_IO devices lose their swap-cache "
        "bypass, and SWAP_HAS_CACHE is dropped (the model keeps the flag, which changes no count).",
        "series 'mm, swap: swap table phase II' v5; commit d3852f9692b8 'mm, swap: drop the SWAP_HAS_CACHE "
        "flag'; merged via mm-stable-2026-02-11 (merge 4cff5c05e076)",
        since="7.0",
        switch="SwapTableCache.bypass_sync_io (swap_table design only)",
        verified="not re-read (no 7.0 tree could be fetched); date from kernel-versions.md",
    ),
)
"""Every behaviour the model knows to differ between KNOWN_KERNELS, oldest first."""

BY_NAME: dict[str, Behaviour] = {b.name: b for b in BEHAVIOURS}
FEATURE_NAMES = tuple(BY_NAME)


class KernelError(ValueError):
    """A kernel version or feature name the model does not know."""


def check_kernel(kernel: str) -> str:
    """The kernel version if it is one the model knows, else KernelError listing those it knows."""
    if kernel not in KNOWN_KERNELS:
        raise KernelError(f"unknown kernel {kernel!r}; expected one of: {', '.join(KNOWN_KERNELS)}")
    return kernel


def features_of(kernel: str = DEFAULT_KERNEL, overrides: Mapping[str, bool] | None = None) -> dict[str, bool]:
    """Every behaviour's on/off for a release, with `machine.features` overrides applied."""
    check_kernel(kernel)
    features = {b.name: b.present_in(kernel) for b in BEHAVIOURS}
    for name, on in (overrides or {}).items():
        if name not in BY_NAME:
            raise KernelError(f"unknown feature {name!r}; expected one of: {', '.join(FEATURE_NAMES)}")
        features[name] = bool(on)
    return features


def default_design(features: Mapping[str, bool]) -> Literal["classic", "swap_table"]:
    """The swap design a release runs: the swap table from 6.18 (phase I), the XArray swap cache before."""
    return "swap_table" if features["swap_table_phase1"] else "classic"


def design_notice(kernel: str, design: str, features: Mapping[str, bool]) -> str | None:
    """One line when the chosen swap design is not the one mainline runs on this kernel (a what-if)."""
    if design == "vswap":
        return (
            f"swap.design vswap is not in mainline (Nhat Pham's virtual swap series); "
            f"running it as a what-if on kernel {kernel}"
        )
    native = default_design(features)
    if design == native:
        return None
    if design == "swap_table":
        return f"swap.design swap_table is mainline from 6.18 (swap table phase I); running it as a what-if on {kernel}"
    return (
        f"swap.design classic (the XArray swap cache) was replaced by the swap table in 6.18; "
        f"running it as a what-if on {kernel}"
    )


def unmodelled(features: Mapping[str, bool]) -> list[tuple[str, bool]]:
    """Behaviours the model cannot switch whose setting differs from what the model always does."""
    return [(b.name, b.model_has) for b in BEHAVIOURS if b.switch is None and features[b.name] != b.model_has]


def unmodelled_notice(kernel: str, features: Mapping[str, bool]) -> str | None:
    """One line naming the behaviours this kernel has (or lacks) that the model runs the other way."""
    differing = unmodelled(features)
    if not differing:
        return None
    parts = [f"{name} ({'on' if has else 'off'})" for name, has in differing]
    return f"kernel {kernel}: not modelled, so run as the model has them: {', '.join(parts)}"


def notices(kernel: str, design: str, features: Mapping[str, bool]) -> list[str]:
    """The one-line notices of a run: a what-if design, and behaviours the model cannot switch."""
    found = (design_notice(kernel, design, features), unmodelled_notice(kernel, features))
    return [notice for notice in found if notice is not None]


def render_table(kernels: tuple[str, ...] = KNOWN_KERNELS) -> str:
    """The table `swaptui kernels` prints: one row per behaviour, a column per release, then the sources."""
    name_w = max(len(b.name) for b in BEHAVIOURS)
    col_w = max(len(k) for k in kernels) + 1
    head = f"{'feature':<{name_w}}  " + "".join(f"{k:>{col_w}}" for k in kernels) + "  modelled"
    lines = [head, "-" * len(head)]
    for b in BEHAVIOURS:
        marks = "".join(f"{'yes' if b.present_in(k) else '-':>{col_w}}" for k in kernels)
        how = "yes" if b.modelled else f"no (always {'on' if b.model_has else 'off'})"
        lines.append(f"{b.name:<{name_w}}  {marks}  {how}")
    lines.append("")
    lines.append(
        f'default kernel {DEFAULT_KERNEL}; machine.kernel: "6.1" picks a release, machine.features: {{NAME: true|false}} '
        "overrides one behaviour"
    )
    lines.append("")
    for b in BEHAVIOURS:
        lines.append(f"{b.name} ({b.dates}): {b.description}")
        lines.append(f"    source: {b.source}")
        if b.switch:
            lines.append(f"    switch: {b.switch}")
        lines.append(f"    checked: {b.verified}")
    return "\n".join(lines) + "\n"
