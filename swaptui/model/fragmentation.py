"""External fragmentation as the kernel measures it (mm/vmstat.c, mm/compaction.c), and the /proc files that show it.

Every index is the kernel's formula in the kernel's integer arithmetic (unsigned, truncating
division), so for the same free lists the numbers are what /sys/kernel/debug/extfrag/{extfrag_index,
unusable_index} print (in thousandths) and what compaction_suitable and kcompactd compute:

* `fill_contig_page_info`: free pages, free blocks, and free blocks of at least an order, counted
  in blocks of that order (a free order-5 block is 4 order-3 blocks);
* `fragmentation_index` (`__fragmentation_index`): 0 with no free blocks, -1000 when an allocation
  of the order would succeed, else 1000 - (1000 + free_pages*1000/2^order) / free_blocks_total,
  near 0 when it fails for lack of memory and near 1000 when it fails for fragmentation;
* `unusable_free_index`: the share of free memory, in thousandths, in blocks too small for the order;
* `extfrag_for_order`: the same share in percent (0 with no free memory), the proactive compaction
  score of a zone at COMPACTION_HPAGE_ORDER.

A `free_area` is a zone's nr_free per order, orders 0..MAX_PAGE_ORDER (/proc/buddyinfo's numbers); a
shorter list is read as zeros above its end, and a longer one as coming from a kernel with a larger
MAX_PAGE_ORDER (64 KiB pages), whose last order is then the highest.

Simplification [model]: the model has one merged zone (page_alloc.py), where the kernel weights each
zone's score by its present pages into a node score (`fragmentation_score_node`). With one zone that
weighting is present * score / (present + 1), which truncates to score - 1 for any score above 0:
the node score the kernel would compare with the watermarks is one less than the zone score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from swaptui.model.page_alloc import MAX_ORDER as MAX_PAGE_ORDER
from swaptui.model.page_alloc import MIGRATETYPE_NAMES, NR_ORDERS

NR_PAGE_ORDERS = NR_ORDERS
COMPACTION_HPAGE_ORDER = 9  # HPAGE_PMD_ORDER on x86-64 with 4 KiB pages
WMARK_FORMULAS = ("6.6", "mm")
"""fragmentation_score_wmark variants: "6.6" (low floored at 5, high = low + 10) and "mm" (the current
mm tree, after Michal Clapinski's 2025 series "mm/compaction: remove low watermark cap for proactive
compaction" and "reduce the difference between low and high watermarks": no floor, high = low +
min(10, low / 2))."""


@dataclass(frozen=True)
class ContigPageInfo:
    """struct contig_page_info: free pages, free blocks, and free blocks counted in units of one order."""

    free_pages: int
    free_blocks_total: int
    free_blocks_suitable: int


def _orders(free_area: Sequence[int]) -> list[int]:
    """nr_free for orders 0..max(MAX_PAGE_ORDER, len - 1), as Python ints (exact, like unsigned long)."""
    counts = [int(b) for b in free_area]
    if any(b < 0 for b in counts):
        raise ValueError("nr_free counts cannot be negative")
    return counts + [0] * (NR_PAGE_ORDERS - len(counts))


def fill_contig_page_info(free_area: Sequence[int], suitable_order: int) -> ContigPageInfo:
    """fill_contig_page_info: count free pages and blocks, and blocks of at least `suitable_order`."""
    free_pages = total = suitable = 0
    for order, blocks in enumerate(_orders(free_area)):
        total += blocks
        free_pages += blocks << order
        if order >= suitable_order:
            suitable += blocks << (order - suitable_order)
    return ContigPageInfo(free_pages, total, suitable)


def _fragmentation_index(order: int, info: ContigPageInfo) -> int:
    """__fragmentation_index on counted free lists."""
    if not info.free_blocks_total:
        return 0
    if info.free_blocks_suitable:
        return -1000
    requested = 1 << order
    return 1000 - (1000 + info.free_pages * 1000 // requested) // info.free_blocks_total


def fragmentation_index(free_area: Sequence[int], order: int) -> int:
    """fragmentation_index: -1000 if the order can be served, else 0 (lack of memory) .. 1000 (fragmentation)."""
    if order > max(MAX_PAGE_ORDER, len(free_area) - 1):  # the kernel's WARN_ON_ONCE(order > MAX_PAGE_ORDER)
        return 0
    return _fragmentation_index(order, fill_contig_page_info(free_area, order))


def unusable_free_index(free_area: Sequence[int], order: int) -> int:
    """unusable_free_index in thousandths: the share of free memory unusable for an allocation of this order."""
    info = fill_contig_page_info(free_area, order)
    if info.free_pages == 0:
        return 1000
    return (info.free_pages - (info.free_blocks_suitable << order)) * 1000 // info.free_pages


def extfrag_for_order(free_area: Sequence[int], order: int) -> int:
    """extfrag_for_order in percent: the share of free pages in blocks smaller than the order (0 with none free)."""
    info = fill_contig_page_info(free_area, order)
    if info.free_pages == 0:
        return 0
    return (info.free_pages - (info.free_blocks_suitable << order)) * 100 // info.free_pages


# -- every order at once -----------------------------------------------------------------------------


def contig_page_info_per_order(free_area: Sequence[int]) -> tuple[int, int, np.ndarray]:
    """(free pages, free blocks, free blocks suitable for each order 0..max) of one zone."""
    counts = _orders(free_area)
    nr = np.array(counts, dtype=np.int64)
    n = len(nr)
    orders = np.arange(n)
    shift = orders[None, :] - orders[:, None]  # [suitable order, block order]
    blocks = np.where(shift >= 0, nr[None, :] << np.maximum(shift, 0), 0)
    free_pages = sum(b << o for o, b in enumerate(counts))
    return free_pages, sum(counts), blocks.sum(axis=1)


def _unusable_pages(free_area: Sequence[int]) -> tuple[int, np.ndarray]:
    """(free pages, free pages in blocks too small for each order)."""
    free_pages, _, suitable = contig_page_info_per_order(free_area)
    return free_pages, free_pages - (suitable << np.arange(len(suitable)))


def fragmentation_index_per_order(free_area: Sequence[int]) -> np.ndarray:
    """fragmentation_index for every order 0..max (int64), as extfrag_index prints a zone's line."""
    free_pages, total, suitable = contig_page_info_per_order(free_area)
    if total == 0:
        return np.zeros(len(suitable), dtype=np.int64)
    requested = np.int64(1) << np.arange(len(suitable), dtype=np.int64)
    index = 1000 - (1000 + free_pages * 1000 // requested) // total
    return np.where(suitable > 0, -1000, index).astype(np.int64)


def unusable_free_index_per_order(free_area: Sequence[int]) -> np.ndarray:
    """unusable_free_index for every order 0..max (int64), as unusable_index prints a zone's line."""
    free_pages, unusable = _unusable_pages(free_area)
    if free_pages == 0:
        return np.full(len(unusable), 1000, dtype=np.int64)
    return unusable * 1000 // free_pages


def extfrag_per_order(free_area: Sequence[int]) -> np.ndarray:
    """extfrag_for_order for every order 0..max (int64, percent)."""
    free_pages, unusable = _unusable_pages(free_area)
    if free_pages == 0:
        return np.zeros(len(unusable), dtype=np.int64)
    return unusable * 100 // free_pages


# -- proactive compaction (mm/compaction.c) ---------------------------------------------------------


def fragmentation_score_zone(free_area: Sequence[int]) -> int:
    """fragmentation_score_zone: extfrag_for_order at COMPACTION_HPAGE_ORDER, 0..100."""
    return extfrag_for_order(free_area, COMPACTION_HPAGE_ORDER)


def fragmentation_score_zone_weighted(free_area: Sequence[int], present_pages: int, node_present_pages: int) -> int:
    """fragmentation_score_zone_weighted: the zone's score scaled by its share of the node's present pages."""
    return present_pages * fragmentation_score_zone(free_area) // (node_present_pages + 1)


def fragmentation_score_node(zones: Iterable[tuple[Sequence[int], int]]) -> int:
    """fragmentation_score_node over (free_area, present_pages) per zone: what kcompactd compares with the marks."""
    zones = list(zones)
    node_present = sum(present for _, present in zones)
    return sum(fragmentation_score_zone_weighted(fa, present, node_present) for fa, present in zones)


def fragmentation_score_wmark(low: bool, proactiveness: int, formula: str = "6.6") -> int:
    """fragmentation_score_wmark: the score proactive compaction stops at (low) or starts above (high).

    "6.6": low = max(100 - proactiveness, 5), high = min(low + 10, 100).
    "mm":  low = 100 - proactiveness, high = min(low + min(10, low / 2), 100).
    """
    if not 0 <= proactiveness <= 100:
        raise ValueError(f"compaction_proactiveness must be in 0..100, not {proactiveness}")
    if formula == "6.6":
        wmark_low = max(100 - proactiveness, 5)
        return wmark_low if low else min(wmark_low + 10, 100)
    if formula == "mm":
        wmark_low = 100 - proactiveness
        return wmark_low if low else min(wmark_low + min(10, wmark_low // 2), 100)
    raise ValueError(f"formula must be one of {WMARK_FORMULAS}, not {formula!r}")


def should_proactive_compact(
    score: int, proactiveness: int, kswapd_running: bool = False, formula: str = "6.6"
) -> bool:
    """should_proactive_compact_node for a node score: proactiveness on, kswapd idle, score above the high mark."""
    if not proactiveness or kswapd_running:
        return False
    return score > fragmentation_score_wmark(False, proactiveness, formula)


# -- /proc/buddyinfo and /proc/pagetypeinfo ----------------------------------------------------------
#
# The parsers take the file's text and, optionally, a list to note odd lines in as (line number, what
# was expected and what was found): with the list, an odd line is noted and left out; without it, the
# first odd line raises ValueError("line N: ..."). swaptui.procfs reads this machine's files with them.

_BUDDY_LINE = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+)\s+(.*)$")
_PAGETYPE_LINE = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+),\s+type\s+(\S+)\s+(.*)$")
_BLOCKS_LINE = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+)\s+(.*)$")
_COUNT = re.compile(r"^>?[0-9]{1,18}$")  # within 64 bits (longer counts are not the kernel's)
FREE_TABLE_HEADER = "Free pages count per migrate type at order"
_BLOCKS_HEADER = "Number of blocks type"
_MIXED_HEADER = "Number of mixed blocks"  # CONFIG_PAGE_OWNER: same shape as the blocks table, not used

