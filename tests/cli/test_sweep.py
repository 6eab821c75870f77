"""`swaptui sweep`: a grid of --set values times seeds into one table, locally or on Dask, resumable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from clihelpers import swaptui, tiny_scenario

from swaptui.sweep import FAIL_ENV
from swaptui.variants import SetError, parse_set, resolve_key

SCENARIO = tiny_scenario("tiny sweep")
GRID = ("--set", "swap.design=classic,vswap", "--set", "machine.swappiness=60,100", "--ticks", "60")


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def without_wall(table: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in table]


def test_a_grid_on_a_pool_and_on_a_dask_local_cluster_gives_the_same_table(scenario: Path, tmp_path: Path) -> None:
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    r = swaptui("sweep", str(scenario), *GRID, "--jobs", "2", "--out", str(local))
    assert r.returncode == 0, r.stderr
    assert "4 points × 1 seed: 4 to run on 2 processes" in r.stderr and "4/4" in r.stderr
    r = swaptui("sweep", str(scenario), *GRID, "--dask", "local", "--jobs", "2", "--out", str(dask))
    assert r.returncode == 0, r.stderr
    table = rows(local)
    assert without_wall(table) == without_wall(rows(dask))
    assert [(row["point"], row["swap.design"], row["machine.swappiness"]) for row in table] == [
        ("0", "classic", "60"),
        ("1", "classic", "100"),
        ("2", "vswap", "60"),
        ("3", "vswap", "100"),
    ]
    header = list(table[0])
    assert header[:4] == ["point", "swap.design", "machine.swappiness", "seed"]
    for column in ("pswpout", "pgsteal_kswapd", "allocstall_movable", "kswapd_share", "kswapd_cpu_s", "direct_cpu_s"):
        assert column in header
    assert {"metadata_static", "metadata_dynamic", "runtime_s", "wall_s", "error"} <= set(header)
    assert all(row["error"] == "" and row["ticks"] == "60" and int(row["pgfault"]) > 0 for row in table)


def test_a_rerun_skips_the_runs_already_in_the_file(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    grid = ("--set", "swap.design=classic,swap_table", "--ticks", "40", "--jobs", "1", "--out", str(out))
    assert swaptui("sweep", str(scenario), *grid).returncode == 0
    first = rows(out)
    assert len(first) == 2
    r = swaptui("sweep", str(scenario), *grid, "--seeds", "2")
    assert r.returncode == 0, r.stderr
    assert "2 to run, 2 already in" in r.stderr
    table = rows(out)
    assert [(row["swap.design"], row["seed"]) for row in table] == [
        ("classic", "4"),
        ("classic", "5"),
        ("swap_table", "4"),
        ("swap_table", "5"),
    ]
    assert table[0] == first[0] and table[2] == {**first[1], "point": "1"}
    # A run cut short leaves at most a partial last line: it is dropped, and that run is done again.
    text = out.read_text()
    out.write_text(text[: text.rstrip("\n").rfind("\n") + 1] + "1,swap_table,5,12,")
    r = swaptui("sweep", str(scenario), *grid, "--seeds", "2")
    assert r.returncode == 0, r.stderr
    assert "1 to run, 3 already in" in r.stderr
    assert without_wall(rows(out)) == without_wall(table)


def test_a_file_from_another_sweep_is_refused_unless_forced(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    grid = ("--set", "swap.design=classic,vswap", "--jobs", "1", "--out", str(out))
    assert swaptui("sweep", str(scenario), *grid, "--ticks", "30").returncode == 0
    before = out.read_text()
    for other in (
        (*grid, "--ticks", "40"),
        ("--set", "machine.swappiness=60", "--jobs", "1", "--out", str(out), "--ticks", "30"),
        ("--set", "swap.design=classic", "--jobs", "1", "--out", str(out), "--ticks", "30"),
    ):
        r = swaptui("sweep", str(scenario), *other)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "--force starts it over" in r.stderr and "Traceback" not in r.stderr
        assert out.read_text() == before
    (tmp_path / "dir.csv").mkdir()
    r = swaptui("sweep", str(scenario), *grid[:-1], str(tmp_path / "dir.csv"), "--ticks", "30")
    assert r.returncode == 2 and "not a regular file (a directory)" in r.stderr
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n")
    r = swaptui("sweep", str(scenario), *grid[:-1], str(plain), "--ticks", "30")
    assert r.returncode == 2 and "not a sweep this one can resume" in r.stderr
    r = swaptui("sweep", str(scenario), *grid, "--ticks", "40", "--force")
    assert r.returncode == 0, r.stderr
    assert {row["ticks"] for row in rows(out)} == {"40"}


@pytest.mark.parametrize("how", ["raise", "kill:"])
def test_a_failing_run_is_marked_and_the_others_complete(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    out = tmp_path / "r.csv"
    label = "swap.design=vswap,machine.swappiness=60 seed=4"
    monkeypatch.setenv(FAIL_ENV, ("kill:" if how == "kill:" else "") + label)
    r = swaptui("sweep", str(scenario), *GRID, "--jobs", "2", "--out", str(out))
    assert r.returncode == 1
    assert f"1 of 4 runs failed (their rows carry the error); the first, {label}:" in r.stderr
    table = rows(out)
    assert len(table) == 4
    failed = [row for row in table if row["error"]]
    assert [(row["swap.design"], row["machine.swappiness"]) for row in failed] == [("vswap", "60")]
    assert ("worker process died" if how == "kill:" else "injected failure") in failed[0]["error"]
    assert all(int(row["pgfault"]) > 0 for row in table if not row["error"])
    # A rerun runs the failed point again (and, with the failure gone, completes it).
    monkeypatch.delenv(FAIL_ENV)
    r = swaptui("sweep", str(scenario), *GRID, "--jobs", "1", "--out", str(out))
    assert r.returncode == 0 and "1 to run, 3 already in" in r.stderr
    assert not any(row["error"] for row in rows(out))


@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        (
            "machine.swapiness=60,100",
            "--set machine.swapiness=60,100: unknown key 'swapiness' in machine; did you mean 'swappiness'?",
        ),
        (
            "machine.swappiness=60,300",
            "--set machine.swappiness=300: machine.swappiness: expected a whole number from 0 to 200; got 300",
        ),
        (
            "swap.design=classic,zram",
            "--set swap.design=zram: swap.design: expected one of: classic, swap_table, vswap; got 'zram'",
        ),
        ("workloads.3.size=1GiB", "--set workloads.3.size=1GiB: workloads has items 0 to 0 (named um); got '3'"),
        ("machine.memory.size=1GiB", "machine.memory is a single value; 'size' goes past it"),
        ("machine.swappiness", "--set machine.swappiness: expected KEY=VALUE[,VALUE...]"),
        ("machine.swappiness=60,,100", "expected a value between every two commas"),
        ("workloads.um.passes=0", "--set workloads.um.passes=0: workloads[0].passes: expected a whole number from 1"),
    ],
)
def test_a_bad_set_names_itself_in_one_line_and_runs_nothing(
    scenario: Path, tmp_path: Path, setting: str, expect: str
) -> None:
    out = tmp_path / "r.csv"
    r = swaptui("sweep", str(scenario), "--set", setting, "--ticks", "10", "--out", str(out))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and expect in r.stderr, r.stderr
    assert not out.exists()


def test_a_combination_the_schema_refuses_names_both_settings(scenario: Path, tmp_path: Path) -> None:
    text = SCENARIO.replace(
        "  - {name: um, kind: usemem, size: 40MiB, passes: 2}",
        "  - {name: hc, kind: hotcold, size: 40MiB, hot_size: 8MiB}",
    )
    scenario.write_text(text)
    r = swaptui(
        "sweep",
        str(scenario),
        "--set",
        "workloads.hc.size=40MiB,10MiB",
        "--set",
        "workloads.hc.hot_size=8MiB,16MiB",
        "--out",
        str(tmp_path / "r.csv"),
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (
        "swaptui: --set workloads.hc.size=10MiB --set workloads.hc.hot_size=16MiB: workloads[0].hot_size: "
        "hot_size (16 MiB) must be smaller than size (10 MiB)"
    )


def test_a_value_refused_alone_but_valid_with_the_others_passes() -> None:
    import yaml

    from swaptui.sweep import build_grid

    data = yaml.safe_load(
        SCENARIO.replace(
            "{name: um, kind: usemem, size: 40MiB, passes: 2}", "{name: hc, kind: hotcold, size: 40MiB, hot_size: 8MiB}"
        )
    )
    settings = [parse_set("workloads.hc.size=100MiB", data), parse_set("workloads.hc.hot_size=50MiB", data)]
    (task,) = build_grid(data, settings, seeds=1, ticks=10)
    assert (
        task.scenario.workloads[0].hot_size == 50 << 20
        and task.label == "workloads.hc.size=100MiB,workloads.hc.hot_size=50MiB seed=4"
    )


def test_keys_resolve_against_the_schema_longest_first() -> None:
    data = {
        "machine": {"memory": "1GiB"},
        "swap": {"devices": [{"name": "ssd0"}]},
        "workloads": [{"name": "a"}, {"name": "b"}],
    }
    assert resolve_key("swap.vswap.lookup_cache", data) == ("swap", "vswap", "lookup_cache")
    assert resolve_key("workloads.b.size", data) == ("workloads", 1, "size")
    assert resolve_key("workloads[1].size", data) == ("workloads", 1, "size")
    assert resolve_key("swap.devices.0.size", data) == ("swap", "devices", 0, "size")
    setting = parse_set("machine.mthp=[16KiB,64KiB],[]", data)
    assert setting.texts == ("[16KiB,64KiB]", "[]") and setting.values == (["16KiB", "64KiB"], [])
    with pytest.raises(SetError, match=r"swap\.devices has no items in the file"):
        resolve_key("swap.devices.0.size", {"swap": {}})
    with pytest.raises(SetError, match="given twice"):
        parse_set("machine.swappiness=60,60", data)


def test_summary_prints_mean_and_sd_per_point_and_markdown_pastes(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    grid = ("--set", "swap.design=classic,vswap", "--seeds", "2", "--ticks", "40", "--jobs", "1", "--out", str(out))
    r = swaptui("sweep", str(scenario), *grid, "--summary")
    assert r.returncode == 0, r.stderr
    assert "tiny sweep (mean ± sd over seeds)" in r.stdout and "kswapd_share" in r.stdout
    assert "classic" in r.stdout and "vswap" in r.stdout and " ± " in r.stdout
    r = swaptui("sweep", str(scenario), *grid, "--summary", "--format", "markdown")
    assert r.returncode == 0 and "0 to run, 4 already in" in r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "**tiny sweep** (mean ± sd over seeds)"
    assert lines[2].startswith("| swap.design | runs | runtime_s | kswapd_share |")
    assert lines[3].startswith("|---|---:|") and len(lines) == 6
    assert lines[4].startswith("| classic | 2 | ")


def test_parquet_output_and_a_plot(scenario: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out, png = tmp_path / "r.parquet", tmp_path / "p.png"
    grid = ("--set", "swap.design=classic,vswap", "--ticks", "40", "--jobs", "1", "--out", str(out))
    r = swaptui("sweep", str(scenario), *grid, "--plot", "pgfault", "--plot-out", str(png))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(out).to_pylist()
    assert [(row["swap.design"], row["seed"]) for row in table] == [("classic", 4), ("vswap", 4)]
    assert table[0]["pgfault"] > 0 and isinstance(table[0]["kswapd_share"], float)
    assert not (tmp_path / "r.parquet.rows.csv").exists()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = swaptui("sweep", str(scenario), *grid)
    assert r.returncode == 0 and "0 to run, 2 already in" in r.stderr
    assert pq.read_table(out).to_pylist() == table
    r = swaptui("sweep", str(scenario), *grid, "--plot", "nonsense", "--plot-out", str(png))
    assert r.returncode == 2 and "--plot: expected a column" in r.stderr
    assert json.loads((tmp_path / "r.parquet.sweep.json").read_text())["keys"] == ["swap.design"]
    out.write_bytes(out.read_bytes()[:100])
    r = swaptui("sweep", str(scenario), *grid)
    assert r.returncode == 2 and r.stderr.startswith(f"swaptui: --out {out}: cannot read it (")
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "expect"),
    [
        (("--dask", "local"), "--dask: needs dask, an optional extra: pip install 'swaptui[dask]'"),
        (("--plot", "pswpout", "--plot-out", "p.png"), "--plot: needs matplotlib, an optional extra"),
        (
            ("--out", "r.parquet"),
            "--out FILE.parquet: needs pyarrow, an optional extra: pip install 'swaptui[parquet]'",
        ),
    ],
)
def test_an_option_whose_extra_is_missing_says_so_in_one_line(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...], expect: str
) -> None:
    import importlib.util

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    r = swaptui("sweep", str(scenario), "--set", "swap.design=classic", "--out", "r.csv", *options)
    assert r.returncode == 2 and r.stderr.startswith(f"swaptui: {expect}")
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "r.parquet").exists()


def test_jobs_with_a_remote_scheduler_is_refused(scenario: Path, tmp_path: Path) -> None:
    r = swaptui("sweep", str(scenario), "--dask", "tcp://127.0.0.1:1", "--jobs", "2", "--out", str(tmp_path / "r.csv"))
    assert r.returncode == 2 and "--jobs: applies to this machine and to --dask local" in r.stderr


def test_progress_is_a_line_per_run_off_a_terminal_and_a_bar_on_one() -> None:
    import io

    from swaptui.sweep_results import SweepProgress

    plain = io.StringIO()
    progress = SweepProgress(3, 2, plain)
    progress.finished("swap.design=vswap seed=1", {"wall_s": 1.5, "error": ""})
    progress.finished("swap.design=classic seed=1", {"wall_s": 2.0, "error": "RuntimeError: \x1b[2J"})
    progress.close()
    first, second = plain.getvalue().splitlines()
    assert first.startswith("sweep: 1/3 swap.design=vswap seed=1 in 1.5s; 2 running, ETA ")
    assert second.startswith("sweep: 2/3 swap.design=classic seed=1 in 2.0s FAILED: RuntimeError: \\x1b[2J; 1 running")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = SweepProgress(2, 2, screen)
    progress.finished("a", {"wall_s": 1.0, "error": ""})
    progress.close()
    assert "1/2" in screen.getvalue() and "running" in screen.getvalue()


def test_sigterm_ends_the_runs_in_flight_and_keeps_the_file(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    scenario = tmp_path / "hc.yaml"
    scenario.write_text(
        SCENARIO.replace("duration: 300ms", "duration: 600s").replace(
            "{name: um, kind: usemem, size: 40MiB, passes: 2}", "{name: hc, kind: hotcold, size: 64MiB, hot_size: 8MiB}"
        )
    )
    out = tmp_path / "r.csv"
    command = [sys.executable, "-m", "swaptui", "sweep", str(scenario), "--set", "swap.design=classic,vswap"]
    process = subprocess.Popen(
        [*command, "--jobs", "2", "--out", str(out)], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    children: set[int] = set()
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline:  # both runs started (each takes minutes)
        time.sleep(0.2)
        tasks = Path(f"/proc/{process.pid}/task")
        children = {int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()}
    assert len(children) >= 2
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted: 0 runs are in" in stderr and "the same command resumes the sweep" in stderr
    for child in children:
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
            time.sleep(0.1)
        stat = Path(f"/proc/{child}/stat")
        assert not stat.exists() or stat.read_text().split(")")[1].split()[0] == "Z"
    assert out.read_text().startswith("point,swap.design,seed,pgpgin,")


def test_a_scenario_with_story_beats_sweeps(tmp_path: Path) -> None:
    """A beat's `on:` key is read as the text `on` (not YAML 1.1's true) when the sweep reads the file, as
    load_scenario reads it; a plain yaml.safe_load refused every scenario with `on:` beats."""
    path = tmp_path / "beats.yaml"
    path.write_text(SCENARIO + "beats:\n  - {on: first kswapd_wake, text: kswapd wakes}\n")
    out = tmp_path / "b.csv"
    r = swaptui(
        "sweep", str(path), "--set", "machine.swappiness=60,100", "--ticks", "20", "--jobs", "1", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert [row["machine.swappiness"] for row in rows(out)] == ["60", "100"]
