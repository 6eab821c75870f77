"""The model never imports the UI (textual, rich), so headless use stays light and the layers stay apart."""

from __future__ import annotations

import subprocess
import sys


def test_model_imports_no_textual_or_rich() -> None:
    code = (
        "import sys, pkgutil, importlib, swaptui.model as pkg\n"
        "for m in pkgutil.iter_modules(pkg.__path__):\n"
        "    importlib.import_module('swaptui.model.' + m.name)\n"
        "importlib.import_module('swaptui.player')\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('textual', 'rich')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