Problems = list[tuple[int, str]]


def note_problem(problems: Problems | None, n: int, what: str) -> None:
    """Note an odd line (or raise at the first one when no list is given)."""
    if problems is None:
        raise ValueError(f"line {n}: {what}")
    problems.append((n, what))


def quote_line(line: str) -> str:
    """An odd line as a problem quotes it: stripped, at most 60 characters, control characters escaped."""
    text = line.strip()
    text = text if len(text) <= 60 else text[:57] + "..."
    return repr(text)


def _counts(fields: list[str]) -> list[int] | None:
    """Whole-number counts ('>100000': a count the kernel capped, read as the cap), or None if one is not."""
    if not all(_COUNT.match(f) for f in fields):
        return None
    return [int(f.lstrip(">")) for f in fields]


def parse_buddyinfo(text: str, problems: Problems | None = None) -> dict[tuple[int, str], list[int]]:
    """/proc/buddyinfo: nr_free per order for each (node, zone), in file order."""
    out: dict[tuple[int, str], list[int]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _BUDDY_LINE.match(line.strip())
        fields = m.group(3).split() if m else []
        if m is None or not fields or not all(f.isascii() and f.isdigit() and len(f) <= 18 for f in fields):
            note_problem(
                problems, n, "expected `Node N, zone NAME` and a whole number per order; got " + quote_line(line)
            )
            continue
        counts = [int(f) for f in fields]
        out[(int(m.group(1)), m.group(2))] = counts
    return out


@dataclass
class PagetypeInfo:
    """/proc/pagetypeinfo's two tables, per (node, zone): free blocks per migratetype and order, and pageblocks
    per migratetype."""

    free: dict[tuple[int, str], dict[str, list[int]]]
    blocks: dict[tuple[int, str], dict[str, int]]


def parse_pagetypeinfo_tables(text: str, problems: Problems | None = None) -> PagetypeInfo:
    """Both tables of /proc/pagetypeinfo (mm/vmstat.c pagetypeinfo_show).

    The free table's rows must have one count per order of its header, and the blocks table's one
    count per migratetype of its header; counts the kernel capped ('>100000', a lower bound) are read
    as the cap. Lines outside the two tables (the pageblock order, other tables) are skipped.
    """
    free: dict[tuple[int, str], dict[str, list[int]]] = {}
    blocks: dict[tuple[int, str], dict[str, int]] = {}
    table = ""
    width = 0
    names: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            table = ""  # each table ends at a blank line
            continue
        if stripped.startswith(FREE_TABLE_HEADER):
            orders = stripped[len(FREE_TABLE_HEADER) :].split()
            if not orders or orders != [str(i) for i in range(len(orders))]:
                note_problem(
                    problems, n, f"expected `{FREE_TABLE_HEADER}` and the orders 0 1 2 ...; got {quote_line(line)}"
                )
                table = "skip"
                continue
            table, width = "free", len(orders)
            continue
        if stripped.startswith(_BLOCKS_HEADER):
            names = stripped[len(_BLOCKS_HEADER) :].split()
            table = "blocks" if names else "skip"
            if not names:
                note_problem(
                    problems, n, f"expected `{_BLOCKS_HEADER}` and the migratetype names; got {quote_line(line)}"
                )
            continue
        if stripped.startswith(_MIXED_HEADER):
            table = "skip"
            continue
        if table == "free":
            m = _PAGETYPE_LINE.match(stripped)
            counts = _counts(m.group(4).split()) if m else None
            if m is None or counts is None or len(counts) != width:
                note_problem(
                    problems,
                    n,
                    f"expected `Node N, zone NAME, type TYPE` and {width} counts (one per order); "
                    f"got {quote_line(line)}",
                )
                continue
            free.setdefault((int(m.group(1)), m.group(2)), {})[m.group(3)] = counts
        elif table == "blocks":
            m = _BLOCKS_LINE.match(stripped)
            fields = m.group(3).split() if m else []
            counts = _counts(fields) if m else None
            if m is None or counts is None or any(f.startswith(">") for f in fields) or len(counts) != len(names):
                note_problem(
                    problems,
                    n,
                    f"expected `Node N, zone NAME` and {len(names)} pageblock counts "
                    f"({' '.join(names)}); got {quote_line(line)}",
                )
                continue
            blocks[(int(m.group(1)), m.group(2))] = dict(zip(names, counts))
    return PagetypeInfo(free, blocks)


def parse_pagetypeinfo(text: str, problems: Problems | None = None) -> dict[tuple[int, str], dict[str, list[int]]]:
    """The "Free pages count per migrate type at order" table of /proc/pagetypeinfo.

    Returns {(node, zone): {migratetype name: free blocks per order}}; counts the kernel capped
    ('>100000') are read as the cap. Other tables of the file are skipped.
    """
    return parse_pagetypeinfo_tables(text, problems).free


def free_area_by_migratetype(types: dict[str, list[int]], names: Sequence[str] = MIGRATETYPE_NAMES) -> np.ndarray:
    """One zone's pagetypeinfo rows as an [order, migratetype] array (the Snapshot's free_area_mt), absent types 0."""
    nr_orders = max([NR_PAGE_ORDERS, *(len(v) for v in types.values())])
    out = np.zeros((nr_orders, len(names)), dtype=np.int64)
    for k, name in enumerate(names):
        counts = types.get(name, [])
        out[: len(counts), k] = counts
    return out
