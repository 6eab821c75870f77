"""Readers of this machine's /proc and /sys memory files into plain dicts and lists, in the shared/traces format.

Each reader parses one file and returns what the kernel printed, keyed by the kernel's own names;
`Sampler` reads them all into one trace sample (the same JSON object a line of shared/traces holds)
and keeps a one-line notice for each part it could not read or found odd (missing file, no
permission, no debugfs, a line of an unexpected shape: file:line, what was expected, what was
found). A reader never raises for a file's contents: `read_file` gives a `Reading` (the value, or
None, and the notice). No UI: `swaptui live` and its recorder are built on this. The buddyinfo and
pagetypeinfo parses are the model's (swaptui.model.fragmentation): one parser each.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swaptui.model.fragmentation import (
    FREE_TABLE_HEADER,
    Problems,
    note_problem,
    parse_pagetypeinfo_tables,
    quote_line,
)
from swaptui.model.fragmentation import parse_buddyinfo as _parse_buddyinfo_by_node
from swaptui.traces import prune_sample

MM_STAT_FIELDS = (
    "orig_data_size",
    "compr_data_size",
    "mem_used_total",
    "mem_limit",
    "mem_used_max",
    "same_pages",
    "pages_compacted",
    "huge_pages",
    "huge_pages_since",
)
IO_STAT_FIELDS = ("failed_reads", "failed_writes", "invalid_io", "notify_free")
BLOCK_STAT_FIELDS = (
    "read_ios",
    "read_merges",
    "read_sectors",
    "read_ticks",
    "write_ios",
    "write_merges",
    "write_sectors",
    "write_ticks",
    "in_flight",
    "io_ticks",
    "time_in_queue",
    "discard_ios",
    "discard_merges",
    "discard_sectors",
    "discard_ticks",
    "flush_ios",
    "flush_ticks",
)
ZONE_FIELDS = ("min", "low", "high", "spanned", "present", "managed")
PROCESS_FIELDS = {"VmRSS": "VmRSS_kb", "RssAnon": "RssAnon_kb", "VmSwap": "VmSwap_kb", "VmPTE": "VmPTE_kb"}
TOP_PROCESSES = 8
PROCESS_SCAN_EVERY = 1.0  # seconds: /proc/PID/status of every process costs ~40 us each, so at most once a second


# Where each part of a sample is read from, below /proc or /sys: the one table the reads, the meta file and
# the notices take their paths from (`Sampler.paths` roots it where the sampler's trees are).
SOURCES: dict[str, tuple[str, str]] = {
    "vmstat": ("proc", "vmstat"),
    "meminfo_kb": ("proc", "meminfo"),
    "buddyinfo": ("proc", "buddyinfo"),
    "zones": ("proc", "zoneinfo"),
    "swaps": ("proc", "swaps"),
    "psi_memory": ("proc", "pressure/memory"),
    "pagetypeinfo": ("proc", "pagetypeinfo"),
    "unusable_index": ("sys", "kernel/debug/extfrag/unusable_index"),
    "extfrag_index": ("sys", "kernel/debug/extfrag/extfrag_index"),
    "zram": ("sys", "block"),
    "zswap": ("sys", "kernel/debug/zswap"),
    "blockdev": ("sys", "class/block"),
    "procs": ("proc", ""),
    "sysctl_vm": ("proc", "sys/vm"),
    "version": ("proc", "version"),
}
# How a part's notice names its file when the directory above is not the file (zram*/, PID/status, DEV/stat).
SOURCE_FILES = {"zram": "zram*", "procs": "PID/status", "blockdev": "DEV/stat"}
# Parts of a sample whose notice is kept under another part's name (both come from one file).
NOTICE_KEY = {"pagetype_free": "pagetypeinfo", "pageblocks": "pagetypeinfo"}
MAX_FILE_BYTES = 16 << 20  # /proc/zoneinfo of a 256-CPU machine is under 1 MiB; anything bigger is no /proc file

_INT = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]{1,18}(\.[0-9]{1,18})?$")
_ZONE_HEADER = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+)")


class NotRegularFile(OSError):
    """A path that is a FIFO, a device or a socket: reading it could block or never end (/proc files are regular)."""


def _read(path: str | Path) -> str:
    """A regular file's text, at most MAX_FILE_BYTES + 1 characters (bytes that are not ASCII become U+FFFD)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting for a writer
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{path}: expected a file; found a {_kind(os.fstat(fd).st_mode)}")
        with open(fd, encoding="ascii", errors="replace", closefd=False) as f:
            return f.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, word in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return word
    return "special file"


