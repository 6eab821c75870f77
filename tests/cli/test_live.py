"""`swaptui live`: headless sampling of this machine's /proc, recording in the format of traces/, bad options."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swaptui.procfs import Sampler
from swaptui.trace_player import LivePlayer, TraceWriter, load_trace_player
from swaptui.traces import load_trace

needs_proc = pytest.mark.skipif(not os.access("/proc/vmstat", os.R_OK), reason="no Linux /proc/vmstat to sample")


def swaptui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "swaptui", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


@needs_proc
def test_headless_record_then_replay_loads(tmp_path: Path) -> None:
    f = tmp_path / "rec.jsonl"
    start = time.monotonic()
    r = swaptui("live", "--headless", "--record", str(f), "--samples", "3", "--interval", "50ms")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 30
    assert f"recorded 3 samples to {f}" in r.stdout and "ms per sample" in r.stdout
    rows = [json.loads(line) for line in f.read_text().splitlines()]
    assert [s["seq"] for s in rows] == [0, 1, 2]
    # Speed-independent: sample k is never taken before its slot (k x 50 ms after the start), however slow the machine.
    assert all(rows[k]["t_ms"] >= k * 50 for k in range(3)) and rows[0]["t_ms"] < rows[1]["t_ms"] < rows[2]["t_ms"]
    assert all(isinstance(s["vmstat"]["nr_free_pages"], int) for s in rows)
    meta = json.loads((tmp_path / "rec.meta.json").read_text())
    assert meta["complete"] is True and meta["n_samples"] == 3 and meta["interval_ms"] == 50
    assert meta["source"] == "live" and "vm_memtotal_kb" in meta
    trace = load_trace(f)  # the validate and replay reader takes it as it takes traces/
    assert len(trace.samples) == 3 and trace.delta("pgfault") >= 0
    player = load_trace_player(f)
    assert player.last_tick == 2 and player.info.name == "rec"
    s = player.snapshot_at(2)
    assert s.source == "trace" and s.nr_free == rows[2]["vmstat"]["nr_free_pages"] and sum(s.free_area) > 0
    assert s.watermarks[2] > 0  # from the samples' own /proc/zoneinfo


@needs_proc
def test_headless_without_record_prints_a_line_per_sample() -> None:
    r = swaptui("live", "--headless", "--samples", "2", "--interval", "20ms")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and "free" in lines[0] and "pswpout —" in lines[0] and "pswpout" in lines[1]


def test_live_bad_options_exit_2(tmp_path: Path) -> None:
    for args, expected in [
        (("--interval", "5"), "--interval: missing unit"),
        (("--interval", "1ms"), "--interval: expected 10ms or more; got 1ms"),
        (("--samples", "0"), "--samples: expected a whole number from 1 up; got 0"),
        (("--record", str(tmp_path / "no" / "such" / "dir.jsonl")), "dir.jsonl: cannot write: the directory"),
    ]:
        r = swaptui("live", "--headless", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert expected in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = swaptui("live")
    assert r.returncode == 2 and "the app needs a terminal; `swaptui live --headless`" in r.stderr


@needs_proc
def test_live_player_samples_in_the_background_and_records(tmp_path: Path) -> None:
    sampler = Sampler()
    writer = TraceWriter(tmp_path / "bg.jsonl", sampler.meta(20_000_000, "bg"))
    p = LivePlayer(sampler, 20_000_000, writer, samples=4)
    deadline = time.monotonic() + 10
    while p.last_tick < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert p.last_tick == 3 and p.finished and p.source == "live"
    p.go_to(3)
    assert p.at_end() and p.snapshot().source == "live"
    p.close()
    assert len((tmp_path / "bg.jsonl").read_text().splitlines()) == 4
    assert json.loads((tmp_path / "bg.meta.json").read_text())["complete"] is True
    assert max(p.sample_ms) < 1000


def test_cadence_skips_missed_slots_instead_of_sampling_back_to_back() -> None:
    """Regression: after a slow sample the sampler fired at once (two samples less than an interval apart)."""
    from swaptui.procfs import Cadence

    now = [0.0]
    c = Cadence(0.05, clock=lambda: now[0])

    def sleep(s: float) -> None:
        now[0] += s

    starts = [now[0]]
    for cost in (0.01, 0.13, 0.01, 0.2, 0.0):  # the second and fourth samples take longer than the interval
        now[0] += cost
        c.wait(sleep)
        starts.append(now[0])
    assert [round(t / 0.05, 6) for t in starts] == [0, 1, 4, 5, 10, 11]  # on slots from one start, none made up
    assert c.missed == 6 and all(b - a >= 0.05 - 1e-9 for a, b in itertools.pairwise(starts))
