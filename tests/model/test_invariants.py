"""Every invariant holds after every tick, on every backend and workload mix; also random scenarios."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swaptui.model.invariants import InvariantError, check_all

MIX = (
    "- {name: um, kind: usemem, size: 24MiB, processes: 2, passes: 2, zero_fraction: 0.1, "
    "same_filled_fraction: 0.1}\n- {name: hc, kind: hotcold, size: 16MiB, hot_size: 4MiB}\n"
    "- {name: f, kind: filecache, size: 16MiB}"
)


@pytest.mark.parametrize("kind", ["zram", "ssd", "hdd", "pmem"])
def test_invariants_hold_every_tick(make_machine, kind: str) -> None:
    m = make_machine(devices=f"- {{name: d0, kind: {kind}, size: 96MiB}}", workloads=MIX, duration="1s")
    m.step(700)  # check_invariants=True: every tick is checked
    assert m.vm["pswpout"] > 0


def test_invariants_hold_with_two_devices_and_discard(make_machine) -> None:
    devices = (
        "- {name: a, kind: ssd, size: 24MiB, priority: 5, discard: true}\n"
        "- {name: b, kind: zram, size: 64MiB, priority: 1}"
    )
    m = make_machine(devices=devices, workloads=MIX, duration="1s")
    m.step(600)
    used = [d.inuse for d in m.swap.devices]
    assert used[0] > 0


def test_a_zram_write_that_finds_no_free_page_fails_and_keeps_the_folio(make_machine) -> None:
    """Found by the random test: memory so tight that zsmalloc gets no page for incompressible pages. The write
    fails as zram_write_page's -ENOMEM does: the folio is re-dirtied and kept on the inactive list, the store is
    undone, and the pool's frames still match what it holds (checked every tick)."""
    m = make_machine(
        memory="48MiB",
        devices="- {name: d0, kind: zram, size: 40MiB}",
        seed=0,
        cpus=3,
        extra_machine=", thp: never",
        extra_swap="page_cluster: 0",
        workloads="- {name: w0, kind: filecache, size: 34MiB}\n"
        "- {name: w1, kind: hotcold, size: 25MiB, hot_size: 6MiB}\n"
        "- {name: w2, kind: usemem, size: 29MiB, passes: 1, zero_fraction: 0}",
    )
    m.step(200)
    assert m.vm["swaptui_zram_write_failed"] > 0


def test_invariant_checker_catches_a_lost_page(make_machine) -> None:
    m = make_machine(devices="- {name: d0, kind: zram, size: 96MiB}", check_invariants=False)
    m.step(40)
    swapped = (m.spaces.state == 2).nonzero()[0]
    assert len(swapped)
    slot = m.spaces.slot[swapped[0]]
    m.zram.free(slot.reshape(1))  # the data vanishes while the PTE still points at the slot
    with pytest.raises(InvariantError):
        check_all(m)


@st.composite
def scenarios(draw) -> dict:
    devices = []
    for i in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["zram", "ssd", "hdd", "pmem"]))
        devices.append(f"- {{name: d{i}, kind: {kind}, size: {draw(st.integers(4, 96))}MiB}}")
    zswap = draw(st.booleans())
    memory = draw(st.sampled_from(["48MiB", "64MiB"]))
    wl = []
    for i in range(draw(st.integers(1, 3))):
        k = draw(st.sampled_from(["usemem", "hotcold", "zipf", "filecache", "slab"]))
        size = draw(st.integers(4, 40))
        if k == "usemem":
            wl.append(
                f"- {{name: w{i}, kind: usemem, size: {size}MiB, passes: {draw(st.integers(1, 3))}, "
                f"random: {str(draw(st.booleans())).lower()}, zero_fraction: {draw(st.sampled_from([0, 0.3]))}, "
                f"processes: {draw(st.integers(1, 3))}, huge: {str(draw(st.booleans())).lower()}, "
                f"free_every: {draw(st.sampled_from([0, 2, 3]))}}}"
            )
        elif k == "slab":
            wl.append(
                f"- {{name: w{i}, kind: slab, size: {max(1, size // 4)}MiB, free_every: {draw(st.sampled_from([0, 2]))}, "
                f"migratetype: {draw(st.sampled_from(['unmovable', 'reclaimable']))}}}"
            )
        elif k == "hotcold":
            wl.append(f"- {{name: w{i}, kind: hotcold, size: {size}MiB, hot_size: {max(1, size // 4)}MiB}}")
        elif k == "zipf":
            wl.append(
                f"- {{name: w{i}, kind: zipf, size: {size}MiB, zipf_s: {draw(st.sampled_from([0.8, 1.0, 1.3]))}}}"
            )
        else:
            wl.append(f"- {{name: w{i}, kind: filecache, size: {size}MiB}}")
    thp = draw(st.sampled_from(["never", "madvise", "always"]))
    mthp = draw(st.sampled_from(["[]", "[64KiB]", "[16KiB, 256KiB]"]))
    defrag = draw(st.sampled_from(["madvise", "always", "defer", "never"]))
    return {
        "memory": memory,
        "devices": "\n".join(devices),
        "extra_machine": f", thp: {thp}, mthp: {mthp}, thp_defrag: {defrag}",
        "workloads": "\n".join(wl),
        "seed": draw(st.integers(0, 1000)),
        "cpus": draw(st.integers(1, 4)),
        "extra_swap": f"page_cluster: {draw(st.integers(0, 5))}\ndesign: "
        f"{draw(st.sampled_from(['classic', 'swap_table', 'vswap']))}\n"
        f"zswap: {{enabled: {str(zswap).lower()}, max_pool_percent: {draw(st.sampled_from([5, 20]))}}}",
    }


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kw=scenarios())
def test_random_small_scenarios_keep_every_invariant(make_machine, kw: dict) -> None:
    m = make_machine(duration="1s", **kw)
    m.step(200)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zram", "ssd"])
