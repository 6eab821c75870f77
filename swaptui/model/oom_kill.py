"""Unmapping a process's memory at exit (zap_pte_range) and the OOM killer (mm/oom_kill.c)."""

from __future__ import annotations

import numpy as np

from swaptui.model.swap_ops import SwapPathsMixin
from swaptui.model.workload import VP_FREED, VP_RESIDENT, VP_SWAPPED, Process


class ExitAndOomMixin(SwapPathsMixin):
    """exit_mm and out_of_memory, built on the swap paths they free entries through; part of Machine."""

    def exit_mm(self, p: Process, now: int) -> int:
        """zap_pte_range over the whole process: free mapped folios and swap entries. Returns ns spent."""
        return self.zap_pages(p, np.arange(p.base, p.base + p.npages, dtype=np.int64), now, "unmapped")

    def zap_pages(self, p: Process, vps: np.ndarray, now: int, why: str) -> int:
        """zap_pte_range over some of a process's pages (munmap, MADV_DONTNEED, exit); returns ns spent: a PTE
        cleared and a folio or swap entry freed per page, plus the design's own free-path work (vswap's
        per-PTE memcg lookups and descriptor walks in swap_pte_batch / free_swap_and_cache_nr)."""
        carried = self.swap.take_cost()  # work charged before the zap is not the zap's
        sp = self.spaces
        st = sp.state[vps]
        res = vps[st == VP_RESIDENT]
        if len(res):
            frames = sp.frame[res]
            # free_swap_cache: mapped folios in the swap cache drop their swap copy as they are freed.
            cached = frames[self.memmap.slot[frames] >= 0]
            if len(cached):
                slots = self.memmap.slot[cached]
                self.swap_cache.delete(slots, None)
                self.memmap.slot[cached] = -1
                self.swap_put_cache(slots)
            self._free_lru_frames(frames)
            self.vm.add("swaptui_page_events", len(frames))
        swp = vps[st == VP_SWAPPED]
        if len(swp):
            slots = sp.slot[swp]
            freed = self.swap_put_ref(slots)
            self.vm.add("swaptui_page_events", len(slots))
            # free_swap_and_cache_nr: cache-only leftovers go now only if swap is over half full.
            if self.swap.vm_swap_full() and len(freed) < len(slots):
                left = np.setdiff1d(slots, freed)
                frames = self.swap_cache.folio[left]
                self.folio_free_swap(frames[frames >= 0])
        sp.state[vps] = VP_FREED
        sp.frame[vps] = -1
        sp.slot[vps] = -1
        c = self.costs
        cost = len(vps) * c.zap_pte + len(res) * c.pcp_page + len(swp) * c.slot_free + self.swap.take_cost()
        if carried and hasattr(self.swap, "pending_cost"):
            self.swap.pending_cost += carried
        self.vm.add("swaptui_unmap_free_ns", cost)
        self.event(
            now, "exit", f"{p.label} {why} {len(res)} resident pages and {len(swp)} swap entries in {cost / 1e6:.2f} ms"
        )
        return cost

    def oom_badness(self, p: Process) -> int:
        """oom_badness: resident pages plus swap entries."""
        st = self.spaces.state[p.base : p.base + p.npages]
        return int(np.count_nonzero((st == VP_RESIDENT) | (st == VP_SWAPPED)))

    def out_of_memory(self, now: int, trigger: Process, memcg: int | None = None) -> bool:
        """out_of_memory: kill the process with the largest footprint; for a memcg OOM
        (mem_cgroup_out_of_memory) only among the tasks of that cgroup's subtree. Returns whether one was killed."""
        alive = [q for q in self.procs if not q.exited and q.kind not in ("filecache", "slab")]
        if memcg is not None and self.memcg is not None:
            inside = set(self.memcg.subtree[memcg])
            alive = [q for q in alive if q.memcg in inside]
        if not alive:
            return False
        victim = max(alive, key=lambda q: (self.oom_badness(q), -q.pid))
        score = self.oom_badness(victim)
        self.vm.add("oom_kill")
        if self.memcg is not None:
            self.memcg.memory_event(victim.memcg, "oom_kill")
        if memcg is not None and self.memcg is not None:
            cg = self.memcg
            self.event(
                now,
                "oom",
                f"Memory cgroup out of memory: {cg.names[memcg]} at its limit ({int(cg.usage[memcg])} pages, "
                f"reclaim made no progress): killed {victim.label} with {score} pages (charge by {trigger.label})",
            )
            self._kill(victim, now)
            return True
        lru = sum(self.lru_total(i) for i in range(4))
        why = (
            "swap is full"
            if self.swap.nr_swap_pages == 0
            else ("nothing left to reclaim" if lru == 0 else "reclaim made no progress")
        )
        self.event(
            now,
            "oom",
            f"Out of memory ({why}: free {self.zone.nr_free_pages} <= min "
            f"{self.zone.wmark[0]}, {lru} pages on the LRU, {self.swap.nr_swap_pages} swap "
            f"slots free, zsmalloc {self.zram_frames_count} pages): killed {victim.label} "
            f"with {score} pages (allocation by {trigger.label})",
        )
        self._kill(victim, now)
        return True

    def _kill(self, victim: Process, now: int) -> None:
        """oom_kill_process: the victim's memory is freed (the OOM reaper) and it exits."""
        self.exit_mm(victim, now)
        victim.exited = True
        victim.exit_ns = now
        victim.killed = True
        victim.done = True
        victim.pending = victim.pending[:0]
        victim.pending_write = victim.pending_write[:0]
