"""The trace reader on the shared real-kernel traces, and the comparison's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from swaptui.traces import TraceError, load_trace
from swaptui.validate import ModelRun, by_progress, comparison_rows, share, shares

TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"
needs_traces = pytest.mark.skipif(not (TRACES / "usemem_disk.jsonl").exists(),
                                  reason="shared/traces is not beside this checkout")


@needs_traces
@pytest.mark.parametrize("name, pswpout, pswpin, ra", [("usemem_disk", 477889, 389876, 340937),
                                                        ("usemem_zram", 643555, 393231, 0)])
def test_shared_traces_read_and_match_their_readme(name: str, pswpout: int, pswpin: int, ra: int) -> None:
    t = load_trace(TRACES / f"{name}.jsonl")
    assert t.name == name and len(t.samples) > 500
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
    rows = [{"vmstat": {"pswpout": 100, "pgsteal_kswapd": 0, "pgsteal_direct": 0, "pswpin": 0}, "phase": "alloc",
             "progress": {"done": 0, "total": 10}},
            {"vmstat": {"pswpout": 1100, "pgsteal_kswapd": 900, "pgsteal_direct": 100, "pswpin": 50},
             "phase": "reread", "progress": {"done": 10, "total": 10}}]
    t = _trace(tmp_path, rows)
    counters = {c: np.array([0, 0]) for c in ("pswpout", "pswpin", "pgsteal_kswapd", "pgsteal_direct",
                                                "pgscan_kswapd", "pgscan_direct", "allocstall", "swap_ra",
                                                "swap_ra_hit", "workingset_refault_anon", "pgmajfault", "pgfault")}
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
