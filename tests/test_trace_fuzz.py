"""Fuzzing: mutated traces (samples and their .meta.json) go through trace loading, `replay` and `validate`.

The trace is built here from a few samples in the recorded format (shared/traces), so the test never
skips. Whatever the mutation, no exception escapes, the exit status is 0, 1 or 2, a refused trace is
one line naming file and line, and a trace that loads can be shown sample by sample.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from swaptui.cli import main
from swaptui.trace_player import load_trace_player
from swaptui.traces import TraceError

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
COUNTS = {"tried": 0, "failed": 0}
COUNTING = os.environ.get("SWAPTUI_FUZZ_COUNT")
EXAMPLES = int(os.environ.get("SWAPTUI_FUZZ_EXAMPLES", "60"))

TINY_SCENARIO = """\
name: tiny
tick: 1ms
duration: 5ms
machine: {memory: 16MiB, cpus: 1}
swap:
  devices: [{name: z, kind: zram, size: 8MiB}]
workloads:
  - {name: um, kind: usemem, size: 4MiB, passes: 2}
"""


def run_cli(*argv: str) -> tuple[int, str]:
    """Call `swaptui` in this process; return its exit status and everything it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue() + err.getvalue()


def sample(seq: int, phase: str, done: int) -> dict:
    """One sample as the recorded traces hold it (a few counters of each block)."""
    return {
        "t_ms": 12.9 + 100 * seq,
        "seq": seq,
        "phase_no": 1,
        "phase": phase,
        "progress": {"done": done, "total": 100, "ops": done, "errors": 0, "aux": 0},
        "sample_ms": 5.7,
        "vmstat": {
            "nr_free_pages": 231974 - 1000 * seq,
            "pswpin": 10 * seq,
            "pswpout": 40 * seq,
            "pgsteal_kswapd": 30 * seq,
            "pgsteal_direct": seq,
            "pgscan_kswapd": 60 * seq,
            "pgscan_direct": 0,
            "allocstall_normal": 0,
            "allocstall_movable": seq,
            "pgalloc_dma32": 23210 + seq,
            "nr_inactive_anon": 245,
            "nr_active_anon": 418,
            "workingset_refault_anon": seq,
        },
        "meminfo_kb": {"MemTotal": 983472, "MemFree": 927896, "MemAvailable": 861096, "SwapFree": 2097148},
        "buddyinfo": {"DMA": [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 3], "DMA32": [2, 2, 2, 1, 1, 1, 2, 3, 1, 2, 221]},
        "pagetype_free": {
            "DMA32": {
                "Unmovable": [0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0],
                "Movable": [1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 221],
                "Reclaimable": [1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0],
            }
        },
        "pageblocks": {"DMA32": {"Unmovable": 51, "Movable": 447, "Reclaimable": 6, "HighAtomic": 0, "Isolate": 0}},
        "swaps": [{"dev": "/dev/zram0", "type": "partition", "size_kb": 2097148, "used_kb": 160 * seq, "prio": -2}],
        "psi_memory": {
            "some": {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0},
            "full": {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0},
        },
        "zram": {
            "orig_data_size": 4096 * (1 + seq),
            "compr_data_size": 74,
            "mem_used_total": 12288,
            "same_pages": 0,
            "huge_pages": 0,
        },
        "zones": {
            "DMA32": {"pages_free": 1000, "min": 11088, "low": 13860, "high": 16632, "managed": 242028, "pcp_count": 12}
        },
        "workload_proc": {"RssAnon_kb": 1000 * seq, "VmSwap_kb": 100 * seq, "majflt": seq, "minflt": 9},
        "procs": [{"pid": 7, "comm": "usemem", "RssAnon_kb": 1000, "VmSwap_kb": 0, "VmRSS_kb": 1000}],
    }


SAMPLES = [sample(0, "-", 0), sample(1, "alloc", 50), sample(2, "alloc", 100), sample(3, "reread", 100)]
META = {
    "scenario": "fuzz",
    "n_samples": 4,
    "complete": True,
    "interval_ms": 100,
    "description": "a fuzz trace",
    "kernel_version": "Linux version 6.1.0-56-amd64 (x)",
    "workload_argv": ["usemem", "--size-mb", "1536"],
    "vm_memtotal_kb": 983472,
    "swaps_at_start": [{"dev": "/dev/zram0", "size_kb": 2097148, "used_kb": 0}],
    "constant": {"vmstat": {"nr_inactive_file": 0}, "meminfo_kb": {"Buffers": 0}},
    "zone_watermarks_pages": {"DMA32": {"min": 11088, "low": 13860, "high": 16632, "managed": 242028}},
    "workload_exit": {"killed": False, "rc": 0},
}

VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            -(2**63),
            2**64,
            1.5,
            math.nan,
            math.inf,
            -math.inf,
            "",
            "x",
            "12",
            "\x1b[2J",
            "\x00",
            [],
            {},
            [1, "a"],
            {"a": "b"},
            [[[]]],
            {"k": {"k": {}}},
            [None],
            ["x"] * 11,
        ]
    ),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 3), max_size=12),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _mutate_value(root: object, data: st.DataObject) -> object:
    """Replace, delete or add one value somewhere in a JSON structure."""
    root = copy.deepcopy(root)
    path = data.draw(st.sampled_from(_paths(root)))
    if not path:
        return data.draw(VALUES)
    parent = root
    for part in path[:-1]:
        parent = parent[part]
    op = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if op == "replace":
        parent[path[-1]] = data.draw(VALUES)
    elif op == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=6))] = data.draw(VALUES)
    else:
        parent.append(data.draw(VALUES))
    return root


