"""Processes, their address spaces and access patterns: usemem, hot/cold, zipf, memlab, file page cache reads.

Each process owns a contiguous range of virtual page ids in `AddressSpaces`. A pattern is plain state
(cursor, pass, seeds) rather than a generator, so a Machine can be deep-copied for checkpoints. Page
content (zero, same-filled, compressible) is drawn when a page is first written, from the process's
own seeded generator, so the same scenario and seed give the same pages.

Simplification: in hot/cold and zipf workloads a re-touch of a page is a write half the time.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from swaptui.model.memlab import MemlabPattern, frag_thp_offset, parse_memlab_args
from swaptui.model.memmap import PAGE_SIZE
from swaptui.model.usemem_args import parse_usemem_args

# vpage states (what the PTE holds)
VP_NONE = 0  # never touched (or unmapped)
VP_RESIDENT = 1  # maps a frame
VP_SWAPPED = 2  # holds a swap entry
VP_FREED = 3  # unmapped by munmap/exit

CONTENT_NORMAL = 0
CONTENT_ZERO = 1
CONTENT_SAME = 2  # same-filled, not zero (memhog's 0xff)

RETOUCH_WRITE_FRACTION = 0.5
MAX_RUN_HINT = 4096  # the first peek may take this many accesses; later peeks follow recent run lengths


def derive_rng(seed: int, name: str) -> np.random.Generator:
    """One generator per source of randomness, from (scenario seed, name)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


class AddressSpaces:
    """Page-table entries of every process, one row per virtual page id."""

    def __init__(self, nr_vpages: int) -> None:
        self.state = np.zeros(nr_vpages, dtype=np.uint8)
        self.frame = np.full(nr_vpages, -1, dtype=np.int64)
        self.slot = np.full(nr_vpages, -1, dtype=np.int64)
        self.content = np.zeros(nr_vpages, dtype=np.uint8)
        self.csize = np.zeros(nr_vpages, dtype=np.uint16)  # compressed bytes of a normal page
        # Scratch for the compiled fault-run scan (memory.pte_run): a vpage is marked with the scan's stamp.
        self.seen = np.zeros(nr_vpages, dtype=np.uint32)
        self.stamp = 0

    def next_stamp(self) -> int:
        """A stamp no entry of `seen` holds yet."""
        self.stamp += 1
        if self.stamp > 0xFFFFFFFF:
            self.seen[:] = 0
            self.stamp = 1
        return self.stamp


