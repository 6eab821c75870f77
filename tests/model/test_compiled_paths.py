"""The compiled per-page paths against a direct Python reference: the frozen numpy core's own code (tests/numpy_core)
on small random inputs. Each kernel must give the same results and leave the same state."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy_core import memory as np_memory
from numpy_core.xarray import XArrayForest as NumpyForest

from swaptui.model import memory, swap_ops, swap_state, swapfile, workingset, xarray
from swaptui.model.memmap import PG_DIRTY, PG_YOUNG
from swaptui.model.swapfile import CLUSTER_SHIFT, SWAP_COUNT_MASK, SWAP_HAS_CACHE, SWAP_MAP_BAD
from swaptui.model.workload import VP_FREED, VP_NONE, VP_RESIDENT, VP_SWAPPED, AddressSpaces
from swaptui.model.xarray import XArrayForest

KERNELS = [
    memory.pte_run,
    memory.touch_ptes,
    memory.vma_ra_candidates,
    memory.swap_ra_order,
    memory.map_swap_ptes,
    workingset.workingset_test_recent,
    workingset.unpack_shadow,
    swap_ops.folio_swap_unused,
    swap_ops.swapcache_new_folios,
    swap_ops.zeromap_split,
    swap_ops.mark_read_inflight,
    swap_state.swap_cache_store,
    swap_state.depth_account,
    swapfile.swap_entries_clear,
    swapfile.swap_map_drop,
    xarray.xa_count_update,
    xarray.xa_height,
    xarray.xa_lookup_hops,
]

NV = 64  # vpages in the random address spaces
NS = 48  # swap slots
NF = 40  # frames


class Counters:
    """vm.add as a dict, for the reference paths."""

    def __init__(self) -> None:
        self.d: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        self.d[name] = self.d.get(name, 0) + n


@st.composite
def spaces(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """vpage states, their slots, and the swap cache's folio per slot."""
    state = np.array(
        draw(st.lists(st.sampled_from([VP_NONE, VP_RESIDENT, VP_SWAPPED, VP_FREED]), min_size=NV, max_size=NV)),
        dtype=np.uint8,
    )
    slot = np.array(draw(st.lists(st.integers(0, NS - 1), min_size=NV, max_size=NV)), dtype=np.int64)
    folio = np.array(draw(st.lists(st.integers(-1, NF - 1), min_size=NS, max_size=NS)), dtype=np.int64)
    return state, slot, folio


@settings(max_examples=60, deadline=None)
@given(spaces(), st.lists(st.integers(0, NV - 1), min_size=1, max_size=40))
def test_pte_run_matches_classify_and_run_length(sp: tuple, accesses: list[int]) -> None:
    state, slot, folio = sp
    vp = np.array(accesses, dtype=np.int64)
    m = SimpleNamespace(spaces=SimpleNamespace(state=state, slot=slot), swap_cache=SimpleNamespace(folio=folio))
    cls = np_memory.classify(m, vp)
    want = (int(cls[0]), np_memory.run_length(vp, cls))
    a = AddressSpaces(NV)
    a.state[:], a.slot[:] = state, slot
    mm = SimpleNamespace(spaces=a, swap_cache=SimpleNamespace(folio=folio))
    assert memory.classify_run(mm, vp) == want
    assert memory.classify_run(mm, vp) == want  # a second scan with a new stamp sees no marks of the first


