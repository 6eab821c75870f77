"""zbud (mm/zbud.c, v6.1): chunk arithmetic, placement, freeing, zbud_reclaim_page, and zswap on a zbud pool.

The reference below follows zbud.c with its own linked lists (Python lists, index 0 the head), so the
model's stamped stacks and lazy heaps are checked against the kernel's list_add / list_first_entry /
list_last_entry order on random sequences.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.zbud import CHUNK_SIZE, NCHUNKS, ZBUD_MAX_ALLOC, ZbudPool, size_to_chunks
from swaptui.model.zswap import Zswap
from swaptui.scenario import ScenarioError, load_scenario


class RefZbud:
    """zbud.c's lists as Python lists: unbuddied[i], buddied, lru; each page a [first_chunks, last_chunks]."""

    def __init__(self) -> None:
        self.unbuddied: list[list[int]] = [[] for _ in range(NCHUNKS)]
        self.buddied: list[int] = []
        self.lru: list[int] = []
        self.pages: dict[int, list[int]] = {}
        self.next = 0

    def _unlist(self, p: int) -> None:
        for lst in (*self.unbuddied, self.buddied):
            if p in lst:
                lst.remove(p)

    def _relist(self, p: int) -> None:
        first, last = self.pages[p]
        if first == 0 or last == 0:
            self.unbuddied[NCHUNKS - first - last].insert(0, p)
        else:
            self.buddied.insert(0, p)

    def alloc(self, size: int) -> tuple[int, int]:
        chunks = size_to_chunks(size)
        page = -1
        for i in range(chunks, NCHUNKS):
            if self.unbuddied[i]:
                page = self.unbuddied[i].pop(0)
                break
        if page < 0:
            page = self.next
            self.next += 1
            self.pages[page] = [0, 0]
        bud = 0 if self.pages[page][0] == 0 else 1
        self.pages[page][bud] = chunks
        self._relist(page)
        if page in self.lru:
            self.lru.remove(page)
        self.lru.insert(0, page)
        return page, bud

    def free(self, page: int, bud: int) -> None:
        self.pages[page][bud] = 0
        self._unlist(page)
        if self.pages[page] == [0, 0]:
            self.lru.remove(page)
            del self.pages[page]
        else:
            self._relist(page)


def page_of(pool: ZbudPool, handle: int) -> tuple[int, int]:
    loc = int(pool.h[handle & 0xFFFFFFFF, 0])
    return loc >> 1, loc & 1


def test_chunk_constants_are_zbuds() -> None:
    """64-byte chunks, 63 usable after the header chunk, -ENOSPC above 4096 - 64 - 64."""
    assert CHUNK_SIZE == 64 and NCHUNKS == 63 and ZBUD_MAX_ALLOC == 3968
    assert [size_to_chunks(s) for s in (1, 64, 65, 1071, 3968)] == [1, 1, 2, 17, 62]


def test_two_buddies_share_a_page_and_a_third_takes_a_new_one() -> None:
    pool = ZbudPool()
    a, b, c = pool.malloc(np.array([1079, 1079, 1079]))
    assert page_of(pool, a) == (page_of(pool, b)[0], 0) and page_of(pool, b)[1] == 1
    assert page_of(pool, c)[0] != page_of(pool, a)[0]
    assert pool.pages() == 2


def test_an_object_that_does_not_fit_the_free_buddy_takes_a_new_page() -> None:
    """3000 B (47 chunks) and then 1100 B (18): 47 + 18 > 63, so the second object gets its own page."""
    pool = ZbudPool()
    pool.malloc(np.array([3000, 1100]))
    assert pool.pages() == 2
    pool.malloc(np.array([900]))  # 15 chunks fit beside 47
    assert pool.pages() == 2


def test_free_relists_a_half_page_and_frees_an_empty_one() -> None:
    pool = ZbudPool()
    a, b = pool.malloc(np.array([2000, 1000]))
    pool.free(np.array([a]))
    assert pool.pages() == 1 and pool.nr_unbuddied[NCHUNKS - size_to_chunks(1000)] == 1
    pool.free(np.array([b]))
    assert pool.pages() == 0 and sum(pool.nr_unbuddied) == 0
    with pytest.raises(ValueError, match="stale"):
        pool.free(np.array([a]))


