"""The /proc and /sys readers: known text parsed exactly, then this machine's own files (skipped where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swaptui.procfs import (
    MM_STAT_FIELDS, Sampler, parse_buddyinfo, parse_extfrag, parse_fields, parse_meminfo, parse_pagetypeinfo,
    parse_pressure, parse_status, parse_swaps, parse_vmstat, parse_zoneinfo,
)

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
    psi = parse_pressure("some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\n"
                         "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n")
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