def test_seen_stamps_wrap_without_false_repeats() -> None:
    a = AddressSpaces(4)
    a.seen[:] = 1
    a.stamp = 0xFFFFFFFF
    assert a.next_stamp() == 1
    assert not a.seen.any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, NV - 1), st.booleans()), min_size=1, max_size=30),
    st.lists(st.integers(0, 0xFF), min_size=NF, max_size=NF),
    st.lists(st.integers(-1, NS - 1), min_size=NF, max_size=NF),
    st.integers(0, 400),
)
def test_touch_ptes_matches_touch_resident(acc: list, flags: list, fslot: list, budget: int) -> None:
    vp = np.array([v for v, _ in acc], dtype=np.int64)
    wr = np.array([w for _, w in acc], dtype=bool)
    frame = np.arange(NV, dtype=np.int64) % NF
    costs = SimpleNamespace(touch_read=7, touch_write=11, fault_entry=100)
    runs = []
    for impl in (np_memory.touch_resident, memory.touch_resident):
        mem = SimpleNamespace(flags=np.array(flags, dtype=np.uint16), slot=np.array(fslot, dtype=np.int64))
        vm = Counters()
        m = SimpleNamespace(costs=costs, spaces=SimpleNamespace(frame=frame), memmap=mem, vm=vm, memcg=None)
        k, spent = impl(m, None, vp, wr, budget)
        runs.append((k, spent, mem.flags.tolist(), {n: c for n, c in vm.d.items() if c}))
    assert runs[0] == runs[1]


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from([(200, 3, True), (5000, 6, True), (70000, 14, True), (3000, 6, False)]),
    st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 69999), min_size=1, max_size=20)), max_size=12),
)
def test_xarray_counts_match_numpy_forest(shape: tuple, ops: list) -> None:
    nr, shift, masked = shape
    a, b = XArrayForest(nr, shift, masked), NumpyForest(nr, shift, masked)
    present: set[int] = set()
    for insert, raw in ops:
        idx = sorted({i % nr for i in raw})
        idx = [i for i in idx if (i not in present) == insert]  # insert only empty indices, erase only present ones
        if not idx:
            continue
        arr = np.array(idx, dtype=np.int64)
        for f in (a, b):
            (f.insert if insert else f.erase)(arr)
        present = present | set(idx) if insert else present - set(idx)
        for name in ("leaf", "mid", "entries", "nodes", "beyond64", "beyond4096", "nonzero"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        probe = np.array(sorted(present | {0, nr - 1}), dtype=np.int64)
        assert np.array_equal(a.lookup_hops(probe), b.lookup_hops(probe))
        assert a.node_count() == b.node_count()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, NS - 1), min_size=1, max_size=16, unique=True),
    st.lists(st.integers(0, 0x7F), min_size=NS, max_size=NS),
    st.lists(st.integers(-1, 3), min_size=NS, max_size=NS),
    st.integers(0, 15),
)
def test_swap_ra_order_matches_the_numpy_filter(cands: list, smap: list, folio: list, pick: int) -> None:
    cand_slots = np.array(cands, dtype=np.int64)
    cand_vp = cand_slots * 3 + 1
    slot = int(cand_slots[pick % len(cand_slots)])
    swap_map = np.array(smap, dtype=np.uint8)
    cache = np.array(folio, dtype=np.int64)
    # The numpy core's swapin_readahead, verbatim.
    sm = swap_map[cand_slots]
    ok = ((sm & SWAP_COUNT_MASK) > 0) & ((sm & SWAP_COUNT_MASK) != SWAP_MAP_BAD) & (cache[cand_slots] < 0)
    ok |= cand_slots == slot
    ws, wv = cand_slots[ok], cand_vp[ok]
    order = np.argsort(ws != slot, kind="stable")
    got_s, got_v = memory.swap_ra_order(cand_slots, cand_vp, swap_map, cache, slot)
    assert got_s.tolist() == ws[order].tolist()
    assert got_v.tolist() == wv[order].tolist()


@settings(max_examples=60, deadline=None)
@given(spaces(), st.integers(0, NV), st.integers(0, NV))
def test_vma_ra_candidates_are_the_swapped_vpages(sp: tuple, lo: int, hi: int) -> None:
    state, slot, _ = sp
    vps, slots = memory.vma_ra_candidates(state, slot, lo, hi)
    want = np.arange(lo, hi, dtype=np.int64)
    want = want[state[want] == VP_SWAPPED] if hi > lo else want[:0]
    assert vps.tolist() == want.tolist()
    assert slots.tolist() == slot[want].tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1, 200), max_size=20), st.integers(0, 150), st.integers(0, 100))
