"""Invariants that hold after every tick; tests run the machine with these checked each tick.

- every page of every process is in exactly one place: a mapped frame, a swap-cache frame, or a
  swap slot (on a device, in zram, or in the zeromap);
- frame states partition memory; free pages equal the buddy lists' sum; LRU sizes match the frames;
- swap counts equal the PTE references; cluster counts equal the slots in use; nothing is lost;
- every swap cluster is on exactly the list its flag and order name; a cluster's order changes only
  while it is empty, so clusters holding bad slots stay order 0 and large folios sit aligned in
  clusters of their own order;
- with memory cgroups: every user page is charged to exactly one cgroup and sits on that cgroup's lruvec;
  each cgroup's usage equals its subtree's pages plus their stock, and its swap (v2) or memsw (v1) charge
  equals the slots its subtree owns in swap_cgroup (plus, on v1, its memory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_FILE,
    FRAME_FREE,
    FRAME_KERNEL,
    FRAME_PCP,
    FRAME_SWAPCACHE,
    FRAME_ZSMALLOC,
    LRU_NONE,
    folio_heads,
)
from swaptui.model.page_alloc import PAGEBLOCK_ORDER
from swaptui.model.swapfile import (
    CLUSTER_FLAG_DISCARD,
    CLUSTER_FLAG_FRAG,
    CLUSTER_FLAG_FREE,
    CLUSTER_FLAG_FULL,
    CLUSTER_FLAG_NONE,
    CLUSTER_FLAG_NONFULL,
    CLUSTER_SHIFT,
    SWAP_COUNT_MASK,
    SWAP_HAS_CACHE,
    SWAP_MAP_BAD,
    SWAP_NR_ORDERS,
    SWAPFILE_CLUSTER,
)
from swaptui.model.workload import VP_RESIDENT, VP_SWAPPED

if TYPE_CHECKING:
    from swaptui.model.machine import Machine
    from swaptui.model.swapfile import SwapSlots
    from swaptui.model.vswap import VSwapSpace
    from swaptui.model.zswap import Zswap


class InvariantError(AssertionError):
    """A model invariant does not hold."""


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise InvariantError(msg)


def check_frames(m: Machine) -> None:
    """Frame states partition memory and agree with the buddy lists, PCP and LRUs."""
    mem = m.memmap
    counts = np.bincount(mem.state, minlength=8)
    _check(int(counts.sum()) == mem.nr_frames, "frame states do not cover memory")
    b = m.zone.buddy
    _check(counts[FRAME_FREE] == b.free_pages, f"FREE frames {counts[FRAME_FREE]} != buddy free {b.free_pages}")
    _check(sum(b.nr_free[o] << o for o in range(len(b.nr_free))) == b.free_pages, "nr_free sum != free_pages")
    listed = b.listed
    for o in range(len(b.nr_free)):
        _check(int(listed[o].sum()) == b.nr_free[o], f"order {o}: listed blocks != nr_free")
    _check(counts[FRAME_PCP] == m.zone.pcp_count, f"PCP frames {counts[FRAME_PCP]} != pcp_count {m.zone.pcp_count}")
    pcp = m.zone.pcp_frames()
    _check(len(np.unique(pcp)) == len(pcp), "a frame is on the per-CPU list twice")
    _check(bool((mem.state[pcp] == FRAME_PCP).all()), "per-CPU list holds a non-PCP frame")
    for o in range(len(b.nr_free)):
        blocks = np.flatnonzero(listed[o])
        by_type = np.bincount(b.block_types(o, blocks), minlength=3)[:3] if len(blocks) else np.zeros(3, dtype=np.int64)
        _check(
            by_type.tolist() == list(b.nr_free_mt[o]),
            f"order {o}: free blocks by pageblock type {by_type.tolist()} != nr_free_mt {b.nr_free_mt[o]}",
        )
        if o > PAGEBLOCK_ORDER and len(blocks):
            first = (blocks << o) >> PAGEBLOCK_ORDER
            _check(
                bool((b.pbtype[first] == b.pbtype[first + 1]).all()),
                f"an order-{o} free block spans pageblocks of two types",
            )
    _check(counts[FRAME_KERNEL] == m.kernel_pages, "kernel pages changed")
    _check(counts[FRAME_ZSMALLOC] == m.zram_frames_count, "zsmalloc frames != pool pages held")
    pools = (m.zram.pool_pages() if m.zram is not None else 0) + (m.zswap.pool_pages() if m.zswap else 0)
    _check(m.zram_frames_count == pools, f"zsmalloc frames {m.zram_frames_count} != zram + zswap pools {pools}")
    for lru in [x for lv in m.lruvecs for x in lv]:
        _check(int((mem.lru == lru.id).sum()) == len(lru), f"LRU {lru.id} size mismatch")
        walked = lru.live_tail_to_head()
        _check(
            len(walked) == len(lru) and bool((mem.lru[walked] == lru.id).all()),
            f"LRU {lru.id}: its list does not hold exactly the frames marked as on it",
        )
    check_free_lists(m)
    on_lru = mem.lru != LRU_NONE
    user = (mem.state == FRAME_ANON) | (mem.state == FRAME_SWAPCACHE) | (mem.state == FRAME_FILE)
    _check(bool((on_lru == user).all()), "a user page is off the LRU, or a non-user frame is on it")


def check_free_lists(m: Machine) -> None:
    """Every buddy free list holds exactly the listed blocks of its order and pageblock type."""
    from swaptui.model.lists import list_to_array
    from swaptui.model.page_alloc import MIGRATE_PCPTYPES, NR_ORDERS

    z, mem = m.zone.z, m.memmap
    for o in range(NR_ORDERS):
        for mt in range(MIGRATE_PCPTYPES):
            lid = o * MIGRATE_PCPTYPES + mt
            pfns = list_to_array(mem.next, z.free_head, z.free_nr, lid)
            _check(bool((z.buddy_order[pfns] == o).all()), f"free list ({o}, {mt}) holds a block of another order")
            _check(
                bool((z.pageblock_type[pfns >> PAGEBLOCK_ORDER] == mt).all()),
                f"free list ({o}, {mt}) holds a block of another migratetype",
            )
            _check(len(np.unique(pfns)) == len(pfns), f"free list ({o}, {mt}) holds a block twice")


def check_folios(m: Machine) -> None:
    """Large folios: 2^k naturally aligned frames of the same order, all in use by one anonymous folio."""
    mem = m.memmap
    big = np.flatnonzero(mem.folio_order > 0)
    if not len(big):
        return
    heads = folio_heads(mem.folio_order, big)
    for h, k in set(zip(heads.tolist(), mem.folio_order[big].tolist())):
        sib = np.arange(h, h + (1 << k))
        _check(bool((mem.folio_order[sib] == k).all()), f"folio at {h}: not all 2^{k} frames have order {k}")
        st = mem.state[sib]
        _check(
            bool(((st == FRAME_ANON) | (st == FRAME_SWAPCACHE)).all()),
            f"folio at {h}: a frame is not an anonymous or swap-cache page ({np.unique(st).tolist()})",
        )


def check_pages(m: Machine) -> None:
    """Every process page is in exactly one place, and the reverse maps agree."""
    mem, sp, sw = m.memmap, m.spaces, m.swap
    res = np.flatnonzero(sp.state == VP_RESIDENT)
    frames = sp.frame[res]
    _check(bool((frames >= 0).all()), "resident page without a frame")
    _check(len(np.unique(frames)) == len(frames), "two pages map one frame")
    _check(bool((mem.state[frames] == FRAME_ANON).all()), "resident page's frame is not a mapped anon frame")
    _check(bool((mem.owner[frames] == res).all()), "frame owner does not point back to the page")
    cached = mem.slot[frames]
    c = cached >= 0
    _check(bool((sp.slot[res[c]] == cached[c]).all()), "mapped swap-cache page disagrees on its slot")
    _check(bool((sp.slot[res[~c]] == -1).all()), "resident page not in swap cache keeps a slot")
    anon_frames = np.flatnonzero(mem.state == FRAME_ANON)
    _check(len(anon_frames) == len(res), "mapped anon frames != resident pages")
    swapped = np.flatnonzero(sp.state == VP_SWAPPED)
    slots = sp.slot[swapped]
    _check(bool((slots >= 0).all()), "swapped page without a slot")
    _check(len(np.unique(slots)) == len(slots), "two pages share a swap slot")
    _check(bool((sw.owner[slots] == swapped).all()), "slot owner does not point back to the page")
    _check(bool((sp.frame[swapped] == -1).all()), "swapped page still maps a frame")
    # Exactly one place: in the swap cache (a frame) or only in the slot (device, zram or zeromap).
    folio = m.swap_cache.folio[slots]
    inc = folio >= 0
    _check(bool((mem.state[folio[inc]] == FRAME_SWAPCACHE).all()), "swapped page's cache folio is mapped")
    _check(bool((mem.owner[folio[inc]] == swapped[inc]).all()), "cache folio owned by another page")
    sc_frames = np.flatnonzero(mem.state == FRAME_SWAPCACHE)
    _check(bool((mem.slot[sc_frames] >= 0).all()), "swap-cache frame without a slot")
    _check(bool((m.swap_cache.folio[mem.slot[sc_frames]] == sc_frames).all()), "swap cache does not map back")
    if m.zram is not None:
        notcached = slots[~inc]
        notcached = notcached[~sw.zeromap[notcached]]
        devs = sw.device_of(notcached)
        phys = notcached if m.vswap is None else m.vswap.backing[notcached]
        for d, dev in enumerate(m.phys.devices):
            if dev.kind != "zram":
                continue
            sel = devs == d
            s = phys[sel]
            held = (m.zram.size[s] > 0) | m.zram.same[s]
            if m.zswap is not None:
                held |= m.zswap.contains(notcached[sel])
            _check(bool(held.all()), f"{int((~held).sum())} swapped pages on {dev.name} hold no data")


def check_swap(m: Machine) -> None:
    """Swap counts equal references; cluster and device counts equal slots in use."""
    sw, sp = m.swap, m.spaces
    sm = sw.swap_map
    count = (sm & SWAP_COUNT_MASK).astype(np.int64)
    count[sm == SWAP_MAP_BAD] = 0
    refs = np.bincount(sp.slot[sp.state == VP_SWAPPED], minlength=len(sm)) if len(sm) else np.zeros(0)
    _check(bool((count == refs).all()), f"swap counts != PTE references at {np.flatnonzero(count != refs)[:5]}")
    has_cache = ((sm & SWAP_HAS_CACHE) != 0) & (sm != SWAP_MAP_BAD)
    _check(bool((has_cache == (m.swap_cache.folio >= 0)).all()), "SWAP_HAS_CACHE disagrees with the swap cache")
    free = sm == 0
    _check(not (free & (m.swap_cache.shadow >= 0)).any(), "a free slot keeps a shadow")
    if m.vswap is not None:
        check_vswap(m, m.vswap)
    sw = m.phys
    sm = sw.swap_map
    used = sm != 0
    per_cluster = np.bincount(np.flatnonzero(used) >> CLUSTER_SHIFT, minlength=len(sw.cluster_count))
    _check(bool((per_cluster == sw.cluster_count).all()), "cluster counts != slots in use")
    inuse = int(((sm != 0) & (sm != SWAP_MAP_BAD)).sum())
    _check(sum(d.inuse for d in sw.devices) == inuse, "device inuse != slots in use")
    _check(sw.total_swap_pages - sw.nr_swap_pages == inuse, "nr_swap_pages does not add up")
    _check(m.swap_cache.nr_pages == int((m.swap_cache.folio >= 0).sum()), "nr_swapcached mismatch")
    check_swap_clusters(sw)
    free = sm == 0
    _check(not (free & sw.zeromap).any(), "a free slot keeps a zeromap bit")
    if m.zram is not None:
        _check(not (free & ((m.zram.size > 0) | m.zram.same)).any(), "a free slot keeps zram data")


def check_swap_clusters(sw: SwapSlots) -> None:
    """The physical allocator's clusters: list membership matches flag and order both ways, flags match counts,
    a cluster holding a bad slot (never empty) keeps order 0, and cached next offsets are aligned to their order."""
    flags, counts, orders = sw.cluster_flags, sw.cluster_count, sw.cluster_order
    listed = np.zeros(len(flags), dtype=np.int64)
    owned = np.zeros(len(flags), dtype=bool)
    for d, dev in enumerate(sw.devices):
        owned[dev.first_cluster : dev.first_cluster + dev.nr_clusters] = True
        lists = [
            (CLUSTER_FLAG_FREE, -1, dev.free_clusters),
            (CLUSTER_FLAG_FULL, -1, dev.full_clusters),
            (CLUSTER_FLAG_DISCARD, -1, dev.discard_clusters),
        ]
        lists += [(CLUSTER_FLAG_NONFULL, o, dev.nonfull_clusters[o]) for o in range(SWAP_NR_ORDERS)]
        lists += [(CLUSTER_FLAG_FRAG, o, dev.frag_clusters[o]) for o in range(SWAP_NR_ORDERS)]
        for flag, order, lst in lists:
            ids = np.fromiter(lst, dtype=np.int64, count=len(lst))
            _check(bool((flags[ids] == flag).all()), f"{dev.name}: a cluster on the flag-{flag} list has another flag")
            _check(bool((sw.cluster_dev[ids] == d).all()), f"{dev.name}: another device's cluster on its list")
            if order >= 0:
                _check(
                    bool((orders[ids] == order).all()),
                    f"{dev.name}: a cluster on an order-{order} list has order {orders[ids][orders[ids] != order][:1]}",
                )
            np.add.at(listed, ids, 1)
    _check(int(listed.max(initial=0)) <= 1, f"cluster {int(np.argmax(listed))} is on two lists")
    _check(bool(((listed == 1) == (flags != CLUSTER_FLAG_NONE)).all()), "a cluster's flag and list disagree")
    _check(bool((flags[owned] != CLUSTER_FLAG_NONE).all()), "a cluster was left isolated (flag NONE)")
    _check(
        bool((counts[(flags == CLUSTER_FLAG_FREE) | (flags == CLUSTER_FLAG_DISCARD)] == 0).all()),
        "a free or discarding cluster holds slots",
    )
    _check(bool((counts[flags == CLUSTER_FLAG_FULL] == SWAPFILE_CLUSTER).all()), "a full cluster has room")
    empty = owned & (counts == 0)
    _check(
        bool(((flags[empty] == CLUSTER_FLAG_FREE) | (flags[empty] == CLUSTER_FLAG_DISCARD)).all()),
        "an empty cluster is not free",
    )
    bad = np.unique(np.flatnonzero(sw.swap_map == SWAP_MAP_BAD) >> CLUSTER_SHIFT)
    _check(not orders[bad].any(), "a cluster holding a bad slot took a large order")
    nexts = np.vstack([sw.percpu_offset] + [np.array(dev.global_next, dtype=np.int64) for dev in sw.devices])
    for o in range(1, SWAP_NR_ORDERS):
        col = nexts[:, o]
        col = col[col >= 0]
        _check(bool((col % (1 << o) == 0).all()), f"a cached next offset for order {o} is not aligned")
        _check(bool((col < len(sw.swap_map)).all()), f"a cached next offset for order {o} is past the end")


def check_large_folios(sw: SwapSlots, starts: np.ndarray, orders: np.ndarray) -> None:
    """Live large-folio allocations (first slot and order each): aligned, in use, inside one cluster whose order
    is theirs (order exclusivity: no cluster holds two large orders)."""
    starts = np.asarray(starts, dtype=np.int64)
    orders = np.asarray(orders, dtype=np.int64)
    _check(bool((starts % (1 << orders) == 0).all()), "a large folio's slots are not naturally aligned")
    c = starts >> CLUSTER_SHIFT
    _check(bool(((starts + (1 << orders) - 1) >> CLUSTER_SHIFT == c).all()), "a large folio spans two clusters")
    _check(bool((sw.cluster_order[c] == orders).all()), "a large folio sits in a cluster of another order")
    for o in np.unique(orders).tolist():
        first = starts[orders == o]
        slots = (first[:, None] + np.arange(1 << o)).ravel()
        _check(bool((sw.swap_map[slots] != 0).all()), f"an order-{o} folio has a free slot")


def check_zswap(m: Machine) -> None:
    """zswap holds only pages that are swapped out and not in the swap cache, exactly once."""
    zs, sw = m.zswap, m.swap
    if zs is None:
        return
    keys = np.flatnonzero(zs.entry_of >= 0)
    _check(len(keys) == zs.entries(), "zswap stored_pages != entries in its tree")
    _check(bool(((sw.swap_map[keys] & SWAP_COUNT_MASK) > 0).all()), "a zswap entry for a slot no PTE references")
    _check(bool((m.swap_cache.folio[keys] < 0).all()), "a zswap entry for a slot whose folio is in the swap cache")
    _check(not sw.zeromap[keys].any(), "a zswap entry for a zero page")
    if m.zram is not None:
        phys = keys if m.vswap is None else m.vswap.backing[keys]
        phys = phys[phys >= 0]
        _check(not ((m.zram.size[phys] > 0) | m.zram.same[phys]).any(), "a page both in zswap and in zram")
    if zs.zpool == "zbud":
        check_zbud(zs)


def check_zbud(zs: Zswap) -> None:
    """A zbud pool: each entry's object in one buddy of a live page, taking size_to_chunks(size) chunks."""
    from swaptui.model.zbud import FIRST, LAST, NCHUNKS, ZbudPool, size_to_chunks

    pool = zs.pool
    assert isinstance(pool, ZbudPool)
    eids = zs.entry_of[zs.entry_of >= 0]
    loc = pool.h[eids, 0]
    rows, buds = loc >> 1, loc & 1
    _check(len(set(loc.tolist())) == len(loc), "two zswap entries in one zbud buddy")
    _check(bool((pool.bud_id[rows, buds] == eids).all()), "a zbud buddy names another entry")
    need = np.array([size_to_chunks(int(s)) for s in pool.h[eids, 1]], dtype=np.int64)
    _check(bool((pool.chunks[rows, buds] == need).all()), "a zbud buddy's chunks != its object's size")
    live = (pool.chunks[:, FIRST] > 0) | (pool.chunks[:, LAST] > 0)
    _check(int(np.count_nonzero(live)) == pool.pages(), "zbud pages_nr != pages holding a buddy")
    _check(int(np.count_nonzero(pool.chunks)) == len(eids), "a zbud buddy holds no zswap entry")
    _check(bool((pool.chunks.sum(axis=1) <= NCHUNKS).all()), "a zbud page over NCHUNKS")


