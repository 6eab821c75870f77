"""zswap: limits and hysteresis, exclusive loads, invalidation, second-chance writeback, tree depth."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.xarray import XA_NODE_BYTES
from swaptui.model.zswap import ZSWAP_ENTRY_BYTES, Zswap

PAGE = 4096


def raw(n: int) -> np.ndarray:
    """Compressed sizes of pages that do not compress: each is stored as a whole page."""
    return np.full(n, PAGE)


def test_limit_rejects_until_the_pool_drops_to_the_accept_threshold() -> None:
    z = Zswap(totalram_pages=1000, nr_keys=1 << 12)  # max 200 pool pages, accept again at 180
    assert (z.max_pages, z.accept_pages) == (200, 180)
    stored, _ = z.store(np.arange(210), raw(210))
    assert stored.sum() == 200 and not stored[200:].any()
    assert z.pool_pages() == 200 and z.pool_limit_hit == 10 and z.reached_full and z.shrink_wanted
    z.invalidate(np.arange(15))  # 185 pages: below the limit, above the accept threshold
    stored, _ = z.store(np.array([300]), raw(1))
    assert not stored.any() and z.pool_limit_hit == 10  # rejected by hysteresis, not by the limit
    assert z.shrink_wanted
    z.invalidate(np.arange(15, 20))  # 180 pages: at the accept threshold
    assert not z.shrink_wanted
    stored, _ = z.store(np.array([300, 301]), raw(2))
    assert stored.all() and not z.reached_full and z.pool_pages() == 182
    assert z.counters()["zswpout"] == 202 and z.entries() == 182


def test_limit_hits_count_every_store_that_sees_a_full_pool() -> None:
    z = Zswap(totalram_pages=100, nr_keys=1 << 10)  # max 20 pages
    z.store(np.arange(20), raw(20))
    assert z.pool_limit_hit == 0 and not z.reached_full
    stored, _ = z.store(np.arange(20, 25), raw(5))
    assert not stored.any() and z.pool_limit_hit == 5


def test_exclusive_load_frees_the_entry_and_shrinks_the_pool() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 12)
    z.store(np.arange(8), raw(8))
    assert z.pool_pages() == 8
    hit, cost = z.load(np.array([0, 1, 2, 100]))
    assert hit.tolist() == [True, True, True, False] and cost > 0
    assert z.pool_pages() == 5 and z.entries() == 5 and z.zswpin == 3
    assert not z.contains(np.array([0, 1, 2])).any()
    hit, _ = z.load(np.array([0]))
    assert not hit.any() and z.zswpin == 3  # the compressed copy went with the first load


def test_invalidate_erases_present_entries_only() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 12)
    z.store(np.arange(10), np.full(10, 1000))
    cost = z.invalidate(np.array([1, 3, 500, 501]))
    assert cost > 0 and z.entries() == 8
    assert z.contains(np.arange(5)).tolist() == [True, False, True, False, True]
    z.invalidate(np.array([0, 2, 4, 5, 6, 7, 8, 9]))
    assert z.entries() == 0 and z.pool_pages() == 0 and z.counters()["pool_total_size"] == 0


def test_writeback_gives_referenced_entries_a_second_chance() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 12)
    z.store(np.arange(10), np.full(10, 1500))
    assert z.writeback_candidates(10).size == 0  # every entry was referenced: cleared and rotated
    assert z.entries() == 10 and z.zswpwb == 0
    z.store(np.array([100]), np.array([1500]))  # newer, and referenced
    keys = z.writeback_candidates(11)
    assert keys.tolist() == list(range(10))  # the oldest go first; 100 is rotated
    assert z.zswpwb == z.written_back_pages == 10 and z.entries() == 1 and z.last_cost_ns > 0
    assert z.contains(np.array([100])).all()
    assert z.writeback_candidates(1).tolist() == [100]
    assert z.entries() == 0 and z.pool_pages() == 0


def test_writeback_stops_at_a_page_already_in_the_swap_cache() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 12)
    z.store(np.arange(6), np.full(6, 1500))
    z.writeback_candidates(6)  # clear the referenced bits
    hot = np.zeros(1 << 12, dtype=bool)
    hot[2] = True
    assert z.writeback_candidates(6, in_swapcache=hot).tolist() == [0, 1]
    assert z.reject_reclaim_fail == 1 and z.entries() == 4
    assert z.writeback_candidates(6, max_writeback=2).tolist() == [3, 4]  # 2 went to the head


def test_zswap_trees_are_three_levels_below_2_18_and_four_above() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 20)
    first, low, high = 5, 100_000, (1 << 18) + 5
    for key in (first, low, high):
        z.store(np.array([key]), np.array([1000]))
    # The first tree only grows as tall as its largest offset needs; the others are full-offset trees.
    assert z.depth_hist[[1, 3, 4]].tolist() == [1, 1, 1]
    before = z.hops
    z.load(np.array([low]))  # xa_load, then xa_erase: two walks of 3
    assert z.hops - before == 6
    before = z.hops
    z.load(np.array([high]))
    assert z.hops - before == 8
    assert z.lookups == 3 + 4
    threes = z.depth_hist[3]
    z.store(np.array([5000]), np.array([1000]))
    assert z.depth_hist[3] == threes + 1  # offset 5000 makes the first tree 3 levels
    assert z._heights(np.array([0])).tolist() == [3]
    d = Zswap(totalram_pages=1 << 16, nr_keys=1 << 20, index="descriptor")
    _, cost_desc = d.store(np.array([high]), np.array([1000]))
    _, cost_xa = Zswap(totalram_pages=1 << 16, nr_keys=1 << 20).store(np.array([high]), np.array([1000]))
    assert d.hops == 0 and cost_xa - cost_desc == 4 * z.costs.xa_hop + z.costs.xa_lock
    assert d.metadata_bytes() == ZSWAP_ENTRY_BYTES


def test_incompressible_pages_are_stored_raw() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 12)
    stored, _ = z.store(np.arange(4), np.array([PAGE, 5000, 0, 1000]))
    assert stored.all()
    c = z.counters()
    assert c["stored_incompressible_pages"] == 3 and c["reject_compress_poor"] == 0
    assert (z.pool.obj_size(z.e_handle[z.entry_of[np.arange(3)]]) == PAGE).all()
    assert z.pool_pages() == 3 + 1  # three huge-class pages, one zspage of the ~1 KiB class
    z.load(np.array([0, 1]))
    assert z.counters()["stored_incompressible_pages"] == 1


def test_counters_metadata_and_shrinker() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=1 << 19)
    z.store(np.arange(1000), np.full(1000, 1000))  # 4 objects per page: about 250 pool pages
    c = z.counters()
    assert c["stored_pages"] == c["zswpout"] == 1000 and c["decompress_fail"] == 0
    assert c["pool_total_size"] == z.pool_pages() * PAGE
    assert z.metadata_bytes() == 1000 * ZSWAP_ENTRY_BYTES + z.xa_nodes() * XA_NODE_BYTES
    assert z.xa_nodes() == 16 + 1  # offsets < 4096: 16 leaves under one root
    z.store(np.array([5000, 1 << 18]), np.full(2, 1000))
    assert z.xa_nodes() == 17 + (1 + 1 + 1) + (1 + 1 + 1 + 1)  # now 3 levels; a new 4-level tree
    n, pages = z.entries(), z.pool_pages()
    assert n == 1002 and z.shrinker_count() == n * pages // n
    z.note_disk_swapin(400)
    assert z.shrinker_count() == (n - 400) * pages // n and z.nr_disk_swapins == 0  # consumed
    z.note_disk_swapin(5000)
    assert z.shrinker_count() == 0 and z.nr_disk_swapins == 5000 - n
    assert Zswap(1 << 16, 16, shrinker_enabled=False).shrinker_count() == 0
    z.max_pages, z.accept_pages = 200, 180
    assert z.shrink_target() == -(-(pages - 180) * n // pages)  # entries for the pages above 180


def test_compressor_and_allocation_failure() -> None:
    lz4 = Zswap(totalram_pages=1 << 16, nr_keys=64)
    zstd = Zswap(totalram_pages=1 << 16, nr_keys=64, compressor="zstd")
    assert zstd.store(np.arange(4), np.full(4, 1000))[1] > lz4.store(np.arange(4), np.full(4, 1000))[1]
    z = Zswap(totalram_pages=1 << 16, nr_keys=64)
    stored, _ = z.store(np.arange(5), raw(5), max_new_pages=3)
    assert stored.tolist() == [True, True, True, False, False] and z.reject_alloc_fail == 2
    assert z.pool_limit_hit == 0 and not z.shrink_wanted


def test_a_stale_entry_is_replaced() -> None:
    z = Zswap(totalram_pages=1 << 16, nr_keys=64)
    z.store(np.array([7]), raw(1))
    z.store(np.array([7]), np.array([500]))
    assert z.entries() == 1 and z.counters()["stored_incompressible_pages"] == 0
    assert z.pool.obj_size(z.e_handle[z.entry_of[[7]]]).tolist() == [500]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["store", "load", "invalidate", "writeback"]),
            st.lists(st.integers(0, 511), min_size=1, max_size=40, unique=True),
            st.integers(0, 5000),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_entries_pool_and_lru_stay_consistent(ops: list[tuple[str, list[int], int]]) -> None:
    z = Zswap(totalram_pages=600, nr_keys=512)  # a 120-page pool: the limit is reached often
    for op, keys, size in ops:
        k = np.array(keys)
        if op == "store":
            z.store(k, np.full(len(k), size))
        elif op == "load":
            z.load(k)
        elif op == "invalidate":
            z.invalidate(k)
        else:
            z.writeback_candidates(len(k))
        present = np.flatnonzero(z.entry_of >= 0)
        assert len(present) == z.entries() == len(z.lru) == z.pool.nr_objs
        assert sorted(z.e_key[z.lru.live_tail_to_head()].tolist()) == present.tolist()
        lengths = z.e_length[z.entry_of[present]]
        assert z.stored_incompressible_pages == int(np.count_nonzero(lengths == PAGE))
        assert z.zswpout - z.zswpin - z.zswpwb >= z.entries()
        assert z.xa is not None and int(z.xa.entries.sum()) == z.entries()


def test_batches_leave_the_state_one_by_one_calls_leave() -> None:
    """Big mixed batches of stores (runs and scattered keys, raw and odd sizes) and loads, as single calls."""
    rng = np.random.default_rng(5)
    nr_keys = 1 << 16  # four trees, the first one growing through its heights
    batched = Zswap(totalram_pages=1 << 16, nr_keys=nr_keys)
    single = Zswap(totalram_pages=1 << 16, nr_keys=nr_keys)
    for step in range(6):
        free = np.flatnonzero(batched.entry_of < 0)
        run = free[rng.integers(0, len(free) - 400) :][:400]  # ascending, mostly one tree
        scattered = rng.choice(np.setdiff1d(free, run), 400, replace=False)
        keys = np.concatenate([run, scattered])
        sizes = np.clip(rng.lognormal(np.log(1365), 0.3, len(keys)), 1, 4096).astype(np.int64)
        sizes[rng.random(len(keys)) < 0.1] = rng.choice([0, -3, 4096, 5000])
        stored, _ = batched.store(keys, sizes)
        assert stored.all()
        for k, s in zip(keys.tolist(), sizes.tolist()):
            single.store(np.array([k]), np.array([s]))
        present = np.flatnonzero(batched.entry_of >= 0)
        asked = np.unique(np.concatenate([rng.choice(present, 300, replace=False), rng.choice(nr_keys, 200)]))
        rng.shuffle(asked)
        hit, _ = batched.load(asked)
        assert hit.tolist() == [bool(single.load(np.array([k]))[0][0]) for k in asked.tolist()]
        if step % 2:
            batched.invalidate(asked[:50])
            for k in asked[:50].tolist():
                single.invalidate(np.array([k]))
        assert (batched.entry_of == single.entry_of).all()
        held = np.flatnonzero(batched.entry_of >= 0)
        eids = batched.entry_of[held]
        where = [z.pool.location(z.e_handle[eids]) for z in (batched, single)]
        assert all((a == b).all() for a, b in zip(*where))
        lru = [z.e_key[z.lru.live_tail_to_head()].tolist() for z in (batched, single)]
        assert lru[0] == lru[1]
        assert batched.counters() == single.counters()
        assert batched.xa_nodes() == single.xa_nodes()
        assert (batched.xa.entries == single.xa.entries).all() and (batched.xa.leaf == single.xa.leaf).all()
    assert batched.writeback_candidates(300).tolist() == single.writeback_candidates(300).tolist()
    assert batched.writeback_candidates(300).tolist() == single.writeback_candidates(300).tolist()
    assert batched.counters() == single.counters()
