"""The counters behave as the kernel's do, from the model's rules (no scripted outcomes)."""

from __future__ import annotations

import re

import numpy as np

from swaptui.model.workload import VP_SWAPPED

SSD = "- {name: d0, kind: ssd, size: 128MiB}"
ZRAM = "- {name: z0, kind: zram, size: 128MiB}"


def run_to_end(m, ticks: int | None = None) -> None:
    m.step(ticks if ticks is not None else m.scenario.duration // m.scenario.tick)


def test_kswapd_wakes_below_low_and_sleeps_at_or_above_high(make_machine) -> None:
    m = make_machine(devices=SSD, duration="3s")
    run_to_end(m)
    woke = [e.text for e in m.events if e.text.startswith("kswapd woke")]
    slept = [e.text for e in m.events if e.text.startswith("kswapd sleeps")]
    assert woke and slept
    for text in woke:
        free, low = map(int, re.search(r"free (\d+) < low (\d+)", text).groups())
        assert free < low
    for text in slept:
        free, high = map(int, re.search(r"free (\d+) >= high (\d+)", text).groups())
        assert free >= high
    assert m.vm["pageoutrun"] >= len(woke)


def test_direct_reclaim_appears_when_allocation_outruns_kswapd(make_machine) -> None:
    one = make_machine(
        devices=ZRAM, workloads="- {name: um, kind: usemem, size: 40MiB, passes: 1}", cpus=4, check_invariants=False
    )
    many = make_machine(
        devices=ZRAM,
        workloads="- {name: um, kind: usemem, size: 10MiB, processes: 4, passes: 1}",
        cpus=4,
        check_invariants=False,
    )
    run_to_end(one, 600)
    run_to_end(many, 600)
    assert many.vm["allocstall_movable"] > 0 and many.vm["pgsteal_direct"] > 0

    def share(m):
        return m.vm["pgsteal_direct"] / max(1, m.vm["pgsteal_direct"] + m.vm["pgsteal_kswapd"])

    assert share(many) > share(one)
    assert many.vm["pgscan_direct"] >= many.vm["pgsteal_direct"]


def test_zram_swapins_bypass_the_swap_cache_and_free_their_slot(make_machine) -> None:
    m = make_machine(devices=ZRAM, duration="2s")
    run_to_end(m)
    v = m.vm
    assert v["pswpout"] > 0 and v["pswpin"] > 0
    assert v["swap_ra"] == 0 and v["swap_ra_hit"] == 0  # SYNC_IO: no readahead
    assert v["pgmajfault"] == v["pswpin"] + v["swpin_zero"]
    assert v["workingset_refault_anon"] == v["pswpin"] + v["swpin_zero"]


def test_pages_out_minus_pages_in_is_what_sits_on_swap_for_zram(make_machine) -> None:
    m = make_machine(
        devices=ZRAM, duration="2s", workloads="- {name: um, kind: usemem, size: 48MiB, passes: 3, zero_fraction: 0.2}"
    )
    checked = 0
    for _ in range(400):
        m.step(2)
        if m.procs[0].exited:
            break  # at exit, swap entries are freed without being read back
        checked += 1
        v = m.vm
        on_swap = int(np.count_nonzero(m.spaces.state == VP_SWAPPED))
        out = v["pswpout"] + v["swpout_zero"]
        back = v["pswpin"] + v["swpin_zero"]
        assert on_swap == out - back
    assert checked >= 10
    assert m.vm["swpout_zero"] > 0 and m.vm["swpin_zero"] > 0


def test_sequential_rereads_hit_readahead_and_random_rereads_do_not(make_machine) -> None:
    seq = make_machine(devices=SSD, duration="2s", check_invariants=False)
    rnd = make_machine(
        devices=SSD,
        duration="2s",
        check_invariants=False,
        workloads="- {name: um, kind: usemem, size: 48MiB, passes: 2, random: true}",
    )
    run_to_end(seq)
    run_to_end(rnd)

    def hit(m):
        return m.vm["swap_ra_hit"] / max(1, m.vm["swap_ra"])

    assert seq.vm["swap_ra"] > 1000 and hit(seq) > 0.9
    # One major fault brings a window of 8 in order: majfaults ~ pswpin / 8.
    assert seq.vm["pgmajfault"] * 6 < seq.vm["pswpin"]
    # Random faults shrink the window to a single page: almost no readahead, one read per fault.
    assert rnd.vm["pswpin"] > 1000
    assert rnd.vm["swap_ra"] < 0.05 * rnd.vm["pswpin"]
    assert rnd.vm["pgmajfault"] > 0.95 * rnd.vm["pswpin"]


def test_swap_over_half_full_frees_slots_at_swapin_so_pages_are_written_again(make_machine) -> None:
    roomy = make_machine(devices="- {name: d0, kind: ssd, size: 256MiB}", duration="3s", check_invariants=False)
    tight = make_machine(devices="- {name: d0, kind: ssd, size: 40MiB}", duration="3s", check_invariants=False)
    run_to_end(roomy)
    run_to_end(tight)
    # With plenty of swap, re-read pages keep their slot and are reclaimed again without I/O.
    assert roomy.vm["pgsteal_anon"] > roomy.vm["pswpout"]
    # Over half full, swap-in drops the slot (vm_swap_full), so re-evicted pages are written again.
    assert tight.vm["pswpout"] > roomy.vm["pswpout"]
    assert tight.vm["pgsteal_anon"] - tight.vm["pswpout"] < roomy.vm["pgsteal_anon"] - roomy.vm["pswpout"]


def test_same_scenario_and_seed_give_the_same_run_tick_for_tick(make_machine) -> None:
    kw = {
        "devices": SSD,
        "check_invariants": False,
        "workloads": "- {name: z, kind: zipf, size: 48MiB}\n- {name: h, kind: hotcold, size: 40MiB, hot_size: 8MiB}",
    }
    a, b = make_machine(**kw), make_machine(**kw)
    for _ in range(30):
        a.step(10)
        b.step(10)
        assert (a.vm.values == b.vm.values).all()
        assert (a.memmap.state == b.memmap.state).all()
    c = make_machine(seed=2, **kw)
    c.step(300)
    assert not (a.vm.values == c.vm.values).all()


def test_swap_too_small_ends_in_an_oom_kill_not_a_crash(make_machine) -> None:
    m = make_machine(
        devices="- {name: d0, kind: ssd, size: 8MiB}",
        duration="2s",
        workloads="- {name: um, kind: usemem, size: 60MiB, processes: 2, passes: 2}",
    )
    run_to_end(m)
    assert m.vm["oom_kill"] >= 1
    assert any(e.kind == "oom" and "killed um/" in e.text for e in m.events)
    assert any(p.killed for p in m.procs)


def test_no_swap_device_reclaims_file_pages_only(make_machine) -> None:
    m = make_machine(
        devices="[]",
        duration="1s",
        workloads="- {name: f, kind: filecache, size: 80MiB}\n- {name: h, kind: hotcold, size: 16MiB, hot_size: 4MiB}",
    )
    run_to_end(m)
    assert m.vm["pgsteal_file"] > 0 and m.vm["pgsteal_anon"] == 0 and m.vm["pswpout"] == 0