INT64 = (-(1 << 63), (1 << 63) - 1)  # what the panes' counter arrays hold


def _int(text: str) -> int | None:
    """A whole number as the kernel prints one (ASCII digits, maybe a minus sign, within 64 bits), else None."""
    if len(text) > 20 or not _INT.match(text):
        return None
    value = int(text)
    return value if INT64[0] <= value <= INT64[1] else None


@dataclass(frozen=True)
class Reading:
    """What a reader got from one file: the value (None when nothing usable was read) and, when the file was
    missing, unreadable or odd, a one-line notice saying which file, which line, and what was wrong."""

    value: Any
    notice: str | None = None


def _unreadable(path: Path, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"{path}: not present"
    if isinstance(error, PermissionError):
        return f"{path}: permission denied"
    if isinstance(error, NotRegularFile):
        return str(error)
    return f"{path}: cannot read: {error.strerror or error}"


def read_file(path: str | Path, parse: Callable[[str, Problems], Any], what: str) -> Reading:
    """Read and parse one file. A file that cannot be read, is empty, too big, or yields nothing gives
    Reading(None, notice); odd lines are left out of the value and the first is named in the notice."""
    path = Path(path)
    try:
        text = _read(path)
    except OSError as error:
        return Reading(None, _unreadable(path, error))
    except ValueError:  # a NUL in the path (a device name from an odd /proc/swaps)
        return Reading(None, f"{path!r}: not a usable path")
    if len(text) > MAX_FILE_BYTES:
        return Reading(None, f"{path}: expected {what}; found a file larger than {MAX_FILE_BYTES >> 20} MiB")
    if not text.strip():
        return Reading(None, f"{path}: expected {what}; found an empty file")
    problems: Problems = []
    try:
        value = parse(text, problems)
    except (ValueError, LookupError, TypeError, ArithmeticError) as error:  # a parser's bug must not stop sampling
        return Reading(None, f"{path}: expected {what}; could not parse it ({error.__class__.__name__}: {error})")
    if not problems and not value and value != []:
        return Reading(None, f"{path}: expected {what}; found none")
    if not problems:
        return Reading(value)
    n, problem = problems[0]
    more = f", and {len(problems) - 1} more odd line{'s' if len(problems) > 2 else ''}" if len(problems) > 1 else ""
    if not value and value != []:
        return Reading(None, f"{path}:{n}: {problem}{more}; nothing usable read")
    return Reading(value, f"{path}:{n}: {problem} (left out{more})")


def parse_vmstat(text: str, problems: Problems | None = None) -> dict[str, int]:
    """/proc/vmstat: one `name value` per line."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        value = _int(parts[1]) if len(parts) == 2 else None
        if value is None:
            note_problem(problems, n, f"expected `name value` with a whole-number value; got {quote_line(line)}")
            continue
        out[parts[0]] = value
    return out


def parse_meminfo(text: str, problems: Problems | None = None) -> dict[str, int]:
    """/proc/meminfo: values in kB (HugePages_* are counts), keyed as printed without the colon."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, colon, rest = line.partition(":")
        parts = rest.split()
        value = _int(parts[0]) if parts else None
        if not colon or not key.strip() or value is None or len(parts) > 2 or parts[1:] not in ([], ["kB"]):
            note_problem(problems, n, f"expected `Name: value` or `Name: value kB`; got {quote_line(line)}")
            continue
        out[key.strip()] = value
    return out


def _add_lists(into: list[int], values: list[int]) -> list[int]:
    if len(into) < len(values):
        into = into + [0] * (len(values) - len(into))
    return [a + (values[i] if i < len(values) else 0) for i, a in enumerate(into)]


def parse_buddyinfo(text: str, problems: Problems | None = None) -> dict[str, list[int]]:
    """/proc/buddyinfo: zone -> free blocks per order, summed over NUMA nodes (the per-node parse is the
    model's, `fragmentation.parse_buddyinfo`, which the fragmentation indices are computed from)."""
    out: dict[str, list[int]] = {}
    for (_node, zone), values in _parse_buddyinfo_by_node(text, problems).items():
        out[zone] = _add_lists(out.get(zone, []), values)
    return out


def parse_pagetypeinfo(
    text: str, problems: Problems | None = None
) -> tuple[dict[str, dict[str, list[int]]], dict[str, dict[str, int]]]:
    """/proc/pagetypeinfo: (zone -> migratetype -> free blocks per order, zone -> migratetype -> pageblocks),
    summed over NUMA nodes. The parse is the model's (`fragmentation.parse_pagetypeinfo_tables`)."""
    tables = parse_pagetypeinfo_tables(text, problems)
    free: dict[str, dict[str, list[int]]] = {}
    for (_node, zone), per_type in tables.free.items():
        per_zone = free.setdefault(zone, {})
        for name, counts in per_type.items():
            per_zone[name] = _add_lists(per_zone.get(name, []), counts)
    blocks: dict[str, dict[str, int]] = {}
    for (_node, zone), per_type_blocks in tables.blocks.items():
        per_zone_blocks = blocks.setdefault(zone, {})
        for name, value in per_type_blocks.items():
            per_zone_blocks[name] = per_zone_blocks.get(name, 0) + value
    return free, blocks


def _pagetypeinfo_or_none(text: str, problems: Problems) -> tuple[dict, dict] | None:
    """parse_pagetypeinfo, or None (noted) when the file has no free-list table."""
    free, blocks = parse_pagetypeinfo(text, problems)
    if not free:
        if not problems:
            note_problem(problems, 1, f"expected the table `{FREE_TABLE_HEADER} 0 1 2 ...`; found none")
        return None
    return free, blocks


def parse_zoneinfo(text: str, problems: Problems | None = None) -> dict[str, dict]:
    """/proc/zoneinfo: zone -> pages_free, min, low, high, spanned, present, managed, protection, pcp_count (summed
    over NUMA nodes; protection is the first node's). Zones with no present pages are left out."""
    out: dict[str, dict] = {}
    zone: dict | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("Node"):
            m = _ZONE_HEADER.match(line)
            if m is None:
                note_problem(problems, n, f"expected `Node N, zone NAME`; got {quote_line(line)}")
                zone = None
                continue
            zone = out.setdefault(m.group(2), {"pages_free": 0, **dict.fromkeys(ZONE_FIELDS, 0), "pcp_count": 0})
            continue
        if zone is None:
            continue
        fields = line.split()
        if not fields:
            continue
        key = fields[0]
        if key == "pages" and len(fields) >= 2 and fields[1] == "free":
            value = _int(fields[2]) if len(fields) == 3 else None
            if value is None:
                note_problem(problems, n, f"expected `pages free N`; got {quote_line(line)}")
            else:
                zone["pages_free"] += value
        elif key in ZONE_FIELDS:
            value = _int(fields[1]) if len(fields) == 2 else None
            if value is None:
                note_problem(problems, n, f"expected `{key} N`; got {quote_line(line)}")
            else:
                zone[key] += value
        elif key == "protection:":
            inside = (
                line.split("(", 1)[1].rstrip().removesuffix(")")
                if "(" in line and line.rstrip().endswith(")")
                else None
            )
            values = [_int(x.strip()) for x in inside.split(",")] if inside is not None else [None]
            if any(v is None for v in values):
                note_problem(problems, n, f"expected `protection: (N, N, ...)`; got {quote_line(line)}")
            elif "protection" not in zone:
                zone["protection"] = values
        elif key == "count:":
            value = _int(fields[1]) if len(fields) == 2 else None
            if value is None:
                note_problem(problems, n, f"expected `count: N`; got {quote_line(line)}")
            else:
                zone["pcp_count"] += value
    return {name: z for name, z in out.items() if z["present"]}


def _unescape_swap_name(name: str) -> str:
    """/proc/swaps escapes spaces, tabs, newlines and backslashes in paths as octal (\\040)."""
    if "\\" not in name:
        return name
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name)


