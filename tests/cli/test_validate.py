"""`swaptui validate`: a run checked against a trace; its own series passes, a doctored one does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

from clihelpers import swaptui, tiny_scenario

SCENARIO = tiny_scenario("tiny validate", seed=2, duration="400ms")


def test_validate_against_its_own_series_passes_and_a_doctored_one_fails(tmp_path: Path) -> None:
    f = tmp_path / "v.yaml"
    f.write_text(SCENARIO)
    trace = tmp_path / "own.jsonl"
    assert swaptui("run", str(f), "--json", str(trace)).returncode == 0
    r = swaptui("validate", str(f), str(trace))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "model/kernel" in r.stdout and "PASS" in r.stdout
    assert re.search(r"pswpout +model  [▁▂▃▄▅▆▇█]{40}\n", r.stdout), r.stdout  # the panes' one sparkline helper
    rows = [json.loads(x) for x in trace.read_text().splitlines()]
    rows[-1]["vmstat"]["pswpin"] *= 2
    bad = tmp_path / "doctored.jsonl"
    bad.write_text("\n".join(json.dumps(x) for x in rows) + "\n")
    r = swaptui("validate", str(f), str(bad))
    assert r.returncode == 1 and "MISS" in r.stdout


def test_validate_bad_trace_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "v.yaml"
    f.write_text(SCENARIO)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    r = swaptui("validate", str(f), str(bad))
    assert r.returncode == 2 and "bad.jsonl:1" in r.stderr and "Traceback" not in r.stderr


MEMCG_SCENARIO = """\
name: tiny memcg validate
seed: 2
tick: 1ms
duration: 600ms
machine: {memory: 128MiB, cpus: 2}
swap:
  devices:
    - {name: z0, kind: zram, size: 64MiB}
cgroups:
  - {name: lim, version: 1, memory.limit_in_bytes: 12M}
workloads:
  - {name: um, kind: usemem, size: 24MiB, passes: 2, cgroup: lim}
"""


def test_validate_compares_the_cgroup_and_holds_memcg_targets(tmp_path: Path) -> None:
    """A memcg trace (its samples carry `memcg`): the ±10 % targets, pgsteal_kswapd/direct and allocstall = 0,
    and the cgroup's memory.stat and failcnt beside the model cgroup's (--cgroup, default the only one)."""
    f = tmp_path / "m.yaml"
    f.write_text(MEMCG_SCENARIO)
    trace = tmp_path / "own.jsonl"
    assert swaptui("run", str(f), "--json", str(trace)).returncode == 0
    rows = [json.loads(x) for x in trace.read_text().splitlines()]
    assert rows[-1]["memcg"]["lim"]["failcnt"] > 0 and rows[-1]["vmstat"]["allocstall_movable"] == 0
    r = swaptui("validate", str(f), str(trace))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"lim: pgmajfault +│ +[0-9,]+ │ +[0-9,]+ │ +1\.000 │ ok \(±10 %\)", r.stdout), r.stdout
    assert re.search(r"pgsteal_direct +│ +0 │ +0 │ +— │ ok \(= 0\)", r.stdout) and "lim: failcnt" in r.stdout
    rows[-1]["memcg"]["lim"]["pgmajfault"] *= 2
    bad = tmp_path / "doctored.jsonl"
    bad.write_text("\n".join(json.dumps(x) for x in rows) + "\n")
    r = swaptui("validate", str(f), str(bad), "--cgroup", "lim")
    assert r.returncode == 1 and "MISS" in r.stdout
    r = swaptui("validate", str(f), str(trace), "--cgroup", "nope")
    assert r.returncode == 2 and "no cgroup named 'nope'" in r.stderr and "Traceback" not in r.stderr
