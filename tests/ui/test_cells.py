"""Cell aggregation for the maps: incremental updates equal a recount; glyphs show the list, not colour alone."""

from __future__ import annotations

import numpy as np
import pytest

from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FREE,
    FRAME_KERNEL,
    FRAME_STATE_NAMES,
    LRU_ACTIVE_ANON,
    LRU_NONE,
    new_memmap,
)
from swaptui.model.swapfile import (
    CLUSTER_FLAG_DISCARD,
    CLUSTER_FLAG_FRAG,
    CLUSTER_FLAG_FREE,
    CLUSTER_FLAG_FULL,
    CLUSTER_FLAG_NONFULL,
)
from swaptui.ui.cells import (
    D_ANON_ACTIVE,
    D_ANON_INACTIVE,
    D_FREE,
    D_KERNEL,
    DISPLAY_GLYPHS,
    FrameCells,
    cached_clusters,
    changed_frames,
    cluster_codes,
    cluster_glyph,
    display_states,
    nice_frames_per_cell,
)


def test_anon_frames_split_by_lru() -> None:
    state = np.array([FRAME_FREE, FRAME_ANON, FRAME_ANON, FRAME_KERNEL], dtype=np.uint8)
    lru = np.array([LRU_NONE, LRU_ACTIVE_ANON, 0, LRU_NONE], dtype=np.int8)
    assert display_states(state, lru).tolist() == [D_FREE, D_ANON_ACTIVE, D_ANON_INACTIVE, D_KERNEL]


def test_every_display_state_has_its_own_glyph() -> None:
    assert len(set(DISPLAY_GLYPHS)) == len(DISPLAY_GLYPHS)


@pytest.mark.parametrize("frames_per_cell", [1, 3, 64, 320])
def test_incremental_update_equals_a_recount(frames_per_cell: int) -> None:
    rng = np.random.default_rng(1)
    n = 10_000
    state = rng.integers(0, len(FRAME_STATE_NAMES), n).astype(np.uint8)
    lru = rng.integers(-1, 4, n).astype(np.int8)
    cells = FrameCells(n, frames_per_cell)
    cells.update(state, lru)
    for _ in range(5):
        state = state.copy()
        lru = lru.copy()
        idx = rng.integers(0, n, 300)
        state[idx] = rng.integers(0, len(FRAME_STATE_NAMES), 300)
        lru[idx] = rng.integers(-1, 4, 300)
        before = cells.dominant.copy()
        changed = cells.update(state, lru)
        fresh = FrameCells(n, frames_per_cell)
        fresh.recount(state, lru)
        assert (cells.counts == fresh.counts).all()
        assert (cells.dominant == fresh.dominant).all()
        assert set(np.flatnonzero(before != cells.dominant).tolist()) <= set(changed.tolist())
        assert cells.totals().sum() == n


@pytest.mark.parametrize("lru_dtype", [np.int8, new_memmap(8).lru.dtype])
@pytest.mark.parametrize("n", [4096, 4099])
def test_changed_frames_finds_exactly_the_changed_ones(n: int, lru_dtype: np.dtype) -> None:
    # The memmap's LRU column is wider than its state column: a regression once crashed every pane here.
    rng = np.random.default_rng(2)
    state = rng.integers(0, 8, n).astype(np.uint8)
    lru = rng.integers(-1, 4, n).astype(lru_dtype)
    new_state, new_lru = state.copy(), lru.copy()
    idx = rng.choice(n, 50, replace=False)
    new_state[idx[:25]] = (new_state[idx[:25]] + 1) % 8
    new_lru[idx[25:]] = (new_lru[idx[25:]] + 2) % 4
    assert changed_frames(state, new_state, lru, new_lru).tolist() == sorted(idx.tolist())
    assert len(changed_frames(state, state, lru, lru)) == 0


def test_frames_per_cell_is_round_and_fits() -> None:
    for frames, cells in ((262_144, 1000), (4_194_304, 1000), (100, 1000), (262_144, 832)):
        fpc = nice_frames_per_cell(frames, cells)
        assert -(-frames // fpc) <= cells
        assert fpc <= 8 or (fpc >> (fpc.bit_length() - 3)) in (4, 5, 6, 7)


def test_cluster_glyphs_show_list_and_fill() -> None:
    flags = np.array(
        [
            CLUSTER_FLAG_FREE,
            CLUSTER_FLAG_NONFULL,
            CLUSTER_FLAG_NONFULL,
            CLUSTER_FLAG_FRAG,
            CLUSTER_FLAG_FULL,
            CLUSTER_FLAG_DISCARD,
        ],
        dtype=np.uint8,
    )
    counts = np.array([0, 10, 500, 256, 512, 0], dtype=np.int32)
    cached = np.array([False] * 6)
    glyphs = [cluster_glyph(int(c)) for c in cluster_codes(flags, counts, cached, 1)]
    assert glyphs == ["·", "▁", "▇", "▒", "█", "×"]
    cached[1] = True
    assert cluster_glyph(int(cluster_codes(flags, counts, cached, 1)[1])) == "▲"


def test_grouped_cluster_cells_take_the_commonest_list() -> None:
    flags = np.array([CLUSTER_FLAG_FULL] * 3 + [CLUSTER_FLAG_FREE], dtype=np.uint8)
    counts = np.array([512, 512, 512, 0], dtype=np.int32)
    codes = cluster_codes(flags, counts, np.zeros(4, bool), 4)
    assert len(codes) == 1 and cluster_glyph(int(codes[0])) == "█"


def test_cached_clusters_from_percpu_offsets() -> None:
    offsets = np.full((3, 10), -1, dtype=np.int64)
    offsets[0, 0] = 512 * 7 + 3
    offsets[2, 0] = 512 * 7 + 9  # the last row is kswapd's
    mask, owners = cached_clusters(offsets, 16)
    assert np.flatnonzero(mask).tolist() == [7]
    assert owners == {7: [0, 2]}
