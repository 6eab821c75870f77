"""Pane 9, tasks: each workload process with what it has resident and what is out on swap."""

from __future__ import annotations

from textual.content import Content

from swaptui.ui.metrics import format_pages
from swaptui.ui.panes.base import TextPane, from_kernel, lines, row
from swaptui.ui.stepper import Frame


def usage_bar(resident: int, swapped: int, total: int, width: int) -> Content:
    """█ resident, ▒ swapped, · not yet touched, in proportion to the task's size."""
    if total <= 0 or width <= 0:
        return Content("")
    r = round(resident / total * width)
    s = min(width - r, round(swapped / total * width))
    return Content.assemble(
        ("█" * r, "$frame-anon-active"), ("▒" * s, "$frame-zsmalloc"), ("·" * (width - r - s), "$text-muted")
    )


class TasksPane(TextPane):
    """The workload processes: resident and swapped pages, and whether they still run."""

    PANE_ID = "tasks"

    def describe(self, frame: Frame, width: int, height: int) -> Content:
        procs = frame.snapshot.processes
        out = []
        for p in procs:
            state = (
                ("✖ OOM-killed", "bold $level-bad")
                if p.killed
                else (("■ exited", "$text-muted") if p.exited else ("▶ running", "$level-ok"))
            )
            pid = f" {p.pid}" if p.pid >= 0 else ""
            out.append(row((p.name, "bold"), f"{pid} · {format_pages(p.npages)} ", state))
            out.append(usage_bar(p.resident, p.swapped, p.npages, max(10, width)))
            out.append(
                row(
                    format_pages(p.resident),
                    (" resident · ", "$text-muted"),
                    format_pages(p.swapped),
                    (" swapped", "$text-muted"),
                )
            )
        if not procs:
            out.append(row(("no workload processes", "$text-muted")))
        if from_kernel(frame):
            out.append(row(("█ resident ▒ swapped · below peak", "$text-muted")))
        else:
            out.append(row(("█ resident ▒ swapped · untouched", "$text-muted")))
        return lines(*[r.truncate(width) for r in out], height=height)
