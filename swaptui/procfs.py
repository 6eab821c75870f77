"""Readers of this machine's /proc and /sys memory files into plain dicts and lists, in the shared/traces format.

Each reader parses one file and returns what the kernel printed, keyed by the kernel's own names;
`Sampler` reads them all into one trace sample (the same JSON object a line of shared/traces holds)
and remembers which files it could not read and why (missing file, no permission, no debugfs).
No model, no UI: `swaptui live` and its recorder are built on this.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from swaptui.model.fragmentation import parse_buddyinfo as _parse_buddyinfo_by_node

MM_STAT_FIELDS = ("orig_data_size", "compr_data_size", "mem_used_total", "mem_limit", "mem_used_max", "same_pages",
                  "pages_compacted", "huge_pages", "huge_pages_since")
IO_STAT_FIELDS = ("failed_reads", "failed_writes", "invalid_io", "notify_free")
BLOCK_STAT_FIELDS = ("read_ios", "read_merges", "read_sectors", "read_ticks", "write_ios", "write_merges",
                     "write_sectors", "write_ticks", "in_flight", "io_ticks", "time_in_queue", "discard_ios",
                     "discard_merges", "discard_sectors", "discard_ticks", "flush_ios", "flush_ticks")
ZONE_FIELDS = ("min", "low", "high", "spanned", "present", "managed")
PROCESS_FIELDS = {"VmRSS": "VmRSS_kb", "RssAnon": "RssAnon_kb", "VmSwap": "VmSwap_kb", "VmPTE": "VmPTE_kb"}
TOP_PROCESSES = 8
PROCESS_SCAN_EVERY = 1.0  # seconds: /proc/PID/status of every process costs ~40 us each, so at most once a second


def _read(path: str | Path) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read()


def parse_vmstat(text: str) -> dict[str, int]:
    """/proc/vmstat: one `name value` per line."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo: values in kB (HugePages_* are counts), keyed as printed without the colon."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            out[key.strip()] = int(parts[0])
    return out


def _zone_of(header: str) -> str:
    """The zone name from a `Node N, zone NAME` prefix (zones of the same name on several nodes are summed)."""
    return header.split("zone", 1)[1].strip().split()[0].rstrip(",")


def _add_lists(into: list[int], values: list[int]) -> list[int]:
    if len(into) < len(values):
        into = into + [0] * (len(values) - len(into))
    return [a + (values[i] if i < len(values) else 0) for i, a in enumerate(into)]


def parse_buddyinfo(text: str) -> dict[str, list[int]]:
    """/proc/buddyinfo: zone -> free blocks per order, summed over NUMA nodes (the per-node parse is the
    model's, `fragmentation.parse_buddyinfo`, which the fragmentation indices are computed from)."""
    out: dict[str, list[int]] = {}
    for (_node, zone), values in _parse_buddyinfo_by_node(text).items():
        out[zone] = _add_lists(out.get(zone, []), values)
    return out


def parse_pagetypeinfo(text: str) -> tuple[dict[str, dict[str, list[int]]], dict[str, dict[str, int]]]:
    """/proc/pagetypeinfo: (zone -> migratetype -> free blocks per order, zone -> migratetype -> pageblocks)."""
    free: dict[str, dict[str, list[int]]] = {}
    blocks: dict[str, dict[str, int]] = {}
    block_types: list[str] = []
    for line in text.splitlines():
        if line.startswith("Number of blocks type"):
            block_types = line.split()[4:]
            continue
        if not line.startswith("Node") or "zone" not in line:
            continue
        if ", type" in line:
            head, _, rest = line.partition(", type")
            fields = rest.split()
            zone = _zone_of(head)
            per_zone = free.setdefault(zone, {})
            per_zone[fields[0]] = _add_lists(per_zone.get(fields[0], []), [int(x) for x in fields[1:]])
        elif block_types:
            fields = line.partition("zone")[2].split()
            zone = fields[0]
            per_zone_blocks = blocks.setdefault(zone, {})
            for name, value in zip(block_types, fields[1:]):
                per_zone_blocks[name] = per_zone_blocks.get(name, 0) + int(value)
    return free, blocks


def parse_zoneinfo(text: str) -> dict[str, dict]:
    """/proc/zoneinfo: zone -> pages_free, min, low, high, spanned, present, managed, protection, pcp_count (summed
    over NUMA nodes; protection is the first node's). Zones with no present pages are left out."""
    out: dict[str, dict] = {}
    zone: dict | None = None
    for line in text.splitlines():
        if line.startswith("Node"):
            name = _zone_of(line)
            zone = out.setdefault(name, {"pages_free": 0, **{k: 0 for k in ZONE_FIELDS}, "pcp_count": 0})
            continue
        if zone is None:
            continue
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "pages" and len(fields) >= 3 and fields[1] == "free":
            zone["pages_free"] += int(fields[2])
        elif fields[0] in ZONE_FIELDS and len(fields) == 2:
            zone[fields[0]] += int(fields[1])
        elif fields[0] == "protection:" and "protection" not in zone:
            zone["protection"] = [int(x) for x in line.split("(", 1)[1].rstrip(")").split(",")]
        elif fields[0] == "count:" and len(fields) == 2:
            zone["pcp_count"] += int(fields[1])
    return {name: z for name, z in out.items() if z["present"]}