def test_limits_stop_an_allocation_run_in_order() -> None:
    pool = ZbudPool()
    ids, _, by_alloc = pool._malloc(np.full(5, 3000), [3000] * 5, None, 3)
    assert len(ids) == 3 and by_alloc and pool.pages() == 3
    ids, _, by_alloc = pool._malloc(np.full(5, 3000), [3000] * 5, 4, None)
    assert len(ids) == 1 and not by_alloc and pool.pages() == 4


def test_reclaim_page_evicts_the_lru_tail_first_buddy_then_last() -> None:
    pool = ZbudPool()
    a, b, _, _ = pool.malloc(np.array([1000, 1000, 1000, 1000]))  # pages P(a, b), Q(c, d); Q newest
    order: list[int] = []

    def evict(hid: int) -> bool:
        order.append(hid)
        pool._free_ids(np.array([hid]))
        return True

    assert pool.reclaim_page(evict)
    assert order == [a & 0xFFFFFFFF, b & 0xFFFFFFFF] and pool.pages() == 1


def test_reclaim_page_stops_at_a_failed_buddy_and_tries_the_next_page() -> None:
    """A first buddy that cannot be evicted leaves its last buddy untried; the page goes back to the LRU head."""
    pool = ZbudPool()
    a, _, c, d = pool.malloc(np.array([1000, 1000, 1000, 1000]))
    tried: list[int] = []

    def evict(hid: int) -> bool:
        tried.append(hid)
        if hid == a & 0xFFFFFFFF:
            return False  # -EEXIST
        pool._free_ids(np.array([hid]))
        return True

    assert pool.reclaim_page(evict)
    assert tried == [a & 0xFFFFFFFF, c & 0xFFFFFFFF, d & 0xFFFFFFFF]
    assert pool.pages() == 1 and pool.lru_tail() == page_of(pool, a)[0]


def test_reclaim_page_gives_up_after_its_retries() -> None:
    pool = ZbudPool()
    pool.malloc(np.full(20, 3000))
    calls: list[int] = []
    assert not pool.reclaim_page(lambda hid: calls.append(hid) is not None)  # every eviction fails
    assert len(calls) == 8 and pool.pages() == 20
    assert not ZbudPool().reclaim_page(lambda hid: True)  # -EINVAL: nothing to evict


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, ZBUD_MAX_ALLOC), st.integers(0, 10**6)), max_size=120))
def test_placement_matches_zbud_c_lists(ops: list[tuple[bool, int, int]]) -> None:
    """Random allocs and frees: every object lands in the page and buddy zbud.c's lists give, pages agree."""
    pool, ref = ZbudPool(), RefZbud()
    live: list[tuple[int, int, int]] = []  # (handle, ref page, ref bud)
    page_map: dict[int, int] = {}  # ref page -> model row
    for is_alloc, size, pick in ops:
        if is_alloc or not live:
            (handle,) = pool.malloc(np.array([size]))
            rpage, rbud = ref.alloc(size)
            row, bud = page_of(pool, int(handle))
            assert bud == rbud
            assert page_map.setdefault(rpage, row) == row
            live.append((int(handle), rpage, rbud))
        else:
            handle, rpage, rbud = live.pop(pick % len(live))
            pool.free(np.array([handle]))
            ref.free(rpage, rbud)
            if rpage not in ref.pages:
                del page_map[rpage]
        assert pool.pages() == len(ref.pages)
        assert pool.nr_unbuddied == [len(lst) for lst in ref.unbuddied]
        if ref.lru:
            assert pool.lru_tail() == page_map[ref.lru[-1]]


