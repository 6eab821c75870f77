"""The /proc and /sys readers: known text parsed exactly, then this machine's own files (skipped where absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.procfs import (
    MM_STAT_FIELDS,
    NOTICE_KEY,
    SOURCES,
    Sampler,
    parse_buddyinfo,
    parse_extfrag,
    parse_fields,
    parse_meminfo,
    parse_pagetypeinfo,
    parse_pressure,
    parse_status,
    parse_swaps,
    parse_vmstat,
    parse_zoneinfo,
)
from swaptui.trace_player import TracePlayer
from swaptui.traces import Trace

BUDDYINFO = """\
Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3
Node 0, zone    DMA32      1      2      4      2      5      4      3      3      4      2    752
Node 0, zone   Normal   2392   1394    937    559   1585   1482    927    620    315    167    753
Node 1, zone   Normal      8      0      0      0      0      0      0      0      0      0      1
"""

PAGETYPEINFO = """\
Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10
Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      1      0      0
Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      1      3
Node    0, zone   Normal, type    Unmovable    145    559    569    381    152     88     38     13      4      0      0
Node    0, zone   Normal, type      Movable    513    154     73     48   1365   1351    876    600    309    166    753

Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate
Node 0, zone      DMA            1            7            0            0            0
Node 0, zone   Normal           59         2315           58            0            0
"""

ZONEINFO = """\
Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 1564
  pages free     3840
        boost    0
        min      32
        low      40
        high     48
        promo    56
        spanned  4095
        present  3998
        managed  3840
        cma      0
        protection: (0, 3019, 7883, 7883, 7883)
      nr_free_pages 3840
  pagesets
    cpu: 0
              count:    5
              high:     0
    cpu: 1
              count:    7
              high:     0
  node_unreclaimable:  0
  start_pfn:           1
Node 0, zone   Normal
  pages free     1120726
        min      10405
        low      13006
        high     15607
        spanned  5505024
        present  5505024
        managed  1245184
        protection: (0, 0, 0, 0, 0)
Node 0, zone  Movable
  pages free     0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
