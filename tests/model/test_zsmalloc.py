"""zsmalloc: size classes as zs_create_pool builds them, fullest-first allocation, freeing and compaction."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.zsmalloc import (
    NR_FULLNESS_GROUPS,
    ZS_SIZE_CLASSES,
    SizeClassTable,
    ZsPool,
    calculate_zspage_chain_size,
    fullness_group,
    get_size_class_index,
)

PAGE = 4096


def reference_classes(chain: int = 8) -> tuple[list[tuple[int, int, int, int]], int]:
    """The kernel's zs_create_pool loop written out plainly: (index, size, pages, objs) and huge_class_size."""
    kept: list[tuple[int, int, int, int]] = []
    huge = 0
    for i in range(254, -1, -1):
        size = min(32 + 16 * i, PAGE)
        if size & (size - 1) == 0:
            pages = 1
        else:
            wastes = [(k * PAGE) % size for k in range(1, chain + 1)]
            pages = 1 + wastes.index(min(wastes))  # the first chain length with the least waste
        objs = pages * PAGE // size
        if pages != 1 and objs != 1 and not huge:
            huge = size - 7
        if kept and kept[-1][2:] == (pages, objs):
            continue
        kept.append((i, size, pages, objs))
    return sorted(kept), huge


def test_class_table_matches_zs_create_pool() -> None:
    ref, huge = reference_classes()
    t = SizeClassTable()
    assert ZS_SIZE_CLASSES == 255
    assert len(t) == len(ref) == 119
    got = list(zip(t.index.tolist(), t.size.tolist(), t.pages_per_zspage.tolist(), t.objs_per_zspage.tolist()))
    assert got == ref
    assert t.huge_class_size == huge == 3625  # largest non-huge class is 3632 (8 pages, 9 objects)
    assert SizeClassTable(4).huge_class_size == 3257  # the pre-6.3 chain of 4: 3264 - 7
    # Known chain lengths: powers of two take one page; 48 B fits 3 pages exactly; 144 B wastes
    # least on 7 pages (the pre-6.3 "best usage percentage" rule picked 3).
    assert [calculate_zspage_chain_size(s) for s in (32, 48, 144, 2048, 3632, 4096)] == [1, 3, 7, 1, 8, 1]
    # All one-object, one-page classes merge into the 4096-byte class, the only huge one.
    assert t.size[t.huge].tolist() == [4096] and t.index[t.huge].tolist() == [254]


def test_zs_malloc_adds_the_handle_before_choosing_a_class() -> None:
    sizes = np.array([2000, 2008, 2009, 1, 5000]) + 8
    assert get_size_class_index(sizes).tolist() == [124, 124, 125, 0, 254]
    assert 32 + 16 * 124 == 2016
    pool = ZsPool()
    t = pool.table
    h = pool.malloc(np.array([2000]))
    slot = t.index_to_slot[124]
    # Class 124 (2016 B) has one page and two objects, the same shape as 2048 B, so the kernel
    # points size_class[124] at the 2048-byte class: the object takes a 2048-byte stride.
    assert (t.pages_per_zspage[slot], t.objs_per_zspage[slot]) == (1, 2)
    assert pool.location(h)[0].tolist() == [int(t.index[slot])] == [126]  # 32 + 16 * 126 = 2048
    assert pool.slot_size(h).tolist() == [2048]
    assert pool.obj_size(h).tolist() == [2000]
    # Around the huge threshold: 3624 + 8 fits the 3632 class; 3625 + 8 needs a whole page.
    h2 = pool.malloc(np.array([3624, 3625, 4096]))
    assert pool.slot_size(h2).tolist() == [3632, 4096, 4096]
    assert pool.pages() == 1 + 8 + 1 + 1


def test_allocation_takes_the_fullest_zspage_and_grows_only_when_none_has_room() -> None:
    pool = ZsPool()
    h = pool.malloc(np.full(3 * 128, 24))  # 24 + 8 = 32 B: 128 objects per one-page zspage
    assert pool.pages() == 3
    _, rows, _ = pool.location(h)
    a, b, c = (h[rows == r] for r in np.unique(rows))
    pool.free(a[:100])  # 28 used: 21 %, group _30
    pool.free(b[:10])  # 118 used: 92 %, group _99
    pool.free(c[:50])  # 78 used: 60 %, group _70
    fg = pool.class_columns()["fullness"][0]
    assert fg[[3, 7, 10]].tolist() == [1, 1, 1] and fg.sum() == 3
    row_b = int(pool.location(b[10:11])[1][0])
    row_c = int(pool.location(c[50:51])[1][0])
    row_a = int(pool.location(a[100:101])[1][0])
    one = pool.malloc(np.array([24]))
    assert int(pool.location(one)[1][0]) == row_b
    batch = pool.malloc(np.full(9 + 50 + 1, 24))  # fills b, then c, then starts on a
    assert pool.location(batch)[1].tolist() == [row_b] * 9 + [row_c] * 50 + [row_a]
    more = pool.malloc(np.full(99, 24))  # the last free slots, all on a
    assert pool.pages() == 3 and (pool.location(more)[1] == row_a).all()
    pool.malloc(np.array([24]))  # nothing has room: a new zspage
    assert pool.pages() == 4


