"""Shadow entries (mm/workingset.c): what an evicted folio leaves behind so that its refault can be judged.

A shadow packs the eviction clock (`nonresident_age`, one tick per folio evicted or activated on refault)
with the folio's PG_workingset bit, as pack_shadow does (less the memcg and node ids, which the model has
one of each): `eviction << 1 | workingset`. Page-cache and swap-cache evictions stamp folios the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.jit import kernel
from swaptui.model.memmap import PG_WORKINGSET

if TYPE_CHECKING:
    from swaptui.model.machine_state import MachineState


def workingset_eviction(m: MachineState, flags: np.ndarray) -> np.ndarray:
    """workingset_eviction for folios with these page flags, oldest first: one shadow each, the clock advanced."""
    n = len(flags)
    eviction = m.nonresident_age + np.arange(n, dtype=np.int64)
    m.nonresident_age += n
    return pack_shadow(eviction, (flags & PG_WORKINGSET) != 0)


def pack_shadow(eviction: np.ndarray, workingset: np.ndarray) -> np.ndarray:
    """pack_shadow: the eviction clock and the PG_workingset bit in one entry."""
    return eviction * 2 + workingset


@kernel
def unpack_shadow(shadows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """unpack_shadow: (eviction clock, whether the folio was in the workingset) of each shadow (or of one)."""
    return shadows >> 1, (shadows & 1) != 0


@kernel
def workingset_test_recent(shadows: np.ndarray, nonresident_age: int, ws_size: int) -> tuple[np.ndarray, int, int, int]:
    """workingset_test_recent for each shadow (-1: none): a refault whose refault distance (nonresident_age now
    minus at eviction) fits in the workingset is activated. Returns (activate, refaults, activations, of those
    evicted from the workingset: workingset_restore)."""
    activate = np.zeros(len(shadows), dtype=np.bool_)
    n = 0
    na = 0
    restore = 0
    for i in range(len(shadows)):
        sh = shadows[i]
        if sh < 0:
            continue
        n += 1
        eviction, workingset = unpack_shadow(sh)
        if nonresident_age - eviction <= ws_size:
            activate[i] = True
            na += 1
            if workingset:
                restore += 1
    return activate, n, na, restore
