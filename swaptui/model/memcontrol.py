"""Memory cgroups (mm/memcontrol.c, mm/memcontrol-v1.c and mm/page_counter.c, Linux 6.18).

The mem_cgroup table: one row per cgroup (row 0 is the root), each with its page counters (memory, v1's
memsw, v2's swap), their limits, v1's failcnt, the per-CPU charge stock, memory.stat and memory.events
counters. Two owner arrays keep every charge O(events): `frame_memcg` (folio->memcg_data: the cgroup a
frame's memory is charged to, -1 for none) and `swap_memcg` (the swap_cgroup array: the cgroup a swap slot
is charged to, -1 for none).

What is charged, and when (the kernel's rules):
* try_charge_memcg: a charge of nr pages takes them from this CPU's stock; else charges
  max(MEMCG_CHARGE_BATCH, nr) to the page counters of the cgroup and every ancestor (page_counter_try_charge),
  the excess going to the stock; if that fails (failcnt counts it at the counter that refused), it retries
  with nr alone; if that fails too, memory.events max, limit reclaim in the charging task
  (try_to_free_mem_cgroup_pages for nr pages, at least SWAP_CLUSTER_MAX), retry while the margin allows,
  drain the stocks once, up to MAX_RECLAIM_RETRIES more rounds, then the memcg OOM killer in that cgroup.
  The root cgroup itself is never charged (its pages are owned, not counted).
* uncharge: when a charged folio is freed (mem_cgroup_uncharge, straight to the counters, not the stock).
* swap, v2: folio_alloc_swap's mem_cgroup_try_charge_swap charges memory.swap per slot and refuses (events
  swap_max and swap_fail) when a cgroup or an ancestor would pass memory.swap.max; the folio then stays
  (activate_locked). The slot's charge goes when the slot is freed (mem_cgroup_uncharge_swap).
* swap, v1 (memsw): try_charge charges memsw with memory; at __remove_mapping, memcg1_swapout uncharges
  memory and moves the memsw charge to the slot; a swap-in, once charged, drops the slot's memsw
  (mem_cgroup_swapin_uncharge_swap); memsw over memory.memsw.limit_in_bytes reclaims without swapping.

Simplifications: a swap-in is charged to the faulting task's cgroup, not looked up from swap_cgroup (the model
has no shared anonymous memory, so the two are the same cgroup); each CPU's stock holds any number of cgroups
(the kernel's caches NR_MEMCG_STOCK = 7 and evicts one at random); kernel memory (slab, page tables) is not
charged (no __GFP_ACCOUNT); zswap's pool is not charged to cgroups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from swaptui.model.machine import Machine
    from swaptui.model.workload import Process
    from swaptui.scenario import Cgroup

ROOT = 0
UNMODELLED_CGROUP_FILES = ("memory.zswap.max", "memory.zswap.writeback", "memory.soft_limit_in_bytes")
"""Files a scenario may set that the model keeps but does not act on yet (a notice says so when set)."""
MEMCG_CHARGE_BATCH = 64  # include/linux/memcontrol.h
MAX_RECLAIM_RETRIES = 16  # include/linux/swap.h
PAGE_ALLOC_COSTLY_ORDER = 3
HZ = 1000  # CONFIG_HZ: the penalty is counted in jiffies (its length in time does not depend on HZ)
MEMCG_DELAY_PRECISION_SHIFT = 20
MEMCG_DELAY_SCALING_SHIFT = 14
MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ
SWAP_CLUSTER_MAX = 32
PAGE_COUNTER_MAX = 1 << 52  # pages: LONG_MAX / PAGE_SIZE rounded, far above any machine here
PAGE_SIZE = 4096

STAT_NAMES = (
    "pgpgin",  # v1 memory.stat: pages charged
    "pgpgout",  # v1 memory.stat: pages uncharged
    "pgfault",
    "pgmajfault",
    "pgscan",
    "pgsteal",
    "pgscan_kswapd",
    "pgscan_direct",
    "pgscan_proactive",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "pgsteal_proactive",
    "pgrefill",
    "pgactivate",
    "pgdeactivate",
    "workingset_refault_anon",
    "workingset_refault_file",
    "workingset_activate_anon",
    "swaptui_reclaim_ns",  # simulated CPU time its tasks spent in limit reclaim
    "swaptui_fault_fallback_charge",  # large-folio faults whose folio it could not charge
    "swaptui_high_throttle_ns",  # time its tasks slept in memory.high's penalty
)
"""memory.stat's event counters the model keeps, by the kernel's names (memcg_vm_event_stat)."""
EVENT_NAMES = ("low", "high", "max", "oom", "oom_kill", "swap_max", "swap_fail")
"""memory.events (and memory.swap.events' max and fail, as swap_max and swap_fail)."""
_STAT = {name: i for i, name in enumerate(STAT_NAMES)}
_EVENT = {name: i for i, name in enumerate(EVENT_NAMES)}


def _pages(limit: int) -> int:
    """A limit in bytes (or -1 for max) as page_counter_memparse stores it: whole pages, capped."""
    return PAGE_COUNTER_MAX if limit < 0 else min(limit // PAGE_SIZE, PAGE_COUNTER_MAX)


class MemCgroups:
    """The mem_cgroup table, its page counters, stocks, stats and the owner arrays of frames and slots."""

    def __init__(self, cgroups: tuple[Cgroup, ...], nr_frames: int, nr_slots: int, ncpus: int, swappiness: int):
        n = len(cgroups) + 1
        self.n = n
        self.names = ["root", *(cg.name for cg in cgroups)]
        index = {name: i for i, name in enumerate(self.names)}
        self.version = cgroups[0].version if cgroups else 2
        self.parent = np.full(n, -1, dtype=np.int64)
        for i, cg in enumerate(cgroups, start=1):
            self.parent[i] = index[cg.parent] if cg.parent is not None else ROOT

        def limits(key: str, default: int) -> np.ndarray:
            out = np.full(n, default, dtype=np.int64)
            for i, cg in enumerate(cgroups, start=1):
                out[i] = _pages(cg.limit(key)) if key in cg.files or default == PAGE_COUNTER_MAX else default
            return out

        v1 = self.version == 1
        self.max = limits("memory.limit_in_bytes" if v1 else "memory.max", PAGE_COUNTER_MAX)
        self.high = limits("memory.high", PAGE_COUNTER_MAX)
        self.low = limits("memory.low", 0)
        self.min = limits("memory.min", 0)
        self.memsw_max = limits("memory.memsw.limit_in_bytes", PAGE_COUNTER_MAX)
        self.swap_max = limits("memory.swap.max", PAGE_COUNTER_MAX)
        self.zswap_max = limits("memory.zswap.max", PAGE_COUNTER_MAX)
        # mem_cgroup_swappiness: v1 reads the cgroup's own (inherited from its parent when created); v2 and
        # the root read vm.swappiness.
        self.swappiness = np.full(n, swappiness, dtype=np.int64)
        for i, cg in enumerate(cgroups, start=1):
            own = cg.limit("memory.swappiness")
            self.swappiness[i] = own if (v1 and own >= 0) else self.swappiness[self.parent[i]] if v1 else swappiness
        self.usage = np.zeros(n, dtype=np.int64)
        self.memsw = np.zeros(n, dtype=np.int64)
        self.swap = np.zeros(n, dtype=np.int64)
        self.watermark = np.zeros(n, dtype=np.int64)  # max_usage_in_bytes, in pages
        self.memsw_watermark = np.zeros(n, dtype=np.int64)
        self.failcnt = np.zeros(n, dtype=np.int64)
        self.memsw_failcnt = np.zeros(n, dtype=np.int64)
        self.stock = np.zeros((ncpus + 1, n), dtype=np.int64)
        self.stat = np.zeros((len(STAT_NAMES), n), dtype=np.int64)
        self.events = np.zeros((len(EVENT_NAMES), n), dtype=np.int64)
        self.frame_memcg = np.full(nr_frames, -1, dtype=np.int16)
        self.swap_memcg = np.full(nr_slots, -1, dtype=np.int16)
        # The chain from each cgroup up to the root (page_counter's parent pointers), and each one's subtree.
        self.chain: list[list[int]] = []
        for i in range(n):
            c, up = [i], int(self.parent[i])
            while up >= 0:
                c.append(up)
                up = int(self.parent[up])
            self.chain.append(c)
        self.subtree: list[list[int]] = [[j for j in range(n) if i in self.chain[j]] for i in range(n)]
        self.pages = np.zeros(n, dtype=np.int64)  # frames charged to each cgroup (its own, not descendants')

    # -- names ----------------------------------------------------------------------------------------
    def index(self, name: str | None) -> int:
        """The row of a cgroup by name (None or 'root': the root)."""
        return ROOT if name in (None, "root") else self.names.index(name)

    @property
    def v1(self) -> bool:
        """cgroup v1: do_memsw_account() is true."""
        return self.version == 1

    def count(self, name: str, memcg: int, n: int = 1) -> None:
        """count_memcg_events: a memory.stat event counted at the cgroup (read hierarchically)."""
        if n:
            self.stat[_STAT[name], memcg] += n

    def memory_event(self, memcg: int, name: str) -> None:
        """memcg_memory_event: memory.events of the cgroup and its ancestors below the root."""
        for c in self.chain[memcg]:
            if c == ROOT:
                break
            self.events[_EVENT[name], c] += 1

    def stat_total(self, name: str, memcg: int) -> int:
        """A memory.stat counter over the cgroup's subtree (v2's memory.stat, v1's total_*)."""
        return int(self.stat[_STAT[name], self.subtree[memcg]].sum())

    def event_count(self, name: str, memcg: int) -> int:
        """A memory.events counter (hierarchical, as memory.events is)."""
        return int(self.events[_EVENT[name], memcg])

    # -- page counters --------------------------------------------------------------------------------
    def margin(self, memcg: int) -> int:
        """mem_cgroup_margin: pages the cgroup may still charge by its own memory (and v1 memsw) counter."""
        m = max(0, int(self.max[memcg] - self.usage[memcg]))
        if self.v1:
            m = min(m, max(0, int(self.memsw_max[memcg] - self.memsw[memcg])))
        return m

    def try_counters(self, memcg: int, nr: int) -> tuple[int, bool]:
        """page_counter_try_charge of nr pages on memsw (v1) then memory, up the hierarchy: all or nothing.
        Returns (-1, _) on success, else (the cgroup whose counter refused, whether it was memsw); on v1 the
        refusing counter's failcnt goes up by one."""
        chain = self.chain[memcg]
        if self.v1:
            for c in chain:
                if self.memsw[c] + nr > self.memsw_max[c]:
                    self.memsw_failcnt[c] += 1
                    return c, True
        for c in chain:
            if self.usage[c] + nr > self.max[c]:
                if self.v1:
                    self.failcnt[c] += 1  # track_failcnt: legacy (v1) counters only, since 6.13
                return c, False
        self.charge_counters(memcg, nr)
        return -1, False

    def charge_counters(self, memcg: int, nr: int) -> None:
        """page_counter_charge up the hierarchy (memory, and memsw on v1), keeping the watermarks."""
        for c in self.chain[memcg]:
            self.usage[c] += nr
            self.watermark[c] = max(self.watermark[c], self.usage[c])
            if self.v1:
                self.memsw[c] += nr
                self.memsw_watermark[c] = max(self.memsw_watermark[c], self.memsw[c])

    def uncharge_counters(self, memcg: int, nr: int, memory: bool = True, memsw: bool = True) -> None:
        """page_counter_uncharge up the hierarchy."""
        for c in self.chain[memcg]:
            if memory:
                self.usage[c] -= nr
            if memsw and self.v1:
                self.memsw[c] -= nr

    def room(self, memcg: int) -> int:
        """Pages a charge may add before some counter up the hierarchy refuses (page_counter_try_charge)."""
        r = min(int(self.max[c] - self.usage[c]) for c in self.chain[memcg])
        if self.v1:
            r = min(r, *(int(self.memsw_max[c] - self.memsw[c]) for c in self.chain[memcg]))
        return max(0, r)

    def cancel_charge(self, memcg: int, nr: int) -> None:
        """cancel_charge: give back pages charged for an allocation that then failed."""
        if memcg != ROOT and nr:
            self.uncharge_counters(memcg, nr)

    def count_frames(self, name: str, frames: np.ndarray) -> None:
        """count_memcg_folio_events: a memory.stat event per frame, at the frame's cgroup."""
        ids = self.frame_memcg[frames]
        ids = ids[ids >= 0].astype(np.int64)
        if len(ids):
            self.stat[_STAT[name]] += np.bincount(ids, minlength=self.n)

    # -- protection (memory.min, memory.low) ------------------------------------------------------------
    def effective_protection(self, target: int, memcg: int) -> tuple[int, int]:
        """page_counter_calculate_protection: (emin, elow) of memcg for reclaim of target's subtree. A child of
        the target gets its own settings; deeper down, a parent's effective protection is shared among its
        children in proportion to their protected usage, min(usage, setting) (effective_protection)."""
        if memcg in (target, ROOT):
            return 0, 0
        parent = int(self.parent[memcg])
        if parent == target:
            return int(self.min[memcg]), int(self.low[memcg])
        pmin, plow = self.effective_protection(target, parent)
        usage = int(self.usage[memcg])
        kids = [c for c in range(self.n) if self.parent[c] == parent]
        out = []
        for setting, parent_eff in ((self.min, pmin), (self.low, plow)):
            protected = min(usage, int(setting[memcg]))
            siblings = sum(min(int(self.usage[c]), int(setting[c])) for c in kids)
            out.append(protected * parent_eff // siblings if siblings > parent_eff else protected)
        return out[0], out[1]

    def below_min(self, target: int, memcg: int) -> bool:
        """mem_cgroup_below_min: usage within the effective memory.min (never for the target or the root)."""
        if memcg in (target, ROOT):
            return False
        return self.effective_protection(target, memcg)[0] >= int(self.usage[memcg])

    def below_low(self, target: int, memcg: int) -> bool:
        """mem_cgroup_below_low: usage within the effective memory.low."""
        if memcg in (target, ROOT):
            return False
        return self.effective_protection(target, memcg)[1] >= int(self.usage[memcg])

    def consume_stock(self, cpu: int, memcg: int, nr: int) -> int:
        """consume_stock: take up to nr pages of this CPU's pre-charged stock for the cgroup; returns how many."""
        k = min(nr, int(self.stock[cpu, memcg]))
        self.stock[cpu, memcg] -= k
        return k

    def refill_stock(self, cpu: int, memcg: int, nr: int) -> None:
        """refill_stock: keep nr pre-charged pages; a stock over MEMCG_CHARGE_BATCH is drained (drain_stock)."""
        self.stock[cpu, memcg] += nr
        if self.stock[cpu, memcg] > MEMCG_CHARGE_BATCH:
            self.uncharge_counters(memcg, int(self.stock[cpu, memcg]))
            self.stock[cpu, memcg] = 0

    def drain_all_stock(self, root: int) -> None:
        """drain_all_stock: every CPU gives back the stock it holds for the subtree of `root`."""
        for c in self.subtree[root]:
            held = int(self.stock[:, c].sum())
            if held:
                self.uncharge_counters(c, held)
                self.stock[:, c] = 0

    # -- folios -------------------------------------------------------------------------------------------
    def commit_charge(self, frames: np.ndarray, memcg: int) -> None:
        """commit_charge: the frames' memory is now the cgroup's (memory.stat pgpgin counts them)."""
        self.frame_memcg[frames] = memcg
        self.pages[memcg] += len(frames)
        self.count("pgpgin", memcg, len(frames))

    def uncharge_frames(self, frames: np.ndarray) -> None:
        """mem_cgroup_uncharge for freed frames: their cgroups' counters (memory, memsw on v1) drop."""
        ids = self.frame_memcg[frames]
        held = ids >= 0
        if not held.any():
            return
        self.frame_memcg[frames[held]] = -1
        per = np.bincount(ids[held].astype(np.int64), minlength=self.n)
        for c in np.flatnonzero(per).tolist():
            k = int(per[c])
            self.pages[c] -= k
            self.count("pgpgout", c, k)
            if c != ROOT:
                self.uncharge_counters(c, k)

    def migrate(self, src: np.ndarray, dst: np.ndarray) -> None:
        """mem_cgroup_migrate: the new folios take over the old ones' charge."""
        self.frame_memcg[dst] = self.frame_memcg[src]
        self.frame_memcg[src] = -1

    # -- swap ---------------------------------------------------------------------------------------------
    def swap_room(self, memcg: int) -> int:
        """v2: slots the cgroup may still charge under memory.swap.max, itself and its ancestors below the root
        (mem_cgroup_get_nr_swap_pages' walk); v1 has no swap counter (unlimited here)."""
        if self.v1 or memcg == ROOT:
            return PAGE_COUNTER_MAX
        return max(0, min(int(self.swap_max[c] - self.swap[c]) for c in self.chain[memcg] if c != ROOT))

    def try_charge_swap(self, frames: np.ndarray) -> np.ndarray:
        """mem_cgroup_try_charge_swap for folios about to get slots (v2): which of them may (a bool mask).
        Refused ones count memory.swap.events max and fail at their cgroup."""
        ok = np.ones(len(frames), dtype=bool)
        if self.v1:
            return ok
        ids = self.frame_memcg[frames].astype(np.int64)
        for c in np.unique(ids).tolist():
            if c <= ROOT:
                continue
            at = np.flatnonzero(ids == c)
            room = self.swap_room(c)
            if room < len(at):
                ok[at[room:]] = False
                self.memory_event(c, "swap_max")
                self.memory_event(c, "swap_fail")
        return ok

    def record_swap(self, frames: np.ndarray, slots: np.ndarray) -> None:
        """swap_cgroup_record at folio_alloc_swap (v2: memory.swap charged now); v1 records at swapout."""
        if self.v1:
            return
        ids = self.frame_memcg[frames]
        self.swap_memcg[slots] = ids
        self._swap_add(ids, 1)

    def _swap_add(self, ids: np.ndarray, sign: int) -> None:
        """v2: memory.swap's page counters, up the hierarchy, by sign x the slots of each cgroup in ids."""
        per = np.bincount(ids[ids > ROOT].astype(np.int64), minlength=self.n)
        for c in np.flatnonzero(per).tolist():
            for a in self.chain[c]:
                self.swap[a] += sign * int(per[c])

    def swapout(self, frames: np.ndarray, slots: np.ndarray) -> None:
        """memcg1_swapout at __remove_mapping (v1): the memory charge goes, the memsw charge moves to the slot."""
        if not self.v1:
            return
        ids = self.frame_memcg[frames]
        self.swap_memcg[slots] = ids
        self.frame_memcg[frames] = -1
        per = np.bincount(ids[ids >= 0].astype(np.int64), minlength=self.n)
        for c in np.flatnonzero(per).tolist():
            k = int(per[c])
            self.pages[c] -= k
            self.count("pgpgout", c, k)
            if c != ROOT:
                self.uncharge_counters(c, k, memory=True, memsw=False)
                self.swap[c] += k

    def uncharge_swap(self, slots: np.ndarray) -> None:
        """mem_cgroup_uncharge_swap (swap_cgroup_clear): freed slots give back their cgroup's swap (v2) or
        memsw (v1) charge."""
        ids = self.swap_memcg[slots]
        held = ids >= 0
        if not held.any():
            return
        self.swap_memcg[slots[held]] = -1
        per = np.bincount(ids[held].astype(np.int64), minlength=self.n)
        for c in np.flatnonzero(per).tolist():
            if c == ROOT:
                continue
            k = int(per[c])
            for a in self.chain[c]:
                if self.v1:
                    self.memsw[a] -= k
                else:
                    self.swap[a] -= k
            if self.v1:
                self.swap[c] -= k

    def swapin_uncharge_swap(self, slots: np.ndarray) -> None:
        """mem_cgroup_swapin_uncharge_swap (v1): the new swap-cache folio holds the memsw charge now, so the
        slot's is dropped at once rather than when the slot dies."""
        if self.v1:
            self.uncharge_swap(slots)

    # -- reading --------------------------------------------------------------------------------------
    def stocked(self, memcg: int) -> int:
        """Pages pre-charged in the CPUs' stocks for this cgroup."""
        return int(self.stock[:, memcg].sum())

    def swap_pages(self, memcg: int) -> int:
        """Swap slots charged to the cgroup's subtree (memory.swap.current; v1 memory.stat swap)."""
        if self.v1:
            return int(self.swap[self.subtree[memcg]].sum())
        return int(self.swap[memcg]) if memcg != ROOT else int((self.swap_memcg >= 0).sum())


# -- charging (try_charge_memcg) --------------------------------------------------------------------------


def try_charge(m: Machine, p: Process, memcg: int, nr: int, now: int) -> tuple[bool, int]:
    """try_charge_memcg for one folio of nr pages on behalf of task p. Returns (charged, ns spent reclaiming).

    The kernel's loop: the stock; a batch of max(MEMCG_CHARGE_BATCH, nr) up the hierarchy; nr alone; then
    memory.events max, try_to_free_mem_cgroup_pages on the cgroup whose counter refused (memsw refusing: no
    swapping), retried while the margin allows, the stocks drained once, a retry while reclaim made progress
    (nr up to 2^PAGE_ALLOC_COSTLY_ORDER), MAX_RECLAIM_RETRIES more, then the memcg OOM killer (not for costly
    orders), after which the count starts again; nothing to kill: -ENOMEM (the fault fails)."""
    from swaptui.model.vmscan import try_to_free_mem_cgroup_pages

    cg = m.memcg
    assert cg is not None
    if memcg == ROOT:
        return True, 0
    cpu = p.cpu
    batch = max(MEMCG_CHARGE_BATCH, nr)
    retries = MAX_RECLAIM_RETRIES
    drained = False
    spent = 0
    while not p.exited:
        if nr <= MEMCG_CHARGE_BATCH and cg.stock[cpu, memcg] >= nr:
            cg.stock[cpu, memcg] -= nr
            return True, spent
        over, memsw = cg.try_counters(memcg, batch)
        if over < 0:
            if batch > nr:
                cg.refill_stock(cpu, memcg, batch - nr)
            note_over_high(cg, p, memcg, batch)
            return True, spent
        if batch > nr:
            batch = nr
            continue
        cg.memory_event(over, "max")
        sc = try_to_free_mem_cgroup_pages(m, over, nr, cpu, now + spent, may_swap=not memsw)
        spent += sc.cost
        cg.count("swaptui_reclaim_ns", memcg, sc.cost - sc.io_wait)
        if cg.margin(over) >= nr:
            continue
        if not drained:
            cg.drain_all_stock(over)
            drained = True
            continue
        if sc.nr_reclaimed and nr <= 1 << PAGE_ALLOC_COSTLY_ORDER:
            continue
        if retries:
            retries -= 1
            continue
        if nr > 1 << PAGE_ALLOC_COSTLY_ORDER:
            return False, spent  # mem_cgroup_oom: no OOM kill for costly orders
        # mem_cgroup_oom -> mem_cgroup_out_of_memory: a victim in the cgroup over its limit, or -ENOMEM.
        cg.memory_event(over, "oom")
        if not m.out_of_memory(now + spent, p, memcg=over):
            return False, spent
        retries = MAX_RECLAIM_RETRIES
    return False, spent


def charge_pages(m: Machine, p: Process, n: int, now: int, budget: int) -> tuple[int, int]:
    """mem_cgroup_charge for n order-0 faults of task p, one after another as the kernel takes them. Returns
    (pages charged, ns spent). Runs of charges the stock or whole batches serve are taken at once; near the
    limit each page is its own try_charge_memcg (its batch attempt failing counts one failcnt)."""
    cg = m.memcg
    assert cg is not None
    memcg = p.memcg
    if memcg == ROOT:
        return n, 0
    cpu = p.cpu
    got = 0
    spent = 0
    while got < n and not p.exited and spent < budget:
        got += cg.consume_stock(cpu, memcg, n - got)
        need = n - got
        if need == 0:
            break
        room = cg.room(memcg)
        if room >= MEMCG_CHARGE_BATCH:
            batches = min(-(-need // MEMCG_CHARGE_BATCH), room // MEMCG_CHARGE_BATCH)
            cg.charge_counters(memcg, batches * MEMCG_CHARGE_BATCH)
            note_over_high(cg, p, memcg, batches * MEMCG_CHARGE_BATCH)
            use = min(need, batches * MEMCG_CHARGE_BATCH)
            got += use
            cg.refill_stock(cpu, memcg, batches * MEMCG_CHARGE_BATCH - use)
            continue
        if room >= 1:
            for _ in range(min(need, room)):
                cg.try_counters(memcg, MEMCG_CHARGE_BATCH)  # refused: failcnt
                cg.try_counters(memcg, 1)
            note_over_high(cg, p, memcg, min(need, room))
            got += min(need, room)
            continue
        ok, more = try_charge(m, p, memcg, 1, now + spent)
        spent += more
        if not ok:
            break
        got += 1
    return got, spent


# -- reading out ------------------------------------------------------------------------------------------

REPORT_HELP = {
    "usage_in_bytes": "memory charged now, bytes (memory.current; v1 memory.usage_in_bytes)",
    "max_usage_in_bytes": "most memory charged at once, bytes (memory.peak; v1 memory.max_usage_in_bytes)",
    "limit_in_bytes": "the memory limit, bytes (memory.max; v1 memory.limit_in_bytes)",
    "swap": "swap charged now, bytes (memory.swap.current; v1 memory.stat swap)",
    "failcnt": "charges the memory counter refused (v1 memory.failcnt)",
    "memsw_failcnt": "charges the memory+swap counter refused (v1 memory.memsw.failcnt)",
    **{name: f"memory.stat {name} (over the subtree)" for name in STAT_NAMES if not name.startswith("swaptui_")},
    "swaptui_reclaim_ns": "simulated CPU time its tasks spent in limit reclaim, ns",
    "swaptui_fault_fallback_charge": "large-folio faults that fell back because the folio could not be charged",
    "swaptui_high_throttle_ns": "time its tasks slept in memory.high's throttle (mem_cgroup_handle_over_high), ns",
    **{f"events.{name}": f"memory.events {name}" for name in EVENT_NAMES},
}
"""What each per-cgroup figure of `report` is, by its key."""


def report(cg: MemCgroups, memcg: int) -> dict[str, int]:
    """One cgroup's figures by the kernel's names: usage, peak, limit, swap, failcnt, memory.stat, memory.events."""
    limit = int(cg.max[memcg])
    out = {
        "usage_in_bytes": int(cg.usage[memcg]) * PAGE_SIZE,
        "max_usage_in_bytes": int(cg.watermark[memcg]) * PAGE_SIZE,
        "limit_in_bytes": -1 if limit >= PAGE_COUNTER_MAX else limit * PAGE_SIZE,
        "swap": cg.swap_pages(memcg) * PAGE_SIZE,
        "failcnt": int(cg.failcnt[memcg]),
        "memsw_failcnt": int(cg.memsw_failcnt[memcg]),
    }
    out.update({name: cg.stat_total(name, memcg) for name in STAT_NAMES})
    out.update({f"events.{name}": cg.event_count(name, memcg) for name in EVENT_NAMES})
    return out


def reports(cg: MemCgroups) -> dict[str, dict[str, int]]:
    """Every cgroup but the root, by name."""
    return {cg.names[c]: report(cg, c) for c in range(1, cg.n)}


# -- memory.high (mem_cgroup_handle_over_high) ------------------------------------------------------------


def note_over_high(cg: MemCgroups, p: Process, memcg: int, batch: int) -> None:
    """try_charge_memcg's done_restock: a charge that leaves the cgroup (or an ancestor) over memory.high adds
    its batch to the task's memcg_nr_pages_over_high, paid on the way back to user space."""
    for c in cg.chain[memcg]:
        if c == ROOT:
            break
        if cg.usage[c] > cg.high[c]:
            p.memcg_nr_pages_over_high += batch
            return


def calculate_overage(usage: int, high: int) -> int:
    """calculate_overage: (usage - high) / high in 2^-20 units, 0 when not over."""
    if usage <= high:
        return 0
    high = max(high, 1)
    return ((usage - high) << MEMCG_DELAY_PRECISION_SHIFT) // high


def calculate_high_delay(nr_pages: int, max_overage: int) -> int:
    """calculate_high_delay: the throttle in jiffies, quadratic in the overage, scaled by the task's share
    (nr_pages against the nominal MEMCG_CHARGE_BATCH)."""
    if not max_overage:
        return 0
    penalty = max_overage * max_overage * HZ
    penalty >>= MEMCG_DELAY_PRECISION_SHIFT
    penalty >>= MEMCG_DELAY_SCALING_SHIFT
    return penalty * nr_pages // MEMCG_CHARGE_BATCH


def max_overage(cg: MemCgroups, memcg: int) -> int:
    """mem_find_max_overage: the largest memory.high overage from the cgroup up to (not including) the root."""
    return max((calculate_overage(int(cg.usage[c]), int(cg.high[c])) for c in cg.chain[memcg] if c != ROOT), default=0)


def handle_over_high(m: Machine, p: Process, now: int) -> int:
    """mem_cgroup_handle_over_high: reclaim the batch from every cgroup over memory.high up the chain
    (reclaim_high, memory.events high), again by SWAP_CLUSTER_MAX while that makes progress or retries last,
    then, if the penalty is over HZ/100, sleep it (at most 2 s). Returns ns spent reclaiming; the sleep is set
    as the task's sleep_until (it stops running this tick)."""
    from swaptui.model.vmscan import try_to_free_mem_cgroup_pages

    cg = m.memcg
    nr_pages = p.memcg_nr_pages_over_high
    if cg is None or not nr_pages:
        return 0
    p.memcg_nr_pages_over_high = 0
    spent = 0
    retries = MAX_RECLAIM_RETRIES
    in_retry = False
    while not p.exited:
        reclaimed = 0
        for c in cg.chain[p.memcg]:
            if c == ROOT:
                break
            if cg.usage[c] <= cg.high[c]:
                continue
            cg.memory_event(c, "high")
            sc = try_to_free_mem_cgroup_pages(m, c, SWAP_CLUSTER_MAX if in_retry else nr_pages, p.cpu, now + spent)
            spent += sc.cost
            cg.count("swaptui_reclaim_ns", p.memcg, sc.cost - sc.io_wait)
            reclaimed += sc.nr_reclaimed
        penalty = min(calculate_high_delay(nr_pages, max_overage(cg, p.memcg)), MEMCG_MAX_HIGH_DELAY_JIFFIES)
        if penalty <= HZ // 100:
            return spent
        if reclaimed or retries:
            if not reclaimed:
                retries -= 1
            in_retry = True
            continue
        sleep = penalty * (1_000_000_000 // HZ)
        p.sleep_until = now + spent + sleep
        p.throttled = True
        cg.count("swaptui_high_throttle_ns", p.memcg, sleep)
        return spent
    return spent


# -- memory.reclaim -------------------------------------------------------------------------------------


def memory_reclaim(m: Machine, name: str | None, nr_to_reclaim: int, swappiness: int | None, now: int) -> int:
    """memory_reclaim (a write to memory.reclaim): proactive reclaim of the cgroup's subtree in batches of a
    quarter of what is left (try_to_free_mem_cgroup_pages with MEMCG_RECLAIM_PROACTIVE, swappiness= if given),
    giving up after MAX_RECLAIM_RETRIES rounds that reclaim nothing (-EAGAIN). Counted as memory.stat
    pgscan_proactive / pgsteal_proactive. Returns pages reclaimed."""
    from swaptui.model.vmscan import try_to_free_mem_cgroup_pages

    if m.memcg is None:
        m.event(now, "script", "memory.reclaim: the scenario has no cgroups")
        return 0
    memcg = m.memcg.index(name)
    reclaimed = 0
    retries = MAX_RECLAIM_RETRIES
    cost = 0
    while reclaimed < nr_to_reclaim:
        batch = (nr_to_reclaim - reclaimed) // 4
        sc = try_to_free_mem_cgroup_pages(
            m, memcg, batch, m.ncpus - 1, now + cost, may_swap=True, proactive=True, swappiness=swappiness
        )
        cost += sc.cost
        if not sc.nr_reclaimed:
            if not retries:
                break
            retries -= 1
        reclaimed += sc.nr_reclaimed
    m.event(
        now,
        "script",
        f"memory.reclaim of {m.memcg.names[memcg]}: {reclaimed} of {nr_to_reclaim} pages in {cost / 1e6:.2f} ms"
        + ("" if reclaimed >= nr_to_reclaim else " (-EAGAIN)"),
    )
    return reclaimed