def check_vswap(m: Machine, vs: VSwapSpace) -> None:
    """vswap: descriptors, the reverse map and the virtual clusters agree."""
    from swaptui.model.vswap import VSWAP_FREE, VSWAP_SWAPFILE, VSWAP_ZERO

    phys = m.phys
    used = (vs.swap_map != 0) & (vs.swap_map != SWAP_MAP_BAD)
    _check(bool(((vs.dtype != VSWAP_FREE) == used)[1:].all()), "descriptor type disagrees with use")
    _check(bool(((vs.dtype == VSWAP_ZERO) == vs.zeromap).all()), "VSWAP_ZERO disagrees with the zero map")
    filebacked = np.flatnonzero(vs.dtype == VSWAP_SWAPFILE)
    back = vs.backing[filebacked]
    _check(bool((back >= 0).all()), "a SWAPFILE descriptor has no physical slot")
    _check(bool((vs.backing[vs.dtype != VSWAP_SWAPFILE] == -1).all()), "a non-SWAPFILE descriptor keeps a slot")
    _check(bool((phys.owner[back] == filebacked).all()), "reverse map does not point back")
    phys_used = (phys.swap_map != 0) & (phys.swap_map != SWAP_MAP_BAD)
    _check(int(phys_used.sum()) == len(filebacked), "physical slots in use != SWAPFILE descriptors")
    per_cluster = np.bincount(np.flatnonzero(used) >> CLUSTER_SHIFT, minlength=len(vs.vc_count))
    per_cluster[0] += 1  # cluster 0's reserved first slot
    _check(bool((per_cluster == vs.vc_count).all()), "virtual cluster counts != slots in use")
    _check(bool(vs.vc_live[vs.vc_count > 0].all()), "a virtual cluster in use is not in the cluster map")
    _check(all(vs.vc_order[c] == 0 for c in vs.partial), "a large-order virtual cluster on the order-0 partial list")
    for o in range(1, len(vs.partial_large)):
        ids = np.fromiter(vs.partial_large[o], dtype=np.int64, count=len(vs.partial_large[o]))
        _check(bool((vs.vc_live[ids] & (vs.vc_order[ids] == o)).all()), f"a bad cluster on the order-{o} partial list")
        cached = vs.percpu_cluster_large[:, o]
        cached = cached[cached >= 0]
        _check(bool((vs.vc_live[cached] & (vs.vc_order[cached] == o)).all()), f"a bad per-CPU order-{o} cluster")


