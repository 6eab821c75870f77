"""`swaptui run --plot` and `compare --plot`: the counters over time as a PNG or SVG, written like every output."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from clihelpers import ZRAM, swaptui, tiny_scenario

SCENARIO = tiny_scenario("tiny plot", ZRAM, tail="compare: [classic, vswap]\n")


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height from its IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_compare_plot_is_an_800_px_png_and_is_not_overwritten_without_force(scenario: Path, tmp_path: Path) -> None:
    png = tmp_path / "c.png"
    r = swaptui("compare", str(scenario), "--plot", str(png))
    assert r.returncode == 0, r.stderr
    width, height = png_size(png)
    assert width == 800 and 500 < height < 900
    import matplotlib.image

    assert matplotlib.image.imread(png).shape[:2] == (height, width)
    before = png.read_bytes()
    r = swaptui("compare", str(scenario), "--plot", str(png))
    assert r.returncode == 2 and r.stderr == f"swaptui: --plot {png}: exists; --force overwrites it\n"
    assert png.read_bytes() == before
    r = swaptui("compare", str(scenario), "--plot", str(png), "--force", "--ticks", "120")
    assert r.returncode == 0, r.stderr
    assert png_size(png)[0] == 800 and png.read_bytes() != before


def test_plotting_does_not_change_the_figures(scenario: Path, tmp_path: Path) -> None:
    plain, plotted = tmp_path / "a.json", tmp_path / "b.json"
    assert swaptui("compare", str(scenario), "--ticks", "150", "--json", str(plain)).returncode == 0
    r = swaptui("compare", str(scenario), "--ticks", "150", "--json", str(plotted), "--plot", str(tmp_path / "p.svg"))
    assert r.returncode == 0, r.stderr
    assert json.loads(plain.read_text()) == json.loads(plotted.read_text())


def test_run_plot_svg_names_the_scenario_seed_and_counters(scenario: Path, tmp_path: Path) -> None:
    svg = tmp_path / "r.svg"
    r = swaptui("run", str(scenario), "--plot", str(svg), "--seed", "9")
    assert r.returncode == 0, r.stderr
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text and 'width="576pt"' in text  # 8 in: 800 px at 100 dpi
    design = r.stdout.split(" · design ")[1].split(" ")[0]  # the run's own report is still printed
    for words in ("tiny plot", "seed 9", "pswpout", "pgsteal_direct", "simulated time (s)", design):
        assert f"<!-- {words}" in text, words  # matplotlib's SVG keeps each text as a comment


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.parametrize("name", ["out.pdf", "out", "out.png.txt"])
def test_a_plot_that_is_not_png_or_svg_is_refused(scenario: Path, tmp_path: Path, command: str, name: str) -> None:
    out = tmp_path / name
    r = swaptui(command, str(scenario), "--plot", str(out))
    assert r.returncode == 2 and r.stderr == f"swaptui: --plot: expected a FILE.png or FILE.svg; got {out}\n"
    assert list(tmp_path.iterdir()) == [scenario]


def test_a_plot_onto_a_fifo_or_a_directory_is_refused_even_with_force(scenario: Path, tmp_path: Path) -> None:
    fifo, folder = tmp_path / "fifo.png", tmp_path / "dir.svg"
    os.mkfifo(fifo)
    folder.mkdir()
    for command, out, kind in (("run", fifo, "a FIFO"), ("compare", folder, "a directory")):
        r = swaptui(command, str(scenario), "--plot", str(out), "--force")
        assert r.returncode == 2
        assert r.stderr == f"swaptui: --plot {out}: not a regular file ({kind}); expected a path for a new file\n"


def test_a_plot_without_matplotlib_is_one_line_naming_the_extra(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    for command in ("run", "compare"):
        r = swaptui(command, str(scenario), "--plot", str(tmp_path / "p.png"))
        assert r.returncode == 2
        assert r.stderr == "swaptui: --plot: needs matplotlib, an optional extra: pip install 'swaptui[plot]'\n"
    assert not (tmp_path / "p.png").exists()


def test_the_recorder_keeps_every_nth_tick_and_the_last(scenario: Path) -> None:
    from swaptui.model.machine import Machine
    from swaptui.model.vmstat import INDEX
    from swaptui.report import PLOTTED, SeriesRecorder, plot_every, run_machine
    from swaptui.scenario import load_scenario

    assert plot_every(300) == 1 and plot_every(5000) == 5
    m = Machine(load_scenario(scenario))
    recorder = SeriesRecorder(every=7)
    run_machine(m, 50, recorder=recorder)
    assert recorder.seconds == [t / 1000 for t in [*range(0, 50, 7), 50]]
    series = recorder.series()
    assert set(series) == set(PLOTTED) and all(len(v) == 9 for v in series.values())
    assert all(series[name][-1] == m.vm.values[INDEX[name]] for name in PLOTTED)
    assert recorder.watermarks == m.watermarks()
