"""The trace reader on the recorded real-kernel traces (traces/), and the comparison's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from swaptui.traces import TraceError, load_trace
from swaptui.validate import (
    ModelRun,
    at_progress,
    by_progress,
    comparison_rows,
    phase_deltas,
    phase_rows,
    render,
    scan_ratio,
    share,
    shares,
)

TRACES = Path(__file__).resolve().parents[1] / "traces"  # the recorded kernel traces in this repository


@pytest.mark.parametrize(
    "name, pswpout, pswpin, ra",
    [
        ("usemem_disk", 477889, 389876, 340937),
        ("usemem_zram", 643555, 393231, 0),
        ("usemem_disk_mglru", 477620, 393235, 344069),
        ("native_usemem_zram", 525118, 393235, 0),
        ("native_usemem_disk", 399702, 393244, 344069),
    ],
)
def test_recorded_traces_read_and_match_their_readme(name: str, pswpout: int, pswpin: int, ra: int) -> None:
    t = load_trace(TRACES / f"{name}.jsonl")
    # The name comes from the meta file: the native runs kept their recording names (first repetition).
    assert t.name == (name.removeprefix("native_") + ".r1" if name.startswith("native_") else name)
    assert len(t.samples) > 300  # 100 ms apart, 30 to 71 s of workload
    assert t.delta("pswpout") == pswpout and t.delta("pswpin") == pswpin and t.delta("swap_ra") == ra
    assert t.delta("allocstall") == sum(t.delta(k) for k in ("allocstall_normal", "allocstall_movable"))
    p = t.progress()
    assert p[0] == 0 and p[-1] == 1 and (np.diff(p) >= 0).all()
    # Swap-ins happen only in the second (reread) half of the workload.
    pin = t.counter("pswpin")
    assert pin[p <= 0.49].max() - pin[0] < 0.01 * t.delta("pswpin")


def test_bad_trace_files_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text('{"vmstat": {"pswpout": 1}}\nnot json\n')
    with pytest.raises(TraceError, match=r"x.jsonl:2: not a JSON object"):
        load_trace(f)
    f.write_text('{"seq": 1}\n')
    with pytest.raises(TraceError, match="expected a sample with a 'vmstat' object"):
        load_trace(f)
    with pytest.raises(TraceError, match="cannot read"):
        load_trace(tmp_path / "missing.jsonl")


def _trace(tmp_path: Path, rows: list[dict]):
    f = tmp_path / "t.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return load_trace(f)


def test_comparison_arithmetic(tmp_path: Path) -> None:
    rows = [
        {
            "vmstat": {"pswpout": 100, "pgsteal_kswapd": 0, "pgsteal_direct": 0, "pswpin": 0},
            "phase": "alloc",
            "progress": {"done": 0, "total": 10},
        },
        {
            "vmstat": {"pswpout": 1100, "pgsteal_kswapd": 900, "pgsteal_direct": 100, "pswpin": 50},
            "phase": "reread",
            "progress": {"done": 10, "total": 10},
        },
    ]
    t = _trace(tmp_path, rows)
    counters = {
        c: np.array([0, 0])
        for c in (
            "pswpout",
            "pswpin",
            "pgsteal_kswapd",
            "pgsteal_direct",
            "pgscan_kswapd",
            "pgscan_direct",
            "allocstall",
            "swap_ra",
            "swap_ra_hit",
            "workingset_refault_anon",
            "pgmajfault",
            "pgfault",
        )
    }
    counters["pswpout"] = np.array([0, 1150])  # +15 %: within target
    counters["pswpin"] = np.array([0, 70])  # +40 %: a miss
    counters["pgsteal_kswapd"] = np.array([0, 800])
    counters["pgsteal_direct"] = np.array([0, 200])
    run = ModelRun(np.array([0.0, 1.0]), counters, 10)
    got = {r[0]: r for r in comparison_rows(run, t)}
    assert got["pswpout"][3] == pytest.approx(1.15) and got["pswpout"][4] is True
    assert got["pswpin"][3] == pytest.approx(1.4) and got["pswpin"][4] is False
    assert got["pgsteal_kswapd"][4] is None  # no target: it depends on timing
    assert shares(run, t) == (pytest.approx(0.8), pytest.approx(0.9))
    assert share(0, 0) == 0.0
    assert by_progress(np.array([0.0, 0.5, 1.0]), np.array([0.0, 10.0, 30.0]), bins=2).tolist() == [10.0, 20.0]


def test_reclaim_is_split_by_workload_phase_on_both_sides(tmp_path: Path) -> None:
    # Kernel: 4 samples, alloc then reread; 300 pages reclaimed by kswapd in alloc, 600 in reread, and 100 more
    # while the workload frees (progress stays 1: that counts in the last phase).
    def sample(phase: str, done: int, k: int, d: int, scan: int) -> dict:
        return {
            "phase": phase,
            "progress": {"done": done, "total": 10},
            "vmstat": {
                "pgsteal_kswapd": k,
                "pgsteal_direct": d,
                "pgscan_kswapd": scan,
                "pgscan_direct": 2 * d,
                "allocstall_movable": d // 32,
            },
        }

    t = _trace(
        tmp_path,
        [
            sample("alloc", 0, 0, 0, 0),
            sample("alloc", 10, 300, 100, 600),
            sample("reread", 10, 900, 100, 1500),
            sample("free", 0, 1000, 100, 1600),
        ],
    )
    assert t.phases() == ["alloc", "reread"]
    assert at_progress(np.array([0.0, 0.5, 1.0]), np.array([0, 10, 30]), 0.25) == 5.0
    assert at_progress(np.array([0.0, 1.0, 1.0]), np.array([0, 10, 30]), 1.0) == 30.0  # the last value at 1
    counters = {
        "pgsteal_kswapd": np.array([0, 100, 400]),
        "pgsteal_direct": np.array([0, 100, 100]),
        "pgscan_kswapd": np.array([0, 200, 500]),
        "pgscan_direct": np.array([0, 400, 400]),
        "allocstall": np.array([0, 3, 3]),
    }
    model = phase_deltas(np.array([0.0, 0.5, 1.0]), counters, 2)
    assert model[0] == {
        "pgsteal_kswapd": 100,
        "pgsteal_direct": 100,
        "pgscan_kswapd": 200,
        "pgscan_direct": 400,
        "allocstall": 3,
    }
    assert model[1]["pgsteal_kswapd"] == 300 and model[1]["pgsteal_direct"] == 0
    assert scan_ratio(model[0], "direct") == 4.0 and scan_ratio(model[1], "direct") is None
    run = ModelRun(
        np.array([0.0, 0.5, 1.0]),
        counters
        | {
            c: np.zeros(3, dtype=np.int64)
            for c in ("pswpout", "pswpin", "swap_ra", "swap_ra_hit", "workingset_refault_anon", "pgmajfault", "pgfault")
        },
        10,
    )
    (alloc, _, k0), (reread, _, k1) = phase_rows(run, t)
    assert (alloc, reread) == ("alloc", "reread")
    assert k0["pgsteal_kswapd"] == 300 and k0["pgscan_kswapd"] == 600 and k0["allocstall"] == 3
    assert k1["pgsteal_kswapd"] == 700 and k1["pgsteal_direct"] == 0  # reread plus what followed it
    text, _ = render(run, t, "tiny")
    assert "reclaim by workload phase" in text and "0.500 / 0.750" in text


# -- every field of the wrong type is one line `file:line: field: expected X, got Y` (issue 11) -----------

GOOD = {
    "t_ms": 0.0,
    "phase": "alloc",
    "progress": {"done": 1, "total": 10},
    "vmstat": {"pswpout": 1},
    "meminfo_kb": {"MemTotal": 1000},
    "buddyinfo": {"DMA": [1, 2]},
    "zram": {"orig_data_size": 4096},
    "swaps": [{"dev": "/dev/zram0", "size_kb": 100, "used_kb": 0}],
    "procs": [{"pid": 1, "comm": "x"}],
}


def _with(**changes: object) -> dict:
    sample = json.loads(json.dumps(GOOD))
    sample.update(changes)
    return sample


@pytest.mark.parametrize(
    "bad, message",
    [
        (_with(vmstat=5), "vmstat: expected an object, got 5"),
        (_with(vmstat={"pswpout": "12"}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got '12'"),
        (_with(vmstat={"pswpout": None}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got null"),
        (_with(vmstat={"pswpout": [1]}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got [1]"),
        (
            _with(vmstat={"pswpout": float("nan")}),
            "vmstat.pswpout: expected an integer (a counter, 0 or more), got nan",
        ),
        (_with(vmstat={"pswpout": 1.5}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got 1.5"),
        (_with(vmstat={"pswpout": True}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got true"),
        (_with(vmstat={"pswpout": -3}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got -3"),
        (_with(vmstat={"pswpout": 2**64}), "vmstat.pswpout: expected an integer (a counter, 0 or more), got 1844674"),
        (_with(phase=1.5), "phase: expected text, got 1.5"),
        (_with(phase=["alloc"]), 'phase: expected text, got ["alloc"]'),
        (_with(progress="half"), "progress: expected an object, got 'half'"),
        (_with(progress={"done": "1", "total": 10}), "progress.done: expected an integer, got '1'"),
        (_with(zram=[4096]), "zram: expected an object, got [4096]"),
        (_with(zram={"orig_data_size": "4k"}), "zram.orig_data_size: expected an integer (a counter, 0 or more)"),
        (_with(meminfo_kb=[1000]), "meminfo_kb: expected an object, got [1000]"),
        (_with(buddyinfo={"DMA": [1, "x"]}), "buddyinfo.DMA[1]: expected an integer, got 'x'"),
        (_with(buddyinfo=[1, 2]), "buddyinfo: expected an object, got [1, 2]"),
        (_with(swaps={"dev": "x"}), 'swaps: expected a list, got {"dev": "x"}'),
        (_with(procs=[{"pid": "1"}]), "procs[0].pid: expected an integer, got '1'"),
        (_with(t_ms="0"), "t_ms: expected a number, got '0'"),
    ],
)
def test_each_wrongly_typed_field_is_one_line(tmp_path: Path, bad: dict, message: str) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(json.dumps(GOOD) + "\n" + json.dumps(bad, allow_nan=True) + "\n")
    with pytest.raises(TraceError) as caught:
        load_trace(f)
    assert str(caught.value).startswith(f"{f}:2: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"vmstat": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}", ":1: not a JSON object: nested too deeply"),
        ('{"vmstat": {}, "pad": "' + "x" * (1 << 20) + '"}', ":1: the line is too long: 1,048,601 characters"),
    ],
    ids=["deep", "huge"],
)
def test_deep_nesting_and_huge_lines_are_refused(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(line + "\n")
    with pytest.raises(TraceError, match=message):
        load_trace(f)


@pytest.mark.parametrize(
    "meta, message",
    [
        ('{"interval_ms": 100', "t.meta.json:1: not JSON: Expecting ',' delimiter"),
        ('{"interval_ms": "100"}', "t.meta.json: interval_ms: expected a number, got '100'"),
        ('{"interval_ms": 0}', "t.meta.json: interval_ms: expected a number above 0, got 0"),
        ('{"constant": {"vmstat": [1]}}', "t.meta.json: constant.vmstat: expected an object, got [1]"),
        ('{"workload_argv": [1]}', "t.meta.json: workload_argv[0]: expected text, got 1"),
        ('{"scenario": ["x"]}', 't.meta.json: scenario: expected text, got ["x"]'),
        ('{"workload_exit": []}', "t.meta.json: workload_exit: expected an object, got []"),
        ('{"swaps_at_start": [{"dev": 1}]}', "t.meta.json: swaps_at_start[0].dev: expected text, got 1"),
        ('{"zone_watermarks_pages": {"DMA": {"min": "x"}}}', "zone_watermarks_pages.DMA.min: expected an integer"),
        ("[" * 100_000, "t.meta.json: cannot read: nested too deeply"),
    ],
)
def test_a_broken_or_wrongly_typed_meta_file_is_one_line(tmp_path: Path, meta: str, message: str) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(json.dumps(GOOD) + "\n")
    (tmp_path / "t.meta.json").write_text(meta)
    with pytest.raises(TraceError) as caught:
        load_trace(f)
    assert message in str(caught.value) and "\n" not in str(caught.value), str(caught.value)


def test_control_characters_from_a_trace_are_shown_escaped(tmp_path: Path) -> None:
    from swaptui.trace_player import TracePlayer

    f = tmp_path / "t.jsonl"
    f.write_text(json.dumps(_with(procs=[{"pid": 1, "comm": "evil\x1b]0;owned\x07"}])) + "\n")
    (tmp_path / "t.meta.json").write_text(
        json.dumps(
            {"scenario": "a\x1b[2Jb", "description": "one\nline\x00", "kernel_version": "Linux version 6.1\x1b[31m x"}
        )
    )
    player = TracePlayer(load_trace(f))
    info = player.info
    assert (info.name, info.description, info.kernel) == ("a\\x1b[2Jb", "one\nline\\x00", "6.1\\x1b[31m")
    (process,) = player.snapshot_at(0).processes
    assert process.name == "evil\\x1b]0;owned\\x07"
    bad = tmp_path / "b\x1bad.jsonl"
    bad.write_text("{oops\n")
    with pytest.raises(TraceError) as caught:
        load_trace(bad)
    assert "\x1b" not in str(caught.value) and "b\\x1bad.jsonl:1" in str(caught.value)


def test_validate_and_replay_refuse_a_bad_trace_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from swaptui.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nduration: 5ms\nmachine: {memory: 16MiB}\nworkloads: [{name: u, kind: usemem, size: 1MiB}]\n"
    )
    trace = tmp_path / "t.jsonl"
    trace.write_text(json.dumps(_with(vmstat={"pswpout": "x"})) + "\n")
    for argv in (["validate", str(scenario), str(trace)], ["replay", str(trace)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.splitlines() == [
            f"swaptui: {trace}:1: vmstat.pswpout: expected an integer (a counter, 0 or more), got 'x'"
        ]


def test_prune_sample_leaves_out_only_what_the_schema_refuses() -> None:
    from swaptui.traces import check_sample, prune_sample

    s = {
        "vmstat": {"pswpin": 3, "nr_free_pages": -1},
        "meminfo_kb": {"MemTotal": -8, "MemFree": 4},
        "buddyinfo": {"Normal": [1] * 100},
        "swaps": [{"size_kb": -1, "used_kb": 0}],
        "zones": {"Normal": {"min": 1}},
    }
    dropped = prune_sample(s)
    assert s == {"vmstat": {"pswpin": 3}, "meminfo_kb": {"MemFree": 4}, "zones": {"Normal": {"min": 1}}}
    assert dropped["vmstat"] == "vmstat.nr_free_pages: expected an integer (a counter, 0 or more), got -1"
    assert set(dropped) == {"vmstat", "meminfo_kb", "buddyinfo", "swaps"}
    check_sample(s, "t.jsonl:1")  # what is left loads
    assert prune_sample(s) == {}