def _unescape_swap_name(name: str) -> str:
    """/proc/swaps escapes spaces, tabs, newlines and backslashes in paths as octal (\\040)."""
    if "\\" not in name:
        return name
    return name.encode("latin-1").decode("unicode_escape")


def parse_swaps(text: str) -> list[dict]:
    """/proc/swaps: one row per swap device or file (sizes in kB)."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            out.append({"dev": _unescape_swap_name(fields[0]), "type": fields[1], "size_kb": int(fields[2]),
                        "used_kb": int(fields[3]), "prio": int(fields[4])})
    return out


def parse_pressure(text: str) -> dict[str, dict[str, float]]:
    """/proc/pressure/memory: some/full -> avg10, avg60, avg300 (percent) and total (microseconds stalled)."""
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        row: dict[str, float] = {}
        for item in fields[1:]:
            key, _, value = item.partition("=")
            row[key] = int(value) if key == "total" else float(value)
        out[fields[0]] = row
    return out


def parse_fields(text: str, names: tuple[str, ...]) -> dict[str, int]:
    """Whitespace-separated integers (mm_stat, io_stat, block stat) keyed by `names`; extra fields are dropped."""
    values = text.split()
    return {name: int(v) for name, v in zip(names, values) if v.lstrip("-").isdigit()}


def parse_extfrag(text: str) -> dict[str, list[float]]:
    """/sys/kernel/debug/extfrag/{unusable_index,extfrag_index}: zone -> index per order."""
    out: dict[str, list[float]] = {}
    for line in text.splitlines():
        if "zone" in line:
            fields = line.partition("zone")[2].split()
            out[fields[0]] = [float(x) for x in fields[1:]]
    return out


def parse_status(text: str) -> dict[str, object]:
    """/proc/PID/status: the name and the memory lines swaptui shows (kB)."""
    out: dict[str, object] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "Name":
            out["comm"] = rest.strip()
        elif key in PROCESS_FIELDS:
            out[PROCESS_FIELDS[key]] = int(rest.split()[0])
    return out


class Sampler:
    """Reads this machine's memory files into trace samples; files it cannot read are listed in `unavailable`."""

    def __init__(self, proc: str | Path = "/proc", sys: str | Path = "/sys", processes: int = TOP_PROCESSES) -> None:
        self.proc = Path(proc)
        self.sys = Path(sys)
        self.processes = processes
        self.unavailable: dict[str, str] = {}  # what could not be read -> why (filled as files are tried)
        self.seq = 0
        self.started = time.monotonic()
        self._processes_at = -PROCESS_SCAN_EVERY

    def _try(self, key: str, path: Path, parse):
        """parse(text of path), or None after noting why the file could not be read."""
        try:
            value = parse(_read(path))
        except FileNotFoundError:
            self.unavailable[key] = f"{path}: not present"
            return None
        except PermissionError:
            self.unavailable[key] = f"{path}: permission denied"
            return None
        except OSError as error:
            self.unavailable[key] = f"{path}: {error.strerror or error}"
            return None
        self.unavailable.pop(key, None)
        return value

    def zram_devices(self) -> list[Path]:
        """Initialised zram devices (disksize > 0)."""
        out = []
        for dev in sorted((self.sys / "block").glob("zram*")):
            try:
                if int(_read(dev / "disksize").split()[0]) > 0:
                    out.append(dev)
            except (OSError, ValueError, IndexError):
                continue
        return out

    def read_zram(self) -> dict[str, int] | None:
        """mm_stat and io_stat of the initialised zram devices, summed (one device: exactly its numbers)."""
        total: dict[str, int] = {}
        devices = self.zram_devices()
        for dev in devices:
            stats = self._try("zram", dev / "mm_stat", lambda t: parse_fields(t, MM_STAT_FIELDS)) or {}
            stats |= self._try("zram_io", dev / "io_stat", lambda t: parse_fields(t, IO_STAT_FIELDS)) or {}
            for k, v in stats.items():
                total[k] = total.get(k, 0) + v
        return total if devices else None

    def read_zswap(self) -> dict[str, int] | None:
        """/sys/kernel/debug/zswap/*: every counter file (needs debugfs mounted and root)."""
        d = self.sys / "kernel" / "debug" / "zswap"
        try:
            names = sorted(os.listdir(d))
        except OSError as error:
            reason = "not present (debugfs not mounted, or no zswap)" if isinstance(error, FileNotFoundError) else \
                (error.strerror or str(error))
            self.unavailable["zswap"] = f"{d}: {reason}"
            return None
        out = {}
        for name in names:
            try:
                out[name] = int(_read(d / name).split()[0])
            except (OSError, ValueError, IndexError):
                continue
        self.unavailable.pop("zswap", None)
        return out

    def read_blockdev(self, swaps: list[dict]) -> dict[str, dict[str, int]]:
        """/sys/class/block/DEV/stat of each swap partition."""
        out = {}
        for row in swaps:
            if row.get("type") != "partition":
                continue
            name = os.path.basename(row["dev"])
            stats = self._try(f"blockdev {name}", self.sys / "class" / "block" / name / "stat",
                              lambda t: parse_fields(t, BLOCK_STAT_FIELDS))
            if stats is not None:
                out[name] = stats
        return out

    def read_processes(self) -> list[dict]:
        """The processes holding the most memory (resident anon + swap), biggest first."""
        rows = []
        for entry in os.scandir(self.proc):
            if not entry.name.isdigit():
                continue
            try:
                status = parse_status(_read(os.path.join(entry.path, "status")))
            except (OSError, ValueError, IndexError):
                continue  # exited meanwhile, or a kernel thread without memory lines
            if "VmRSS_kb" not in status:
                continue
            status["pid"] = int(entry.name)
            rows.append(status)
        rows.sort(key=lambda r: -(r.get("RssAnon_kb", 0) + r.get("VmSwap_kb", 0)))
        return rows[:self.processes]

    def sample(self) -> dict:
        """One trace sample: the same keys as a line of shared/traces, for whatever this machine lets us read."""
        t0 = time.monotonic()
        s: dict = {"t_ms": round((t0 - self.started) * 1000, 1), "seq": self.seq}
        vmstat = self._try("vmstat", self.proc / "vmstat", parse_vmstat)
        s["vmstat"] = vmstat or {}
        for key, path, parse in (("meminfo_kb", self.proc / "meminfo", parse_meminfo),
                                 ("buddyinfo", self.proc / "buddyinfo", parse_buddyinfo),
                                 ("zones", self.proc / "zoneinfo", parse_zoneinfo),
                                 ("swaps", self.proc / "swaps", parse_swaps),
                                 ("psi_memory", self.proc / "pressure" / "memory", parse_pressure)):
            value = self._try(key, path, parse)
            if value is not None:
                s[key] = value
        types = self._try("pagetypeinfo", self.proc / "pagetypeinfo", parse_pagetypeinfo)
        if types is not None:
            s["pagetype_free"], s["pageblocks"] = types
        debug = self.sys / "kernel" / "debug" / "extfrag"
        for key in ("unusable_index", "extfrag_index"):
            value = self._try(key, debug / key, parse_extfrag)
            if value is not None:
                s[key] = value
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
        s["sample_ms"] = round((time.monotonic() - t0) * 1000, 2)
        self.seq += 1
        return s

    def meta(self, interval_ns: int, name: str) -> dict:
        """The setup a recording's NAME.meta.json holds: kernel, sysctls, watermarks, what could not be read."""
        first_zones = self._try("zones", self.proc / "zoneinfo", parse_zoneinfo) or {}
        meminfo = self._try("meminfo_kb", self.proc / "meminfo", parse_meminfo) or {}
        sysctl = {}
        vm = self.proc / "sys" / "vm"
        try:
            for entry in sorted(os.listdir(vm)):
                try:
                    text = _read(vm / entry).strip()
                except OSError:
                    continue
                sysctl[entry] = int(text) if text.lstrip("-").isdigit() else text
        except OSError:
            pass
        version = ""
        try:
            version = _read(self.proc / "version").strip()
        except OSError:
            pass
        return {
            "scenario": name, "source": "live", "host": {"nodename": os.uname().nodename},
            "description": f"swaptui live on {os.uname().nodename}: this machine's own kernel",
            "interval_ms": interval_ns / 1e6, "kernel_version": version, "sysctl_vm": sysctl,
            "vm_memtotal_kb": meminfo.get("MemTotal", 0),
            "zone_watermarks_pages": {z: {k: v.get(k, 0) for k in (*ZONE_FIELDS, "protection")}
                                      for z, v in first_zones.items()},
            "unreadable": dict(self.unavailable),
            "jsonl_schema": {
                "t_ms": "CLOCK_MONOTONIC ms since the sampler started",
                "sample_ms": "time the sampler needed to read all files for this sample",
                "vmstat": "/proc/vmstat, cumulative raw values", "meminfo_kb": "/proc/meminfo (kB)",
                "buddyinfo": "zone -> free block counts per order (summed over nodes)",
                "pagetype_free": "zone -> migratetype -> free blocks per order (/proc/pagetypeinfo)",
                "pageblocks": "zone -> migratetype -> number of pageblocks",
                "zones": "/proc/zoneinfo: zone -> pages_free, min, low, high, managed, pcp_count ...",
                "swaps": "/proc/swaps rows", "psi_memory": "/proc/pressure/memory",
                "zram": "mm_stat + io_stat of the initialised zram devices, summed",
                "zswap": "/sys/kernel/debug/zswap/*", "blockdev": "/sys/class/block/DEV/stat of swap partitions",
                "procs": "the processes with the most anon + swap: pid, comm, VmRSS/RssAnon/VmSwap/VmPTE (kB); "
                         "scanned at most once a second, samples in between leave it out",
            },
        }