def test_invariants_hold_every_tick_under_the_swap_table_design(make_machine, kind: str) -> None:
    m = make_machine(
        devices=f"- {{name: d0, kind: {kind}, size: 96MiB}}",
        workloads=MIX,
        duration="1s",
        extra_swap="design: swap_table",
    )
    m.step(500)
    assert m.swap_cache.design == "swap_table" and m.vm["pswpout"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zram", "ssd", "pmem"])
def test_invariants_hold_every_tick_under_vswap(make_machine, kind: str) -> None:
    m = make_machine(
        devices=f"- {{name: d0, kind: {kind}, size: 96MiB}}", workloads=MIX, duration="1s", extra_swap="design: vswap"
    )
    m.step(500)
    assert m.swap_cache.design == "vswap" and m.vm["pswpout"] > 0 and m.vm["swpout_zero"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("design", ["classic", "swap_table", "vswap"])
def test_invariants_hold_every_tick_with_zswap(make_machine, design: str) -> None:
    m = make_machine(
        devices="- {name: d0, kind: ssd, size: 96MiB}",
        workloads=MIX,
        duration="1s",
        extra_swap=f"design: {design}\nzswap: {{enabled: true, max_pool_percent: 10}}",
    )
    m.step(500)
    z = m.zswap.counters()
    assert z["zswpout"] > 0 and z["zswpin"] > 0


def test_vswap_zswap_writeback_without_a_physical_slot_keeps_the_entry(make_machine) -> None:
    """Found by a soak run: under vswap, zswap's shrink worker took entries off the pool, then found no physical
    slot to write them to, and the data was gone (a later swap-in read a slot on no device: KeyError -1). The
    worker now writes back at most as many entries as there are free physical slots, and an entry it cannot
    write stays in zswap, as zswap_writeback_entry's failure leaves it."""
    m = make_machine(
        memory="64MiB",
        seed=1,
        extra_swap="design: vswap\npage_cluster: 5\nzswap: {enabled: true, max_pool_percent: 20}",
        devices="- {name: a, kind: hdd, size: 4MiB}\n- {name: b, kind: hdd, size: 16MiB}",
        workloads="- {name: u, kind: usemem, size: 80MiB, passes: 2, random: true, zero_fraction: 0.3}",
        duration="3s",
    )
    m.step(400)  # the crash came at tick 147
    assert m.zswap.counters()["zswpwb"] > 0 and m.vm["pswpin"] > 0


def test_a_file_smaller_than_a_chunk_wraps_without_double_counting(make_machine) -> None:
    """Found by the property test: a 4 MiB file re-read within one chunk repeated pages in a run."""
    m = make_machine(
        memory="48MiB",
        devices="- {name: d0, kind: pmem, size: 4MiB}",
        cpus=4,
        seed=606,
        workloads="- {name: w0, kind: hotcold, size: 13MiB, hot_size: 3MiB}\n- {name: w2, kind: filecache, size: 4MiB}",
    )
    m.step(300)
    assert m.vm["pgactivate"] > 0
