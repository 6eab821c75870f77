"""Kernel versions: which behaviours each release has, machine.features overrides, the schema's errors, and
that a release really switches the model (the zeromap on a zero-page workload)."""

from __future__ import annotations

import pytest
from conftest import small_scenario_yaml

from swaptui.model import kernels
from swaptui.model.machine import Machine
from swaptui.scenario import ScenarioError, load_scenario_text

# (release, behaviour) -> whether the release has it, as read in the kernel's files (kernels.BEHAVIOURS).
KNOWN_ANSWERS = {
    "6.1": {
        "zeromap": False,
        "swpout_zero": False,
        "zswap_same_filled": True,
        "zswap_shrink_loop": False,
        "zsmalloc_writeback": False,
        "zswap_shrinker": False,
        "zbud": True,
        "z3fold": True,
        "swap_slot_cache": True,
        "mthp_cluster_lists": False,
        "rmqueue_claim_steal": False,
        "swap_table_phase1": False,
    },
    "6.6": {"zswap_shrink_loop": True, "zsmalloc_writeback": True, "zswap_shrinker": False, "zeromap": False},
    "6.8": {"zswap_shrinker": True, "zeromap": False, "mthp_swapout": False},
    "6.12": {
        "zeromap": True,
        "swpout_zero": True,
        "zswap_same_filled": False,
        "mthp_cluster_lists": True,
        "mthp_swapin_sync_io": True,
        "swap_slot_cache": True,
        "zbud": True,
        "zswap_large_folio": False,
        "swap_table_phase1": False,
    },
    "6.15": {
        "swap_slot_cache": False,
        "zbud": False,
        "z3fold": False,
        "rmqueue_claim_steal": True,
        "swap_hdd_cluster_allocator": True,
        "swap_table_phase1": False,
    },
    "6.18": {"swap_table_phase1": True, "swap_table_phase2": False, "zeromap": True},
    "7.0": {"swap_table_phase1": True, "swap_table_phase2": True},
}


@pytest.mark.parametrize("kernel", sorted(KNOWN_ANSWERS, key=kernels.parse_version))
def test_each_release_has_its_behaviours(kernel: str) -> None:
    features = kernels.features_of(kernel)
    assert set(features) == set(kernels.FEATURE_NAMES)
    assert {name: features[name] for name in KNOWN_ANSWERS[kernel]} == KNOWN_ANSWERS[kernel]


def test_default_design_follows_the_release() -> None:
    designs = {k: kernels.default_design(kernels.features_of(k)) for k in kernels.KNOWN_KERNELS}
    assert designs == {"6.1": "classic", "6.6": "classic", "6.8": "classic", "6.12": "classic"} | {
        "6.15": "classic",
        "6.18": "swap_table",
        "7.0": "swap_table",
    }
    assert kernels.KNOWN_KERNELS[-1] == kernels.DEFAULT_KERNEL


def test_overrides_and_unknown_names() -> None:
    features = kernels.features_of("6.1", {"zeromap": True, "swap_table_phase1": True})
    assert features["zeromap"] and features["swap_table_phase1"] and not features["zswap_shrinker"]
    assert kernels.default_design(features) == "swap_table"
    with pytest.raises(kernels.KernelError, match="unknown feature 'zeromapp'"):
        kernels.features_of("6.12", {"zeromapp": False})
    with pytest.raises(kernels.KernelError, match=r"expected one of: 6\.1, 6\.6"):
        kernels.features_of("5.15")


def test_every_behaviour_names_its_source_and_how_it_was_dated() -> None:
    for b in kernels.BEHAVIOURS:
        assert b.source and b.description and b.verified, b.name
        assert b.since or b.until, b.name
    table = kernels.render_table()
    assert (
        "no (always off)" in table
        and "swap_slot_cache" in table
        and f"default kernel {kernels.DEFAULT_KERNEL}" in table
    )


def _scenario(machine: str = "", swap: str = "", **kw: str):
    return load_scenario_text(
        small_scenario_yaml(extra_machine=machine, extra_swap=swap, **kw), "k.yaml", check_memory=False
    )


def _issues(machine: str) -> list[str]:
    with pytest.raises(ScenarioError) as error:
        _scenario(machine)
    return [str(issue) for issue in error.value.issues]


