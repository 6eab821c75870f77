"""`swaptui replay`: the trace player on the recorded kernel traces (traces/), and bad trace files exiting 2 with file:line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from clihelpers import swaptui

from swaptui.model.snapshot import SAMPLE_NAMES
from swaptui.model.vmstat import NAMES
from swaptui.trace_player import TracePlayer, TraceSnapshot, load_trace_player
from swaptui.traces import TraceError, load_trace

TRACES = Path(__file__).resolve().parents[2] / "traces"  # the recorded kernel traces in this repository


@pytest.mark.parametrize("name, backend", [("usemem_disk", "partition"), ("usemem_zram", "zram")])
def test_trace_player_snapshots_hold_the_kernels_numbers(name: str, backend: str) -> None:
    trace = load_trace(TRACES / f"{name}.jsonl")
    p = TracePlayer(trace)
    assert p.tick == 0 and p.last_tick == len(trace.samples) - 1 and not p.at_end()
    assert p.info.kernel == "6.1.0-56-amd64" and p.info.tick == 100_000_000 and p.info.source == "trace"
    i = 300
    raw = trace.samples[i]
    s = p.snapshot_at(i)
    assert isinstance(s, TraceSnapshot) and s.source == "trace" and s.tick == i
    # Counters: the kernel's own, under the same names; the model's extras are marked not exported.
    assert s.counter("pswpout") == raw["vmstat"]["pswpout"] and s.counter("nr_free_pages") == s.nr_free
    assert s.counter("pgalloc_normal") == raw["vmstat"]["pgalloc_dma"] + raw["vmstat"]["pgalloc_dma32"]
    assert "pswpout" in s.exported and "swaptui_xa_lookups" not in s.exported and "nr_kernel_misc" not in s.exported
    assert s.counter("nr_inactive_file") == 0 and "nr_inactive_file" in s.exported  # a constant of the run (meta)
    # Buddy lists: the zones summed, order by order; per migratetype from pagetype_free.
    assert s.free_area == tuple(a + b for a, b in zip(raw["buddyinfo"]["DMA"], raw["buddyinfo"]["DMA32"]))
    assert (s.free_area_mt.sum(axis=1) <= np.array(s.free_area)).all() and s.free_area_mt.shape == (11, 3)
    # Watermarks: DMA + DMA32 from the meta file (the model's one merged zone).
    assert s.watermarks == (175 + 11088, 218 + 13860, 261 + 16632) and s.managed_pages == 3840 + 242028
    (dev,) = s.devices
    assert dev.kind == backend and dev.inuse == raw["swaps"][0]["used_kb"] // 4 and dev.nr_clusters == 0
    assert s.counter("swaptui_swap_used") == dev.inuse
    # What the kernel does not export stays empty, not zero-filled.
    assert len(s.frame_state) == 0 and len(s.cluster_flags) == 0 and len(s.xa_depth_hist) == 0
    (task,) = s.processes
    assert task.name == "usemem" and task.resident + task.swapped <= task.npages
    assert s.phase in ("alloc", "reread") and 0 <= s.progress <= 1
    if backend == "zram":
        assert s.zram_pool_pages == raw["zram"]["mem_used_total"] // 4096 > 0
        assert s.counter("swaptui_zram_stored") == raw["zram"]["orig_data_size"] // 4096


def test_trace_player_steps_seeks_and_keeps_history() -> None:
    p = load_trace_player(TRACES / "usemem_disk.jsonl")
    assert p.step(5) == 5 and p.tick == 5
    p.back(2)
    assert p.tick == 3
    p.go_to(10**9)
    assert p.at_end() and p.step(1) == 0
    p.restart()
    assert p.tick == 0 and p.snapshot().tick == 0
    ticks, times, values = p.history_arrays(last=50, upto=200)
    assert ticks.tolist() == list(range(151, 201)) and values.shape == (50, len(SAMPLE_NAMES))
    assert (np.diff(times) > 0).all()
    col = SAMPLE_NAMES.index("pswpout")
    assert values[-1, col] == p.snapshot_at(200).counter("pswpout")
    # Swap-out starts in the alloc phase: the events read off the counters say when kswapd and direct reclaim began.
    kinds = {e.kind for e in p.snapshot_at(p.last_tick).events}
    assert {"script", "kswapd", "direct"} <= kinds
    assert p.tick_at(p.snapshot_at(100).time_ns) == 100 and p.tick_at(-1) == 0
    # Counter deltas over the whole replay are the README's.
    first, last = p.snapshot_at(0), p.snapshot_at(p.last_tick)
    assert last.counter("pswpout") - first.counter("pswpout") == 477889
    assert len(NAMES) == len(last.counters)


def _write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_bad_samples_name_file_line_and_what_was_expected(tmp_path: Path) -> None:
    good = {"t_ms": 0, "vmstat": {"pswpout": 1}}
    cases = [
        ([good, {"t_ms": 100, "vmstat": {"pswpout": "many"}}], ":2: vmstat.pswpout: expected an integer"),
        ([good, {"t_ms": 100, "vmstat": {}, "buddyinfo": {"DMA": "x"}}], ":2: buddyinfo.DMA: expected a list"),
        (
            [good, {"t_ms": 100, "vmstat": {}, "swaps": [{"dev": "/dev/x"}]}],
            r":2: swaps\[0\]\.size_kb: expected this key",
        ),
        ([{"t_ms": 50, "vmstat": {}}, good], ":2: t_ms: expected a time at or after the previous sample's"),
        ([good, "", {"t_ms": 100, "vmstat": []}], ":3: vmstat: expected an object"),
    ]
    for rows, message in cases:
        f = _write(tmp_path / "t.jsonl", rows)
        with pytest.raises(TraceError, match=rf"t\.jsonl{message}"):
            load_trace_player(f)
    with pytest.raises(TraceError, match=re.escape("expected the samples beside it, x.jsonl")):
        load_trace_player(tmp_path / "x.meta.json")
    with pytest.raises(TraceError, match="a scenario opens with"):
        load_trace_player(tmp_path / "s.yaml")


def test_replay_errors_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [{"t_ms": 0, "vmstat": {}}, "{not json"])
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"vmstat": {}}\n\xff\xfe\n')
    meta_not_object = _write(tmp_path / "m.jsonl", [{"t_ms": 0, "vmstat": {}}])
    (tmp_path / "m.meta.json").write_text("[1, 2]\n")
    for args, expected in [
        ((str(tmp_path / "missing.jsonl"),), "missing.jsonl: cannot read: No such file or directory"),
        ((str(bad),), "bad.jsonl:2: not a JSON object"),
        ((str(binary),), "bin.jsonl:2: not UTF-8 text; expected JSON lines"),
        ((str(meta_not_object),), "m.meta.json: expected a JSON object"),
        (
            (str(_write(tmp_path / "v.jsonl", [{"t_ms": 0, "vmstat": {"x": 1.5}}])),),
            "v.jsonl:1: vmstat.x: expected an integer",
        ),
        ((str(tmp_path / "scenario.yaml"),), "expected a recorded trace (NAME.jsonl"),
        (
            (str(_write(tmp_path / "ok.jsonl", [{"t_ms": 0, "vmstat": {}}])), "--at", "5"),
            "--at: the trace has samples 0 to 0",
        ),
        ((str(tmp_path / "ok.jsonl"), "--speed", "0"), "--speed: expected a whole number from 1 up"),
    ]:
        r = swaptui("replay", *args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and lines[0].startswith("swaptui: "), (args, r.stderr)


def test_replay_of_a_good_trace_without_a_terminal_says_so() -> None:
    r = swaptui("replay", str(TRACES / "usemem_zram.jsonl"))
    assert r.returncode == 2 and "is a valid trace (540 samples), but the app needs a terminal" in r.stderr
