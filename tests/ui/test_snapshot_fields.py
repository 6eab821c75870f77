"""The fields the app added to the Snapshot, and that building one leaves the machine alone."""

from __future__ import annotations

import numpy as np

from swaptui.model.machine import Machine
from swaptui.model.snapshot import SAMPLE_NAMES, build_snapshot, sample_counters
from swaptui.model.vmstat import NAMES


def test_snapshot_counts_frames_as_update_full_gauges_does(small_scenario) -> None:
    m = Machine(small_scenario)
    m.step(120)
    before = m.vm.values.copy()
    snap = build_snapshot(m)
    assert (m.vm.values == before).all()  # building a snapshot does not touch the machine
    counts = m.update_full_gauges()
    assert (snap.state_counts == counts).all()
    assert (snap.counters == m.vm.values).all()


def test_added_fields(small_scenario) -> None:
    m = Machine(small_scenario)
    m.step(150)
    s = build_snapshot(m)
    assert s.kswapd_order == m.kswapd.order
    assert (s.cluster_order == m.swap.cluster_order).all() and s.cluster_order is not m.swap.cluster_order
    assert s.percpu_offset.shape == m.swap.percpu_offset.shape
    assert len(s.xa_tree_heights) == m.swap_cache.xa.nr_trees
    assert s.xa_entries == int(m.swap_cache.xa.entries.sum())
    assert s.xa_entries >= s.swap_cache_pages


def test_sample_counters_are_vmstat_then_depths(small_scenario) -> None:
    m = Machine(small_scenario)
    m.step(100)
    sample = sample_counters(m)
    assert len(sample) == len(SAMPLE_NAMES)
    assert (sample[: len(NAMES)] == m.vm.values).all()
    assert (sample[len(NAMES) :] == m.swap_cache.depth_hist[:8]).all()
    assert np.issubdtype(sample.dtype, np.integer)


def test_counts_from_a_previous_snapshot_equal_a_recount(small_scenario) -> None:
    m = Machine(small_scenario)
    first = build_snapshot(m)
    m.step(60)
    mid = build_snapshot(m, previous=first)
    m.step(3)
    last = build_snapshot(m, previous=mid)
    for snap in (mid, last):
        assert (snap.state_counts == np.bincount(snap.frame_state, minlength=len(snap.state_counts))).all()
    assert (build_snapshot(m, previous=first).state_counts == last.state_counts).all()