def coprime_stride(n: int, rng: np.random.Generator) -> int:
    """A stride coprime with n, for a full-coverage pseudo-random order (i * a + b) mod n."""
    if n <= 2:
        return 1
    while True:
        a = int(rng.integers(n // 3 + 1, n - 1))
        if np.gcd(a, n) == 1:
            return a


@dataclass
class Process:
    """One task of a workload: its address range, CPU, pattern state and accounting."""

    pid: int
    memcg: int  # the row of its memory cgroup in memcontrol.MemCgroups (0: the root)
    name: str
    kind: str
    cpu: int
    base: int  # first vpage id
    npages: int
    start_ns: int
    passes: int
    random: bool
    free_after: bool
    hot_pages: int
    hot_fraction: float
    zipf_s: float
    zero_fraction: float
    same_fraction: float
    compress_ratio: float
    rng: np.random.Generator
    file_base: int = 0  # filecache: first file page id
    fault_orders: tuple[int, ...] = ()  # large-folio orders an anonymous fault tries, largest first
    huge_madvised: bool = False  # MADV_HUGEPAGE: may direct-compact for huge pages under thp_defrag=madvise
    free_every: int = 0  # usemem/slab: free every Nth page once all are allocated
    migratetype: int = 1  # slab: the pageblock type its allocations want
    slab_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # slab: frames held
    memlab: MemlabPattern | None = None  # memlab: the program's phases, random stream and page contents
    huge_start: int = 0  # first page (from base) where fault_orders apply: frag's THP region
    sleep_until: int = 0  # memlab frag's hold loop, usemem -s: not runnable before this time
    sleep_after_ns: int = 0  # usemem -s: sleep this long after the last pass, before unmapping
    write_every_pass: bool = False  # vm-scalability usemem writes every word on every pass
    # pattern state
    pass_no: int = 0
    cursor: int = 0
    cold_cursor: int = 0
    stride: int = 1
    offset: int = 0
    done: bool = False
    exited: bool = False
    # budget and accounting
    debt_ns: int = 0
    throttled: bool = False
    memcg_nr_pages_over_high: int = 0  # pages charged over memory.high, paid on return to user space
    touched: int = 0
    no_progress: int = 0
    last_run: int = MAX_RUN_HINT
    killed: bool = False
    exit_ns: int = -1  # when the process exited (-1: still running)
    ra_hits: int = 4  # the VMA's swap_readahead_info: a zero value reads as 4 hits
    ra_win: int = 0
    ra_prev: int = -2
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pending_write: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def label(self) -> str:
        return f"{self.name}/{self.pid}"

    def started(self, now: int) -> bool:
        return now >= self.start_ns

    # -- access generation --------------------------------------------------------------------------
    def peek(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next up to n accesses (vpage ids, is-write), without consuming them."""
        if len(self.pending) < n and not self.done:
            more_v, more_w = self._generate(max(n - len(self.pending), 256))
            self.pending = np.concatenate([self.pending, more_v])
            self.pending_write = np.concatenate([self.pending_write, more_w])
        return self.pending[:n], self.pending_write[:n]

    def advance(self, k: int) -> None:
        """Consume k accesses."""
        self.pending = self.pending[k:]
        self.pending_write = self.pending_write[k:]
        self.touched += k

    def planned_accesses(self) -> int:
        """Every access the pattern will make (usemem: each page once per pass; memlab: all its touch phases)."""
        if self.memlab is not None:
            return self.memlab.planned_accesses()
        return self.passes * self.npages

    def finished_accessing(self) -> bool:
        """True when the pattern has ended and every generated access was consumed."""
        return self.done and len(self.pending) == 0

    def _generate(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "usemem":
            return self._usemem(n)
        if self.kind == "hotcold":
            return self._hotcold(n)
        if self.kind == "zipf":
            return self._zipf(n)
        if self.kind == "slab":
            return self._slab(n)
        if self.memlab is not None:
            return self._memlab(n)
        return self._filecache(n)

    def _memlab(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """memlab: the program's own access order; empty at a zap or sleep, which run_task carries out."""
        assert self.memlab is not None
        idx, writes = self.memlab.generate(n)
        if self.memlab.done():
            self.done = True
        return idx + self.base, writes

    def _slab(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """slab: allocation requests, one per page of its size, in order (ids 0..npages-1, not vpages)."""
        k = min(n, self.npages - self.cursor)
        if k <= 0:
            self.done = True
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        idx = np.arange(self.cursor, self.cursor + k, dtype=np.int64)
        self.cursor += k
        if self.cursor >= self.npages:
            self.done = True
        return idx, np.ones(k, dtype=bool)

    def _usemem(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.pass_no >= self.passes:
            self.done = True
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        k = min(n, self.npages - self.cursor)
        idx = np.arange(self.cursor, self.cursor + k, dtype=np.int64)
        if self.random:
            idx = (idx * self.stride + self.offset) % self.npages
        writes = np.full(k, self.pass_no == 0 or self.write_every_pass)
        self.cursor += k
        if self.cursor >= self.npages:
            self.cursor = 0
            self.pass_no += 1
            if self.random:
                self.stride = coprime_stride(self.npages, self.rng)
                self.offset = int(self.rng.integers(0, self.npages))
        return idx + self.base, writes

    def _hotcold(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.cursor < self.hot_pages:  # first write the hot set
            k = min(n, self.hot_pages - self.cursor)
            idx = np.arange(self.cursor, self.cursor + k, dtype=np.int64)
            self.cursor += k
            return idx + self.base, np.ones(k, dtype=bool)
        cold_pages = self.npages - self.hot_pages
        u = self.rng.random(n)
        hot = u < self.hot_fraction
        idx = np.empty(n, dtype=np.int64)
        nh = int(hot.sum())
        idx[hot] = self.rng.integers(0, self.hot_pages, nh)
        nc = n - nh
        grow = min(nc, cold_pages - self.cold_cursor)
        cold = np.empty(nc, dtype=np.int64)
        cold[:grow] = self.hot_pages + self.cold_cursor + np.arange(grow)
        cold[grow:] = self.hot_pages + self.rng.integers(0, max(cold_pages, 1), nc - grow)
        self.cold_cursor += grow
        idx[~hot] = cold
        writes = self.rng.random(n) < RETOUCH_WRITE_FRACTION
        return idx + self.base, writes

    def _zipf(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        u = self.rng.random(n)
        s, m = self.zipf_s, float(self.npages)
        if abs(s - 1.0) < 1e-9:
            x = np.exp(u * np.log(m + 1.0))
        else:
            x = ((np.power(m + 1.0, 1.0 - s) - 1.0) * u + 1.0) ** (1.0 / (1.0 - s))
        rank = np.minimum(np.floor(x).astype(np.int64) - 1, self.npages - 1)
        rank = np.maximum(rank, 0)
        idx = (rank * self.stride + self.offset) % self.npages
        writes = self.rng.random(n) < RETOUCH_WRITE_FRACTION
        return idx + self.base, writes

    def _filecache(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(n, self.npages - self.cursor)
        idx = np.arange(self.cursor, self.cursor + k, dtype=np.int64)
        self.cursor += k
        if self.cursor >= self.npages:
            self.cursor = 0
            self.pass_no += 1
        return idx + self.file_base, np.zeros(k, dtype=bool)

    # -- content --------------------------------------------------------------------------------------
    def draw_content(self, vp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Content class and compressed size for freshly written pages vp: memlab's by page number, else drawn."""
        if self.memlab is not None:
            return self.memlab.content(vp - self.base)
        n = len(vp)
        u = self.rng.random(n)
        content = np.full(n, CONTENT_NORMAL, dtype=np.uint8)
        content[u < self.zero_fraction] = CONTENT_ZERO
        content[(u >= self.zero_fraction) & (u < self.zero_fraction + self.same_fraction)] = CONTENT_SAME
        # Compressed sizes: log-normal around PAGE_SIZE / ratio, clipped to [64, PAGE_SIZE].
        mean = PAGE_SIZE / self.compress_ratio
        sizes = self.rng.lognormal(np.log(mean) - 0.02, 0.2, n)
        csize = np.clip(sizes, 64, PAGE_SIZE).astype(np.uint16)
        return content, csize


PMD_ORDER = 9


def anon_fault_orders(machine, w) -> tuple[int, ...]:
    """thp_vma_allowable_orders for an anonymous workload: PMD order if thp is always (or madvise and the
    workload madvised), then each enabled mTHP order; largest first. Empty: base pages only."""
    return _fault_orders(machine, w.kind, w.nohugepage, w.huge)


def _fault_orders(machine, kind: str, nohugepage: bool, huge: bool) -> tuple[int, ...]:
    """anon_fault_orders for a mapping of this kind and madvise advice."""
    if kind not in ("usemem", "hotcold", "zipf", "memlab") or nohugepage:
        return ()
    orders = []
    if machine.thp == "always" or (machine.thp == "madvise" and huge):
        orders.append(PMD_ORDER)
    for size in machine.mthp:
        orders.append((size // PAGE_SIZE).bit_length() - 1)
    return tuple(sorted(set(orders), reverse=True))


def build_processes(scenario, seed: int, ncpus: int) -> tuple[list[Process], int, int]:
    """Processes for every workload; returns (processes, total anon vpages, total file pages)."""
    procs: list[Process] = []
    vbase = 0
    fbase = 0
    pid = 100
    cgroup_rows = {cg.name: i for i, cg in enumerate(scenario.cgroups, start=1)}
    for w in scenario.workloads:
        npages = max(1, w.mapped_bytes() // PAGE_SIZE)
        for k in range(w.processes):
            rng = derive_rng(seed, f"workload:{w.name}:{k}")
            is_file = w.kind == "filecache"
            p = Process(
                pid=pid,
                memcg=cgroup_rows.get(w.cgroup or "root", 0),
                name=w.name,
                kind=w.kind,
                cpu=len(procs) % ncpus,
                base=vbase,
                npages=npages,
                start_ns=w.start,
                passes=w.passes,
                random=w.random,
                free_after=w.free_after,
                hot_pages=(w.hot_size // PAGE_SIZE) if w.hot_size else 0,
                hot_fraction=w.hot_fraction,
                zipf_s=w.zipf_s,
                zero_fraction=w.zero_fraction,
                same_fraction=w.same_filled_fraction,
                compress_ratio=w.compress_ratio,
                rng=rng,
                file_base=fbase,
            )
            p.fault_orders = anon_fault_orders(scenario.machine, w)
            p.huge_madvised = w.huge
            if w.kind == "memlab":
                set_up_memlab(p, scenario.machine, w.args)
            elif w.kind == "usemem" and w.args is not None:
                usemem = parse_usemem_args(w.args)
                p.write_every_pass = True
                p.sleep_after_ns = usemem.sleep_s * 1_000_000_000
            p.free_every = w.free_every
            p.migratetype = 2 if w.migratetype == "reclaimable" else 0
            if w.random or w.kind == "zipf":
                p.stride = coprime_stride(npages, rng)
                p.offset = int(rng.integers(0, npages))
            procs.append(p)
            pid += 1
            if is_file:
                fbase += npages
            elif w.kind != "slab":
                vbase += npages
    return procs, vbase, fbase


def set_up_memlab(p: Process, machine, args: str) -> None:
    """A memlab process: its pattern, and map_anon's madvise (frag: NOHUGEPAGE fill, then a HUGEPAGE region)."""
    a = parse_memlab_args(args)
    p.memlab = MemlabPattern(a)
    if a.subcommand == "frag":
        p.huge_madvised = True
        p.fault_orders = _fault_orders(machine, "memlab", False, True)
        p.huge_start = frag_thp_offset(a.frag_mb * (1 << 20) // PAGE_SIZE)
    else:
        p.huge_madvised = a.thp == "huge"
        p.fault_orders = _fault_orders(machine, "memlab", a.thp == "never", a.thp == "huge")