def test_workingset_test_recent_matches_the_numpy_formula(sh: list, age: int, ws_size: int) -> None:
    shadows = np.array(sh, dtype=np.int64)
    activate, n, na, restore = workingset.workingset_test_recent(shadows, age, ws_size)
    has = shadows >= 0
    act = np.zeros(len(shadows), dtype=bool)
    act[np.flatnonzero(has)[(age - (shadows[has] >> 1)) <= ws_size]] = True
    assert (n, na, restore) == (int(has.sum()), int(act.sum()), int((shadows[act] & 1).sum()))
    assert activate.tolist() == act.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, NS - 1), min_size=1, max_size=12, unique=True),
    st.lists(st.integers(-1, NF - 1), min_size=NS, max_size=NS),
    st.lists(st.integers(-1, 99), min_size=NS, max_size=NS),
)
def test_swap_cache_store_matches_numpy(sl: list, folio: list, shadow: list) -> None:
    slots = np.array(sl, dtype=np.int64)
    frames = slots + 1000
    f1, s1 = np.array(folio, dtype=np.int64), np.array(shadow, dtype=np.int64)
    f2, s2 = f1.copy(), s1.copy()
    empty = (f1[slots] < 0) & (s1[slots] < 0)
    want_new, want_old = slots[empty], s1[slots].copy()
    s1[slots] = -1
    f1[slots] = frames
    old, new = swap_state.swap_cache_store(f2, s2, slots, frames)
    assert old.tolist() == want_old.tolist() and new.tolist() == want_new.tolist()
    assert f1.tolist() == f2.tolist() and s1.tolist() == s2.tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=30))
def test_depth_account_is_a_capped_bincount(h: list) -> None:
    hops = np.array(h, dtype=np.int64)
    hist = np.zeros(8, dtype=np.int64)
    assert swap_state.depth_account(hops, hist) == int(hops.sum())
    assert hist.tolist() == np.bincount(np.minimum(hops, 7), minlength=8).tolist()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, NF - 1), min_size=1, max_size=12, unique=True),
    st.lists(st.integers(-1, NS - 1), min_size=NF, max_size=NF),
    st.lists(st.integers(0, 0xFF), min_size=NF, max_size=NF),
    st.lists(st.integers(0, 0x7F), min_size=NS, max_size=NS),
)
def test_folio_swap_unused_matches_numpy(fr: list, fslot: list, flags: list, smap: list) -> None:
    from swaptui.model.memmap import PG_WRITEBACK

    frames = np.array(fr, dtype=np.int64)
    slot, fl, swap_map = np.array(fslot), np.array(flags, dtype=np.uint16), np.array(smap, dtype=np.uint8)
    slots = slot[frames]
    ok = (slots >= 0) & ((fl[frames] & PG_WRITEBACK) == 0)
    ok &= (swap_map[np.where(slots >= 0, slots, 0)] & SWAP_COUNT_MASK) == 0
    got_f, got_s = swap_ops.folio_swap_unused(slot, fl, swap_map, frames)
    assert got_f.tolist() == frames[ok].tolist() and got_s.tolist() == slots[ok].tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 4 * 512 - 1), min_size=1, max_size=30, unique=True))
def test_swap_entries_clear_counts_per_cluster_and_device(sl: list) -> None:
    slots = np.array(sl, dtype=np.int64)
    n = 4 * 512
    zeromap, owner = np.ones(n, dtype=bool), np.arange(n, dtype=np.int64)
    count = np.full(4, 600, dtype=np.int32)
    cdev = np.array([0, 0, 1, 1], dtype=np.int32)
    clusters, per_dev = swapfile.swap_entries_clear(zeromap, owner, count, cdev, slots, 2)
    want_c, want_n = np.unique(slots >> CLUSTER_SHIFT, return_counts=True)
    assert clusters.tolist() == want_c.tolist()
    assert (600 - count[want_c]).tolist() == want_n.tolist()
    assert per_dev.tolist() == [int(want_n[cdev[want_c] == d].sum()) for d in (0, 1)]
    assert not zeromap[slots].any() and (owner[slots] == -1).all()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, NS - 1), max_size=16),
    st.lists(st.integers(0, 0x7F), min_size=NS, max_size=NS),
    st.sampled_from([(1, 0), (0, SWAP_HAS_CACHE)]),
)
def test_swap_map_drop_is_the_numpy_update(sl: list, smap: list, how: tuple) -> None:
    """put_ref's `swap_map[slots] -= 1` and put_cache's `&= ~SWAP_HAS_CACHE`, duplicates included."""
    refs, flag = how
    slots = np.array(sl, dtype=np.int64)
    want = np.array(smap, dtype=np.uint8)
    got = want.copy()
    if refs:
        want[slots] -= 1
    else:
        want[slots] &= ~np.uint16(flag)
    want_freed = slots[want[slots] == 0]
    freed = swapfile.swap_map_drop(got, slots, refs, flag)
    assert got.tolist() == want.tolist() and freed.tolist() == want_freed.tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, NS - 1), max_size=16), st.lists(st.booleans(), min_size=NS, max_size=NS))