"""

SWAPS = """\
Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority
/dev/zram0                              partition\t2097148\t\t342528\t\t100
/swap\\040file                           file\t\t1048572\t\t0\t\t-2
"""


def test_buddyinfo_sums_zones_of_the_same_name_over_nodes() -> None:
    got = parse_buddyinfo(BUDDYINFO)
    assert got["DMA"] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3]
    assert got["Normal"][0] == 2392 + 8 and got["Normal"][10] == 753 + 1
    assert list(got) == ["DMA", "DMA32", "Normal"]


def test_pagetypeinfo_free_lists_and_pageblocks() -> None:
    free, blocks = parse_pagetypeinfo(PAGETYPEINFO)
    assert free["DMA"]["Movable"] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3]
    assert free["Normal"]["Unmovable"][:3] == [145, 559, 569]
    assert blocks["Normal"] == {"Unmovable": 59, "Movable": 2315, "Reclaimable": 58, "HighAtomic": 0, "Isolate": 0}


def test_zoneinfo_watermarks_managed_and_pcp_counts() -> None:
    zones = parse_zoneinfo(ZONEINFO)
    assert list(zones) == ["DMA", "Normal"]  # zones without present pages are left out
    dma = zones["DMA"]
    assert (dma["min"], dma["low"], dma["high"], dma["managed"], dma["pages_free"]) == (32, 40, 48, 3840, 3840)
    assert dma["pcp_count"] == 12 and dma["protection"] == [0, 3019, 7883, 7883, 7883]
    assert zones["Normal"]["high"] == 15607


def test_swaps_meminfo_vmstat_pressure_and_small_files() -> None:
    swaps = parse_swaps(SWAPS)
    assert swaps[0] == {"dev": "/dev/zram0", "type": "partition", "size_kb": 2097148, "used_kb": 342528, "prio": 100}
    assert swaps[1]["dev"] == "/swap file" and swaps[1]["prio"] == -2
    assert parse_meminfo("MemTotal:  983472 kB\nHugePages_Total:   0\n") == {"MemTotal": 983472, "HugePages_Total": 0}
    assert parse_vmstat("pswpin 3\npswpout 40\n") == {"pswpin": 3, "pswpout": 40}
    psi = parse_pressure(
        "some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
    )
    assert psi["some"]["avg10"] == 1.5 and psi["some"]["total"] == 1234 and psi["full"]["total"] == 7
    mm = parse_fields("918257664 240157397 245424128 0 245424128 1 0 62 62\n", MM_STAT_FIELDS)
    assert mm["orig_data_size"] == 918257664 and mm["huge_pages_since"] == 62
    assert parse_extfrag("Node 0, zone      DMA 0.000 0.500 1.000\n") == {"DMA": [0.0, 0.5, 1.0]}
    status = parse_status("Name:\tusemem\nVmRSS:\t  877944 kB\nRssAnon:\t  877596 kB\nVmSwap:\t  341452 kB\n")
    assert status == {"comm": "usemem", "VmRSS_kb": 877944, "RssAnon_kb": 877596, "VmSwap_kb": 341452}


def test_sampler_notes_files_it_cannot_read(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "vmstat").write_text("nr_free_pages 100\npswpout 5\n")
    (proc / "buddyinfo").write_text(BUDDYINFO)
    s = Sampler(proc, tmp_path / "sys").sample()
    assert s["vmstat"] == {"nr_free_pages": 100, "pswpout": 5} and s["buddyinfo"]["DMA32"][10] == 752
    assert "meminfo_kb" not in s and "swaps" not in s and s["seq"] == 0
    sampler = Sampler(proc, tmp_path / "sys")
    sampler.sample()
    assert "not present" in sampler.unavailable["meminfo_kb"] and "zswap" in sampler.unavailable


def _need(path: str) -> None:
    if not os.access(path, os.R_OK):
        pytest.skip(f"{path} is missing or unreadable here (not Linux, a container, or not root)")


def test_this_machines_proc_reads_into_a_trace_sample() -> None:
    for path in ("/proc/vmstat", "/proc/meminfo", "/proc/buddyinfo", "/proc/zoneinfo", "/proc/swaps"):
        _need(path)
    sampler = Sampler()
    a = sampler.sample()
    b = sampler.sample()
    assert a["seq"] == 0 and b["seq"] == 1 and b["t_ms"] >= a["t_ms"]
    vm = b["vmstat"]
    assert vm["nr_free_pages"] > 0 and vm["pgfault"] >= a["vmstat"]["pgfault"]
    assert b["meminfo_kb"]["MemTotal"] > 0 and isinstance(b["swaps"], list)
    # The buddy lists are what nr_free_pages counts (they move between the two reads, so within a few %).
    buddy_pages = sum(n << order for counts in b["buddyinfo"].values() for order, n in enumerate(counts))
    assert abs(buddy_pages - vm["nr_free_pages"]) <= max(4096, vm["nr_free_pages"] // 20)
    zones = b["zones"]
    assert zones and all(z["min"] <= z["low"] <= z["high"] for z in zones.values())
    assert sum(z["managed"] for z in zones.values()) > 0
    assert b["sample_ms"] >= 0


def test_this_machines_pagetypeinfo_and_pressure() -> None:
    _need("/proc/pagetypeinfo")
    free, blocks = parse_pagetypeinfo(Path("/proc/pagetypeinfo").read_text())
    assert free and blocks and all("Movable" in per_type for per_type in free.values())
    _need("/proc/pressure/memory")
    psi = parse_pressure(Path("/proc/pressure/memory").read_text())
    assert set(psi) == {"some", "full"} and psi["some"]["total"] >= 0


# -- odd files: every reader degrades to a notice, never an exception ---------------------------------------

VMSTAT = "nr_free_pages 1120726\npgfault 123456\npswpin 3\npswpout 40\nnr_swapcached 7\n"
MEMINFO = (
    "MemTotal:        8000000 kB\nMemFree:         4483000 kB\nMemAvailable:    6000000 kB\nHugePages_Total:       0\n"
)
PRESSURE = "some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
EXTFRAG = "Node 0, zone      DMA -1.000 -1.000 -1.000 0.500\nNode 0, zone   Normal -1.000 -1.000 0.250 0.975\n"
SWAPS_PARTITION = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vda2    partition\t2097148\t\t342528\t\t100\n"
STATUS = "Name:\tusemem\nVmRSS:\t  877944 kB\nRssAnon:\t  877596 kB\nVmSwap:\t  341452 kB\nVmPTE:\t 1800 kB\n"
# file (relative to the fake root) -> (its text, the notice key it is read under, the sample key it fills)
FILES = {
    "proc/vmstat": (VMSTAT, "vmstat", "vmstat"),
    "proc/meminfo": (MEMINFO, "meminfo_kb", "meminfo_kb"),
    "proc/buddyinfo": (BUDDYINFO, "buddyinfo", "buddyinfo"),
    "proc/pagetypeinfo": (PAGETYPEINFO, "pagetypeinfo", "pagetype_free"),
    "proc/zoneinfo": (ZONEINFO, "zones", "zones"),
    "proc/swaps": (SWAPS_PARTITION, "swaps", "swaps"),
    "proc/pressure/memory": (PRESSURE, "psi_memory", "psi_memory"),
    "proc/4242/status": (STATUS, None, "procs"),
    "sys/kernel/debug/extfrag/unusable_index": (EXTFRAG, "unusable_index", "unusable_index"),
    "sys/kernel/debug/extfrag/extfrag_index": (EXTFRAG, "extfrag_index", "extfrag_index"),
    "sys/block/zram0/disksize": ("1073741824\n", None, "zram"),
    "sys/block/zram0/mm_stat": ("918257664 240157397 245424128 0 245424128 1 0 62 62\n", "zram", "zram"),
    "sys/block/zram0/io_stat": ("0 0 0 3\n", "zram_io", "zram"),
    "sys/kernel/debug/zswap/pool_total_size": ("8192\n", "zswap", "zswap"),
    "sys/kernel/debug/zswap/stored_pages": ("3\n", "zswap", "zswap"),
    "sys/class/block/vda2/stat": ("  100 0 800 50 200 0 1600 90 0 120 140 0 0 0 0 0 0\n", "blockdev vda2", "blockdev"),
}


def fake_root(tmp_path: Path) -> Path:
    """A copy of the files the sampler reads, as a kernel prints them."""
    for rel, (text, _key, _part) in FILES.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def sampler_of(root: Path) -> Sampler:
    return Sampler(root / "proc", root / "sys")


def test_a_whole_fake_root_reads_without_notices(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    sampler = sampler_of(root)
    s = sampler.sample()
    assert sampler.notices == {}
    for _text, _key, part in FILES.values():
        assert s[part], part
    assert s["zram"]["orig_data_size"] == 918257664 and s["zram"]["notify_free"] == 3
    assert s["zswap"] == {"pool_total_size": 8192, "stored_pages": 3} and s["blockdev"]["vda2"]["read_ios"] == 100
    assert s["procs"][0]["pid"] == 4242 and s["unusable_index"]["Normal"][3] == 0.975


def test_pagetypeinfo_counts_the_kernel_capped_read_as_the_cap(tmp_path: Path) -> None:
    """Regression: `swaptui live` crashed on `>100000` (procfs parsed pagetypeinfo with int())."""
    text = PAGETYPEINFO.replace("Movable    513    154", "Movable >100000    154")
    free, blocks = parse_pagetypeinfo(text)
    assert free["Normal"]["Movable"][:2] == [100000, 154] and blocks["Normal"]["Movable"] == 2315
    root = fake_root(tmp_path)
    (root / "proc" / "pagetypeinfo").write_text(text)
    sampler = sampler_of(root)
    s = sampler.sample()
    assert s["pagetype_free"]["Normal"]["Movable"][0] == 100000 and "pagetypeinfo" not in sampler.notices


def test_pagetypeinfo_sums_nodes_and_skips_other_tables() -> None:
    text = PAGETYPEINFO.replace(
        "\nNumber of blocks type",
        "Node    1, zone   Normal, type      Movable      1      0      0      0      0      0      0      0      0"
        "      0      2\n\nNumber of mixed blocks    Unmovable      Movable\nNode 0, zone   Normal      x  y\n"
        "\nNumber of blocks type",
    )
    free, blocks = parse_pagetypeinfo(text)
    assert free["Normal"]["Movable"][0] == 514 and free["Normal"]["Movable"][10] == 755
    assert blocks["Normal"]["Unmovable"] == 59


def _mutations(text: str) -> dict[str, object]:
    """Odd versions of a file: text, bytes, or a callable making something else at the path."""
    digits = next((w for w in text.split() if w.isdigit()), "0")
    return {
        "missing": None,
        "directory": lambda p: p.mkdir(),
        "fifo": os.mkfifo,
        "device": lambda p: p.symlink_to("/dev/zero"),
        "symlink loop": lambda p: p.symlink_to(p),
        "empty": "",
        "blank lines": "\n  \n\t\n",
        "truncated mid-line": text[: len(text) // 2 + 3],
        "first line only, cut": text.splitlines()[0][:9],
        "binary garbage": bytes(range(256)) * 8,
        "NUL bytes": text.replace(" ", "\0", 3),
        "prose": "this is not a kernel file\nat all: really\n",
        "extra columns": "\n".join(line + " 7 x" if line.strip() else line for line in text.splitlines()) + "\n",
        "fewer columns": "\n".join(" ".join(line.split()[:-1]) for line in text.splitlines()) + "\n",
        "a word for a number": text.replace(digits, "12x", 1),
        "negative numbers": text.replace(digits, "-" + digits, 1),
        "NaN": text.replace(digits, "nan"),
        "capped counts": text.replace(digits, ">100000"),
        "huge numbers": text.replace(digits, "9" * 400),
        "non-ASCII digits": text.replace(digits, "\u0663\u0664"),
        "CRLF": text.replace("\n", "\r\n"),
        "a line of 1 MB": text + "Node 0, zone Normal " + "1 " * 500_000 + "\n",
        "doubled": text + text,
        "lines shuffled": "\n".join(reversed(text.splitlines())) + "\n",
        "only a header": text.splitlines()[0] + "\n",
    }


ODD = [(rel, name) for rel in FILES for name in _mutations(FILES[rel][0])]
MUST_NOTE = {
    "missing",
    "directory",
    "fifo",
    "device",
    "symlink loop",
    "empty",
    "blank lines",
    "binary garbage",
    "prose",
}


@pytest.mark.parametrize(("rel", "mutation"), ODD, ids=[f"{r}-{m}" for r, m in ODD])
def test_an_odd_file_degrades_its_part_with_a_notice(tmp_path: Path, rel: str, mutation: str) -> None:
    root = fake_root(tmp_path)
    text, key, part = FILES[rel]
    odd = _mutations(text)[mutation]
    path = root / rel
    path.unlink()
    if isinstance(odd, str):
        path.write_text(odd, errors="surrogateescape")
    elif isinstance(odd, bytes):
        path.write_bytes(odd)
    elif callable(odd):
        odd(path)
    sampler = sampler_of(root)
    s = sampler.sample()  # never raises
    sampler.sample()
    json.dumps(s, allow_nan=False)  # the recorder writes it as strict JSON
    TracePlayer(Trace(root / "t.jsonl", [s], {})).snapshot_at(0)  # and the panes' snapshot is built from it
    if key == "zswap":  # one notice for the directory of counters; a kernel may lack one of them
        if mutation in MUST_NOTE - {"missing"}:
            assert sampler.notices[key].endswith(f"zswap: expected one whole number per file; left out {path.name}")
    elif key is not None and mutation in MUST_NOTE:
        assert str(path) in sampler.notices[key], sampler.notices
        if rel != "sys/kernel/debug/zswap/stored_pages":  # the other zswap counter is still read
            assert not s.get(part) or part == "zram", s.get(part)
    for other, (_t, other_key, other_part) in FILES.items():
        if (
            other_key is not None
            and other_key != key
            and not other.startswith(("sys/block", "sys/class"))
            and other_part != "swaps"
            and rel != "proc/swaps"
        ):
            assert other_key not in sampler.notices, (other_key, sampler.notices)
    if rel != "proc/vmstat":
        assert s["vmstat"] == parse_vmstat(VMSTAT)  # the other files are read as before
    for notice in sampler.notices.values():
        assert "\n" not in notice and len(notice) < 400 and notice.startswith(str(root))


def test_a_file_the_kernel_will_not_let_us_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads any mode, so permission denied is simulated where the file is opened."""
    root = fake_root(tmp_path)
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if str(path).endswith("pagetypeinfo"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    sampler = sampler_of(root)
    s = sampler.sample()
    assert "pagetype_free" not in s and sampler.notices == {
        "pagetypeinfo": f"{root}/proc/pagetypeinfo: permission denied"
    }


def test_a_file_larger_than_any_proc_file_is_not_read_whole(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    with open(root / "proc" / "meminfo", "w") as f:
        f.write(MEMINFO * (17 * 1024 * 1024 // len(MEMINFO)))
    sampler = sampler_of(root)
    s = sampler.sample()
    assert "meminfo_kb" not in s and "larger than 16 MiB" in sampler.notices["meminfo_kb"]


def test_odd_lines_are_left_out_and_named(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    (root / "proc" / "vmstat").write_text(VMSTAT + "pgmajfault 12x\nweird line here\n")
    (root / "proc" / "meminfo").write_text(MEMINFO + "Broken\n")
    sampler = sampler_of(root)
    s = sampler.sample()
    assert s["vmstat"] == parse_vmstat(VMSTAT)
    assert sampler.notices["vmstat"] == (
        f"{root}/proc/vmstat:6: expected `name value` with a whole-number value; "
        "got 'pgmajfault 12x' (left out, and 1 more odd line)"
    )
    assert sampler.notices["meminfo_kb"].startswith(f"{root}/proc/meminfo:5: expected `Name: value")
    assert s["meminfo_kb"]["MemTotal"] == 8000000
    (root / "proc" / "vmstat").write_text(VMSTAT)
    sampler.sample()
    assert "vmstat" not in sampler.notices  # a notice goes once the file reads well again


_ALPHABET = st.sampled_from(
    [
        "0",
        "7",
        "100000",
        ">",
        "-",
        " ",
        "\t",
        "\n",
        ":",
        "(",
        ")",
        ",",
        ".",
        "=",
        "kB",
        "Node",
        "zone",
        "type",
        "Normal",
        "Movable",
        "\0",
        "\x1b",
        "nan",
        "é",
        "avg10",
        "total",
        "Free pages count per migrate type at order",
        "Number of blocks type",
        "pages free",
        "protection:",
        "count:",
        "min",
        "present",
        "Filename",
        "partition",
        "some",
        "full",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FILES)), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), _ALPHABET), max_size=12))
def test_fuzzed_files_never_raise(tmp_path_factory: pytest.TempPathFactory, rel: str, edits: list) -> None:
    text, _key, _part = FILES[rel]
    for where, cut, insert in edits:
        i = int(where * len(text))
        text = text[:i] + insert + text[i + cut :]
    root = fake_root(tmp_path_factory.mktemp("fuzz"))
    (root / rel).write_text(text)
    sampler = sampler_of(root)
    s = sampler.sample()
    json.dumps(s, allow_nan=False)
    TracePlayer(Trace(root / "t.jsonl", [s], {})).snapshot_at(0)


def test_every_file_the_sampler_reads_comes_from_its_one_path_table(tmp_path: Path) -> None:
    """SOURCES is the one table of paths: each file of a fake root lies under its part's entry, every notice of
    an empty root names that entry's path, and a part the trace schema refuses is named by the same path."""
    root = fake_root(tmp_path)
    sampler = sampler_of(root)
    assert set(sampler.paths) == set(SOURCES)
    assert all(root in p.parents for p in sampler.paths.values())
    for rel, (_text, _key, part) in FILES.items():
        path = sampler.paths[NOTICE_KEY.get(part, part)]
        assert path == root / rel or path in (root / rel).parents, rel
    empty = Sampler(tmp_path / "none" / "proc", tmp_path / "none" / "sys")
    empty.sample()
    assert {"vmstat", "meminfo_kb", "zones", "swaps", "pagetypeinfo", "zswap"} <= set(empty.notices)
    for key, notice in empty.notices.items():
        assert notice.startswith(str(empty.paths[key])), (key, notice)
    (root / "proc" / "buddyinfo").write_text("Node 0, zone   Normal " + "1 " * 600_000 + "\n")
    sampler.sample()
    assert sampler.notices["buddyinfo"].startswith(f"{root / 'proc' / 'buddyinfo'}: ")
    assert sampler.source("procs") == str(root / "proc" / "PID" / "status")
