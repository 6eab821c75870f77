"""Side by side in the app: the variant switch, the variant named in pane titles, delta rows, merged events.

The stepper moves every machine (swaptui.lockstep.LockstepPlayer) and each frame carries all of them
(`Frame.variants`). Panes that can show every machine at once do (the header names them, the counters
have a column each and a Δ column, the event log tags each event with its machine); the panes too wide
to repeat (memory map, reclaim, clusters, XArray, caches, fragmentation, tasks) show one machine, named
in their title, which `v` cycles, with a row of the differences that matter to that pane underneath.
"""

from __future__ import annotations

from textual.content import Content

from swaptui.model.vmstat import NAMES
from swaptui.ui.stepper import Frame
from swaptui.units import format_size

VARIANT_STYLES = ("bold $text-accent", "bold $text-warning", "bold $text-success")
"""Each variant's colour, wherever it is named (its name is always written too: never colour alone)."""
TAG_WIDTH = 10
INDEX = {name: i for i, name in enumerate(NAMES)}

# What differs between the machines, per pane: (label, counter, unit) — unit "pages", "ns" or "".
DELTAS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "memory": (
        ("free", "nr_free_pages", "pages"),
        ("anon", "nr_anon_pages", "pages"),
        ("swapcache", "nr_swapcached", "pages"),
        ("zsmalloc", "nr_zspages", "pages"),
    ),
    "watermarks": (
        ("kswapd", "pgsteal_kswapd", ""),
        ("direct", "pgsteal_direct", ""),
        ("stalls", "allocstall_movable", ""),
        ("kswapd cpu", "swaptui_kswapd_cpu_ns", "ns"),
    ),
    "clusters": (
        ("pswpout", "pswpout", ""),
        ("swap used", "swaptui_swap_used", "pages"),
        ("thp fallback", "thp_swpout_fallback", ""),
        ("alloc fail", "swaptui_swap_alloc_fail", ""),
    ),
    "xarray": (
        ("lookups", "swaptui_xa_lookups", ""),
        ("hops", "swaptui_xa_hops", ""),
        ("vswap hits", "swaptui_vswap_lookup_hits", ""),
    ),
    "caches": (
        ("swap_ra", "swap_ra", ""),
        ("ra hits", "swap_ra_hit", ""),
        ("refaults", "workingset_refault_anon", ""),
    ),
    "fragmentation": (
        ("compact_stall", "compact_stall", ""),
        ("thp fallback", "thp_fault_fallback", ""),
        ("migrated", "pgmigrate_success", ""),
    ),
    "tasks": (
        ("majfault", "pgmajfault", ""),
        ("io wait", "swaptui_task_io_wait_ns", "ns"),
        ("throttled", "swaptui_throttle_ns", "ns"),
    ),
}


def style_of(i: int) -> str:
    return VARIANT_STYLES[i % len(VARIANT_STYLES)]


def variant_name(frame: Frame, i: int) -> Content:
    """A variant's name in its colour."""
    return Content.styled(frame.variants[i].name, style_of(i))


def tag(frame: Frame, i: int, width: int) -> Content:
    """A variant's name cut or padded to `width` cells, in its colour (the event log's first column)."""
    name = frame.variants[i].name
    return Content.styled(name[:width].ljust(width), style_of(i))


def tag_width(frame: Frame) -> int:
    return min(TAG_WIDTH, max(len(v.name) for v in frame.variants))


def title_tag(frame: Frame) -> Content:
    """What a one-machine pane's title adds side by side: which machine it shows and the key to switch."""
    if not frame.variants:
        return Content("")
    return (
        Content.styled(" · ", "$text-muted")
        + Content.styled("◆ ", style_of(frame.shown))
        + variant_name(frame, frame.shown)
    )


def names_line(frame: Frame) -> Content:
    """The header's part naming the variants: `swap.design: classic │ vswap`, the shown one marked."""
    sep = Content.styled(" │ ", "$text-muted")
    names = [
        (Content.styled("◆", style_of(i)) if i == frame.shown else Content("")) + variant_name(frame, i)
        for i in range(len(frame.variants))
    ]
    key = Content.styled(f"{frame.key} ", "$text-muted") if frame.key else Content("")
    return key + sep.join(names)


def format_delta(value: int, unit: str) -> str:
    """A signed difference: pages as a size, nanoseconds as seconds, else a count."""
    if not value:
        return "±0"
    sign = "+" if value > 0 else "−"
    size = abs(value)
    if unit == "pages":
        return f"{sign}{format_size(size * 4096, figures=3)}"
    if unit == "ns":
        return f"{sign}{size / 1e9:.3f} s"
    return f"{sign}{size:,}"


def delta_rows(frame: Frame, pane_id: str, width: int) -> list[Content]:
    """For each machine other than the one shown, a row of its differences from it in what this pane shows."""
    items = DELTAS.get(pane_id, ())
    if not frame.variants or not items:
        return []
    shown = frame.variants[frame.shown].snapshot.counters
    rows = []
    for i, other in enumerate(frame.variants):
        if i == frame.shown:
            continue
        head = Content.styled("Δ ", "bold") + variant_name(frame, i) + Content("−") + variant_name(frame, frame.shown)
        line = head + Content(":")
        for label, counter, unit in items:
            d = int(other.snapshot.counters[INDEX[counter]]) - int(shown[INDEX[counter]])
            item = Content.styled(f" {label} ", "$text-muted") + Content.styled(
                format_delta(d, unit), "bold" if d else "$text-muted"
            )
            if line.cell_length + item.cell_length > width:
                break
            line += item
        rows.append(line)
    return rows


def merged_events(frame: Frame, limit: int = 200) -> tuple[tuple[int, object], ...]:
    """Every machine's recent events in time order, each with its machine's index (the newest `limit`)."""
    if not frame.variants:
        return tuple((0, e) for e in frame.snapshot.events)
    merged = sorted(
        ((e.time_ns, i, n, e) for i, v in enumerate(frame.variants) for n, e in enumerate(v.snapshot.events)),
        key=lambda x: x[:3],
    )
    return tuple((i, e) for _, i, _, e in merged[-limit:])
