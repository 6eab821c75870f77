"""Recorded kernel traces (shared/traces format): one JSON object per sample, plus NAME.meta.json.

Each sample carries cumulative /proc/vmstat counters and the workload's phase and progress; wall
time in the traces is distorted by emulation, so comparisons use progress, not time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ALLOCSTALL_KEYS = ("allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable")


class TraceError(Exception):
    """A trace file cannot be read; the message names the file and line."""


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

    def phases(self) -> list[str]:
        """The workload's phases that carry progress (for usemem: alloc, reread), in order."""
        return [p for p in dict.fromkeys(s.get("phase") for s in self.samples)
                if p is not None and p not in ("-", "free", "done")]

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
    """Read NAME.jsonl and, beside it, NAME.meta.json if it exists."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise TraceError(f"{p}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        line = p.read_bytes()[:error.start].count(b"\n") + 1
        raise TraceError(f"{p}:{line}: not UTF-8 text; expected JSON lines (one sample per line)") from None
    samples = []
    numbers = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as error:
            raise TraceError(f"{p}:{n}: not a JSON object: {error.msg}") from None
        if not isinstance(rec, dict) or "vmstat" not in rec:
            raise TraceError(f"{p}:{n}: expected a sample with a 'vmstat' object")
        samples.append(rec)
        numbers.append(n)
    if not samples:
        raise TraceError(f"{p}: no samples")
    meta_path = p.with_name(p.name.removesuffix(".jsonl") + ".meta.json")
    meta = {}
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise TraceError(f"{meta_path}: cannot read: {error}") from None
        if not isinstance(meta, dict):
            raise TraceError(f"{meta_path}: expected a JSON object (the trace's setup)")
    return Trace(p, samples, meta, numbers)