def _mutate_text(text: str, data: st.DataObject) -> str:
    """A text-level edit of one line: truncation, a stray character, deep nesting, or a huge line."""
    op = data.draw(st.sampled_from(["truncate", "insert", "deep", "huge", "blank"]))
    if op == "truncate":
        return text[: data.draw(st.integers(0, len(text)))]
    if op == "insert":
        pos = data.draw(st.integers(0, len(text)))
        return (
            text[:pos] + data.draw(st.sampled_from(["\x00", "\x1b", "{", "]", ",", '"', "\\", "\ud800"])) + text[pos:]
        )
    if op == "deep":
        depth = data.draw(st.sampled_from([100, 5000, 100_000]))
        return '{"vmstat": {}, "x": ' + "[" * depth + "]" * depth + "}"
    if op == "huge":
        return '{"vmstat": {}, "pad": "' + "x" * 3_000_000 + '"}'
    return ""


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def write_trace(directory: Path, data: st.DataObject) -> Path:
    """Write the sample trace with one to three mutations, to samples or to the meta file."""
    lines = [json.dumps(s) for s in SAMPLES]
    meta = json.dumps(META)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(["sample", "sample", "sample", "text", "meta", "meta_text"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if where == "sample" and _parses(lines[i]):
            lines[i] = json.dumps(_mutate_value(json.loads(lines[i]), data), allow_nan=True)
        elif where == "meta" and _parses(meta):
            meta = json.dumps(_mutate_value(json.loads(meta), data), allow_nan=True)
        elif where in ("sample", "text"):
            lines[i] = _mutate_text(lines[i], data)
        else:
            meta = _mutate_text(meta, data)
    trace = directory / "fuzz.jsonl"
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    (directory / "fuzz.meta.json").write_text(meta, encoding="utf-8", errors="surrogatepass")
    return trace


def _load_and_show(trace: Path) -> None:
    """What `replay` does with a trace: load it, then build every sample's snapshot as the app would."""
    try:
        player = load_trace_player(trace)
    except TraceError as error:
        text = str(error)
        assert "\n" not in text and trace.stem in text and not CONTROL.search(text), text
        return
    for i in range(player.last_tick + 1):
        player.snapshot_at(i)


def _survives(check) -> None:
    COUNTS["tried"] += 1
    try:
        check()
    except BaseException:
        COUNTS["failed"] += 1
        if not COUNTING:
            raise


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if COUNTING:
        with open(COUNTING, "a", encoding="utf-8") as out:
            out.write(f"{__name__}: tried {COUNTS['tried']}, failed {COUNTS['failed']}\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("trace-fuzz")
    (directory / "tiny.yaml").write_text(TINY_SCENARIO, encoding="utf-8")
    return directory


FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate] if COUNTING else list(Phase),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FUZZ, max_examples=EXAMPLES)
@given(data=st.data())
def test_mutated_traces_load_or_are_refused_in_one_line(workdir: Path, data: st.DataObject) -> None:
    trace = write_trace(workdir, data)
    _survives(lambda: _load_and_show(trace))


def _replay_survives(trace: Path) -> None:
    code, printed = run_cli("replay", str(trace))
    assert code in (0, 1, 2) and "Traceback" not in printed and not CONTROL.search(printed), printed[:300]


def _validate_survives(workdir: Path, trace: Path) -> None:
    code, printed = run_cli("validate", str(workdir / "tiny.yaml"), str(trace))
    assert code in (0, 1, 2) and "Traceback" not in printed and not CONTROL.search(printed), printed[:300]


@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(data=st.data())
def test_mutated_traces_never_crash_replay(workdir: Path, data: st.DataObject) -> None:
    trace = write_trace(workdir, data)
    _survives(lambda: _replay_survives(trace))


@settings(FUZZ, max_examples=max(1, EXAMPLES // 4))
@given(data=st.data())
def test_mutated_traces_never_crash_validate(workdir: Path, data: st.DataObject) -> None:
    trace = write_trace(workdir, data)
    _survives(lambda: _validate_survives(workdir, trace))


def test_the_unmutated_fuzz_trace_loads(tmp_path: Path) -> None:
    """The fuzz starts from a valid trace: it loads, replays to 'needs a terminal', and validates."""
    trace = tmp_path / "fuzz.jsonl"
    trace.write_text("\n".join(json.dumps(s) for s in SAMPLES) + "\n")
    (tmp_path / "fuzz.meta.json").write_text(json.dumps(META))
    player = load_trace_player(trace)
    assert player.last_tick == 3 and player.snapshot_at(3).counter("pswpout") == 120
    code, printed = run_cli("replay", str(trace))
    assert code == 2 and "is a valid trace (4 samples), but the app needs a terminal" in printed
    (tmp_path / "tiny.yaml").write_text(TINY_SCENARIO)
    code, printed = run_cli("validate", str(tmp_path / "tiny.yaml"), str(trace))
    assert code in (0, 1) and "model/kernel" in printed
