"""`swaptui run`: headless runs, series files, determinism and bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import ZRAM, swaptui, tiny_scenario

from swaptui.cli import main

SCENARIO = tiny_scenario("tiny", ZRAM)


def test_run_prints_counters_and_writes_identical_series(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(SCENARIO)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    r1 = swaptui("run", str(f), "--json", str(a), "--csv", str(tmp_path / "a.csv"))
    r2 = swaptui("run", str(f), "--json", str(b))
    assert r1.returncode == 0, r1.stderr
    assert r2.returncode == 0, r2.stderr
    assert "pswpout" in r1.stdout and "kswapd share of reclaim" in r1.stdout
    assert a.read_bytes() == b.read_bytes()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    assert len(rows) == 301 and rows[0]["tick"] == 0 and rows[-1]["tick"] == 300
    assert rows[-1]["vmstat"]["pswpout"] > 0
    csv_lines = (tmp_path / "a.csv").read_text().splitlines()
    assert csv_lines[0].startswith("tick,t_ns,nr_free_pages") and len(csv_lines) == 302


def test_run_ticks_duration_every_and_seed(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(SCENARIO)
    out = tmp_path / "s.jsonl"
    r = swaptui("run", str(f), "--duration", "50ms", "--every", "10", "--json", str(out), "--seed", "9")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["tick"] for x in out.read_text().splitlines()] == [0, 10, 20, 30, 40, 50]
    r = swaptui("run", str(f), "--ticks", "5")
    assert r.returncode == 0 and "5 ticks" in r.stdout


def test_run_bad_arguments_exit_2_without_traceback(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(SCENARIO)
    for args in (["--duration", "5"], ["--duration", "fast"], ["--every", "0"], ["--ticks", "-3"]):
        r = swaptui("run", str(f), *args)
        assert r.returncode == 2, args
        assert "Traceback" not in r.stderr and r.stderr.startswith("swaptui: ")
    r = swaptui("run", str(f), "--json", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("memory: 48MiB", "memory: 48"))
    r = swaptui("run", str(bad))
    assert r.returncode == 2 and "bad.yaml:5" in r.stderr and "machine.memory" in r.stderr


def test_the_first_run_says_it_compiles_and_later_runs_do_not(tmp_path: Path, monkeypatch) -> None:
    """At a terminal, one line before the first run of these sources compiles the kernels; once a run has
    ended, none. With standard error not a terminal (a pipe, CI's log) the line is never written, so an
    error stays the only line there even on a fresh machine."""
    import atexit
    import contextlib
    import io

    from swaptui.model import jit

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stamp = tmp_path / "swaptui-compiled-test"
    monkeypatch.setattr(jit, "_stamp", lambda: stamp)
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    piped = swaptui("run", "usemem-zram", "--ticks", "5")
    assert piped.returncode == 0 and "compiling" not in piped.stderr
    assert registered == [jit.mark_compiled]
    terminal = Terminal()
    with contextlib.redirect_stderr(terminal):
        assert main(["run", "usemem-zram", "--ticks", "5"]) == 0
    assert terminal.getvalue().count("compiling the model, first run only") == 1
    jit.mark_compiled()  # what the first run's interpreter does at exit
    assert stamp.exists()
    again = Terminal()
    with contextlib.redirect_stderr(again):
        assert main(["run", "usemem-zram", "--ticks", "5"]) == 0
    assert "compiling" not in again.getvalue()


def test_run_shows_each_cgroups_counters_in_the_table_json_and_csv(tmp_path: Path) -> None:
    f = tmp_path / "cg.yaml"
    f.write_text(
        SCENARIO.replace("machine: {memory: 48MiB", "machine: {memory: 96MiB").replace(
            "passes: 2}", "passes: 2, cgroup: box}\ncgroups:\n  - {name: box, memory.max: 16M}"
        )
    )
    out, csv_out = tmp_path / "cg.jsonl", tmp_path / "cg.csv"
    r = swaptui("run", str(f), "--json", str(out), "--csv", str(csv_out))
    assert r.returncode == 0, r.stderr
    assert "memory cgroups" in r.stdout and "events.max" in r.stdout and "box" in r.stdout
    last = json.loads(out.read_text().splitlines()[-1])
    box = last["memcg"]["box"]
    assert box["events.max"] > 0 and box["max_usage_in_bytes"] <= 16 << 20 and box["pgscan_direct"] > 0
    assert last["vmstat"]["pgscan_direct"] == 0 and last["vmstat"]["pgscan_anon"] == box["pgscan"]
    header = csv_out.read_text().splitlines()[0].split(",")
    assert "memcg.box.events.max" in header and "memcg.box.usage_in_bytes" in header