def parse_swaps(text: str, problems: Problems | None = None) -> list[dict]:
    """/proc/swaps: one row per swap device or file (sizes in kB) after the header line."""
    out = []
    lines = text.splitlines()
    if lines and not lines[0].startswith("Filename"):
        note_problem(problems, 1, f"expected the header `Filename Type Size Used Priority`; got {quote_line(lines[0])}")
    for n, line in enumerate(lines[1:], 2):
        fields = line.split()
        if not fields:
            continue
        numbers = [_int(f) for f in fields[2:5]] if len(fields) == 5 else [None]
        if any(v is None for v in numbers):
            note_problem(
                problems, n, f"expected `path type size used priority` (whole numbers); got {quote_line(line)}"
            )
            continue
        size, used, prio = numbers
        out.append(
            {"dev": _unescape_swap_name(fields[0]), "type": fields[1], "size_kb": size, "used_kb": used, "prio": prio}
        )
    return out


def parse_pressure(text: str, problems: Problems | None = None) -> dict[str, dict[str, float]]:
    """/proc/pressure/memory: some/full -> avg10, avg60, avg300 (percent) and total (microseconds stalled)."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        row: dict[str, float] = {}
        for item in fields[1:]:
            key, eq, value = item.partition("=")
            number = _int(value) if key == "total" else (float(value) if _DECIMAL.match(value) else None)
            if not eq or number is None:
                row = {}
                break
            row[key] = number
        if fields[0] not in ("some", "full") or not row:
            note_problem(
                problems, n, f"expected `some|full avg10=N.NN avg60=N.NN avg300=N.NN total=N`; got {quote_line(line)}"
            )
            continue
        out[fields[0]] = row
    return out


def parse_fields(text: str, names: tuple[str, ...], problems: Problems | None = None) -> dict[str, int]:
    """Whitespace-separated integers (mm_stat, io_stat, block stat) keyed by `names`; fields past `names` (a newer
    kernel's) are dropped, and an older kernel's shorter line gives the first ones."""
    out = {}
    for name, v in zip(names, text.split()):
        value = _int(v)
        if value is None:
            note_problem(problems, 1, f"{name}: expected a whole number; got {quote_line(v)}")
            continue
        out[name] = value
    return out


def parse_extfrag(text: str, problems: Problems | None = None) -> dict[str, list[float]]:
    """/sys/kernel/debug/extfrag/{unusable_index,extfrag_index}: zone -> index per order."""
    out: dict[str, list[float]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _ZONE_HEADER.match(line)
        fields = line[m.end() :].split() if m else []
        if m is None or not fields or not all(_DECIMAL.match(f) for f in fields):
            note_problem(
                problems, n, f"expected `Node N, zone NAME` and an index per order (e.g. 0.500); got {quote_line(line)}"
            )
            continue
        out[m.group(2)] = [float(x) for x in fields]
    return out


def parse_status(text: str, problems: Problems | None = None) -> dict[str, object]:
    """/proc/PID/status: the name and the memory lines swaptui shows (kB)."""
    out: dict[str, object] = {}
    for n, line in enumerate(text.splitlines(), 1):
        key, _, rest = line.partition(":")
        if key == "Name":
            out["comm"] = rest.strip()
        elif key in PROCESS_FIELDS:
            parts = rest.split()
            value = _int(parts[0]) if parts else None
            if value is None:
                note_problem(problems, n, f"{key}: expected a number of kB; got {quote_line(rest)}")
                continue
            out[PROCESS_FIELDS[key]] = value
    return out


class Cadence:
    """When to sample: slots at start + k × interval on the monotonic clock, from one fixed start.

    A slot that has passed when the previous sample is done (it took longer than the interval, or the
    machine was busy) is skipped and counted in `missed`, never made up by sampling back to back: two
    samples are never closer than the slots they were taken in, and the cadence does not drift.
    """

    def __init__(
        self, interval_s: float, clock: Callable[[], float] = time.monotonic, start: float | None = None
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval: expected a positive number of seconds; got {interval_s}")
        self.interval = interval_s
        self.clock = clock
        self.start = clock() if start is None else start
        self.slot = 0  # the slot of the sample taken last (0: the first, at start)
        self.missed = 0

    def next_slot(self) -> float:
        """Move to the first slot still ahead (later than now) and return its time."""
        ahead = math.floor((self.clock() - self.start) / self.interval) + 1
        k = max(self.slot + 1, ahead)
        self.missed += k - self.slot - 1
        self.slot = k
        return self.start + k * self.interval

    def wait(self, sleep: Callable[[float], object] = time.sleep) -> bool:
        """Sleep until the next slot (never wake before it); True if `sleep` returned true (asked to stop)."""
        due = self.next_slot()
        while (left := due - self.clock()) > 0:
            if sleep(left):
                return True
        return False


class Sampler:
    """Reads this machine's memory files into trace samples.

    `notices` holds, for each part of a sample that is missing or partial in the last sample, one line
    saying which file and why (missing, no permission, no debugfs, an odd line); the panes that show
    that part show the notice instead. `proc` and `sys` may point at copies of those trees.
    """

    def __init__(self, proc: str | Path = "/proc", sys: str | Path = "/sys", processes: int = TOP_PROCESSES) -> None:
        self.proc = Path(proc)
        self.sys = Path(sys)
        roots = {"proc": self.proc, "sys": self.sys}
        self.paths: dict[str, Path] = {key: roots[tree] / inside for key, (tree, inside) in SOURCES.items()}
        """Each part's file or directory (SOURCES, below this sampler's proc and sys)."""
        self.processes = processes
        self.notices: dict[str, str] = {}  # part of the sample -> why it is missing or partial (as files are tried)
        self.seq = 0
        self.started = time.monotonic()
        self._processes_at = -PROCESS_SCAN_EVERY

    @property
    def unavailable(self) -> dict[str, str]:
        """The notices (the name the recorder's meta file and older callers use)."""
        return self.notices

    def _try(self, key: str, path: Path, parse: Callable[[str, Problems], Any], what: str = "") -> Any:
        """The parsed file, or None; a notice for `key` is kept while the file is missing or odd."""
        reading = read_file(path, parse, what or f"{path.name} as the kernel prints it")
        if reading.notice is None:
            self.notices.pop(key, None)
        else:
            self.notices[key] = reading.notice
        return reading.value

    def zram_devices(self) -> list[Path]:
        """Initialised zram devices (disksize > 0)."""
        out = []
        try:
            candidates = sorted(self.paths["zram"].glob("zram*"))
        except OSError:
            return []
        for dev in candidates:
            try:
                size = _int(_read(dev / "disksize").strip())
            except OSError:
                continue
            if size is not None and size > 0:
                out.append(dev)
        return out

    def read_zram(self) -> dict[str, int] | None:
        """mm_stat and io_stat of the initialised zram devices, summed (one device: exactly its numbers)."""
        total: dict[str, int] = {}
        devices = self.zram_devices()
        for dev in devices:
            stats = (
                self._try(
                    "zram",
                    dev / "mm_stat",
                    lambda t, p: parse_fields(t, MM_STAT_FIELDS, p),
                    "zram mm_stat: whole numbers",
                )
                or {}
            )
            stats |= (
                self._try(
                    "zram_io",
                    dev / "io_stat",
                    lambda t, p: parse_fields(t, IO_STAT_FIELDS, p),
                    "zram io_stat: whole numbers",
                )
                or {}
            )
            for k, v in stats.items():
                total[k] = total.get(k, 0) + v
        return total if devices else None

    def read_zswap(self) -> dict[str, int] | None:
        """/sys/kernel/debug/zswap/*: every counter file (needs debugfs mounted and root)."""
        d = self.paths["zswap"]
        try:
            names = sorted(os.listdir(d))
        except OSError as error:
            reason = (
                "not present (debugfs not mounted, or no zswap)"
                if isinstance(error, FileNotFoundError)
                else (error.strerror or str(error))
            )
            self.notices["zswap"] = f"{d}: {reason}"
            return None
        out = {}
        odd = []
        for name in names:
            try:
                fields = _read(d / name).split()
            except FileNotFoundError:
                continue  # gone meanwhile
            except OSError:
                fields = []
            value = _int(fields[0]) if len(fields) == 1 else None
            if value is None:
                odd.append(name)
                continue
            out[name] = value
        if odd:
            self.notices["zswap"] = f"{d}: expected one whole number per file; left out {', '.join(odd[:5])}" + (
                f" and {len(odd) - 5} more" if len(odd) > 5 else ""
            )
        else:
            self.notices.pop("zswap", None)
        return out

    def read_blockdev(self, swaps: list[dict]) -> dict[str, dict[str, int]]:
        """/sys/class/block/DEV/stat of each swap partition."""
        out = {}
        for row in swaps:
            if row.get("type") != "partition":
                continue
            name = os.path.basename(row["dev"])
            if not name or name in (".", "..") or "\0" in name:
                continue
            stats = self._try(
                f"blockdev {name}",
                self.paths["blockdev"] / name / "stat",
                lambda t, p: parse_fields(t, BLOCK_STAT_FIELDS, p),
                "block stat: whole numbers",
            )
            if stats is not None:
                out[name] = stats
        return out

    def read_processes(self) -> list[dict]:
        """The processes holding the most memory (resident anon + swap), biggest first."""
        rows = []
        try:
            entries = list(os.scandir(self.paths["procs"]))
        except OSError:
            return []
        for entry in entries:
            if not (entry.name.isascii() and entry.name.isdigit()):
                continue
            try:
                status = parse_status(_read(os.path.join(entry.path, "status")), [])
            except OSError:
                continue  # exited meanwhile
            if "VmRSS_kb" not in status:
                continue  # a kernel thread (no memory lines), or an odd file
            status["pid"] = int(entry.name)
            rows.append(status)

        def kb(row: dict[str, object], name: str) -> int:
            value = row.get(name, 0)
            return value if isinstance(value, int) else 0

        rows.sort(key=lambda r: -(kb(r, "RssAnon_kb") + kb(r, "VmSwap_kb")))
        return rows[: self.processes]

    def sample(self) -> dict:
        """One trace sample: the same keys as a line of shared/traces, for whatever this machine lets us read."""
        t0 = time.monotonic()
        s: dict = {"t_ms": round((t0 - self.started) * 1000, 1), "seq": self.seq}
        vmstat = self._try("vmstat", self.paths["vmstat"], parse_vmstat, "lines of `name value`")
        s["vmstat"] = vmstat or {}
        by_node = "lines of `Node N, zone NAME` and an index per order"
        for key, parse, what in (
            ("meminfo_kb", parse_meminfo, "lines of `Name: value kB`"),
            ("buddyinfo", parse_buddyinfo, "lines of `Node N, zone NAME` and counts"),
            ("zones", parse_zoneinfo, "zones with their watermarks"),
            ("swaps", parse_swaps, "the /proc/swaps header and rows"),
            ("psi_memory", parse_pressure, "`some` and `full` lines"),
            ("unusable_index", parse_extfrag, by_node),
            ("extfrag_index", parse_extfrag, by_node),
        ):
            value = self._try(key, self.paths[key], parse, what)
            if value is not None:
                s[key] = value
        types = self._try(
            "pagetypeinfo",
            self.paths["pagetypeinfo"],
            _pagetypeinfo_or_none,
            "the free lists per migratetype and the pageblock counts",
        )
        if types is not None:
            s["pagetype_free"], s["pageblocks"] = types
        zram = self.read_zram()
        if zram is not None:
            s["zram"] = zram
        zswap = self.read_zswap()
        if zswap is not None:
            s["zswap"] = zswap
        blockdev = self.read_blockdev(s.get("swaps", []))
        if blockdev:
            s["blockdev"] = blockdev
        if self.processes and t0 - self._processes_at >= PROCESS_SCAN_EVERY:
            self._processes_at = t0
            s["procs"] = self.read_processes()
        dropped = prune_sample(s)  # what the trace schema refuses is left out, with a notice
        for key, problem in dropped.items():
            notice_key = NOTICE_KEY.get(key, key)
            self.notices[notice_key] = f"{self.source(notice_key)}: {problem}; left out"
        s["sample_ms"] = round((time.monotonic() - t0) * 1000, 2)
        self.seq += 1
        return s

    def source(self, key: str) -> str:
        """The file (or files) a part of a sample is read from, as a notice names it; the key if it has none."""
        path = self.paths.get(key)
        if path is None:
            return key
        return str(path / SOURCE_FILES[key]) if key in SOURCE_FILES else str(path)

    def meta(self, interval_ns: int, name: str) -> dict:
        """The setup a recording's NAME.meta.json holds: kernel, sysctls, watermarks, what could not be read."""
        first_zones = self._try("zones", self.paths["zones"], parse_zoneinfo) or {}
        meminfo = self._try("meminfo_kb", self.paths["meminfo_kb"], parse_meminfo) or {}
        sysctl = {}
        vm = self.paths["sysctl_vm"]
        try:
            for entry in sorted(os.listdir(vm)):
                try:
                    text = _read(vm / entry).strip()
                except OSError:
                    continue
                number = _int(text)
                sysctl[entry] = number if number is not None else text
        except OSError:
            pass
        version = ""
        with contextlib.suppress(OSError):
            version = _read(self.paths["version"]).strip()
        return {
            "scenario": name,
            "source": "live",
            "host": {"nodename": os.uname().nodename},
            "description": f"swaptui live on {os.uname().nodename}: this machine's own kernel",
            "interval_ms": interval_ns / 1e6,
            "kernel_version": version,
            "sysctl_vm": sysctl,
            "vm_memtotal_kb": meminfo.get("MemTotal", 0),
            "zone_watermarks_pages": {
                z: {k: v.get(k, 0) for k in (*ZONE_FIELDS, "protection")} for z, v in first_zones.items()
            },
            "unreadable": dict(self.notices),
            "jsonl_schema": {
                "t_ms": "CLOCK_MONOTONIC ms since the sampler started",
                "sample_ms": "time the sampler needed to read all files for this sample",
                "vmstat": "/proc/vmstat, cumulative raw values",
                "meminfo_kb": "/proc/meminfo (kB)",
                "buddyinfo": "zone -> free block counts per order (summed over nodes)",
                "pagetype_free": "zone -> migratetype -> free blocks per order (/proc/pagetypeinfo)",
                "pageblocks": "zone -> migratetype -> number of pageblocks",
                "zones": "/proc/zoneinfo: zone -> pages_free, min, low, high, managed, pcp_count ...",
                "swaps": "/proc/swaps rows",
                "psi_memory": "/proc/pressure/memory",
                "zram": "mm_stat + io_stat of the initialised zram devices, summed",
                "zswap": "/sys/kernel/debug/zswap/*",
                "blockdev": "/sys/class/block/DEV/stat of swap partitions",
                "procs": "the processes with the most anon + swap: pid, comm, VmRSS/RssAnon/VmSwap/VmPTE (kB); "
                "scanned at most once a second, samples in between leave it out",
            },
        }
