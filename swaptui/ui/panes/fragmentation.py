"""Pane 6, fragmentation: the buddy free lists by order and migratetype with the kernel's indices, pageblocks,
compaction, zsmalloc size classes and swap space by order.

Rows come in order of importance: on a short pane the details go first (see `fit_rows`), so the grid
cell keeps the free lists, the indices and one line per subsystem, and a maximised pane shows all.
"""

from __future__ import annotations

import numpy as np
from textual.content import Content

from swaptui.model.fragmentation import (
    COMPACTION_HPAGE_ORDER,
    fragmentation_index_per_order,
    fragmentation_score_wmark,
    fragmentation_score_zone,
    unusable_free_index_per_order,
)
from swaptui.model.memmap import FRAME_KERNEL
from swaptui.model.page_alloc import MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, MIGRATETYPE_NAMES
from swaptui.model.swapfile import CLUSTER_FLAG_FRAG, SWAPFILE_CLUSTER
from swaptui.model.vmstat import NAMES
from swaptui.model.zsmalloc import CLASS_STATS_COLUMNS
from swaptui.ui.metrics import NR_PAGE_ORDERS, PAGEBLOCK_ORDER, format_pages, format_rate, sparkline
from swaptui.ui.panes.base import TextPane, from_kernel, label, lines, not_exported, not_modelled, row
from swaptui.ui.stepper import Frame

PAGEBLOCK_FRAMES = 1 << PAGEBLOCK_ORDER
LABEL = 9
DEFAULT_PROACTIVENESS = 20  # vm.compaction_proactiveness default, for the marks when the snapshot has none
# Pageblock strip: one glyph per migratetype, densest for the type that hurts compaction most.
PAGEBLOCK_GLYPH = {
    MIGRATE_UNMOVABLE: ("█", "$level-bad"),
    MIGRATE_RECLAIMABLE: ("▒", "$level-warn"),
    MIGRATE_MOVABLE: ("░", "$level-ok"),
}
# By migratetype: Unmovable 2, Movable 0, Reclaimable 1 (any other type, which the model lacks, as Unmovable).
PAGEBLOCK_SEVERITY = np.full(256, 2, dtype=np.int8)
PAGEBLOCK_SEVERITY[[MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE]] = (2, 0, 1)
SEVERITY_TYPE = (MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE)
MT_SHORT = ("unmov", "movable", "reclaim")
ZS = {name: i for i, name in enumerate(CLASS_STATS_COLUMNS)}
KEEP, MAIN, SUMMARY, TYPES, DETAIL, SPACER = 6, 5, 4, 3, 2, 1  # row priorities: lower ones go first on a short pane


def pageblocks_with_kernel_frames(frame_state: np.ndarray) -> tuple[int, int]:
    """(pageblocks holding at least one unmovable kernel frame, pageblocks)."""
    n = len(frame_state) // PAGEBLOCK_FRAMES
    if n == 0:
        return 0, 0
    blocks = frame_state[: n * PAGEBLOCK_FRAMES].reshape(n, PAGEBLOCK_FRAMES)
    return int((blocks == FRAME_KERNEL).any(axis=1).sum()), n


def fit_rows(rows: list[tuple[int, Content]], height: int) -> list[Content]:
    """The rows in order, dropping the lowest-priority ones (the last of them first) until they fit in `height`."""
    rows = list(rows)
    while len(rows) > height:
        lowest = min(p for p, _ in rows)
        last = max(i for i, (p, _) in enumerate(rows) if p == lowest)
        rows.pop(last)
    return [r for _, r in rows]


def count_cell(n: int, width: int) -> str:
    """A count right-aligned in `width` cells with a space before it: 2,352 when it fits, else 2352, 2.4k, 24k, 2M."""
    room = max(1, width - 1)
    for text in (f"{n:,}", str(n)):
        if len(text) <= room:
            return text.rjust(width)
    for scale, unit in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
        if n < scale:
            break
        for text in (f"{n / scale:.1f}{unit}", f"{n / scale:.0f}{unit}"):
            if len(text) <= room:
                return text.rjust(width)
    return "+".rjust(width)  # more than the cell can say


