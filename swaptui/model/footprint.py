"""Estimate the host memory a scenario's model state needs, so a too-big scenario is refused before allocating."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swaptui.scenario import Scenario

PAGE_SIZE = 4096
FRAME_BYTES = 40
"""Host bytes of model state per simulated page frame: memmap columns (state 1, flags 2, lru 1,
lrupos 8, owner 8, slot 8, io_done 8) plus buddy bitmaps and LRU rings."""
SLOT_BYTES = 32
"""Host bytes per swap slot: swap_map 1, zeromap 1, owner 8, swap cache folio 8 and shadow 8, zram 5."""
VPAGE_BYTES = 20
"""Host bytes per virtual page a workload maps: state 1, frame 8, slot 8, content 1, csize 2."""
OVERHEAD_BYTES = 64 * 1024 * 1024
"""Fixed host bytes for the interpreter, numpy and everything that does not scale with the scenario."""


def estimate_parts(s: Scenario) -> dict[str, int]:
    """Break the estimate into frames, swap slots, virtual pages and fixed overhead, in host bytes."""
    pages = s.machine.memory // PAGE_SIZE
    slots = sum(device.size for device in s.swap.devices) // PAGE_SIZE
    vpages = sum(workload.size * workload.processes for workload in s.workloads) // PAGE_SIZE
    return {
        "frames": pages * FRAME_BYTES,
        "swap_slots": slots * SLOT_BYTES,
        "virtual_pages": vpages * VPAGE_BYTES,
        "overhead": OVERHEAD_BYTES,
    }


def estimate_state_bytes(s: Scenario) -> int:
    """Estimate the host bytes the model will allocate for this scenario, from its sizes alone."""
    return sum(estimate_parts(s).values())


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
