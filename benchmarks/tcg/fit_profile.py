"""Derive swaptui's qemu-tcg CPU profile from microbenchmarks run inside a QEMU TCG guest.

The guest (see README.md here) runs the recording setup of shared/traces: Debian's 6.1.0-56 kernel, QEMU 7.2
with `-accel tcg,thread=multi -cpu qemu64 -smp 2 -m 1G`. bench.c times, per 4 KiB page and without memory
pressure: A first-touch anonymous faults, B/C user-mode writes and reads of resident pages, D MADV_PAGEOUT
(reclaim in the caller's context) and E swap-in, on zram (lzo-rle) and on a virtio disk.

Each measured path is set against the same path's cost in swaptui's native cost table, split into the
profile's classes, and the class factors are solved for:
  kernel      from A (fault_entry + clear_page + pcp) and D on disk (no compression), least squares
  compress    from D on zram, after its kernel part
  decompress  from E on zram (system time), after its kernel part
  user        from B and C (user time) against touch_write and touch_read
Usage: python benchmarks/tcg/fit_profile.py benchmarks/tcg/measured.jsonl
"""

from __future__ import annotations

import json
import sys
from statistics import median

import numpy as np

from swaptui.model.costs import DEFAULT_COSTS as C
from swaptui.model.costs import backend_profile

XA_STORE = C.xa_lock + 3 * C.xa_hop  # a swap-cache store or erase in a 3-level XArray
FAULT_NEW = C.fault_entry + C.clear_page + C.pcp_page
PAGEOUT_BASE = (C.lru_isolate + C.slot_alloc + C.cluster_lock + 2 * XA_STORE + C.try_to_unmap + C.zero_check
                + C.remove_mapping + C.shadow_work + C.pcp_page)
PAGEOUT_DISK = PAGEOUT_BASE + C.pageout_submit
SWAPIN_BASE = C.fault_entry + C.pcp_page + 3 * C.xa_hop + C.swapin_map + C.shadow_work + C.slot_free
ZRAM = backend_profile("zram", "lzo-rle")


def medians(path: str) -> dict[tuple[str, str, str], float]:
    """Median per-page microseconds of each (swap, step, user|sys) over every repetition of the 'full' runs (no
    memcg): 3 boots x 3 repetitions. The median keeps one slow boot (host load) from moving the figures."""
    acc: dict[tuple[str, str, str], list[float]] = {}
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    for r in rows:
        if r.get("mode") != "full":
            continue
        for part in ("user", "sys"):
            acc.setdefault((r["swap"], r["step"], part), []).append(r[f"{part}_us_pp"])
    return {k: median(v) for k, v in acc.items()}


def fit(m: dict[tuple[str, str, str], float]) -> dict[str, float]:
    a = np.array([[FAULT_NEW], [PAGEOUT_DISK], [FAULT_NEW]], dtype=float) / 1000
    b = np.array([m[("disk", "A_fault_new", "sys")], m[("disk", "D_pageout", "sys")], m[("zram", "A_fault_new", "sys")]])
    kernel = float(np.linalg.lstsq(a, b, rcond=None)[0][0])
    compress = (m[("zram", "D_pageout", "sys")] - kernel * PAGEOUT_BASE / 1000) / (ZRAM.cpu_write_ns / 1000)
    decompress = (m[("zram", "E_swapin", "sys")] - kernel * SWAPIN_BASE / 1000) / (ZRAM.cpu_read_ns / 1000)
    user = median([m[(s, "B_write_resident", "user")] / (C.touch_write / 1000) for s in ("zram", "disk")]
                  + [m[(s, "C_read_resident", "user")] / (C.touch_read / 1000) for s in ("zram", "disk")])
    return {"kernel": kernel, "user": user, "compress": compress, "decompress": decompress}


def main() -> int:
    m = medians(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/tcg/measured.jsonl")
    for (swap, step, part), v in sorted(m.items()):
        print(f"{swap:5s} {step:17s} {part:4s} {v:8.2f} us/page")
    f = fit(m)
    print("qemu-tcg profile:", {k: round(v, 1) for k, v in f.items()})
    for name, native, measured in (
            ("A fault_new (sys)", FAULT_NEW * f["kernel"], m[("zram", "A_fault_new", "sys")]),
            ("D pageout disk", PAGEOUT_DISK * f["kernel"], m[("disk", "D_pageout", "sys")]),
            ("D pageout zram", PAGEOUT_BASE * f["kernel"] + ZRAM.cpu_write_ns * f["compress"],
             m[("zram", "D_pageout", "sys")]),
            ("E swapin zram (sys)", SWAPIN_BASE * f["kernel"] + ZRAM.cpu_read_ns * f["decompress"],
             m[("zram", "E_swapin", "sys")])):
        print(f"  {name:20s} profile {native / 1000:6.2f} us, measured {measured:6.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
