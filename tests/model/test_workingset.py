"""Shadow entries: one packer for page-cache and swap-cache evictions, and the refault reads it back."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from swaptui.model.memmap import PG_WORKINGSET
from swaptui.model.workingset import pack_shadow, unpack_shadow, workingset_eviction


def test_eviction_stamps_each_folio_with_the_clock_and_its_workingset_bit() -> None:
    state = SimpleNamespace(nonresident_age=40)
    flags = np.array([0, PG_WORKINGSET, PG_WORKINGSET | 1, 0], dtype=np.uint16)
    shadows = workingset_eviction(state, flags)
    assert state.nonresident_age == 44  # one tick of the clock per folio evicted
    eviction, workingset = unpack_shadow(shadows)
    assert eviction.tolist() == [40, 41, 42, 43] and workingset.tolist() == [False, True, True, False]
    assert shadows.tolist() == pack_shadow(eviction, workingset).tolist() == [80, 83, 85, 86]
    assert len(workingset_eviction(state, flags[:0])) == 0 and state.nonresident_age == 44
