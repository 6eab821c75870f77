"""`swaptui validate`: a run checked against a trace; its own series passes, a doctored one does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

from clihelpers import swaptui

SCENARIO = """\
name: tiny validate
seed: 2
tick: 1ms
duration: 400ms
machine: {memory: 48MiB, cpus: 2}
swap:
  devices:
    - {name: d0, kind: ssd, size: 64MiB}
workloads:
  - {name: um, kind: usemem, size: 40MiB, passes: 2}
"""


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
