"""Pane 2, watermarks and reclaim: free pages against min/low/high, kswapd's state, direct reclaim, steal rates."""

from __future__ import annotations

from textual.content import Content

from swaptui.ui.metrics import format_pages, format_rate, sparkline
from swaptui.ui.panes.base import TextPane, from_kernel, label, lines, not_exported, row
from swaptui.ui.stepper import Frame

KSWAPD = {
    "sleeping": ("☾ asleep", "$text-muted", "an allocation below low wakes it"),
    "running": ("▶ running", "bold $warning", "reclaiming until free > high"),
    "napping": ("◔ napping", "$text", "HZ/10 nap; free below low wakes it"),
}


def zone_level(free: int, wmin: int, low: int, high: int) -> tuple[str, str, str]:
    """(glyph+word, style, what it means) for free pages against the watermarks."""
    if free <= wmin:
        return "✖ below min", "bold $level-bad", "allocations stall in direct reclaim"
    if free <= low:
        return "▼ below low", "bold $level-warn", "allocations wake kswapd"
    if free <= high:
        return "◐ below high", "$level-warn", "a woken kswapd keeps reclaiming"
    return "✓ above high", "$level-ok", "kswapd may sleep"


def free_bar(free: int, wmin: int, low: int, high: int, width: int) -> Content:
    """Free pages as a bar from 0 to 2×high with m, l, h marking min, low and high (▶ past the end)."""
    scale = max(1, 2 * high)
    width = max(10, width)
    filled = min(width, round(free / scale * width))
    _, style, _ = zone_level(free, wmin, low, high)
    cells = ["█" if i < filled else "·" for i in range(width)]
    marks = {}
    for ch, value in (("m", wmin), ("l", low), ("h", high)):
        pos = min(width - 1, round(value / scale * width))
        cells[pos] = ch
        marks[pos] = ch
    if free > scale:
        cells[-1] = "▶"
    parts = []
    for i, ch in enumerate(cells):
        if i in marks:
            parts.append((ch, "bold reverse $text"))
        elif ch in "█▶":
            parts.append((ch, style))
        else:
            parts.append((ch, "$text-muted"))
    return Content.assemble(*parts)


