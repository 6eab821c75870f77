"""Memory cgroups (memcontrol.py): the page counters' known answers, and machines under cgroup limits."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swaptui.model.machine import Machine
from swaptui.model.memcontrol import MEMCG_CHARGE_BATCH, PAGE_COUNTER_MAX, MemCgroups, charge_pages, report
from swaptui.scenario import load_scenario_text

MIB = 256  # pages


def table(cgroups: str, nr_frames: int = 4096, nr_slots: int = 4096, ncpus: int = 2) -> MemCgroups:
    """A MemCgroups from the cgroups: section of a scenario."""
    s = load_scenario_text(small_scenario_yaml() + "cgroups:\n" + cgroups, check_memory=False)
    return MemCgroups(s.cgroups, nr_frames, nr_slots, ncpus, 60)


def machine(cgroups: str, workloads: str, check: bool = True, **kw) -> Machine:
    text = small_scenario_yaml(workloads=workloads, **kw) + "cgroups:\n" + cgroups
    return Machine(load_scenario_text(text, check_memory=False), check_invariants=check)


class FakeTask:
    """What charge_pages reads of a task."""

    def __init__(self, memcg: int, cpu: int = 0) -> None:
        self.memcg = memcg
        self.cpu = cpu
        self.exited = False


class FakeMachine:
    memcg: MemCgroups


def test_limits_take_the_kernels_units_as_pages() -> None:
    cg = table("  - {name: a, memory.max: 1M, memory.low: 4096, memory.swap.max: max}\n  - {name: b, parent: a}\n")
    assert cg.names == ["root", "a", "b"] and cg.parent.tolist() == [-1, 0, 1]
    assert (int(cg.max[1]), int(cg.low[1]), int(cg.swap_max[1])) == (256, 1, PAGE_COUNTER_MAX)
    assert cg.chain[2] == [2, 1, 0] and cg.subtree[1] == [1, 2]


def test_charge_batches_stock_and_failcnt_known_answer() -> None:
    """100 faults under a 100-page limit: one batch of 64 (63 to the stock... all 64 used), then 36 single-page
    charges whose batch attempt each fails once: failcnt 36, usage 100, nothing left in the stock."""
    cg = table("  - {name: a, version: 1, memory.limit_in_bytes: 409600}\n")  # 100 pages
    m = FakeMachine()
    m.memcg = cg
    got, spent = charge_pages(m, FakeTask(1), 100, 0, 10**9)  # type: ignore[arg-type]
    assert (got, spent) == (100, 0)
    assert (int(cg.usage[1]), int(cg.failcnt[1]), cg.stocked(1)) == (100, 36, 0)
    assert int(cg.usage[0]) == 100  # the root's counter is charged hierarchically


def test_a_charge_leaves_the_rest_of_its_batch_in_the_stock_and_uncharge_balances() -> None:
    cg = table("  - {name: a, memory.max: 1G}\n")
    m = FakeMachine()
    m.memcg = cg
    got, _ = charge_pages(m, FakeTask(1), 10, 0, 10**9)  # type: ignore[arg-type]
    assert got == 10 and int(cg.usage[1]) == MEMCG_CHARGE_BATCH and cg.stocked(1) == MEMCG_CHARGE_BATCH - 10
    frames = np.arange(10, dtype=np.int64)
    cg.commit_charge(frames, 1)
    cg.uncharge_frames(frames)  # freed: straight to the counter, not the stock
    assert int(cg.usage[1]) == MEMCG_CHARGE_BATCH - 10 == cg.stocked(1) and int(cg.pages[1]) == 0
    cg.drain_all_stock(1)
    assert int(cg.usage[1]) == 0 == int(cg.usage[0])
    assert report(cg, 1)["pgpgin"] == 10 == report(cg, 1)["pgpgout"]


def test_refill_stock_drains_past_a_batch() -> None:
    cg = table("  - {name: a}\n")
    cg.charge_counters(1, 100)
    cg.refill_stock(0, 1, 40)
    cg.refill_stock(0, 1, 30)  # 70 > MEMCG_CHARGE_BATCH: drain_stock gives it all back
    assert cg.stocked(1) == 0 and int(cg.usage[1]) == 30


def test_a_parents_limit_refuses_a_childs_charge_at_the_parent() -> None:
    cg = table(
        "  - {name: p, version: 1, memory.limit_in_bytes: 64K}\n  - {name: c, version: 1, parent: p}\n"
    )  # 16 pages at the parent
    assert cg.try_counters(2, 16) == (-1, False)
    assert cg.try_counters(2, 1) == (1, False)  # the parent's counter refused
    assert (int(cg.failcnt[1]), int(cg.failcnt[2]), int(cg.usage[2])) == (1, 0, 16)


def test_v1_memsw_counts_memory_and_swap_together() -> None:
    cg = table("  - {name: t, version: 1, memory.limit_in_bytes: 1G, memory.memsw.limit_in_bytes: 80K}\n")
    assert cg.try_counters(1, 20) == (-1, False)
    assert cg.try_counters(1, 1) == (1, True)  # memsw (20 pages) refused first: no swapping for this reclaim
    frames = np.arange(20, dtype=np.int64)
    cg.commit_charge(frames, 1)
    slots = np.arange(100, 120, dtype=np.int64)
    cg.swapout(frames[:5], slots[:5])  # memcg1_swapout: memory goes, memsw moves to the slots
    assert (int(cg.usage[1]), int(cg.memsw[1]), cg.swap_pages(1)) == (15, 20, 5)
    cg.swapin_uncharge_swap(slots[:2])  # swapped back in (and charged again elsewhere): the slots drop theirs
    cg.uncharge_swap(slots[2:5])
    assert (int(cg.memsw[1]), cg.swap_pages(1)) == (15, 0)


def test_v2_swap_max_refuses_past_the_limit() -> None:
    cg = table("  - {name: a, memory.swap.max: 12K}\n")  # 3 slots
    frames = np.arange(5, dtype=np.int64)
    cg.commit_charge(frames, 1)
    ok = cg.try_charge_swap(frames)
    assert ok.tolist() == [True, True, True, False, False]
    cg.record_swap(frames[ok], np.arange(3, dtype=np.int64))
    assert cg.swap_pages(1) == 3 and report(cg, 1)["events.swap_max"] == 1
    cg.uncharge_swap(np.arange(3, dtype=np.int64))
    assert cg.swap_pages(1) == 0 and int(cg.swap[0]) == 0


def test_effective_protection_known_answers() -> None:
    """A child of the reclaim target keeps its own memory.low; deeper, the parent's effective low is shared in
    proportion to protected usage (page_counter.c effective_protection)."""
    cg = table(
        "  - {name: p, memory.low: 400K}\n"  # 100 pages
        "  - {name: x, parent: p, memory.low: 400K}\n"
        "  - {name: y, parent: p, memory.low: 400K}\n"
    )
    cg.usage[1:] = [150, 90, 60]
    assert cg.effective_protection(0, 1) == (0, 100)
    # siblings protect min(90, 100) + min(60, 100) = 150 > the parent's 100: x gets 90 * 100 // 150
    assert cg.effective_protection(0, 2) == (0, 60) and cg.effective_protection(0, 3) == (0, 40)
    assert cg.below_low(0, 1) is False  # 150 used > 100
    cg.usage[1] = 100
    assert cg.below_low(0, 1) is True and cg.below_low(1, 1) is False  # never for the target itself


def test_limit_reclaim_counts_as_the_kernel_does() -> None:
    """A 48 MiB usemem in a 16 MiB v2 cgroup on a roomy machine: every reclaim is limit reclaim in the task, so
    pgscan/pgsteal_direct/kswapd and allocstall stay 0 in /proc/vmstat while pgscan_anon, pgsteal_anon, the swap
    counters, failcnt and memory.events max move; the cgroup's memory.stat has the reclaim as pgscan_direct."""
    m = machine(
        "  - {name: lim, memory.max: 16M}\n",
        "- {name: um, kind: usemem, size: 48MiB, passes: 2, cgroup: lim}",
        memory="256MiB",
        duration="3s",
    )
    m.step(1500)
    v = m.vm
    assert v["pgscan_anon"] > 0 and v["pgsteal_anon"] > 0 and v["pswpout"] > 0
    for name in ("pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "allocstall_movable"):
        assert v[name] == 0, name
    r = report(m.memcg, 1)  # type: ignore[arg-type]
    assert r["pgscan_direct"] == v["pgscan_anon"] and r["pgsteal_direct"] == v["pgsteal_anon"]
    assert r["failcnt"] == 0  # v2 counters keep no failcnt (page_counter track_failcnt: v1 only)
    assert r["events.max"] > 0 and r["max_usage_in_bytes"] <= 16 << 20


def test_memcg_oom_kills_inside_the_cgroup_only() -> None:
    """No swap: a cgroup's usemem over its memory.max is OOM-killed; a root workload beside it is not."""
    m = machine(
        "  - {name: lim, memory.max: 8M}\n",
        "- {name: big, kind: usemem, size: 24MiB, cgroup: lim}\n- {name: other, kind: usemem, size: 8MiB}",
        memory="128MiB",
        devices="- {name: d0, kind: zram, size: 2MiB}",
        duration="2s",
    )
    m.step(1000)
    big = next(p for p in m.procs if p.name == "big")
    other = next(p for p in m.procs if p.name == "other")
    assert big.killed and not other.killed
    r = report(m.memcg, 1)  # type: ignore[arg-type]
    assert r["events.oom_kill"] == 1 and r["events.oom"] >= 1 and m.vm["oom_kill"] == 1


def test_memory_low_protects_a_cgroup_from_its_neighbours_pressure() -> None:
    """Two cgroups under a parent's memory.max; the one with memory.low keeps its pages, the other is reclaimed."""
    cgroups = (
        "  - {name: top, memory.max: 24M}\n"
        "  - {name: safe, parent: top, memory.low: 12M}\n"
        "  - {name: noisy, parent: top}\n"
    )
    work = (
        "- {name: s, kind: hotcold, size: 10MiB, hot_size: 9MiB, cgroup: safe}\n"
        "- {name: n, kind: usemem, size: 40MiB, passes: 3, start: 200ms, cgroup: noisy}"
    )
    m = machine(cgroups, work, memory="256MiB", duration="3s")
    m.step(1500)
    cg = m.memcg
    assert cg is not None
    assert report(cg, 3)["pgsteal"] > 0
    assert report(cg, 2)["pgsteal"] == 0 and int(cg.usage[2]) >= 2000


@st.composite
def cgroup_scenarios(draw) -> tuple[str, str, dict]:
    version = draw(st.sampled_from([1, 2]))
    limit = draw(st.integers(4, 24))
    rows = []
    if version == 1:
        rows.append(
            f"  - {{name: a, version: 1, memory.limit_in_bytes: {limit}M, memory.swappiness: "
            f"{draw(st.sampled_from([0, 60, 200]))}}}"
        )
        rows.append("  - {name: b, version: 1, parent: a}")
    else:
        swap = draw(st.sampled_from(["max", "2M", "0"]))
        rows.append(f"  - {{name: a, memory.max: {limit}M, memory.swap.max: {swap}}}")
        rows.append(f"  - {{name: b, parent: a, memory.low: {draw(st.integers(0, 8))}M}}")
    kinds = draw(st.lists(st.sampled_from(["usemem", "hotcold", "filecache"]), min_size=1, max_size=3))
    wl = []
    for i, k in enumerate(kinds):
        size = draw(st.integers(4, 24))
        where = draw(st.sampled_from(["a", "b", "root"]))
        extra = f", hot_size: {max(1, size // 4)}MiB" if k == "hotcold" else ", passes: 2" if k == "usemem" else ""
        wl.append(f"- {{name: w{i}, kind: {k}, size: {size}MiB{extra}, cgroup: {where}}}")
    kw = {
        "memory": draw(st.sampled_from(["48MiB", "96MiB"])),
        "devices": f"- {{name: d0, kind: {draw(st.sampled_from(['zram', 'ssd']))}, size: 32MiB}}",
        "seed": draw(st.integers(0, 100)),
        "extra_swap": f"design: {draw(st.sampled_from(['classic', 'swap_table', 'vswap']))}",
    }
    return "\n".join(rows) + "\n", "\n".join(wl), kw


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cgroup_scenarios())
def test_random_cgroup_scenarios_keep_every_invariant(case: tuple[str, str, dict]) -> None:
    """check_memcg every tick: every user page charged to one cgroup and on its lruvec, usage = pages + stock,
    swap (v2) or memsw (v1) charges = the slots swap_cgroup gives the subtree, usage never over the limit."""
    cgroups, workloads, kw = case
    m = machine(cgroups, workloads, duration="1s", **kw)
    m.step(250)


