"""Recorded kernel traces (shared/traces format): one JSON object per sample, plus NAME.meta.json.

Each sample carries cumulative /proc/vmstat counters and the workload's phase and progress; wall
time in the traces is distorted by emulation, so comparisons use progress, not time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from swaptui.text import printable

ALLOCSTALL_KEYS = ("allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable")


MAX_LINE_CHARS = 1 << 20
"""Longest sample line read (recorded samples are 3 to 6 KB): a longer one is refused before it is parsed."""
MAX_TRACE_BYTES = 1 << 30
"""Largest trace file read (an hour sampled every 100 ms is about 150 MB)."""
MAX_META_BYTES = 16 << 20
"""Largest .meta.json read (recorded ones are about 50 KB)."""


class TraceError(Exception):
    """A trace file cannot be read; the message names the file and line (one line, control characters escaped)."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


# -- the schema of a sample and of the meta file (shared/traces format; `swaptui live --record` and
# `swaptui run --json` write subsets of it). Blocks the program reads are typed; others pass unchecked.

Count = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
"""A counter or size: a whole number from 0 (JSON true/false, floats and strings are refused)."""
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite number (NaN and infinity are refused)."""
PerOrder = Annotated[list[Count], Field(max_length=64)]
"""Free blocks per order 0, 1, 2 ..."""


class _Block(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Progress(_Block):
    done: Count = 0
    total: Count = 0


class SwapRow(_Block):
    dev: str = "?"
    type: str = "?"
    size_kb: Count
    used_kb: Count
    prio: int = 0


class ZoneRow(_Block):
    min: Count = 0
    low: Count = 0
    high: Count = 0
    managed: Count = 0
    pcp_count: Count = 0
    pages_free: Count = 0


class PsiLine(_Block):
    avg10: Number = 0.0
    avg60: Number = 0.0
    avg300: Number = 0.0
    total: Count = 0


class ProcessRow(_Block):
    pid: int = -1
    comm: str = "?"
    RssAnon_kb: Count = 0
    VmSwap_kb: Count = 0


class WorkloadProc(_Block):
    RssAnon_kb: Count = 0
    VmSwap_kb: Count = 0


class Sample(_Block):
    """One line of a trace."""

    vmstat: dict[str, Count]
    t_ms: Number | None = None
    t_ns: Number | None = None
    seq: Count | None = None
    tick: Count | None = None
    phase: str | None = None
    progress: Progress | None = None
    meminfo_kb: dict[str, Count] | None = None
    buddyinfo: dict[str, PerOrder] | None = None
    pagetype_free: dict[str, dict[str, PerOrder]] | None = None
    pageblocks: dict[str, dict[str, Count]] | None = None
    zones: dict[str, ZoneRow] | None = None
    swaps: list[SwapRow] | None = None
    psi_memory: dict[str, PsiLine] | None = None
    zram: dict[str, Count] | None = None
    zswap: dict[str, Count] | None = None
    workload_proc: WorkloadProc | None = None
    procs: list[ProcessRow] | None = None
    sample_ms: Number | None = None


class _Constant(_Block):
    vmstat: dict[str, Count] = {}
    meminfo_kb: dict[str, Count] = {}


class _WorkloadExit(_Block):
    killed: bool | Count = False


class Meta(_Block):
    """NAME.meta.json: the setup of the run (the fields the program reads)."""

    scenario: str | None = None
    description: str = ""
    kernel_version: str = ""
    interval_ms: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = None
    vm_memtotal_kb: Count | None = None
    meminfo_at_start_kb: dict[str, Count] = {}
    swaps_at_start: list[dict[str, Any]] | None = None
    constant: _Constant = _Constant()
    zone_watermarks_pages: dict[str, ZoneRow] | None = None
    workload_argv: list[str] | None = None
    workload_exit: _WorkloadExit = _WorkloadExit()
    n_samples: Count | None = None
    complete: bool | None = None


_SAMPLE = TypeAdapter(Sample)
_META = TypeAdapter(Meta)
_SWAP_DEV = TypeAdapter(list[SwapRow])


def _path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _got(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 40 else text[:40] + "..."


_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "greater_than_equal": "an integer of at least 0",
    "less_than_equal": "an integer below 2**63",
    "greater_than": "a number above 0",
    "float_type": "a number",
    "finite_number": "a finite number",
    "string_type": "text",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "too_long": "a shorter list",
}


def _explain(error: ValidationError) -> str:
    """The first problem pydantic found, as `field: expected X, got Y` (and how many more there are)."""
    details = error.errors()
    first = details[0]
    loc = tuple(part for part in first["loc"] if part not in ("list[...]",))
    where = _path(loc) or "the line"
    if first["type"] == "missing":
        message = f"{where}: expected this key, got none (it is missing)"
    else:
        expected = _EXPECTED.get(first["type"], first["msg"].removeprefix("Input should be ").rstrip("."))
        if (
            first["type"] in ("greater_than_equal", "less_than_equal", "int_type", "int_from_float")
            and loc
            and loc[0] in ("vmstat", "meminfo_kb", "zram", "zswap")
        ):
            expected = "an integer (a counter, 0 or more)"
        message = f"{where}: expected {expected}, got {_got(first.get('input'))}"
    if len(details) > 1:
        message += f" (and {len(details) - 1} more problem{'s' if len(details) > 2 else ''} on this line)"
    return message


def check_sample(sample: object, where: str) -> None:
    """Validate one sample against the schema; raise TraceError `where: field: expected X, got Y`."""
    if not isinstance(sample, dict) or "vmstat" not in sample:
        raise TraceError(f"{where}: expected a sample with a 'vmstat' object, got {_got(sample)}")
    try:
        _SAMPLE.validate_python(sample)
    except ValidationError as error:
        raise TraceError(f"{where}: {_explain(error)}") from None
    except RecursionError:
        raise TraceError(f"{where}: nested too deeply") from None


_COUNTER_MAPS = ("vmstat", "meminfo_kb", "zram", "zswap")
"""Parts of a sample that map names to counters: an odd counter is left out alone, not the whole part."""


def prune_sample(sample: dict[str, Any]) -> dict[str, str]:
    """Leave out of `sample` (built from this machine's files) what the schema refuses, so that a
    recording always loads again: an odd counter of vmstat/meminfo/zram/zswap alone, any other part
    whole. Returns, per top-level key, `field: expected X, got Y` for the first thing left out."""
    dropped: dict[str, str] = {}
    for _ in range(4):  # entries first, then whole parts; a valid sample leaves at once
        try:
            _SAMPLE.validate_python(sample)
            return dropped
        except RecursionError:
            dropped = {key: "nested too deeply" for key in list(sample) if sample.pop(key, None) is not None}
            sample["vmstat"] = {}  # a sample keeps its (now empty) vmstat object, so it still loads
            return dropped
        except ValidationError as error:
            for detail in error.errors():
                loc = detail["loc"]
                if not loc:
                    continue
                key = str(loc[0])
                dropped.setdefault(key, _explain(ValidationError.from_exception_data(error.title, [detail])))  # type: ignore[list-item]
                part = sample.get(key)
                if key in _COUNTER_MAPS and len(loc) > 1 and isinstance(part, dict):
                    part.pop(loc[1], None)
                elif key == "vmstat":
                    sample["vmstat"] = {}
                else:
                    sample.pop(key, None)
    return dropped


def check_meta(meta: object, where: str) -> None:
    """Validate a .meta.json object against the schema; raise TraceError naming the field."""
    if not isinstance(meta, dict):
        raise TraceError(f"{where}: expected a JSON object (the trace's setup), got {_got(meta)}")
    try:
        _META.validate_python(meta)
        if meta.get("swaps_at_start") is not None:
            for i, row in enumerate(meta["swaps_at_start"]):
                if not isinstance(row.get("dev", "?"), str):
                    raise TraceError(f"{where}: swaps_at_start[{i}].dev: expected text, got {_got(row['dev'])}")
    except ValidationError as error:
        raise TraceError(f"{where}: {_explain(error)}") from None
    except RecursionError:
        raise TraceError(f"{where}: nested too deeply") from None


def _parse_json(text: str) -> Any:
    """json.loads, with nesting too deep for the parser reported as a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


@dataclass
class Trace:
    """A recorded run: samples in order, and the setup (meta) when present."""

    path: Path
    samples: list[dict]
    meta: dict = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)  # each sample's line number in the file (for error messages)

    @property
    def name(self) -> str:
        return self.meta.get("scenario") or self.path.stem

    def counter(self, name: str) -> np.ndarray:
        """A vmstat counter over the samples (allocstall sums the per-zone counters); 0 where absent."""
        keys = ALLOCSTALL_KEYS if name == "allocstall" else (name,)
        return np.array([sum(s.get("vmstat", {}).get(k, 0) for k in keys) for s in self.samples], dtype=np.int64)

    def delta(self, name: str) -> int:
        """Last sample minus first."""
        c = self.counter(name)
        return int(c[-1] - c[0]) if len(c) else 0

    def has_memcg(self) -> bool:
        """Whether the samples carry the workload's memory cgroup (a `memcg` block: memory.stat, failcnt)."""
        return any(isinstance(s.get("memcg"), dict) for s in self.samples)

    def memcg_delta(self, name: str) -> int:
        """Last sample minus first of a figure of the `memcg` block: failcnt, memsw_failcnt, or a memory.stat
        counter (pgfault, pgmajfault, workingset_refault_anon, pgpgin ...); 0 where absent."""

        def value(s: dict) -> int:
            block = s.get("memcg")
            if not isinstance(block, dict):
                return 0
            inner = list(block.values())
            if "stat" not in block and name not in block and len(inner) == 1 and isinstance(inner[0], dict):
                block = inner[0]  # a swaptui --json series: {cgroup name: its figures}, one cgroup
            stat = block.get("stat")
            v = block.get(name, stat.get(name, 0) if isinstance(stat, dict) else 0)
            return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0

        with_block = [s for s in self.samples if isinstance(s.get("memcg"), dict)]
        return value(with_block[-1]) - value(with_block[0]) if with_block else 0

    def phases(self) -> list[str]:
        """The workload's phases that carry progress (for usemem: alloc, reread), in order."""
        return [
            p
            for p in dict.fromkeys(s.get("phase") for s in self.samples)
            if p is not None and p not in ("-", "free", "done")
        ]

    def progress(self) -> np.ndarray:
        """Workload progress in [0, 1] per sample: the usemem phases (alloc, reread) each count for half."""
        phases = self.phases()
        out = np.zeros(len(self.samples))
        for i, s in enumerate(self.samples):
            phase = s.get("phase")
            prog = s.get("progress") or {}
            total = prog.get("total") or 0
            frac = prog.get("done", 0) / total if total else 0.0
            if phase in phases:
                out[i] = (phases.index(phase) + min(frac, 1.0)) / len(phases)
            elif phase in ("free", "done"):
                out[i] = 1.0
        return np.maximum.accumulate(out)


