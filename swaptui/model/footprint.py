"""Estimate the host memory a scenario's model state needs, so a too-big scenario is refused before allocating.

The estimate adds what each part of the scenario makes the model allocate: the page frames of the
machine, the slots of every swap device, and each workload's own structures (its virtual pages or
file pages, and per process a task with its own random generator and pattern state). The per-item
costs were measured with tracemalloc on Machine objects (tests/test_scenario.py checks the estimate
stays above what a Machine really allocates) and rounded up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swaptui.scenario import Scenario, Workload

PAGE_SIZE = 4096
FRAME_BYTES = 56
"""Host bytes of model state per simulated page frame: memmap columns (state 1, flags 2, lru 2, owner 8,
slot 8, folio order 1, io_done 8, list links 16) plus the buddy allocator's per-frame order (46 measured),
and 8 more for the frame index arrays that building the machine holds for a moment."""
SLOT_BYTES = 32
"""Host bytes per swap slot: swap_map 1, zeromap 1, owner 8, swap cache folio 8 and shadow 8, zram 5 (31 measured)."""
MEMCG_OWNER_BYTES = 2
"""With cgroups, 2 more host bytes per frame (frame -> memcg) and per swap slot (the swap_cgroup array)."""
VPAGE_BYTES = 24
"""Host bytes per virtual page a workload maps: state 1, frame 8, slot 8, content 1, csize 2, and the fault-run
scan's stamp 4 (memory.pte_run)."""
VSWAP_VPAGE_BYTES = 40
"""More host bytes per virtual page under the vswap design: a virtual swap descriptor for each (35 measured,
39 with zswap)."""
FILE_PAGE_BYTES = 32
"""Host bytes per page of a filecache workload's file: its page-cache frame and shadow entry (16), and as
much again for the index arrays a read of the file holds for a moment."""
PROCESS_BYTES = 4096
"""Host bytes per process: the task object, its random generator and pattern state (3 KiB measured)."""
OVERHEAD_BYTES = 64 * 1024 * 1024
"""Fixed host bytes for the interpreter, numpy and everything that does not scale with the scenario."""
MAX_STATE_BYTES = 16 * 1024**3
"""The most model state swaptui builds, whatever the host has: 16 GiB holds a 256 GiB machine with as
much swap. Past that one tick takes seconds and one checkpoint of the app's history as much again."""
HOST_SHARE = (4, 5)
"""The share of the host's available memory the model may take (4/5): the app's history, the snapshots
shown and the rest of the host need the remainder; taking it all would push the host itself into reclaim."""


def workload_bytes(s: Scenario, w: Workload) -> int:
    """Host bytes a workload's own structures take: its pages (per process) and its processes."""
    pages = max(1, w.mapped_bytes() // PAGE_SIZE) * w.processes
    if w.kind == "filecache":
        per_page = FILE_PAGE_BYTES
    elif w.kind == "slab":
        per_page = 8  # the frames it holds, listed per process
    else:
        per_page = VPAGE_BYTES + (VSWAP_VPAGE_BYTES if s.swap.design == "vswap" else 0)
    return pages * per_page + w.processes * PROCESS_BYTES


def estimate_parts(s: Scenario) -> dict[str, int]:
    """Break the estimate into frames, swap slots, workloads and fixed overhead, in host bytes."""
    pages = s.machine.memory // PAGE_SIZE
    slots = sum(device.size for device in s.swap.devices) // PAGE_SIZE
    owners = MEMCG_OWNER_BYTES if s.cgroups else 0
    return {
        "frames": pages * (FRAME_BYTES + owners),
        "swap_slots": slots * (SLOT_BYTES + owners),
        "workloads": sum(workload_bytes(s, w) for w in s.workloads),
        "overhead": OVERHEAD_BYTES,
    }


def estimate_state_bytes(s: Scenario) -> int:
    """Estimate the host bytes the model will allocate for this scenario, from its sizes alone."""
    return sum(estimate_parts(s).values())


def state_limit(available: int) -> tuple[int, str]:
    """The most model state allowed with `available` host bytes free, and in words where that limit comes from."""
    share = available * HOST_SHARE[0] // HOST_SHARE[1]
    if share < MAX_STATE_BYTES:
        return share, f"{HOST_SHARE[0]}/{HOST_SHARE[1]} of the memory this host has available"
    return MAX_STATE_BYTES, "swaptui's limit for one model"


def available_memory_bytes() -> int:
    """Return the host's MemAvailable from /proc/meminfo, or physical memory where that is unreadable."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 1 << 62