def test_an_empty_zspage_is_freed_at_once() -> None:
    pool = ZsPool()
    h = pool.malloc(np.full(128, 24))
    assert pool.pages() == 1 and pool.take_pages_delta() == 1
    pool.free(h[:127])
    assert pool.pages() == 1
    pool.free(h[127:])
    stats = pool.class_columns()
    assert pool.pages() == 0 and stats["zspages"].sum() == 0 and stats["fullness"].sum() == 0
    assert pool.take_pages_delta() == -1
    assert pool.fragmentation() == 0.0


def check_pool(pool: ZsPool, live: dict[int, int]) -> None:
    """Invariants: pages, object counts, fullness lists and handle locations agree with each other."""
    stats = pool.class_columns()
    assert pool.pages() == int((stats["zspages"] * stats["pages_per_zspage"]).sum())
    assert int(stats["objs_used"].sum()) == len(live) == pool.nr_objs
    assert (stats["fullness"].sum(axis=1) == stats["zspages"]).all()
    assert (stats["fullness"][:, 0] == 0).all()  # nothing empty survives
    assert (stats["objs_allocated"] >= stats["objs_used"]).all()
    for k, cls in enumerate(pool.classes):
        f = cls.fullness[: cls.nrows]
        rows = np.flatnonzero(f >= 0)
        assert len(rows) == cls.zspages
        assert (fullness_group(cls.inuse[rows], cls.objs_per_zspage) == f[rows]).all()
        assert ((cls.objs[rows] >= 0).sum(axis=1) == cls.inuse[rows]).all()
        assert int(np.bincount(f[rows], minlength=NR_FULLNESS_GROUPS)[1:].sum()) == int(stats["zspages"][k])
    if live:
        handles = np.array(list(live), dtype=np.int64)
        assert pool.obj_size(handles).tolist() == list(live.values())
        idx, rows, objs = pool.location(handles)
        where = set(zip(idx.tolist(), rows.tolist(), objs.tolist()))
        assert len(where) == len(live)  # no two live handles share an object
        slot = pool.table.index_to_slot[idx]
        ids = handles & ((1 << 32) - 1)
        assert all(pool.classes[s].objs[r, o] == i for s, r, o, i in zip(slot, rows, objs, ids))
    assert (
        abs(pool.fragmentation() - (1 - sum(live.values()) / max(1, pool.pages() * PAGE))) < 1e-9 or pool.pages() == 0
    )


SIZES = st.one_of(st.integers(1, 4096), st.sampled_from([24, 100, 1000, 1500, 2000, 3000, 4096]))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["malloc", "free", "compact"]),
            st.lists(SIZES, min_size=1, max_size=150),
            st.integers(0, 2**32 - 1),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_pool_invariants_hold_under_random_malloc_free_compact(ops: list[tuple[str, list[int], int]]) -> None:
    pool = ZsPool()
    one_by_one = ZsPool()  # the same calls, one object at a time, as the kernel makes them
    live: dict[int, int] = {}
    dead: list[int] = []
    for op, sizes, seed in ops:
        rng = np.random.default_rng(seed)
        if op == "malloc":
            handles = pool.malloc(np.array(sizes))
            singles = np.concatenate([one_by_one.malloc(np.array([s])) for s in sizes])
            assert (handles == singles).all()
            assert not set(handles.tolist()) & set(live)
            live.update(zip(handles.tolist(), sizes))
        elif op == "free" and live:
            keys = np.array(list(live), dtype=np.int64)
            gone = rng.choice(keys, size=int(rng.integers(1, len(keys) + 1)), replace=False)
            pool.free(gone)
            for g in gone.tolist():
                one_by_one.free(np.array([g]))
                del live[g]
            dead.extend(gone.tolist())
        elif op == "compact":
            before = pool.pages()
            expect = pool.can_compact()
            assert pool.compact() == expect == before - pool.pages()
            assert pool.can_compact() == 0
            one_by_one.compact()
        check_pool(pool, live)
        if live:
            handles = np.array(list(live), dtype=np.int64)
            for a, b in zip(pool.location(handles), one_by_one.location(handles)):
                assert (a == b).all()
    for h in dead[:5]:  # a freed handle never resolves, even when its id serves a new object
        try:
            pool.obj_size(np.array([h]))
        except ValueError:
            continue
        raise AssertionError("a stale handle resolved")


