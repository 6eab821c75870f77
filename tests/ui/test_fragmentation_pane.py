"""The fragmentation pane in the app (Pilot): free lists by order and migratetype, the indices, pageblocks,
compaction, zsmalloc classes and swap space by order, from the model and as a real kernel would show them."""

from __future__ import annotations

import dataclasses

import numpy as np
from uihelpers import run, settle

from swaptui.model.zsmalloc import CLASS_STATS_COLUMNS
from swaptui.ui.app import SwapApp
from swaptui.ui.panes.base import TextBody
from swaptui.ui.panes.fragmentation import count_cell, fit_rows, index_cell, pageblock_strip


def pane_text(app) -> str:
    """What the fragmentation pane shows, as plain text."""
    return "\n".join(line.plain for line in app.query_one("#fragmentation").query_one(TextBody)._lines)


def with_fields(frame, **fields):
    """The frame with some snapshot fields replaced (what a model, a trace or /proc would fill)."""
    return dataclasses.replace(frame, snapshot=dataclasses.replace(frame.snapshot, **fields))


FREE_AREA_MT = np.array([[3, 10, 1]] * 5 + [[0, 2, 0]] * 6, dtype=np.int64)  # [order, migratetype]
PAGEBLOCKS = np.array([1] * 40 + [0] * 3 + [2] * 2 + [1] * 19, dtype=np.uint8)
COMPACTION = {
    "kcompactd": "running",
    "migrate_pfn": 4096,
    "free_pfn": 28672,
    "defer_shift": 3,
    "considered": 2,
    "order_failed": 9,
    "score": 91,
    "wmark_low": 80,
    "wmark_high": 90,
}
ZS_CLASSES = np.array([[1424, 23, 8, 48, 1104, 1017, 24], [2048, 2, 1, 10, 20, 20, 0]], dtype=np.int64)
BY_ORDER = {"nonfull": [5, 0, 0, 0, 2] + [0] * 5, "frag": [1] + [0] * 9, "free": 30, "full": 20}


def test_the_pane_shows_migratetypes_pageblocks_compaction_zsmalloc_and_swap(small_scenario) -> None:
    async def go():
        app = SwapApp(small_scenario, start_tick=300)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)
            await pilot.press("6")  # maximise it
            await pilot.pause()
            text = pane_text(app)
            # Whatever the model fills in, the buddy table and one line per subsystem are there.
            for word in ("order", "free blk", "unusable", "extfrag", "score", "pageblk", "compact", "zsmalloc", "swap"):
                assert word in text, word
            assert "no zswap pool" in text  # small-zram has zswap off
            pane = app.query_one("#fragmentation")
            pane.frame = with_fields(
                app.frame,
                free_area_mt=FREE_AREA_MT,
                pageblock_type=PAGEBLOCKS,
                compaction=COMPACTION,
                zs_classes=ZS_CLASSES,
                swap_clusters_by_order=BY_ORDER,
            )
            await pilot.pause()
            text = pane_text(app)
            lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
            assert lines["unmov"].split()[1:] == ["3"] * 5 + ["0"] * 6
            assert lines["movable"].split()[1:] == ["10"] * 5 + ["2"] * 6
            assert lines["reclaim"].split()[1:] == ["1"] * 5 + ["0"] * 6
            assert (
                lines["pageblk"].rstrip().endswith("█ 3 unmov  ▒ 2 reclaim  ░ 59 movable") and "of 64 × 2 MiB" in text
            )
            assert "running" in lines["compact"] and "defer_shift 3" in lines["compact"]
            assert "order_failed 9" in lines["compact"]
            assert "migrate 4,096" in lines["scanners"] and "free 28,672" in lines["scanners"]
            assert "91% · marks 80/90 ▲ above high: compacts" in lines["score"]
            assert "of free pages in blocks < order 9" in text  # maximised: the score's meaning has room
            assert "2 classes · objs 1,037/1,124 used" in lines["zsmalloc"] and "24 of 394 pages freeable" in text
            assert "1,424 B  48 zspages × 8p · 1,017/1,104 objs · 24 freeable" in text
            assert "free 30  full 20  nonfull o0:5 o4:2  frag o0:1" in lines["swap"]
            # From a real kernel: what only the model knows is said to be missing, not shown as zero.
            pane.frame = with_fields(
                app.frame,
                source="live",
                free_area_mt=np.zeros((0, 0), np.int64),
                pageblock_type=np.zeros(0, np.uint8),
                compaction={},
                zs_classes=None,
            )
            await pilot.pause()
            text = pane_text(app)
            assert "types per pageblock: not exported by the kernel" in text
            assert "positions: not exported by the kernel" in text
            assert "— (/proc/pagetypeinfo is root-only)" in text

    run(go())


def test_a_short_pane_keeps_the_table_the_indices_and_one_line_a_subsystem() -> None:
    from textual.content import Content

    rows = [
        (6, Content("order")),
        (3, Content("unmov")),
        (1, Content("")),
        (4, Content("compact")),
        (2, Content("strip")),
        (5, Content("extfrag")),
    ]
    assert [r.plain for r in fit_rows(rows, 4)] == ["order", "unmov", "compact", "extfrag"]
    assert [r.plain for r in fit_rows(rows, 3)] == ["order", "compact", "extfrag"]
    assert len(fit_rows(rows, 10)) == 6


def test_cells_say_as_much_as_fits() -> None:
    assert [index_cell(v, 7) for v in (-1000, -500, 0, 287, 1000)] == [
        " -1.000",
        " -0.500",
        "  0.000",
        "  0.287",
        "  1.000",
    ]
    assert [index_cell(v, 4) for v in (-1000, -500, 0, 287, 1000)] == ["  -1", " -.5", "   0", " .28", "   1"]
    assert [count_cell(v, 6) for v in (0, 2352, 12345, 1234567)] == ["     0", " 2,352", " 12345", " 1235k"]
    assert [count_cell(v, 3) for v in (99, 2352, 12345)] == [" 99", " 2k", "  +"]
    # Two cells for six pageblocks: each cell shows the worst type among its blocks.
    assert pageblock_strip(np.array([1, 1, 0, 1, 2, 1], dtype=np.uint8), 2).plain == "█▒"
    assert pageblock_strip(np.array([1, 1, 1, 1, 2, 1], dtype=np.uint8), 2).plain == "░▒"
    assert len(CLASS_STATS_COLUMNS) == ZS_CLASSES.shape[1]