def test_memory_high_penalty_curve_known_answers() -> None:
    """calculate_overage / calculate_high_delay: 10 % over memory.high costs a 64-page batch 639 jiffies
    (quadratic: 100 % over is 100x that, before the 2 s clamp), a 32-page share half; at or under high, 0."""
    from swaptui.model.memcontrol import calculate_high_delay, calculate_overage

    assert calculate_overage(1000, 1000) == 0 and calculate_overage(1100, 1000) == 104857
    assert calculate_high_delay(64, 104857) == 639 and calculate_high_delay(32, 104857) == 319
    assert calculate_high_delay(64, calculate_overage(2000, 1000)) == 64000
    assert calculate_high_delay(64, 0) == 0


def test_memory_high_reclaims_and_throttles_the_task_above_it() -> None:
    """memory.high 8M, no memory.max: the task reclaims on its way back to user space (memory.events high), and
    its cgroup stays near high instead of growing to the 24 MiB it maps."""
    m = machine(
        "  - {name: h, memory.high: 8M}\n",
        "- {name: um, kind: usemem, size: 24MiB, passes: 2, cgroup: h}",
        memory="128MiB",
        duration="2s",
    )
    m.step(800)
    r = report(m.memcg, 1)  # type: ignore[arg-type]
    assert r["events.high"] > 0 and r["events.max"] == 0 and r["pgsteal"] > 0
    assert r["max_usage_in_bytes"] < 12 << 20


def test_memory_reclaim_event_reclaims_the_amount_proactively() -> None:
    """{at, do: reclaim, cgroup, amount}: memory_reclaim takes 8 MiB from the cgroup, counted as
    pgsteal_proactive in its memory.stat and not as kswapd or direct reclaim anywhere."""
    text = small_scenario_yaml(
        workloads="- {name: hc, kind: hotcold, size: 24MiB, hot_size: 4MiB, cgroup: a}",
        memory="128MiB",
        duration="1s",
    )
    text += "cgroups:\n  - {name: a}\nevents:\n  - {at: 500ms, do: reclaim, cgroup: a, amount: 8MiB, swappiness: 200}\n"
    m = Machine(load_scenario_text(text, check_memory=False), check_invariants=True)
    m.step(499)
    before = int(m.memcg.usage[1])  # type: ignore[union-attr]
    m.step(2)
    r = report(m.memcg, 1)  # type: ignore[arg-type]
    assert r["pgsteal_proactive"] >= 8 * MIB and r["pgsteal_direct"] == 0 == m.vm["pgsteal_direct"]
    assert before - int(m.memcg.usage[1]) >= 7 * MIB  # type: ignore[union-attr]
    assert any("memory.reclaim of a" in e.text for e in m.events)