def check_memcg(m: Machine) -> None:
    """The cgroups' charges add up: frames, lruvecs, page counters, stocks and swap_cgroup agree."""
    cg = m.memcg
    assert cg is not None
    mem = m.memmap
    owner = cg.frame_memcg
    user = (mem.state == FRAME_ANON) | (mem.state == FRAME_SWAPCACHE) | (mem.state == FRAME_FILE)
    _check(bool((owner[user] >= 0).all()), "a user page is charged to no cgroup")
    _check(bool((owner[~user] < 0).all()), "a frame that is not a user page is still charged")
    on = mem.lru >= 0
    _check(bool((mem.lru[on] // 4 == owner[on]).all()), "a page sits on another cgroup's lruvec")
    pages = np.bincount(owner[owner >= 0].astype(np.int64), minlength=cg.n)
    _check(pages.tolist() == cg.pages.tolist(), f"pages charged by frame {pages.tolist()} != table {cg.pages.tolist()}")
    in_use = (m.swap.swap_map & SWAP_COUNT_MASK) | (m.swap.swap_map & SWAP_HAS_CACHE)
    _check(bool((in_use[cg.swap_memcg >= 0] != 0).all()), "swap_cgroup holds a slot that is free")
    slots = np.bincount(cg.swap_memcg[cg.swap_memcg >= 0].astype(np.int64), minlength=cg.n)
    for c in range(1, cg.n):
        sub = cg.subtree[c]
        held = int(pages[sub].sum()) + int(cg.stock[:, sub].sum())
        _check(int(cg.usage[c]) == held, f"cgroup {cg.names[c]}: usage {int(cg.usage[c])} != pages + stock {held}")
        swapped = int(slots[sub].sum())
        if cg.v1:
            _check(
                int(cg.memsw[c]) == held + swapped,
                f"cgroup {cg.names[c]}: memsw {int(cg.memsw[c])} != memory {held} + swap slots {swapped}",
            )
        else:
            _check(int(cg.swap[c]) == swapped, f"cgroup {cg.names[c]}: swap {int(cg.swap[c])} != slots {swapped}")
        _check(int(cg.usage[c]) <= int(cg.max[c]), f"cgroup {cg.names[c]}: usage over memory.max")


def check_all(m: Machine) -> None:
    """All invariants."""
    check_frames(m)
    check_folios(m)
    check_pages(m)
    check_swap(m)
    if m.memcg is not None:
        check_memcg(m)
    if m.zswap is not None:
        check_zswap(m)