class WatermarksPane(TextPane):
    """Where free memory is against the watermarks, and who is reclaiming."""

    PANE_ID = "watermarks"
    EVERY_FRAME = True

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        s = frame.snapshot
        h = frame.history
        wmin, low, high = s.watermarks
        free = s.nr_free
        level, level_style, meaning = zone_level(free, wmin, low, high)
        state, kstyle, kmeaning = KSWAPD.get(s.kswapd_state, (s.kswapd_state, "", ""))
        body = max(10, width - 8)
        steal_k = h.rate("pgsteal_kswapd")
        steal_d = h.rate("pgsteal_direct")
        stalls = h.rate("allocstall_movable")
        stall_ns = h.rate("swaptui_direct_reclaim_ns")
        spark_w = max(4, body - 16)
        ks = h.rate_series("pgsteal_kswapd", spark_w)
        ds = h.rate_series("pgsteal_direct", spark_w)
        top = max([1.0, *ks.tolist(), *ds.tolist()])
        out = [
            row(label("free", 8), (f"{free:,}", "bold"), f" pages {format_pages(free)}  ", (level, level_style)),
            row(label("", 8), free_bar(free, wmin, low, high, body)),
            row(
                label("", 8),
                ("m", "bold reverse $text"),
                f" min {wmin:,} ",
                ("l", "bold reverse $text"),
                f" low {low:,} ",
                ("h", "bold reverse $text"),
                f" high {high:,}",
            )
            if width >= 50
            else row(
                label("m l h", 8),
                ("m", "bold reverse $text"),
                f" {wmin:,} ",
                ("l", "bold reverse $text"),
                f" {low:,} ",
                ("h", "bold reverse $text"),
                f" {high:,}",
            ),
            row(label("zone", 8), (meaning, level_style)),
            row(
                label("kswapd", 8),
                (state, kstyle),
                f" · order {s.kswapd_order} · prio {s.kswapd_priority}",
                (f" · fails {s.kswapd_failures}", "bold $level-bad") if s.kswapd_failures else "",
            ),
            row(label("", 8), (kmeaning, "$text-muted")),
            row(
                label("direct", 8),
                (f"{format_rate(stalls)} stalls", "bold $level-bad" if stalls else "$text-muted"),
                f" · {stall_ns / 1e6 if stall_ns else 0:.0f} ms/s stalled",
            ),
            row(
                label("steal", 8),
                ("kswapd ", "$text-muted"),
                (format_rate(steal_k).rjust(8), "bold"),
                " ",
                (sparkline(ks, spark_w, 0, top), "$frame-anon-active"),
            ),
            row(
                label("", 8),
                ("direct ", "$text-muted"),
                (format_rate(steal_d).rjust(8), "bold"),
                " ",
                (sparkline(ds, spark_w, 0, top), "$level-bad"),
            ),
            row(
                label("free ~t", 8), (sparkline(h.value_series("nr_free_pages", body), body, 0, 2 * high), "$level-ok")
            ),
            row(label("anon", 8), f"active {s.lru_sizes[1]:,} · inactive {s.lru_sizes[0]:,}", (" LRU", "$text-muted")),
            row(label("file", 8), f"active {s.lru_sizes[3]:,} · inactive {s.lru_sizes[2]:,}", (" LRU", "$text-muted")),
        ]
        if from_kernel(frame):
            out = self._kernel_rows(frame, out, body)
        # On short panes, keep what moves: drop the explanations and the LRU sizes first.
        for drop in (11, 10, 5, 9, 3, 2):
            if len(out) > height and drop < len(out):
                out.pop(drop)
        return lines(*[r.truncate(width) for r in out], height=height)

    def _kernel_rows(self, frame: Frame, out: list[Content], body: int) -> list[Content]:
        """A real kernel's rows: kswapd's state, order and priority and the stall time are not exported;
        PSI tells how long tasks stalled, and pgscan_kswapd whether kswapd ran."""
        s = frame.snapshot
        h = frame.history
        high = s.watermarks[2]
        if not high:
            out[0] = row(label("free", 8), (f"{s.nr_free:,}", "bold"), f" pages {format_pages(s.nr_free)}")
            out[1] = row(label("", 8), ("watermarks: not in this recording", "$text-muted italic"))
            out[2] = row(label("", 8), ("(no zoneinfo in it)", "$text-muted"))
            out[3] = row(label("zone", 8), ("level unknown", "$text-muted"))
        else:
            out[3] = out[3] + Content.styled(" · zones summed", "$text-muted")
        scan = h.rate("pgscan_kswapd")
        out[4] = row(
            label("kswapd", 8),
            ("▶ scanning" if scan else "· not scanning", "bold $warning" if scan else "$text-muted"),
            (f" {format_rate(scan)} pgscan_kswapd" if scan else "", ""),
        )
        out[5] = row(label("", 8), not_exported("state"))
        stalls = sum(h.rate(n) or 0 for n in ("allocstall_movable", "allocstall_normal")) if len(h) > 1 else None
        psi = getattr(s, "kernel", {}).get("psi_memory")
        if isinstance(psi, dict) and "some" in psi:
            stalled = Content.assemble(
                " · PSI some ",
                (f"{psi['some'].get('avg10', 0):.1f}%", "bold"),
                " full ",
                (f"{psi.get('full', {}).get('avg10', 0):.1f}%", "bold"),
            )
        else:
            stalled = Content.styled(" · no PSI recorded", "$text-muted")
        out[6] = (
            row(label("direct", 8), (f"{format_rate(stalls)} stalls", "bold $level-bad" if stalls else "$text-muted"))
            + stalled
        )
        return out