def test_compact_frees_pages_and_keeps_every_object() -> None:
    rng = np.random.default_rng(7)
    pool = ZsPool()
    sizes = rng.integers(200, 3000, 5000)
    handles = pool.malloc(sizes)
    gone = rng.random(len(handles)) < 0.6
    pool.free(handles[gone])
    live = dict(zip(handles[~gone].tolist(), sizes[~gone].tolist()))
    before, frag = pool.pages(), pool.fragmentation()
    freeable = pool.can_compact()
    assert freeable > 0
    freed = pool.compact()
    assert freed == freeable == before - pool.pages() == pool.pages_compacted
    assert pool.can_compact() == 0 and pool.fragmentation() < frag
    check_pool(pool, live)
    # Copies are independent and deterministic: the same allocations land the same way.
    twin = pickle.loads(pickle.dumps(pool))
    other = copy.deepcopy(pool)
    untouched = pool.pages()
    more = rng.integers(1, 4097, 300)
    assert (twin.malloc(more) == pool.malloc(more)).all()
    assert twin.pages() == pool.pages() and other.pages() == untouched


def test_a_large_mixed_batch_lands_as_one_by_one_calls() -> None:
    """Thousands of objects over many classes in each batch, with frees between: same handles and places."""
    rng = np.random.default_rng(11)
    batched, single = ZsPool(), ZsPool()
    live: dict[int, int] = {}
    for _ in range(5):
        sizes = np.concatenate(
            [
                rng.integers(1, 4097, 1000),  # every class
                np.clip(rng.lognormal(np.log(1365), 0.2, 1000), 64, 4096).astype(np.int64),  # reclaim's mix
                np.full(200, 4096),
                np.full(300, 24),  # the huge class; a 128-object class filling zspages
            ]
        )
        rng.shuffle(sizes)
        handles = batched.malloc(sizes)
        assert (handles == np.concatenate([single.malloc(sizes[i : i + 1]) for i in range(len(sizes))])).all()
        live.update(zip(handles.tolist(), sizes.tolist()))
        keys = np.array(list(live), dtype=np.int64)
        gone = rng.choice(keys, len(keys) // 2, replace=False)
        batched.free(gone)
        for g in gone.tolist():
            single.free(np.array([g]))
            del live[g]
        held = np.array(list(live), dtype=np.int64)
        for a, b in zip(batched.location(held), single.location(held)):
            assert (a == b).all()
        assert batched.pages() == single.pages()
        for k, v in batched.class_columns().items():
            assert (v == single.class_columns()[k]).all(), k
        check_pool(batched, live)
    assert batched.compact() == single.compact() > 0
    held = np.array(list(live), dtype=np.int64)
    for a, b in zip(batched.location(held), single.location(held)):
        assert (a == b).all()
    check_pool(batched, live)
    more = rng.integers(1, 4097, 2000)  # after compaction, the lists still agree
    assert (batched.malloc(more) == np.concatenate([single.malloc(more[i : i + 1]) for i in range(2000)])).all()


def test_malloc_until_stops_where_a_limit_is_reached() -> None:
    pool = ZsPool()
    pool.malloc(np.full(100, 1000))  # 1000 + 8 B: 4 objects per one-page zspage, 25 pages
    assert pool.pages() == 25
    sizes = np.full(30, 1000)
    # An allocation is refused once the pool holds 27 pages: one opens page 26, three fill it,
    # one opens page 27, and the next finds the pool at its limit.
    handles, by_alloc = pool.malloc_until(sizes, max_pages=27)
    assert len(handles) == 1 + 3 + 1 and not by_alloc and pool.pages() == 27
    handles, by_alloc = pool.malloc_until(sizes, max_new_pages=2)  # at most 2 pages from the allocator
    assert by_alloc and pool.pages() == 29 and len(handles) == 3 + 8  # the last zspage's 3 spare slots first
    handles, by_alloc = pool.malloc_until(sizes, max_pages=29)
    assert len(handles) == 0 and not by_alloc
    with pytest.raises(ValueError):
        pool.malloc(np.array([0]))
    with pytest.raises(ValueError):
        pool.free(np.concatenate([handles, pool.malloc(np.array([5]))[[0, 0]]]))  # twice in one batch
