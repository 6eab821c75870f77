"""The swap readahead window (__swapin_nr_pages) and readahead hits by access order."""

from __future__ import annotations

import pytest

from swaptui.model.memory import swapin_nr_pages


@pytest.mark.parametrize(
    "prev, cur, hits, max_pages, prev_win, expected",
    [
        (0, 100, 4, 8, 0, 8),  # a fresh VMA reads as 4 hits: 6 -> rounded up to 8
        (0, 100, 0, 8, 0, 1),  # no hits, not adjacent: just the faulting page
        (99, 100, 0, 8, 0, 2),  # no hits but adjacent (forward): 2
        (101, 100, 0, 8, 0, 2),  # adjacent backward: 2
        (0, 100, 1, 8, 0, 4),  # 3 -> at least 4
        (0, 100, 3, 8, 0, 8),  # 5 -> 8
        (0, 100, 7, 8, 0, 8),  # 9 -> 16 -> clamped to max
        (0, 100, 7, 32, 0, 16),  # page_cluster 5: 9 -> 16
        (0, 100, 0, 8, 8, 4),  # don't shrink too fast: at least half the previous window
        (0, 100, 0, 1, 0, 1),  # page_cluster 0 disables readahead
    ],
)
def test_window_formula(prev: int, cur: int, hits: int, max_pages: int, prev_win: int, expected: int) -> None:
    assert swapin_nr_pages(prev, cur, hits, max_pages, prev_win) == expected


def test_window_sequence_for_a_sequential_reread() -> None:
    """Each fault after a full window of hits sees 7 hits: 9 -> 16 -> clamped to 8, every time."""
    win, prev, hits, seq = 0, -2, 4, []
    cur = 1000
    for _ in range(5):
        win = swapin_nr_pages(prev, cur, hits, 8, win)
        seq.append(win)
        prev, hits, cur = cur + win - 1, win - 1, cur + win
    assert seq == [8, 8, 8, 8, 8]


def test_window_sequence_for_random_faults_shrinks_by_halves() -> None:
    win, seq = 8, []
    for cur in (5000, 100, 9000, 77, 4242):
        win = swapin_nr_pages(-10, cur, 0, 8, win)
        seq.append(win)
    assert seq == [4, 2, 1, 1, 1]