def test_schema_errors_name_file_line_and_key() -> None:
    (unquoted,) = _issues(", kernel: 6.1")
    assert unquoted.startswith("k.yaml:5:") and "machine.kernel: " in unquoted
    assert 'quote it: kernel: "6.1"' in unquoted
    (unknown,) = _issues(', kernel: "6.3"')
    assert "machine.kernel: unknown kernel '6.3'; expected one of: " + ", ".join(kernels.KNOWN_KERNELS) in unknown
    (feature,) = _issues(", features: {zbudd: true}")
    assert "machine.features.zbudd: unknown feature 'zbudd'; expected one of: " in feature
    assert "zeromap" in feature and "did you mean 'zbud'?" in feature
    (value,) = _issues(", features: {zeromap: 1}")
    assert "machine.features.zeromap: expected true or false; got 1" in value


def test_the_release_sets_the_design_unless_the_scenario_does() -> None:
    assert _scenario().swap.design == "swap_table"
    assert _scenario(', kernel: "6.12"').swap.design == "classic"
    assert _scenario(', kernel: "6.1", features: {swap_table_phase1: true}').swap.design == "swap_table"
    explicit = _scenario(', kernel: "6.18"', swap="design: classic")
    assert explicit.swap.design == "classic"
    m = Machine(explicit)
    assert m.notices and "classic" in m.notices[0] and "what-if" in m.notices[0]
    vswap = Machine(_scenario(', kernel: "6.12"', swap="design: vswap"))
    assert "vswap is not in mainline" in vswap.notices[0] and "6.12" in vswap.notices[0]
    assert Machine(_scenario(', kernel: "6.18"')).notices == []


def test_switches_the_model_has() -> None:
    old = Machine(_scenario(', kernel: "6.1"', swap="zswap: {enabled: true}"))
    assert not old.zeromap_enabled and not old.count_zeromap and not old.large_swapin
    assert old.zswap is not None and not old.zswap.shrinker_enabled
    assert any("not modelled" in n and "swap_slot_cache (off)" in n for n in old.notices)
    assert Machine(_scenario(', kernel: "6.8"', swap="zswap: {enabled: true}")).zswap.shrinker_enabled
    phase1 = Machine(_scenario(', kernel: "6.18"'))
    assert phase1.design == "swap_table" and phase1.swap_cache.bypass_sync_io
    assert not Machine(_scenario(', kernel: "7.0"')).swap_cache.bypass_sync_io


ZERO_PAGES = {
    "devices": "- {name: zram0, kind: zram, size: 128MiB}",
    "workloads": "- {name: um, kind: usemem, size: 48MiB, passes: 2, zero_fraction: 0.5, compress_ratio: 3.0}",
    "duration": "1500ms",
}


def _run(kernel: str) -> tuple[Machine, int]:
    """Run the zero-page workload; return the machine and the most same-filled pages zram held."""
    m = Machine(_scenario(f', kernel: "{kernel}"', **ZERO_PAGES), check_invariants=True)
    assert m.zram is not None
    most = 0
    for _ in range(150):
        m.step(10)
        most = max(most, m.zram.same_pages)
    return m, most


def test_zero_pages_go_to_the_zeromap_only_from_6_12() -> None:
    (old, old_same), (new, new_same) = _run("6.1"), _run("6.18")
    assert new.vm["swpout_zero"] > 0 and new.vm["swpin_zero"] > 0
    assert old.vm["swpout_zero"] == 0 and old.vm["swpin_zero"] == 0
    # 6.1: zram stores the zero pages as same-filled pages, through the block layer, so pswpout counts them.
    assert old.vm["pswpout"] > new.vm["pswpout"]
    assert old_same > 0 and new_same == 0


def _zswap_run(kernel: str) -> dict[str, int]:
    yaml = small_scenario_yaml(
        extra_machine=f', kernel: "{kernel}"',
        extra_swap="zswap: {enabled: true, zpool: zsmalloc, max_pool_percent: 10}",
        duration="1s",
    )
    m = Machine(load_scenario_text(yaml, check_memory=False), check_invariants=True)
    m.step(1000)
    assert m.zswap is not None
    return m.zswap.counters()


def test_zswap_on_zsmalloc_writes_back_at_the_limit_only_from_6_2() -> None:
    old, new = _zswap_run("6.1"), _zswap_run("6.6")
    # 6.1: zpool_shrink on zsmalloc fails (no shrink hook): the pool just rejects to the device.
    assert old["pool_limit_hit"] > 0 and old["written_back_pages"] == 0 and old["reject_reclaim_fail"] > 0
    # 6.6: zswap's own LRU, and a shrink worker that loops to the accept threshold.
    assert new["pool_limit_hit"] > 0 and new["written_back_pages"] > 0 and new["reject_reclaim_fail"] == 0
