"""Swap metadata per design against the tables of the vswap v5 thread (kernel-model.md §10.4)."""

from __future__ import annotations

import pytest

from swaptui.model.metadata import classic_metadata, swap_table_metadata, vswap_metadata

SLOTS_32G = 8 * 1024 * 1024  # 32 GiB of 4 KiB slots
MB = 1024 * 1024
USAGE = (0, 0.25, 0.5, 0.75, 1.0)


def close(model_bytes: int, table_mb: float) -> bool:
    """Within 5 % of the published figure (or 0.05 MB of a figure of zero)."""
    return abs(model_bytes / MB - table_mb) <= max(0.05 * table_mb, 0.05)


@pytest.mark.parametrize("u, old_zswap, old_disk", zip(USAGE, (25, 57, 89, 121, 153), (25, 41, 57, 73, 89)))
def test_old_design_matches_the_v5_cover_letter(u: float, old_zswap: float, old_disk: float) -> None:
    used = int(SLOTS_32G * u)
    # Disk: every used slot holds a swap-cache entry (folio or shadow). zswap: also a zswap tree entry.
    assert close(classic_metadata(SLOTS_32G, used).total, old_disk)
    assert close(classic_metadata(SLOTS_32G, used, zswap_entries=used).total, old_zswap)


@pytest.mark.parametrize(
    "u, vs_zswap, vs_disk", zip(USAGE, (0, 48.25, 96.5, 144.75, 193), (2, 66.25, 130.5, 194.75, 259))
)
def test_vswap_matches_the_v5_cover_letter(u: float, vs_zswap: float, vs_disk: float) -> None:
    used = int(SLOTS_32G * u)
    vclusters = -(-used // 512)
    # zswap-backed vswap needs no physical swapfile; disk-backed uses one for every virtual slot.
    assert close(vswap_metadata(0, vclusters, 0).total, vs_zswap)
    assert close(vswap_metadata(SLOTS_32G, vclusters, used).total, vs_disk)


@pytest.mark.parametrize("phase, empty, full", [("p2", 25.5, 89.5), ("p3", 17.5, 81.5), ("p4", 0.5, 64.5)])
def test_swap_table_phases_match_kairuis_table(phase: str, empty: float, full: float) -> None:
    assert close(swap_table_metadata(SLOTS_32G, 0, phase).total, empty)
    assert close(swap_table_metadata(SLOTS_32G, SLOTS_32G // 512, phase).total, full)


def test_model_state_feeds_the_accounting(make_machine) -> None:
    """A running machine reports its own metadata from its swap cache and clusters."""
    for design in ("classic", "swap_table"):
        m = make_machine(
            devices="- {name: d0, kind: ssd, size: 128MiB}", extra_swap=f"design: {design}", check_invariants=False
        )
        m.step(150)
        meta = m.swap_metadata()
        assert meta.static > 0 and meta.dynamic > 0
        if design == "classic":
            assert meta.dynamic == 8 * m.swap_cache.entries()
        else:
            assert meta.dynamic == 4096 * int((m.swap.cluster_count > 0).sum())
