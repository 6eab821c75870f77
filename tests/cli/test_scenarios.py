"""Bundled scenarios: one copy inside the package, found by bare name, listed by `swaptui scenarios`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelpers import swaptui

from swaptui.bundled import SCENARIO_DIR, bundled_names, resolve_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_the_top_level_folder_is_the_packaged_one() -> None:
    """scenarios/ (what users see) and swaptui/scenarios (what the wheel ships) are one folder, not two copies."""
    assert SCENARIO_DIR == ROOT / "swaptui" / "scenarios"
    assert (ROOT / "scenarios").resolve() == SCENARIO_DIR
    assert "usemem-zram" in bundled_names() and len(bundled_names()) >= 12


def test_a_bare_name_runs_the_bundled_scenario_from_any_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing here: the name must come from the package
    for name in ("usemem-zram", "usemem-zram.yaml"):
        r = swaptui("run", name, "--ticks", "20")
        assert r.returncode == 0, r.stderr
        assert "20 ticks" in r.stdout and "pswpout" in r.stdout
    r = swaptui("check", "usemem-zram")
    assert r.returncode == 0 and r.stdout.startswith('ok: usemem-zram \u2014 "usemem on zram"')


def test_an_existing_path_wins_over_a_bundled_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "usemem-zram.yaml").write_text("name: mine\n")
    assert resolve_scenario("usemem-zram.yaml") == "usemem-zram.yaml"
    assert resolve_scenario("usemem-zram") == str(SCENARIO_DIR / "usemem-zram.yaml")
    r = swaptui("check", "usemem-zram.yaml")  # the local file, which is incomplete
    assert r.returncode == 2 and "usemem-zram.yaml:" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("argument", ["usemem-zarm", "nothing.yaml", "..", "../usemem-zram"])
def test_an_unknown_name_is_one_line_listing_the_bundled_ones(tmp_path: Path, monkeypatch, argument: str) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    r = swaptui("run", argument, "--ticks", "5")
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"swaptui: {argument}: ") and "Traceback" not in line
    if argument in ("usemem-zarm", "nothing.yaml"):
        assert "no bundled scenario of that name" in line and "usemem-zram" in line and "zero-pages" in line
    if argument == "usemem-zarm":
        assert "did you mean usemem-zram?" in line


def test_scenarios_lists_every_bundled_scenario_with_its_title() -> None:
    r = swaptui("scenarios")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    listed = [line.split()[0] for line in lines[: len(bundled_names())]]
    assert listed == bundled_names()
    assert any(line.split(None, 1) == ["usemem-zram", "usemem on zram"] for line in lines)
    assert str(SCENARIO_DIR) in lines[-1] and "swaptui run NAME" in lines[-1]


def test_stories_are_bundled_listed_and_found_by_name(tmp_path: Path, monkeypatch) -> None:
    """scenarios/stories/*.yaml ship in the wheel (package-data), `swaptui scenarios` lists them as stories/NAME,
    and that name finds the file from any directory."""
    import tomllib

    stories = sorted(p.stem for p in (SCENARIO_DIR / "stories").glob("*.yaml"))
    assert len(stories) >= 6
    assert [n for n in bundled_names() if n.startswith("stories/")] == [f"stories/{s}" for s in stories]
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["swaptui"]
    for path in SCENARIO_DIR.rglob("*.yaml"):
        relative = path.relative_to(SCENARIO_DIR.parent)
        assert any(relative.match(g) for g in globs), f"{relative} is not in the wheel's package-data"
    listed = swaptui("scenarios").stdout
    for s in stories:
        assert re.search(rf"^stories/{s} +story: ", listed, re.M), s
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario(f"stories/{stories[0]}") == str(SCENARIO_DIR / "stories" / f"{stories[0]}.yaml")
    assert resolve_scenario("stories/../usemem-zram") == "stories/../usemem-zram"  # a path, not a bundled name
    r = swaptui("check", f"stories/{stories[0]}")
    assert r.returncode == 0 and r.stdout.startswith(f"ok: stories/{stories[0]} "), r.stdout + r.stderr
