"""The help screen: every action from the table with its keys, then every glyph the panes draw."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from swaptui.ui.actions import groups
from swaptui.ui.cells import CLUSTER_MEANING, DISPLAY_GLYPHS, DISPLAY_KEYS, DISPLAY_MEANING
from swaptui.ui.panes.clusters import LEGEND as CLUSTER_LEGEND
from swaptui.ui.panes.events import KINDS


def help_text() -> Content:
    """The whole help as text (also what the tests read)."""
    out: list[Content] = [
        Content.styled("swaptui — a live model of Linux memory reclaim and swap", "bold $text-accent"),
        Content.styled(
            "Every action below but the cursor keys is also in the command palette (ctrl+p).", "$text-muted"
        ),
        Content(""),
    ]
    for group, actions in groups().items():
        out.append(Content.styled(group, "bold underline"))
        for a in actions:
            out.append(Content.assemble((f"  {a.keys_text:<12}", "bold $accent"), a.description))
        out.append(Content(""))
    out.append(
        Content.styled("Memory map glyphs (one cell = many frames; the state most of them are in)", "bold underline")
    )
    for d, meaning in enumerate(DISPLAY_MEANING):
        out.append(Content.assemble((f"  {DISPLAY_GLYPHS[d]}  ", f"bold $frame-{DISPLAY_KEYS[d]}"), meaning))
    out.append(Content.assemble(("  ▀  ", "bold"), "dense mode (d): top cell's colour over the bottom cell's colour"))
    out.append(Content(""))
    out.append(Content.styled("Swap cluster glyphs (one cell = one 512-slot cluster, or a group)", "bold underline"))
    for glyph, name, style in CLUSTER_LEGEND:
        meaning = CLUSTER_MEANING.get(
            name.split()[0],
            "a CPU's (or kswapd's) cached cluster: its next "
            "allocations come from here without taking a lock on the lists",
        )
        out.append(Content.assemble((f"  {glyph:<5}", f"bold {style}"), meaning))
    out.append(Content(""))
    out.append(Content.styled("Watermarks and events", "bold underline"))
    out.append(Content("  m l h   min, low and high watermarks on the free bar (0 … 2×high; ▶ = beyond)"))
    out.append(Content("  ✓ ◐ ▼ ✖ free above high, below high, below low, below min"))
    out.append(Content("  ☾ ▶ ◔  kswapd asleep, running, napping"))
    out.append(Content("  " + "  ".join(f"{g} {k}" for k, (g, _) in KINDS.items()) + "   event kinds"))
    out.append(Content("  ≈       a gauge (set every tick) in the counter list; other counters only grow"))
    out.append(Content(""))
    out.append(
        Content.styled(
            "Themes: dark, light, projector (high contrast, bold), colour-blind safe (Okabe–Ito); "
            "t cycles them. State is always a glyph too, never colour alone.",
            "$text-muted",
        )
    )
    return Content("\n").join(out)


class HelpScreen(ModalScreen[None]):
    """Help over the app; esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "dismiss", "close help")]
    AUTO_FOCUS = "#help"  # the scroll has the keys at once: ↓, pgdn and home scroll without a Tab first

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text(), id="help-text", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Help"
        self.query_one("#help").border_subtitle = "esc closes"
