"""The swap paths the Machine runs for reclaim and faults: writeout, cache removal, freeing, swap-in reads.

Mirrors the kernel's split: `swap_writepage` (mm/page_io.c: zeromap, zram, block I/O),
`__remove_mapping` with workingset shadows (mm/vmscan.c, mm/workingset.c), `folio_free_swap` and
`swap_range_free` (mm/swapfile.c), `__read_swap_cache_async` (mm/swap_state.c), and the I/O
completions that end writeback (folio_rotate_reclaimable) or make a read folio uptodate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.jit import kernel
from swaptui.model.machine_state import MachineState
from swaptui.model.memmap import (
    FRAME_ANON,
    FRAME_SWAPCACHE,
    FRAME_ZSMALLOC,
    LRU_ACTIVE_ANON,
    LRU_INACTIVE_ANON,
    LRU_NONE,
    PAGE_SIZE,
    PG_DIRTY,
    PG_LOCKED,
    PG_LOCKED_IO,
    PG_RECLAIM,
    PG_WORKINGSET,
    PG_WRITEBACK,
)
from swaptui.model.page_alloc import MIGRATE_MOVABLE
from swaptui.model.swapfile import SWAP_COUNT_MASK, SWAP_HAS_CACHE
from swaptui.model.workingset import workingset_eviction, workingset_test_recent
from swaptui.model.workload import CONTENT_SAME, CONTENT_ZERO

if TYPE_CHECKING:
    from swaptui.model.vmscan import ScanControl


@kernel
def folio_swap_unused(
    frame_slot: np.ndarray, flags: np.ndarray, swap_map: np.ndarray, frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """folio_free_swap's test: folios in the swap cache, not under writeback, whose slot no PTE references
    (swap count 0). Returns (those frames, their slots)."""
    out_f = np.empty(len(frames), dtype=np.int64)
    out_s = np.empty(len(frames), dtype=np.int64)
    k = 0
    for f in frames:
        sl = frame_slot[f]
        if sl >= 0 and (flags[f] & PG_WRITEBACK) == 0 and (swap_map[sl] & SWAP_COUNT_MASK) == 0:
            out_f[k] = f
            out_s[k] = sl
            k += 1
    return out_f[:k].copy(), out_s[:k].copy()


@kernel
def swapcache_new_folios(
    swap_map: np.ndarray,
    state: np.ndarray,
    owner: np.ndarray,
    frame_slot: np.ndarray,
    flags: np.ndarray,
    frames: np.ndarray,
    slots: np.ndarray,
    vps: np.ndarray,
) -> None:
    """__read_swap_cache_async's new folios: SWAP_HAS_CACHE on each slot (swapcache_prepare), each frame a
    swap-cache folio of its slot and vpage, with fresh flags."""
    for i in range(len(frames)):
        f = frames[i]
        swap_map[slots[i]] |= SWAP_HAS_CACHE
        state[f] = FRAME_SWAPCACHE
        owner[f] = vps[i]
        frame_slot[f] = slots[i]
        flags[f] = 0


@kernel
def zeromap_split(zeromap: np.ndarray, frames: np.ndarray, slots: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """swap_read_folio's first test: folios whose slot is in the zeromap are filled with zeros, not read.
    Returns (how many, the frames and slots left to read)."""
    n = len(slots)
    reads = np.empty(n, dtype=np.int64)
    rslots = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        if not zeromap[slots[i]]:
            reads[k] = frames[i]
            rslots[k] = slots[i]
            k += 1
    return n - k, reads[:k].copy(), rslots[:k].copy()


@kernel
def mark_read_inflight(flags: np.ndarray, io_done: np.ndarray, frames: np.ndarray, done: int) -> None:
    """The folios of a read just submitted: locked until it completes at `done` (folio_lock, !uptodate)."""
    for f in frames:
        flags[f] |= PG_LOCKED_IO
        io_done[f] = done


class SwapPathsMixin(MachineState):
    """Swap-out, swap-in and freeing paths; part of Machine (uses its subsystems)."""

    # -- freeing slots ------------------------------------------------------------------------------
    def on_slots_freed(self, slots: np.ndarray) -> None:
        """swap_range_free's side effects: zram frees its copy, shadows are cleared."""
        if len(slots) == 0:
            return
        if self.memcg is not None:
            self.memcg.uncharge_swap(slots)
        if self.zram is not None:
            self.zram.free(self.physical_freed(slots))
        if self.zswap is not None:
            self.zswap.invalidate(slots)  # zswap_invalidate
        if self.zram is not None or self.zswap is not None:
            self.zram_pool_adjust()
        self.swap_cache.clear_shadows(slots)

    def take_writeout_failed(self) -> np.ndarray:
        """Folios swap_writepage could not write (vswap: no physical slot left)."""
        out, self.writeout_failed = self.writeout_failed, self.writeout_failed[:0]
        return out

    def swapin_overhead(self, slots: np.ndarray, cpu: int, miss: bool) -> int:
        """vswap's extra lookups on swap-in: tryget_swap_entry, swp_entry_to_swp_slot, backing dispatch
        (and swapcache_prepare on a miss), each a vswap_iter. The other designs pay none of these."""
        if self.vswap is None:
            return 0
        self.vswap.vswap_iter(slots, cpu, times=3 + (1 if miss else 0), kind="swapin", per_entry=True)
        return self.vswap.take_cost()

    def physical_freed(self, slots: np.ndarray) -> np.ndarray:
        """Physical slots whose data went with these freed entries (vswap frees backing separately)."""
        if self.vswap is None:
            return slots
        return self.vswap.take_freed_physical()

    def swap_put_ref(self, slots: np.ndarray) -> np.ndarray:
        """swap_free: drop a PTE reference."""
        freed = self.swap.put_ref(slots)
        self.on_slots_freed(freed)
        return freed

    def swap_put_cache(self, slots: np.ndarray) -> np.ndarray:
        """put_swap_folio: the swap cache drops its hold."""
        freed = self.swap.put_cache(slots)
        self.on_slots_freed(freed)
        return freed

    def folio_free_swap(self, frames: np.ndarray) -> int:
        """folio_free_swap: drop the swap copy of folios no PTE references by swap entry; returns cost."""
        if len(frames) == 0:
            return 0
        mem = self.memmap
        frames, slots = folio_swap_unused(mem.slot, mem.flags, self.swap.swap_map, frames)
        if len(frames) == 0:
            return 0
        cost = self.swap_cache.delete(slots, None)
        mem.slot[frames] = -1
        mem.flags[frames] |= np.uint16(PG_DIRTY)
        mapped = mem.state[frames] == FRAME_ANON
        self.spaces.slot[mem.owner[frames[mapped]]] = -1
        self.swap_put_cache(slots)
        orphans = frames[~mapped]
        if len(orphans):
            # Unmapped and no longer in the swap cache: nothing holds these folios any more.
            self._free_lru_frames(orphans)
        return cost + len(frames) * self.costs.slot_free

    def reclaim_cache_only_physical(self, phys_slots: np.ndarray) -> int:
        """vswap: the physical allocator found backing of cache-only virtual slots; drop them."""
        virtual = self.phys.owner[phys_slots]
        return self.reclaim_cache_only(virtual[virtual >= 0])

    def reclaim_cache_only(self, slots: np.ndarray) -> int:
        """__try_to_reclaim_swap on slots only the swap cache holds (allocator's vm_swap_full path)."""
        frames = self.swap_cache.folio[slots]
        frames = frames[frames >= 0]
        # folio_trylock fails on folios reclaim holds locked right now.
        frames = frames[(self.memmap.flags[frames] & PG_LOCKED) == 0]
        return self.folio_free_swap(frames) + len(slots) * self.costs.xa_hop * 3

    def _free_lru_frames(self, frames: np.ndarray) -> None:
        """Take frames off whatever LRU they are on and give them back to the allocator."""
        mem = self.memmap
        lrus = mem.lru[frames]
        for lru_id in np.unique(lrus[lrus != LRU_NONE]).tolist():
            self.lru_list(lru_id).remove(frames[lrus == lru_id])
        mem.owner[frames] = -1
        mem.slot[frames] = -1
        mem.flags[frames] = 0
        self.zone.free(frames)

    # -- swap-out -----------------------------------------------------------------------------------
    def swap_writepage(self, frames: np.ndarray, sc: ScanControl) -> np.ndarray:
        """swap_writepage for dirty swap-cache folios; returns those left under async writeback."""
        c = self.costs
        mem = self.memmap
        vps = mem.owner[frames]
        slots = mem.slot[frames]
        content = self.spaces.content[vps]
        if self.zeromap_enabled:
            zero = content == CONTENT_ZERO
            sc.cost += int(zero.sum()) * c.zero_check_full + int((~zero).sum()) * c.zero_check
        else:
            zero = np.zeros(len(frames), dtype=bool)  # before 6.12 zero folios are written like any other
        mem.flags[frames] &= ~np.uint16(PG_DIRTY)
        self.vm.add("nr_vmscan_write", len(frames))
        self.last_pageout += len(frames)
        vswap = self.vswap
        if zero.any():
            zs = slots[zero]
            if self.zswap is not None:
                self.zswap.invalidate(zs)
            if vswap is not None:
                vswap.set_zero(zs, sc.cpu)  # VSWAP_ZERO: no physical slot
                if self.zram is not None:
                    self.zram.free(vswap.take_freed_physical())
            else:
                if self.zram is not None:
                    self.zram.free(zs)
                self.swap.zeromap[zs] = True
            if self.count_zeromap:
                self.vm.add("swpout_zero", len(zs))
        rest, rslots, rvps = frames[~zero], slots[~zero], vps[~zero]
        if self.zswap is not None and len(rest):
            # zswap_store: compressed in RAM; on success no I/O, the folio is clean at once. zsmalloc's pages are
            # movable: the buddy lists and the movable per-CPU list can give them (the pools' frames must cover
            # zram's pool too).
            spare = self.zone.nr_free_pages + self.zone.pcp_len[MIGRATE_MOVABLE] - self.zram_pool_shortfall()
            stored, cost = self.zswap.store(rslots, self.spaces.csize[rvps], max_new_pages=max(0, spare))
            sc.cost += cost
            if stored.any():
                if vswap is not None:
                    vswap.set_zswap(rslots[stored], sc.cpu)
                    if self.zram is not None:
                        self.zram.free(vswap.take_freed_physical())
                self.vm.add("swaptui_page_events", int(stored.sum()))
                self.zram_pool_adjust()
                rest, rslots, rvps = rest[~stored], rslots[~stored], rvps[~stored]
        if len(rest) == 0:
            sc.cost += self.swap.take_cost()
            return rest
        if vswap is not None:
            # vswap_alloc_swap_slot: the physical slot is allocated only now, at writeout.
            phys = vswap.alloc_backing(rslots, sc.cpu)
            sc.cost += vswap.take_cost()
            failed = phys < 0
            if failed.any():
                # No physical space: the folio is reactivated (allocation happens at I/O time).
                self.writeout_failed = np.concatenate([self.writeout_failed, rest[failed]])
                mem.flags[rest[failed]] |= np.uint16(PG_DIRTY)
                rest, rslots, rvps, phys = rest[~failed], rslots[~failed], rvps[~failed], phys[~failed]
                if len(rest) == 0:
                    return rest
            rslots = phys
        else:
            self.swap.zeromap[rslots] = False
        devs = self.phys.device_of(rslots)
        async_parts: list[np.ndarray] = []
        single = len(self.phys.devices) == 1
        for d in [0] if single else np.unique(devs).tolist():
            if single:
                f, s, v = rest, rslots, rvps
            else:
                sel = devs == d
                f, s, v = rest[sel], rslots[sel], rvps[sel]
            dev = self.phys.devices[d]
            n = len(f)
            self.vm.add("pswpout", n)
            self.vm.add("pgpgout", 4 * n)
            self.vm.add("swaptui_page_events", n)
            if dev.kind == "zram":
                # zram's page_same_filled: zero pages too, when no zeromap kept them from the device.
                cv = self.spaces.content[v]
                same = (cv == CONTENT_SAME) | (cv == CONTENT_ZERO)
                assert self.zram is not None  # built whenever a zram device is
                self.zram.store(s, self.spaces.csize[v], same)
                sc.cost += int((~same).sum()) * dev.profile.cpu_write_ns + int(same.sum()) * c.zero_check_full
                if self.zram_pool_adjust():
                    async_parts.append(self._zram_write_failed(f, s))
            elif dev.synchronous:
                sc.cost += n * dev.profile.cpu_write_ns
            else:
                q = self.io[d]
                wait = q.submit_wait(sc.now + sc.cost)
                if wait:
                    sc.cost += wait
                    sc.io_wait += wait
                    self.complete_io(sc.now + sc.cost)
                done = q.submit(sc.now + sc.cost, f, is_write=True)
                mem.flags[f] |= np.uint16(PG_WRITEBACK | PG_RECLAIM)
                mem.io_done[f] = done
                sc.cost += n * c.pageout_submit
                async_parts.append(f)
        if not async_parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(async_parts) if len(async_parts) > 1 else async_parts[0]

    def remove_swapcache_folios(self, frames: np.ndarray, sc: ScanControl) -> None:
        """__remove_mapping for clean, unmapped swap-cache folios: shadow in, folio freed."""
        c = self.costs
        mem = self.memmap
        n = len(frames)
        slots = mem.slot[frames]
        shadows = workingset_eviction(self, mem.flags[frames])
        sc.cost += self.swap_cache.delete(slots, shadows) + n * (c.remove_mapping + c.shadow_work)
        if self.memcg is not None:
            self.memcg.swapout(frames, slots)
        mem.slot[frames] = -1
        mem.owner[frames] = -1
        mem.flags[frames] = 0
        self.swap_put_cache(slots)
        self.zone.free(frames)

    def zram_pool_adjust(self) -> int:
        """Grow or shrink the zsmalloc pools' frames to what zram and zswap hold (PF_MEMALLOC: no watermark).
        Returns how many pages the pools needed and the zone did not have (0 almost always)."""
        need = (self.zram.pool_pages() if self.zram is not None else 0) + (
            self.zswap.pool_pages() if self.zswap is not None else 0
        )
        have = self.zram_frames_count
        if need > have:
            got = self.zone.alloc(need - have)
            self.memmap.state[got] = FRAME_ZSMALLOC
            self._zram_push(got)
            return need - have - len(got)
        if need < have:
            k = have - need
            out = self.zram_frames[have - k : have].copy()
            self.zram_frames_count -= k
            self.zone.free(out)
        return 0

    def zram_pool_shortfall(self) -> int:
        """Pages the zsmalloc pools hold beyond the frames they were given (0 unless an allocation fell short)."""
        need = (self.zram.pool_pages() if self.zram is not None else 0) + (
            self.zswap.pool_pages() if self.zswap is not None else 0
        )
        return max(0, need - self.zram_frames_count)

    def _zram_write_failed(self, frames: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """zs_malloc found no free page for the last of these writes: zram_write_page fails with -ENOMEM,
        end_swap_bio_write re-dirties the folio and reclaim keeps it on the inactive list. Undo the stores that
        do not fit the frames the pool holds; returns their folios."""
        assert self.zram is not None  # only zram writes fail this way
        zswap_pages = self.zswap.pool_pages() if self.zswap is not None else 0
        excess = self.zram.pool_bytes - (self.zram_frames_count - zswap_pages) * PAGE_SIZE
        undo = np.cumsum(self.zram.size[slots[::-1]].astype(np.int64))
        k = min(len(slots), int(np.searchsorted(undo, excess)) + 1)
        self.zram.free(slots[len(slots) - k :])
        self.zram_pool_adjust()  # give back what the undone stores no longer need
        failed = frames[len(frames) - k :]
        self.memmap.flags[failed] |= np.uint16(PG_DIRTY)
        self.vm.add("swaptui_zram_write_failed", k)
        return failed

    def _zram_push(self, frames: np.ndarray) -> None:
        need = self.zram_frames_count + len(frames)
        if need > len(self.zram_frames):
            new = np.zeros(max(need, 2 * len(self.zram_frames) + 64), dtype=np.int64)
            new[: self.zram_frames_count] = self.zram_frames[: self.zram_frames_count]
            self.zram_frames = new
        self.zram_frames[self.zram_frames_count : need] = frames
        self.zram_frames_count = need

    # -- swap-in ------------------------------------------------------------------------------------
    def workingset_refault(self, shadows: np.ndarray, is_file: bool, memcg: int = 0) -> np.ndarray:
        """workingset_refault: count refaults; activate those whose refault distance fits the workingset."""
        kind = "file" if is_file else "anon"
        # The node's lists (a simplification with cgroups: the kernel sizes the eviction cgroup's lruvec, and
        # keeps nonresident_age per lruvec; one cgroup under pressure, as in the traces, sees the same).
        ws_size = self.lru_total(3)  # active file
        if not is_file:
            ws_size += self.lru_total(2)  # inactive file
        if self.swap.nr_swap_pages > 0:
            ws_size += self.lru_total(1)  # active anon
            if is_file:
                ws_size += self.lru_total(0)
        activate, n, na, restore = workingset_test_recent(shadows, self.nonresident_age, ws_size)
        if n == 0:
            return activate
        self.vm.add(f"workingset_refault_{kind}", n)
        if self.memcg is not None:
            self.memcg.count(f"workingset_refault_{kind}", memcg, n)
            if na and not is_file:
                self.memcg.count("workingset_activate_anon", memcg, na)
        if na:
            self.vm.add(f"workingset_activate_{kind}", na)
            self.nonresident_age += na
            if restore:
                self.vm.add(f"workingset_restore_{kind}", restore)
        return activate

    def read_swap_cache_async(self, frames: np.ndarray, slots: np.ndarray, vps: np.ndarray, now: int) -> int:
        """__read_swap_cache_async for each (frame, slot): add to the swap cache, refault, read. Returns cost."""
        mem = self.memmap
        old_shadow, cost = self.swap_cache.add(slots, frames)
        swapcache_new_folios(self.swap.swap_map, mem.state, mem.owner, mem.slot, mem.flags, frames, slots, vps)
        memcg = 0
        if self.memcg is not None and len(frames):
            memcg = max(0, int(self.memcg.frame_memcg[frames[0]]))
            self.memcg.swapin_uncharge_swap(slots)
        active = self.workingset_refault(old_shadow, is_file=False, memcg=memcg)
        if active.any():
            mem.flags[frames[active]] |= np.uint16(PG_WORKINGSET)
            self.lru_add(LRU_ACTIVE_ANON, frames[active])
            self.lru_add(LRU_INACTIVE_ANON, frames[~active])
        else:
            self.lru_add(LRU_INACTIVE_ANON, frames)
        return cost + self.swap_read_folio(frames, slots, now + cost)

    def swap_read_folio(self, frames: np.ndarray, slots: np.ndarray, now: int) -> int:
        """swap_read_folio: the zeromap, then zswap (exclusive load), then the device. Returns cost."""
        mem = self.memmap
        cost = 0
        nzero, reads, rslots = zeromap_split(self.swap.zeromap, frames, slots)
        if nzero and self.count_zeromap:
            self.vm.add("swpin_zero", nzero)
        if self.zswap is not None and len(rslots):
            hit, c2 = self.zswap.load(rslots)  # exclusive load: the compressed copy goes
            cost += c2
            if hit.any():
                mem.flags[reads[hit]] |= np.uint16(PG_DIRTY)  # the only copy is now in memory
                if self.vswap is not None:
                    self.vswap.clear_zswap(rslots[hit])
                self.zram_pool_adjust()
                reads, rslots = reads[~hit], rslots[~hit]
            if len(rslots):
                self.zswap.note_disk_swapin(len(rslots))
        if len(reads) == 0:
            return cost
        self.vm.add("pswpin", len(reads))
        self.vm.add("pgpgin", 4 * len(reads))
        self.vm.add("swaptui_page_events", len(reads))
        if self.swap is self.phys and len(self.phys.devices) == 1:
            groups = [(0, reads)]
        else:
            devs = self.swap.device_of(rslots)
            groups = [(d, reads[devs == d]) for d in np.unique(devs).tolist()]
        for d, f in groups:
            dev = self.swap.devices[d]
            if dev.synchronous:
                cost += len(f) * dev.profile.cpu_read_ns
            else:
                q = self.io[d]
                wait = q.submit_wait(now + cost)
                if wait:
                    cost += wait
                    self.vm.add("swaptui_task_io_wait_ns", wait)
                done = q.submit(now + cost, f, is_write=False)
                mark_read_inflight(mem.flags, mem.io_done, f, done)
                cost += len(f) * self.costs.readahead_page
        return cost

    def zswap_shrink_worker(self, now: int, max_per_tick: int = 2048) -> int:
        """shrink_worker: write zswap entries back to the device until the pool is under the accept threshold.

        Runs as a kworker (its CPU is not charged to tasks or kswapd). Classic and swap-table entries
        already hold their physical slot; vswap allocates one now (vswap_alloc_swap_slot)."""
        zswap = self.zswap
        if zswap is None:
            return 0
        if not zswap.writeback:
            # zpool_shrink on a pool with no shrink hook (zsmalloc before 6.2) returns -EINVAL.
            zswap.reject_reclaim_fail += 1
            zswap.shrink_wanted = False
            return 0
        if zswap.zpool == "zbud" and zswap.zpool_lru:
            # Before 6.5 on zbud: one zpool_shrink(pool, 1) per queued work, evicting whole zbud pages.
            zswap.shrink_wanted = False
            budget = self.zone.nr_free_pages + self.zone.pcp_len[MIGRATE_MOVABLE] - self.zram_pool_shortfall()
            if self.vswap is not None:
                budget = min(budget, self.phys.nr_swap_pages)
            keys = zswap.zpool_shrink(max(0, budget), in_swapcache=self.swap_cache.folio >= 0)
            return self._write_back_entries(now, keys)
        want = min(zswap.shrink_target(), max_per_tick)
        if not zswap.shrink_loop:
            # Before 6.5: one zpool_shrink(pool, 1) per queued work; its evicted zspage is taken as one entry.
            zswap.shrink_wanted = False
            want = min(want, 1)
        # zswap_writeback_entry decompresses into a new swap-cache folio: no free page, no writeback (and zram's
        # pool may grow by up to a page per entry written to it).
        want = min(want, self.zone.nr_free_pages + self.zone.pcp_len[MIGRATE_MOVABLE] - self.zram_pool_shortfall())
        if self.vswap is not None:
            # vswap_alloc_swap_slot must find a physical slot for each entry written back.
            want = min(want, self.phys.nr_swap_pages)
        if want <= 0:
            return 0
        in_cache = self.swap_cache.folio >= 0
        keys = zswap.writeback_candidates(2 * want, max_writeback=want, in_swapcache=in_cache)
        return self._write_back_entries(now, keys)

    def _write_back_entries(self, now: int, keys: np.ndarray) -> int:
        """__swap_writepage for the zswap entries shrink_worker took (already erased from zswap): to their
        devices, vswap first finding each a physical slot; returns how many were written."""
        zswap = self.zswap
        assert zswap is not None
        if len(keys) == 0:
            return 0
        if self.vswap is not None:
            phys = self.vswap.alloc_backing(keys, self.kswapd_cpu)
            self.vswap.take_cost()
            ok = phys >= 0
            if not ok.all():
                # No physical slot after all: zswap_writeback_entry fails and the entry stays (its only copy).
                zswap.store(keys[~ok], self.spaces.csize[self.vswap.owner[keys[~ok]]], force=True)
                keys, phys = keys[ok], phys[ok]
        else:
            phys = keys
        vps = self.swap.owner[keys]
        devs = self.phys.device_of(phys)
        for d in np.unique(devs).tolist():
            sel = devs == d
            dev = self.phys.devices[d]
            n = int(sel.sum())
            self.vm.add("pswpout", n)
            self.vm.add("pgpgout", 4 * n)
            if dev.kind == "zram":
                assert self.zram is not None  # built whenever a zram device is
                self.zram.store(phys[sel], self.spaces.csize[vps[sel]], self.spaces.content[vps[sel]] == CONTENT_SAME)
            elif not dev.synchronous:
                q = self.io[d]
                q.submit(max(now, q.busy_until - q.max_backlog_ns), np.full(n, -1, dtype=np.int64), is_write=True)
        self.zram_pool_adjust()
        self.event(
            now,
            "zswap",
            f"zswap shrink_worker wrote back {len(keys)} entries (pool {zswap.pool_pages()} pages)",
            key="wb",
            min_gap_ns=100_000_000,
        )
        return len(keys)

    def next_writeback_completion(self, now: int) -> int | None:
        """ns from now until the next write in flight completes, or None when nothing is in flight."""
        done = [q.inflight[0][0] for q in self.io.values() if q.inflight]
        if not done:
            return None
        return max(0, min(done) - now)

    def complete_io(self, now: int) -> None:
        """End writeback and reads that have finished by `now`."""
        mem = self.memmap
        inactive = self.lru[LRU_INACTIVE_ANON]
        for q in self.io.values():
            for done, is_write in q.complete(now):
                if not is_write:
                    mem.flags[done] &= ~np.uint16(PG_LOCKED_IO)
                    continue
                frames = done[done >= 0]  # zswap writeback submits without a folio
                wb = frames[(mem.flags[frames] & PG_WRITEBACK) != 0]
                fl = mem.flags[wb]
                mem.flags[wb] = fl & ~np.uint16(PG_WRITEBACK | PG_RECLAIM)
                # folio_rotate_reclaimable: reclaim-marked folios still on the inactive list go to its tail.
                lids = mem.lru[wb]
                on_inactive = (lids == LRU_INACTIVE_ANON) if self.memcg is None else (lids % 4 == LRU_INACTIVE_ANON)
                rot = wb[((fl & PG_RECLAIM) != 0) & on_inactive & (lids >= 0) & ((fl & PG_DIRTY) == 0)]
                if len(rot) and self.memcg is None:
                    inactive.remove(rot)
                    inactive.add_tail(rot)
                    self.vm.add("pgrotated", len(rot))
                elif len(rot):
                    rl = mem.lru[rot]
                    for lid in np.unique(rl).tolist():
                        mine = rot[rl == lid]
                        self.lru_list(lid).remove(mine)
                        self.lru_list(lid).add_tail(mine)
                    self.vm.add("pgrotated", len(rot))