def test_zswap_on_zbud_holds_at_most_two_pages_a_page_and_refuses_what_does_not_fit() -> None:
    z = Zswap(totalram_pages=1 << 18, nr_keys=4096, zpool="zbud", shrink_loop=False, writeback=False)
    assert z.header_bytes == 8  # zswap_header before 6.5, zbud being evictable
    stored, _ = z.store(np.arange(100), np.full(100, 1071))
    assert stored.all() and z.pool.pages() == 50
    stored, _ = z.store(np.arange(100, 104), np.array([3960, 3961, 4096, 100]))
    assert stored.tolist() == [True, False, False, True]  # 3961 + 8 > 3968; a raw page never fits
    assert z.reject_compress_poor == 2
    zs = Zswap(totalram_pages=1 << 18, nr_keys=4096, zpool="zsmalloc", shrink_loop=False, writeback=False)
    zs.store(np.arange(100), np.full(100, 1071))
    assert zs.pool.pages() < 35 and zs.header_bytes == 0  # zsmalloc: denser, and not evictable on 6.1


def test_zpool_shrink_writes_back_whole_zbud_pages_skipping_swap_cache_folios() -> None:
    z = Zswap(totalram_pages=1 << 18, nr_keys=4096, zpool="zbud", shrink_loop=False, writeback=False)
    z.store(np.arange(6), np.full(6, 1071))  # pages (0, 1), (2, 3), (4, 5); (0, 1) least recent
    assert z.writeback  # zbud can always write back
    in_cache = np.zeros(4096, dtype=bool)
    in_cache[0] = True  # slot 0's folio is in the swap cache: -EEXIST, and slot 1 is not tried
    keys = z.zpool_shrink(budget=10, in_swapcache=in_cache)
    assert keys.tolist() == [2, 3] and z.written_back_pages == 2 and z.pool.pages() == 2
    assert z.contains(np.arange(6)).tolist() == [True, True, False, False, True, True]
    assert z.zpool_shrink(budget=0).tolist() == [] and z.reject_reclaim_fail == 1  # -ENOMEM for every page


ZBUD_SWAP = "zswap: {enabled: true, zpool: zbud, max_pool_percent: 10, shrinker_enabled: false}"


def test_a_61_machine_on_zbud_keeps_every_invariant_and_writes_back_pages_from_zbud(make_machine) -> None:
    """Usemem past a small zbud pool on 6.1: stores stop at the limit, the device takes the rest, and the
    shrink worker evicts whole zbud pages (a few entries per pool-full event, not a pool's worth)."""
    m = make_machine(extra_machine=', kernel: "6.1"', extra_swap=ZBUD_SWAP, duration="1500ms")
    assert m.zswap is not None and m.zswap.zpool == "zbud" and m.zswap.zpool_lru
    for _ in range(1500):
        m.step()  # check_invariants: every tick, check_zbud among them
    z = m.zswap.counters()
    assert z["zswpout"] > 0 and m.vm["pswpout"] > 0 and z["pool_limit_hit"] > 0
    assert m.zswap.stored_pages <= 2 * m.zswap.pool.pages()
    assert 0 < z["written_back_pages"] <= 2 * z["pool_limit_hit"]


def test_the_default_zpool_follows_the_kernel(make_machine) -> None:
    """CONFIG_ZSWAP_ZPOOL_DEFAULT: zbud up to 6.6, zsmalloc from 6.7."""
    swap = "zswap: {enabled: true}"
    assert make_machine(extra_machine=', kernel: "6.6"', extra_swap=swap).zswap.zpool == "zbud"
    assert make_machine(extra_machine=', kernel: "6.12"', extra_swap=swap).zswap.zpool == "zsmalloc"
    from_65 = make_machine(extra_machine=', kernel: "6.6"', extra_swap="zswap: {enabled: true, zpool: zbud}")
    assert from_65.zswap.header_bytes == 0  # zswap's own LRU from 6.5: no zswap_header


def test_zbud_is_refused_on_a_kernel_without_it(tmp_path) -> None:
    f = tmp_path / "z.yaml"
    f.write_text(small_scenario_yaml(extra_machine=', kernel: "6.18"', extra_swap=ZBUD_SWAP))
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert "swap.zswap.zpool" in str(err.value) and "removed in 6.15" in str(err.value)
