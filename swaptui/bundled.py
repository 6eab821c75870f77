"""The scenarios that ship inside the package (swaptui/scenarios/*.yaml), found by file name or bare name.

The repository's top-level `scenarios/` is a symbolic link to the same folder, so a checkout and an
installed wheel hold one copy. A scenario argument is a path if that path exists; otherwise a bare
name such as `usemem-zram` (with or without `.yaml`) names a bundled scenario.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
"""Where the bundled scenario files are, in a checkout and in an installed wheel alike."""
STORIES = "stories"
"""The subfolder of stories (scenarios with beats, for talks); their names read `stories/NAME`."""


def bundled_names() -> list[str]:
    """The bundled scenarios' names: their file names without `.yaml`, sorted; then the stories, as `stories/NAME`."""
    stories = sorted(f"{STORIES}/{p.stem}" for p in (SCENARIO_DIR / STORIES).glob("*.yaml") if p.is_file())
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml") if p.is_file()) + stories


def bundled_path(name: str) -> Path | None:
    """The file of the bundled scenario `name` (`usemem-zram`, `usemem-zram.yaml`, `stories/zswap-pool-limit`), or None."""
    folder = SCENARIO_DIR
    if name.startswith(f"{STORIES}/"):
        folder, name = SCENARIO_DIR / STORIES, name[len(STORIES) + 1 :]
    if not name or os.sep in name or (os.altsep and os.altsep in name) or name.startswith("."):
        return None
    path = folder / (name if name.endswith(".yaml") else f"{name}.yaml")
    return path if path.is_file() else None


def resolve_scenario(argument: str) -> str | None:
    """The file a scenario argument names: the path itself if it exists, else a bundled scenario of that
    name; the argument unchanged if it has a directory part (the loader then says the file is missing);
    None for a bare name that is neither (see `unknown_scenario_message`)."""
    if os.path.exists(argument):
        return argument
    bundled = bundled_path(argument)
    if bundled is not None:
        return str(bundled)
    if os.sep in argument or (os.altsep and os.altsep in argument):
        return argument
    return None


def unknown_scenario_message(argument: str) -> str:
    """One line for a scenario argument that is neither a file nor a bundled name: what exists instead."""
    names = bundled_names()
    close = difflib.get_close_matches(argument.removesuffix(".yaml"), names, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"{argument}: no such file, and no bundled scenario of that name{hint}; "
        f"expected a scenario file or one of: {', '.join(names)}"
    )


def scenario_title(path: Path) -> str:
    """A bundled scenario's one-line title: its `name:` key, read without validating the whole file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "(unreadable)"
    name = data.get("name") if isinstance(data, dict) else None
    return " ".join(str(name).split()) if name else "(no name)"
