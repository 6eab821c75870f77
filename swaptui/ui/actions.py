"""The one table of actions: it feeds the key bindings, the footer, the help screen and the command palette.

Add a row here and the key works, shows in the footer (if it has a footer label), is listed in help
and can be found in the palette; nothing else needs to change, so help cannot drift from behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from swaptui.ui.panes import PANES

# The footer shows labelled actions in this order (the most used first, so a narrow terminal keeps them).
FOOTER_ORDER = (
    "toggle_run",
    "step(1)",
    "step_back(1)",
    "help",
    "quit",
    "faster",
    "slower",
    "pane(1)",
    "go_to",
    "restart",
    "next_theme",
)


@dataclass(frozen=True)
class Action:
    """One action: its keys, what Textual runs, what it does, its help section and its footer label."""

    keys: tuple[str, ...]  # Textual key names
    action: str  # the action string Textual runs, e.g. "step(1)"
    description: str  # for help and the palette
    group: str  # help section
    footer: str = ""  # short label in the footer; "" keeps it out of the footer
    footer_key: str = ""  # how the key reads in the footer, if not its name (e.g. "1-9" for all the pane keys)
    scope: str = "app"  # "app": bound on the app; "cursor": bound on the maps and the counter list
    palette: bool = True  # offered in the command palette
    label: str = ""  # the binding's short description when it has no footer label (Textual shows some anyway)

    @property
    def keys_text(self) -> str:
        """The keys as a person reads them."""
        return " ".join(KEY_NAMES.get(k, k) for k in self.keys)


KEY_NAMES = {
    "space": "space",
    "right": "→",
    "left": "←",
    "up": "↑",
    "down": "↓",
    "plus": "+",
    "minus": "-",
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "escape": "esc",
    "enter": "enter",
    "backspace": "backspace",
    "ctrl+p": "ctrl+p",
    "pageup": "pgup",
    "pagedown": "pgdn",
    "home": "home",
    "end": "end",
    "equals_sign": "=",
}

ACTIONS: tuple[Action, ...] = (
    Action(("space",), "toggle_run", "run / pause the model", "Time", "run/pause"),
    Action(("n", "right"), "step(1)", "step one tick forward (pauses)", "Time", "step"),
    Action(("N",), "step(100)", "step 100 ticks forward (pauses)", "Time"),
    Action(
        ("b", "left"), "step_back(1)", "step one tick back: restore a checkpoint and replay (pauses)", "Time", "back"
    ),
    Action(
        ("plus", "equals_sign"), "faster", "speed ×2 (ticks per second of wall time)", "Time", "faster", footer_key="+"
    ),
    Action(("minus",), "slower", "speed ÷2", "Time", "slower"),
    Action(("g",), "go_to", "go to a tick or a time (e.g. 1500 or 1.5s)…", "Time", "go to"),
    Action(("r",), "restart", "restart at tick 0 (pauses)", "Time", "restart"),
    Action(
        ("enter",),
        "next_beat",
        "story: run the model to the next beat (when no map or list is focused; esc leaves one)",
        "Story",
    ),
    Action(("backspace",), "previous_beat", "story: go back to the previous beat's tick", "Story"),
    *(
        Action(
            (str(p.number),),
            f"pane({p.number})",
            f"focus and maximise pane {p.number}: {p.title} (again to restore)",
            "Panes",
            "panes" if p.number == 1 else "",
            "1-9" if p.number == 1 else "",
        )
        for p in PANES
    ),
    Action(("escape",), "back_out", "close the inspector, restore a maximised pane, or leave a pane", "Panes"),
    Action(("i",), "inspect", "inspect the cell or counter under the cursor (opens the inspector)", "Panes"),
    Action(("right_square_bracket",), "zoom(1)", "memory map: zoom in (pageblock bands, PFN gutter)", "View"),
    Action(("left_square_bracket",), "zoom(-1)", "memory map: zoom out", "View"),
    Action(("d",), "dense", "memory map: glyph cells / dense half-block cells (colour only)", "View"),
    Action(("slash",), "filter", "filter the counters by name", "View"),
    Action(("v",), "next_variant", "side by side: show the next machine in the one-machine panes", "View"),
    Action(("t",), "next_theme", "next theme: dark, light, projector, colour-blind safe", "View", "theme"),
    Action(("question_mark",), "help", "help: every key and every glyph", "App", "help"),
    Action(("ctrl+p",), "command_palette", "command palette: every action by name", "App", label="palette"),
    Action(("s",), "screenshot", "save an SVG screenshot in the current directory", "App"),
    Action(("q",), "quit", "quit", "App", "quit"),
    Action(
        ("up",),
        "cursor(0,-1)",
        "move the cursor up (in a focused map or list)",
        "Cursor",
        scope="cursor",
        palette=False,
    ),
    Action(("down",), "cursor(0,1)", "move the cursor down", "Cursor", scope="cursor", palette=False),
    Action(
        ("left",),
        "cursor(-1,0)",
        "move the cursor left (a focused pane takes ← → from time)",
        "Cursor",
        scope="cursor",
        palette=False,
    ),
    Action(("right",), "cursor(1,0)", "move the cursor right", "Cursor", scope="cursor", palette=False),
    Action(("pageup",), "cursor(0,-10)", "move the cursor ten rows up", "Cursor", scope="cursor", palette=False),
    Action(("pagedown",), "cursor(0,10)", "move the cursor ten rows down", "Cursor", scope="cursor", palette=False),
    Action(
        ("enter",), "inspect", "inspect what the cursor is on (or click it)", "Cursor", scope="cursor", palette=False
    ),
)


def bindings(scope: str = "app") -> list[BindingType]:
    """Textual bindings for one scope, footer labels included, in footer order."""

    def rank(a: Action) -> int:
        return FOOTER_ORDER.index(a.action) if a.action in FOOTER_ORDER else len(FOOTER_ORDER)

    out: list[BindingType] = []
    for a in sorted((a for a in ACTIONS if a.scope == scope), key=rank):
        for i, key in enumerate(a.keys):
            out.append(
                Binding(
                    key,
                    a.action,
                    a.footer or a.label or a.description,
                    show=bool(a.footer) and i == 0,
                    key_display=(a.footer_key or None) if i == 0 else None,
                    tooltip=a.description,
                )
            )
    return out


def groups() -> dict[str, list[Action]]:
    """Actions by help section, in table order."""
    out: dict[str, list[Action]] = {}
    for a in ACTIONS:
        out.setdefault(a.group, []).append(a)
    return out