def test_zeromap_split_keeps_the_pages_to_read_in_order(sl: list, zm: list) -> None:
    slots = np.array(sl, dtype=np.int64)
    zeromap = np.array(zm, dtype=bool)
    frames = slots * 7 + 3
    nzero, reads, rslots = swap_ops.zeromap_split(zeromap, frames, slots)
    zero = zeromap[slots]
    assert nzero == int(zero.sum())
    assert reads.tolist() == frames[~zero].tolist() and rslots.tolist() == slots[~zero].tolist()


def test_map_swap_ptes_and_new_folios_set_what_the_numpy_core_set() -> None:
    vstate = np.full(8, VP_SWAPPED, dtype=np.uint8)
    vframe = np.full(8, -1, dtype=np.int64)
    vslot = np.arange(8, dtype=np.int64) + 10
    state = np.zeros(8, dtype=np.uint8)
    flags = np.zeros(8, dtype=np.uint16)
    vp, frames, wr = np.array([1, 5]), np.array([3, 4]), np.array([False, True])
    slots = memory.map_swap_ptes(vstate, vframe, vslot, state, flags, vp, frames, wr)
    assert slots.tolist() == [11, 15]
    assert vstate[[1, 5]].tolist() == [VP_RESIDENT] * 2 and vframe[[1, 5]].tolist() == [3, 4]
    assert flags[3] == PG_YOUNG and flags[4] == PG_YOUNG | PG_DIRTY
    swap_map, owner, fslot = np.ones(20, dtype=np.uint8), np.full(8, -1), np.full(8, -1)
    flags[:] = 0xFF
    swap_ops.swapcache_new_folios(swap_map, state, owner, fslot, flags, frames, slots, vp)
    assert (swap_map[[11, 15]] == 1 | SWAP_HAS_CACHE).all() and flags[[3, 4]].tolist() == [0, 0]
    assert owner[[3, 4]].tolist() == [1, 5] and fslot[[3, 4]].tolist() == [11, 15]


def test_every_kernel_compiled_in_nopython_mode() -> None:
    """Each kernel compiles as numba's njit does (nopython: no object-mode fallback) and releases the GIL."""
    i64, u8, u16 = np.zeros(64, dtype=np.int64), np.zeros(64, dtype=np.uint8), np.zeros(64, dtype=np.uint16)
    idx, yes = np.arange(2, dtype=np.int64), np.ones(2, dtype=bool)
    calls = {
        memory.pte_run: (u8, i64, i64, np.zeros(64, dtype=np.uint32), 1, idx),
        memory.touch_ptes: (i64, u16, i64, idx, yes, 1, 2, 10),
        memory.vma_ra_candidates: (u8, i64, 0, 4),
        memory.swap_ra_order: (idx, idx, u8, i64, 1),
        memory.map_swap_ptes: (u8, i64.copy(), i64, u8.copy(), u16.copy(), idx, idx, yes),
        workingset.workingset_test_recent: (idx, 5, 3),
        workingset.unpack_shadow: (idx,),
        xarray.xa_height: (4096,),
        swap_ops.folio_swap_unused: (i64, u16, u8, idx),
        swap_ops.swapcache_new_folios: (u8.copy(), u8.copy(), i64.copy(), i64.copy(), u16.copy(), idx, idx, idx),
        swap_ops.zeromap_split: (np.zeros(64, dtype=bool), idx, idx),
        swap_ops.mark_read_inflight: (u16.copy(), i64.copy(), idx, 7),
        swapfile.swap_map_drop: (u8.copy() + 2, idx, 1, 0),
        swap_state.swap_cache_store: (np.full(64, -1), np.full(64, -1), idx, idx),
        swap_state.depth_account: (idx, np.zeros(8, dtype=np.int64)),
        swapfile.swap_entries_clear: (
            np.zeros(64, dtype=bool),
            i64.copy(),
            np.full(1, 9, dtype=np.int32),
            np.zeros(1, dtype=np.int32),
            idx,
            1,
        ),
    }
    f = XArrayForest(64, 6)
    f.insert(idx)
    f.lookup_hops(idx)
    f.node_count()
    assert set(calls) | {xarray.xa_count_update, xarray.xa_lookup_hops} == set(KERNELS)
    for k, args in calls.items():
        k(*args)
    for k in KERNELS:
        assert k.targetoptions.get("nopython") and k.targetoptions.get("nogil"), k.__name__
        assert k.nopython_signatures, k.__name__