def index_cell(thousandths: int, width: int) -> str:
    """An index in thousandths as the kernel prints it (-1.000, 0.384) when it fits, else shorter (-1, .384, .38)."""
    room = max(1, width - 1)
    sign = "-" if thousandths < 0 else ""
    value = abs(thousandths)
    full = f"{sign}{value // 1000}.{value % 1000:03d}"
    if len(full) <= room:
        return full.rjust(width)
    if value % 1000 == 0:
        return f"{sign}{value // 1000}".rjust(width)
    if sign and room < 3:
        return "<0".rjust(width)
    return f"{sign}.{value % 1000:03d}"[: max(2, room)].rjust(width)


def pageblock_strip(types: np.ndarray, cells: int) -> Content:
    """Pageblocks squeezed into `cells` glyphs; each cell shows the worst type among its blocks (Unmovable first)."""
    n = len(types)
    cells = max(1, min(cells, n))
    starts = (np.arange(cells) * n) // cells
    worst = np.maximum.reduceat(PAGEBLOCK_SEVERITY[types.astype(np.uint8)], starts)
    parts = [PAGEBLOCK_GLYPH[SEVERITY_TYPE[k]] for k in worst.tolist()]
    return Content.assemble(*parts)


def scanner_bar(migrate_pfn: int, free_pfn: int, zone_pfns: int, cells: int) -> Content:
    """The zone as a bar: ▶ the migrate scanner (moving up), ◀ the free scanner (moving down), ─ not yet scanned."""
    cells = max(4, cells)
    scale = max(1, zone_pfns)
    m = min(cells - 1, max(0, migrate_pfn * cells // scale))
    f = min(cells - 1, max(0, free_pfn * cells // scale))
    parts = []
    for i in range(cells):
        if i == m:
            parts.append(("▶", "bold $warning"))
        elif i == f:
            parts.append(("◀", "bold $primary"))
        elif m < i < f:
            parts.append(("─", "$text"))
        else:
            parts.append(("·", "$text-muted"))
    return Content.assemble(*parts)


class FragmentationPane(TextPane):
    """How broken up free memory, zsmalloc's zspages and swap space are, and what compaction does about it."""

    PANE_ID = "fragmentation"

    def __init__(self) -> None:
        super().__init__()
        self._kernel_blocks: tuple[tuple, tuple[int, int]] | None = None

    def _kernel_pageblocks(self, frame: Frame) -> tuple[int, int]:
        s = frame.snapshot
        key = (len(s.frame_state), int(s.state_counts[FRAME_KERNEL]))
        if self._kernel_blocks is None or self._kernel_blocks[0] != key:
            self._kernel_blocks = (key, pageblocks_with_kernel_frames(s.frame_state))
        return self._kernel_blocks[1]

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        s = frame.snapshot
        fa = [int(b) for b in s.free_area]
        cols = max(NR_PAGE_ORDERS, len(fa))
        fa += [0] * (cols - len(fa))
        cw = max(3, min(7, (width - LABEL) // cols))
        out: list[tuple[int, Content]] = []
        out += self._buddy_rows(s, fa, cols, cw)
        out.append((SPACER, Content("")))
        out += self._pageblock_rows(frame, width)
        out.append((SPACER, Content("")))
        out += self._compaction_rows(frame, fa, width)
        out.append((SPACER, Content("")))
        out += self._zsmalloc_rows(frame)
        out.append((SPACER, Content("")))
        out += self._swap_rows(frame)
        return lines(*[r.truncate(width) for r in fit_rows(out, height)], height=height)

    # -- buddy free lists --------------------------------------------------------------------------
    def _buddy_rows(self, s, fa: list[int], cols: int, cw: int) -> list[tuple[int, Content]]:
        pages = np.array([b << o for o, b in enumerate(fa)], dtype=float)
        top = float(np.log1p(pages).max()) or 1.0
        bars = sparkline(np.log1p(pages), cols, 0, top)  # log scale
        unusable = unusable_free_index_per_order(fa)
        extfrag = fragmentation_index_per_order(fa)
        out = [
            (KEEP, row(label("order", LABEL), *[(f"{o:>{cw}}", "$text-muted") for o in range(cols)])),
            (KEEP, row(label("free blk", LABEL), *[(count_cell(b, cw), "bold") for b in fa])),
        ]
        mt = np.asarray(s.free_area_mt)
        if mt.ndim == 2 and mt.size and mt.shape[1] >= len(MIGRATETYPE_NAMES):
            for k, name in enumerate(MT_SHORT):
                counts = [int(v) for v in mt[:cols, k]] + [0] * max(0, cols - len(mt))
                out.append(
                    (
                        TYPES,
                        row(
                            label(f" {name}", LABEL), *[(count_cell(b, cw), "" if b else "$text-muted") for b in counts]
                        ),
                    )
                )
        else:
            notice = next((n for n in getattr(s, "notices", ()) if "pagetypeinfo" in n), "")
            why = f"— ({notice or '/proc/pagetypeinfo is root-only'})" if s.source == "live" else "—"
            out.append((TYPES, row(label(" by type", LABEL), not_modelled(why))))
        out += [
            (DETAIL, row(label("pages", LABEL), *[(ch.rjust(cw), "$primary") for ch in bars])),
            (MAIN, row(label("unusable", LABEL), *[(index_cell(int(v), cw), "") for v in unusable])),
            (
                MAIN,
                row(label("extfrag", LABEL), *[(index_cell(int(v), cw), self._index_style(int(v))) for v in extfrag]),
            ),
            (
                DETAIL,
                row(
                    label("", LABEL),
                    (
                        (
                            "unusable: share of free memory in smaller blocks · extfrag -1: a "
                            "block exists; 0 lack of memory … 1 fragmentation (bold: over 0.500, "
                            "compaction rather than reclaim)"
                        ),
                        "$text-muted",
                    ),
                ),
            ),
        ]
        return out

    @staticmethod
    def _index_style(thousandths: int) -> str:
        if thousandths < 0:
            return "$text-muted"
        if thousandths > 500:  # vm.extfrag_threshold's default: above it, compaction rather than reclaim
            return "bold $level-bad"
        return ""

    # -- pageblocks ---------------------------------------------------------------------------------
    def _pageblock_rows(self, frame: Frame, width: int) -> list[tuple[int, Content]]:
        s = frame.snapshot
        types = np.asarray(s.pageblock_type)
        if from_kernel(frame):
            return [(SUMMARY, row(label("pageblk", LABEL), not_exported("types per pageblock")))]
        kblocks, nblocks = self._kernel_pageblocks(frame)
        if len(types) == 0:
            return [
                (
                    SUMMARY,
                    row(
                        label("pageblk", LABEL),
                        f"{nblocks:,} × 2 MiB, {kblocks:,} with kernel frames · ",
                        not_modelled("types —"),
                    ),
                )
            ]
        counts = np.bincount(types, minlength=len(MT_SHORT))
        parts: list[tuple[str, str]] = []
        for t in (MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE):
            glyph, style = PAGEBLOCK_GLYPH[t]
            parts += [("  " if parts else "", ""), (glyph, style), (f" {int(counts[t]):,}", "bold")]
            parts.append((f" {MT_SHORT[t]}", "$text-muted"))
        return [
            (SUMMARY, row(label("pageblk", LABEL), *parts)),
            (
                DETAIL,
                row(label("", LABEL), ("of ", "$text-muted"), (f"{len(types):,}", "bold"), (" × 2 MiB", "$text-muted")),
            ),
            (DETAIL, row(label("", LABEL), pageblock_strip(types, width - LABEL))),
            (
                DETAIL,
                row(
                    label("", LABEL),
                    (
                        (
                            f"a cell: {len(types) / max(1, min(len(types), width - LABEL)):.1f} "
                            f"blocks, its worst type · {kblocks:,} blocks hold kernel frames"
                        ),
                        "$text-muted",
                    ),
                ),
            ),
        ]

    # -- compaction ---------------------------------------------------------------------------------
    def _compaction_rows(self, frame: Frame, fa: list[int], width: int) -> list[tuple[int, Content]]:
        s = frame.snapshot
        c = s.compaction or {}
        score = int(c["score"]) if "score" in c else fragmentation_score_zone(fa)
        if "wmark_low" in c and "wmark_high" in c:
            low, high, marks_from = int(c["wmark_low"]), int(c["wmark_high"]), ""
        else:
            low = fragmentation_score_wmark(True, DEFAULT_PROACTIVENESS)
            high = fragmentation_score_wmark(False, DEFAULT_PROACTIVENESS)
            marks_from = f"marks at proactiveness {DEFAULT_PROACTIVENESS} (the default)"
        if score > high:
            verdict = ("▲ above high: compacts", "bold $level-bad")
        elif score > low:
            verdict = ("◐ between the marks", "$level-warn")
        else:
            verdict = ("✓ at or below low", "$level-ok")
        # Short rows: the score's meaning goes on a row of its own, which a short pane drops whole.
        out = [
            (MAIN, row(label("score", LABEL), (f"{score}%", "bold"), f" · marks {low}/{high} ", verdict)),
            (
                DETAIL,
                row(label("", LABEL), (f"of free pages in blocks < order {COMPACTION_HPAGE_ORDER}", "$text-muted")),
            ),
        ]
        if marks_from:
            out.append((DETAIL, row(label("", LABEL), (marks_from, "$text-muted"))))
        zones = getattr(s, "kernel", {}).get("buddyinfo") if from_kernel(frame) else None
        if isinstance(zones, dict) and zones:
            # The table above adds the zones up (the model's one zone); the kernel scores each zone on its own.
            parts: list[tuple[str, str] | str] = []
            for name, counts in zones.items():
                parts += [(f"{name} ", "$text-muted"), (f"{fragmentation_score_zone(counts)}", "bold"), "  "]
            out.append(
                (DETAIL, row(label("by zone", LABEL), *parts, ("score of each zone's own free lists", "$text-muted")))
            )
        state = c.get("kcompactd")
        head: list[tuple[str, str] | str | Content] = (
            [(state, "bold")]
            if state
            else [not_exported("kcompactd state") if from_kernel(frame) else not_modelled("kcompactd —")]
        )
        if "defer_shift" in c:
            shift = int(c["defer_shift"])
            head += [
                " · defer_shift ",
                (f"{shift}", "bold"),
                (f" (skips up to {(1 << shift) - 1})" if shift else "", "$text-muted"),
            ]
        if "considered" in c:
            head += [" · considered ", (f"{int(c['considered'])}", "bold")]
        if "order_failed" in c:
            head += [" · order_failed ", (f"{int(c['order_failed'])}", "bold")]
        if c.get("last_result") not in (None, "", "-"):
            head += [" · last ", (str(c["last_result"]), "bold")]
        out.append((SUMMARY, row(label("compact", LABEL), *head)))
        if "migrate_pfn" in c and "free_pfn" in c:
            mpfn, fpfn = int(c["migrate_pfn"]), int(c["free_pfn"])
            out.append(
                (
                    DETAIL,
                    row(
                        label("scanners", LABEL),
                        ("migrate ", "$text-muted"),
                        (f"{mpfn:,}", "bold"),
                        (" ▶ … ◀ free ", "$text-muted"),
                        (f"{fpfn:,}", "bold"),
                        (" (cached pfns)", "$text-muted"),
                        *(
                            [
                                (" · skip bits ", "$text-muted"),
                                (f"{int(c['skip_blocks']):,}", "bold"),
                                (" pageblocks", "$text-muted"),
                            ]
                            if "skip_blocks" in c
                            else []
                        ),
                    ),
                )
            )
            out.append(
                (
                    DETAIL,
                    row(
                        label("", LABEL), scanner_bar(mpfn, fpfn, len(s.frame_state) or s.managed_pages, width - LABEL)
                    ),
                )
            )
        elif from_kernel(frame):
            out.append((DETAIL, row(label("scanners", LABEL), not_exported("positions"))))
        shown = getattr(s, "exported", None) if from_kernel(frame) else None  # a kernel's counters it did fill
        counters = [
            (name, short)
            for name, short in (
                ("compact_stall", "stall"),
                ("compact_success", "success"),
                ("compact_fail", "fail"),
                ("pgmigrate_success", "migrated"),
            )
            if name in NAMES and (shown is None or name in shown)
        ]
        if counters:
            parts = []
            for name, short in counters:
                parts += [(f"{short} ", "$text-muted"), (f"{s.counter(name):,}", "bold"), "  "]
            out.append((DETAIL, row(label("", LABEL), *parts)))
        return out

    # -- zsmalloc -----------------------------------------------------------------------------------
    def _zsmalloc_rows(self, frame: Frame) -> list[tuple[int, Content]]:
        s = frame.snapshot
        zs = s.zs_classes
        if zs is None and from_kernel(frame):
            return [(TYPES, row(label("zsmalloc", LABEL), not_exported("size classes")))]
        if zs is None:
            what = "no zswap pool"
            if s.zram_pool_pages:
                what += f" · zram pool {format_pages(s.zram_pool_pages)} (counted in bytes, no size classes)"
            return [(TYPES, row(label("zsmalloc", LABEL), not_modelled(what)))]  # little to say: goes early
        zs = np.asarray(zs)
        if len(zs) == 0:
            return [(TYPES, row(label("zsmalloc", LABEL), not_modelled("zswap pool empty")))]
        allocated = int(zs[:, ZS["objs_allocated"]].sum())
        used = int(zs[:, ZS["objs_used"]].sum())
        freeable = int(zs[:, ZS["freeable"]].sum())
        pool = int((zs[:, ZS["zspages"]] * zs[:, ZS["pages_per_zspage"]]).sum())
        out = [
            (
                SUMMARY,
                row(
                    label("zsmalloc", LABEL),
                    (f"{len(zs)}", "bold"),
                    " classes · objs ",
                    (f"{used:,}", "bold"),
                    f"/{allocated:,} used ({used / max(1, allocated):.0%}) · ",
                    (f"{freeable:,}", "bold $level-warn" if freeable else "bold"),
                    f" of {pool:,} pages freeable",
                ),
            )
        ]
        wasted = zs[:, ZS["objs_allocated"]] - zs[:, ZS["objs_used"]]
        order = np.lexsort((-wasted, -zs[:, ZS["freeable"]]))
        for k in order[:3].tolist():
            c = zs[k]
            if wasted[k] == 0:
                break
            out.append(
                (
                    DETAIL,
                    row(
                        label("", LABEL),
                        (f"{int(c[ZS['size']]):>5,} B", "bold"),
                        f"  {int(c[ZS['zspages']]):,} zspages × {int(c[ZS['pages_per_zspage']])}p · "
                        f"{int(c[ZS['objs_used']]):,}/{int(c[ZS['objs_allocated']]):,} objs · ",
                        (f"{int(c[ZS['freeable']]):,}", "bold"),
                        " freeable",
                    ),
                )
            )
        return out

    # -- swap space ---------------------------------------------------------------------------------
    def _swap_rows(self, frame: Frame) -> list[tuple[int, Content]]:
        s, h = frame.snapshot, frame.history
        by_order = s.swap_clusters_by_order or {}
        if from_kernel(frame):
            out = [(SUMMARY, row(label("swap", LABEL), not_exported("clusters by order")))]
        elif by_order:
            parts: list = [
                ("free ", "$text-muted"),
                (f"{int(by_order.get('free', 0)):,}", "bold"),
                ("  full ", "$text-muted"),
                (f"{int(by_order.get('full', 0)):,}", "bold"),
            ]
            for key in ("nonfull", "frag"):
                per = [int(v) for v in by_order.get(key, [])]
                listed = [(o, n) for o, n in enumerate(per) if n]
                parts += [
                    (f"  {key} ", "$text-muted"),
                    " ".join(f"o{o}:{n:,}" for o, n in listed) if listed else ("—", "$text-muted"),
                ]
            out = [(SUMMARY, row(label("swap", LABEL), *parts))]
        else:
            frag = s.cluster_flags == CLUSTER_FLAG_FRAG
            nfrag = int(frag.sum())
            stranded = int((SWAPFILE_CLUSTER - s.cluster_count[frag]).sum()) if nfrag else 0
            out = [
                (
                    SUMMARY,
                    row(
                        label("swap", LABEL),
                        f"{nfrag:,} frag clusters · {stranded:,} free slots in them",
                        (" · by order —", "$text-muted"),
                    ),
                )
            ]
        parts = []
        shown = getattr(s, "exported", None) if from_kernel(frame) else None
        for name, short in (("thp_swpout", "PMD"), ("swaptui_mthp_swpout", "mTHP")):
            if name in NAMES and f"{name}_fallback" in NAMES and (shown is None or name in shown):
                done, fell = s.counter(name), s.counter(f"{name}_fallback")
                share = f"{fell / (done + fell):.0%}" if done + fell else "—"
                parts += [
                    (f"{short} ", "$text-muted"),
                    (f"{done:,}", "bold"),
                    " whole · ",
                    (f"{fell:,}", "bold"),
                    " split (",
                    (share, "bold"),
                    " fell back",
                    f", {format_rate(h.rate(f'{name}_fallback'))})" if len(h) > 1 else ")",
                    "   ",
                ]
        if parts:
            out.append((TYPES, row(label("THP swap", LABEL), *parts)))
        return out