def load_trace(path: str | Path) -> Trace:
    """Read NAME.jsonl and, beside it, NAME.meta.json if it exists; every sample and the meta are validated
    against the schema, and the first problem raises TraceError `file:line: field: expected X, got Y`."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_TRACE_BYTES:
            raise TraceError(
                f"{p}: the file is too big: {size:,} bytes, and the limit for traces is {MAX_TRACE_BYTES >> 30} GiB"
            )
        data = p.read_bytes()
    except OSError as error:
        raise TraceError(f"{p}: cannot read: {error.strerror or error}") from None
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        bad_line = data[: error.start].count(b"\n") + 1
        raise TraceError(f"{p}:{bad_line}: not UTF-8 text; expected JSON lines (one sample per line)") from None
    del data
    samples = []
    numbers = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise TraceError(
                f"{p}:{n}: the line is too long: {len(line):,} characters, and the limit for one "
                f"sample is {MAX_LINE_CHARS:,}"
            )
        try:
            rec = _parse_json(line)
        except ValueError as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise TraceError(f"{p}:{n}: not a JSON object: {reason}") from None
        check_sample(rec, f"{p}:{n}")
        samples.append(rec)
        numbers.append(n)
    if not samples:
        raise TraceError(f"{p}: no samples")
    meta_path = p.with_name(p.name.removesuffix(".jsonl") + ".meta.json")
    meta: dict = {}
    if meta_path.exists():
        try:
            if meta_path.stat().st_size > MAX_META_BYTES:
                raise TraceError(
                    f"{meta_path}: the file is too big; the limit for a trace's setup is {MAX_META_BYTES >> 20} MiB"
                )
            meta = _parse_json(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise TraceError(f"{meta_path}:{error.lineno}: not JSON: {error.msg}") from None
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise TraceError(f"{meta_path}: cannot read: {reason}") from None
        check_meta(meta, str(meta_path))
    return Trace(p, samples, meta, numbers)
