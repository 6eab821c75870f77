"""The app's layers: panes see only Snapshots; only the stepper (and the app, to name it) touch the Player."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "swaptui" / "ui"
MODEL_STATE = {"swaptui.model.machine", "swaptui.player"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_panes_and_widgets_never_import_the_machine_or_the_player() -> None:
    allowed = {UI / "stepper.py", UI / "app.py"}
    for path in UI.rglob("*.py"):
        if path in allowed:
            continue
        assert not imports(path) & MODEL_STATE, f"{path.name} reaches into the model"


def test_pure_modules_import_no_textual() -> None:
    for name in ("metrics.py", "cells.py", "stepper.py"):
        assert not any(m.split(".")[0] in ("textual", "rich") for m in imports(UI / name)), name
