"""The view layer's numbers: the kernel's fragmentation indices, rates from counter history, sparklines, captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swaptui.model.snapshot import SAMPLE_NAMES
from swaptui.model.vmstat import NAMES
from swaptui.scenario import load_scenario_text
from swaptui.ui.metrics import (
    HistoryRing,
    caption_at,
    contig_page_info,
    format_rate,
    fragmentation_index,
    sparkline,
    unusable_free_index,
)
from swaptui.units import format_size

SMALL_YAML = (Path(__file__).parent / "small-zram.yaml").read_text().split("captions:")[0]
CAPTIONS = """captions:
  - {at: 0s, text: "a"}
  - {at: 100ms, until: 200ms, text: "b"}
  - {at: 500ms, text: "c"}
"""

# nr_free per order 0..10: 10 single pages, 4 order-1 blocks, 1 order-3 block, nothing bigger.
FREE_AREA = (10, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0)
# free pages = 10 + 8 + 8 = 26; blocks = 15


def test_contig_page_info_counts_pages_blocks_and_suitable_blocks() -> None:
    info = contig_page_info(FREE_AREA, 1)
    assert (info.free_pages, info.free_blocks_total, info.free_blocks_suitable) == (26, 15, 4 + 4)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (0, 0),  # every free page is usable for order 0
        (1, 384),  # (26 - 8 blocks * 2 pages) * 1000 // 26 = 10 * 1000 // 26
        (2, 692),  # suitable: the order-3 block is 2 order-2 blocks: (26 - 2*4) * 1000 // 26 = 18000 // 26
        (3, 692),  # one order-3 block: (26 - 8) * 1000 // 26
        (4, 1000),  # nothing of order 4: all free memory is unusable
    ],
)
def test_unusable_free_index_by_hand(order: int, expected: int) -> None:
    assert unusable_free_index(FREE_AREA, order) == expected


def test_unusable_free_index_with_no_free_memory_is_one() -> None:
    assert unusable_free_index((0,) * 11, 3) == 1000


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (3, -1000),  # an order-3 block exists: the allocation would succeed
        (4, 1000 - (1000 + 26 * 1000 // 16) // 15),  # 1000 - (1000 + 1625) // 15 = 1000 - 175 = 825
        (9, 1000 - (1000 + 26 * 1000 // 512) // 15),  # 1000 - 1050 // 15 = 930
    ],
)
def test_fragmentation_index_by_hand(order: int, expected: int) -> None:
    assert fragmentation_index(FREE_AREA, order) == expected


def test_fragmentation_index_lack_of_memory_tends_to_zero() -> None:
    # One single free page, asking for order 10: fails for lack of memory, not fragmentation.
    assert fragmentation_index((1,) + (0,) * 10, 10) == 0
    assert fragmentation_index((0,) * 11, 5) == 0


def _ring(ticks: list[int], values: list[int], name: str = "pswpout") -> HistoryRing:
    ring = HistoryRing(capacity=8)
    col = SAMPLE_NAMES.index(name)
    for t, v in zip(ticks, values):
        row = np.zeros(len(SAMPLE_NAMES), dtype=np.int64)
        row[col] = v
        ring.append(t, t * 1_000_000, row)
    return ring


def test_rate_is_change_per_simulated_second_over_the_window() -> None:
    h = _ring(list(range(0, 300, 10)), [t * 5 for t in range(0, 300, 10)]).view()
    # 5 pages per 1 ms tick is 5000 per second, whatever the window.
    assert h.rate("pswpout") == pytest.approx(5000)
    assert h.per_tick("pswpout") == pytest.approx(5)


def test_ring_keeps_the_newest_samples_and_ignores_old_ticks() -> None:
    ring = _ring(list(range(12)), list(range(12)))
    h = ring.view()
    assert list(h.ticks) == list(range(4, 12))
    ring.append(5, 5_000_000, np.zeros(len(SAMPLE_NAMES), dtype=np.int64))  # older than the newest: ignored
    assert ring.last_tick == 11


def test_truncate_and_view_upto_forget_the_future() -> None:
    ring = _ring(list(range(8)), list(range(8)))
    assert list(ring.view(upto=5).ticks) == [0, 1, 2, 3, 4, 5]
    ring.truncate_after(3)
    assert list(ring.view().ticks) == [0, 1, 2, 3]


def test_ratio_and_rates_need_two_samples() -> None:
    h = _ring([0], [0]).view()
    assert h.rate("pswpout") is None
    assert h.ratio(("swap_ra_hit",), ("swap_ra",)) is None
    assert len(h.rate_series("pswpout", 10)) == 0


def test_sample_names_start_with_the_vmstat_names() -> None:
    assert SAMPLE_NAMES[: len(NAMES)] == NAMES


def test_sparkline_scales_and_marks_gaps() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8, 0, 7) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, float("nan"), 7], 5, 0, 7) == "  ▁·█"
    assert sparkline([], 3) == "   "


def test_formats() -> None:
    assert format_rate(812) == "812/s"
    assert format_rate(12_345) == "12k/s"
    assert format_rate(1_234) == "1.2k/s"
    assert format_rate(None) == "—"
    assert format_size(4096, figures=3) == "4.00 KiB"
    assert format_size(1 << 30, figures=3) == "1.00 GiB"


def test_caption_shows_until_its_end_or_the_next_caption() -> None:
    caps = load_scenario_text(SMALL_YAML + CAPTIONS).captions
    ms = 1_000_000
    assert caption_at(caps, 0) == "a"
    assert caption_at(caps, 150 * ms) == "b"
    assert caption_at(caps, 300 * ms) is None  # b ended, and a gave way to b
    assert caption_at(caps, 10_000 * ms) == "c"
    assert caption_at((), 5) is None
