"""Every file swaptui writes: refused when it exists (without --force) or is not a regular file, and whole or absent.

The commands are called in-process (swaptui.cli.main). Tests run as root, where chmod does not stop a
write: an unwritable path is one under a regular file (FILE/out.json), and a full disk is a write that
raises ENOSPC (the stream swaptui.output opens, replaced) or, where the test may, /dev/full itself.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import swaptui.output
from swaptui.cli import main

SCENARIO = """\
name: tiny
seed: 4
tick: 1ms
duration: 40ms
machine: {memory: 48MiB, cpus: 2}
swap:
  devices:
    - {name: z0, kind: zram, size: 64MiB}
workloads:
  - {name: um, kind: usemem, size: 40MiB, passes: 2}
"""

needs_proc = pytest.mark.skipif(not os.access("/proc/vmstat", os.R_OK), reason="no Linux /proc/vmstat to sample")


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    f = tmp_path / "tiny.yaml"
    f.write_text(SCENARIO)
    return str(f)


class FullDisk:
    """A stream that takes `room` characters and then fails as a full disk does."""

    def __init__(self, stream, room: int) -> None:
        self._stream = stream
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            self._stream.write(text[:self.room])  # part of it reaches the file, as on a real disk
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._stream.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch):
    """Make every file swaptui.output opens fill up after `room` characters."""
    def fill_after(room: int) -> None:
        real = swaptui.output._fdopen
        monkeypatch.setattr(swaptui.output, "_fdopen", lambda fd, newline: FullDisk(real(fd, newline), room))
    return fill_after


def one_error_line(capsys: pytest.CaptureFixture, *expected: str) -> str:
    """Standard error holds exactly one line, `swaptui: ...`, containing every expected piece."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("swaptui: ") and "Traceback" not in err, err
    for piece in expected:
        assert piece in lines[0], (piece, lines[0])
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    """Files in a directory besides the scenario (partial outputs, temporary files)."""
    return sorted(p.name for p in directory.iterdir() if p.name != "tiny.yaml")


# -- run --json / --csv ---------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_run_refuses_a_device(scenario: str, capsys, device: str, option: str) -> None:
    """Regression: `run --json /dev/full` ended in an OSError traceback."""
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    assert main(["run", scenario, "--ticks", "5", option, device]) == 2
    one_error_line(capsys, f"{option} {device}: not a regular file (a character device)")


def test_run_refuses_to_overwrite_without_force(scenario: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "series.jsonl"
    out.write_text("keep me\n")
    assert main(["run", scenario, "--ticks", "5", "--json", str(out)]) == 2
    one_error_line(capsys, f"--json {out}: exists; --force overwrites it")
    assert out.read_text() == "keep me\n"
    assert main(["run", scenario, "--ticks", "5", "--json", str(out), "--force"]) == 0
    assert len(out.read_text().splitlines()) == 6 and leftovers(tmp_path) == ["series.jsonl"]


def test_run_to_an_unwritable_path(scenario: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("")
    assert main(["run", scenario, "--ticks", "5", "--json", str(tmp_path / "file" / "out.json")]) == 2
    one_error_line(capsys, "file/out.json: cannot write: Not a directory")
    assert main(["run", scenario, "--ticks", "5", "--csv", str(tmp_path / "no" / "out.csv")]) == 2
    one_error_line(capsys, "out.csv: cannot write: the directory", "does not exist")
    assert main(["run", scenario, "--ticks", "5", "--csv", str(tmp_path)]) == 2
    one_error_line(capsys, "not a regular file (a directory)")
    assert leftovers(tmp_path) == ["file"]


@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_run_on_a_full_disk_leaves_nothing(scenario: str, tmp_path: Path, capsys, full_disk, option: str) -> None:
    full_disk(room=3000)
    out = tmp_path / "series.out"
    assert main(["run", scenario, "--ticks", "20", option, str(out)]) == 2
    one_error_line(capsys, f"{out}: cannot write: No space left on device (nothing written)")
    assert leftovers(tmp_path) == []  # neither the output nor its temporary file


def test_run_on_a_full_disk_keeps_the_file_it_would_replace(scenario: str, tmp_path: Path, capsys,
                                                           full_disk) -> None:
    out = tmp_path / "series.jsonl"
    out.write_text("the old series\n")
    full_disk(room=100)
    assert main(["run", scenario, "--ticks", "20", "--json", str(out), "--csv", str(tmp_path / "s.csv"),
                 "--force"]) == 2
    one_error_line(capsys, "No space left on device")
    assert out.read_text() == "the old series\n" and leftovers(tmp_path) == ["series.jsonl"]


def test_run_interrupted_leaves_nothing(scenario: str, tmp_path: Path, monkeypatch) -> None:
    import swaptui.report

    def interrupted(*args, **kwargs) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(swaptui.report, "run_machine", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["run", scenario, "--json", str(tmp_path / "a.jsonl"), "--csv", str(tmp_path / "a.csv")])
    assert leftovers(tmp_path) == []


def test_run_json_and_csv_must_differ(scenario: str, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "same")
    assert main(["run", scenario, "--ticks", "5", "--json", out, "--csv", out]) == 2
    one_error_line(capsys, "--json and --csv: expected two different files")


def test_run_writes_through_a_symlink_and_keeps_it(scenario: str, tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert main(["run", scenario, "--ticks", "5", "--json", str(link), "--force"]) == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 6
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not the temporary file's private mode


# -- compare --json, schema --out --------------------------------------------------------------------------

def test_compare_json_refused_before_the_runs(scenario: str, tmp_path: Path, capsys) -> None:
    assert main(["compare", scenario, "--designs", "classic", "--ticks", "5", "--json", "/dev/full"]) == 2
    err = capsys.readouterr()
    assert err.out == "" and "not a regular file" in err.err  # refused before running the designs
    out = tmp_path / "m.json"
    out.write_text("{}")
    assert main(["compare", scenario, "--designs", "classic", "--ticks", "5", "--json", str(out)]) == 2
    one_error_line(capsys, "exists; --force overwrites it")
    assert main(["compare", scenario, "--designs", "classic", "--ticks", "5", "--json", str(out), "--force"]) == 0
    assert '"classic"' in out.read_text()


def test_compare_json_on_a_full_disk(scenario: str, tmp_path: Path, capsys, full_disk) -> None:
    full_disk(room=10)
    assert main(["compare", scenario, "--designs", "classic", "--ticks", "5", "--json", str(tmp_path / "m.json")]) == 2
    assert "m.json: cannot write: No space left on device" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_schema_out(tmp_path: Path, capsys, full_disk) -> None:
    assert main(["schema", "--out", "/dev/full"]) == 2
    one_error_line(capsys, "--out /dev/full: not a regular file")
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0 and out.read_text().startswith("{")
    assert main(["schema", "--out", str(out)]) == 2
    one_error_line(capsys, "exists; --force overwrites it")
    assert main(["schema", "--out", str(out), "--force"]) == 0
    full_disk(room=50)
    assert main(["schema", "--out", str(tmp_path / "s2.json")]) == 2
    one_error_line(capsys, "s2.json: cannot write: No space left on device (nothing written)")
    assert leftovers(tmp_path) == ["schema.json"]


# -- live --record ---------------------------------------------------------------------------------------------

@needs_proc
@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_record_refuses_a_device_and_writes_nothing_beside_it(device: str, capsys) -> None:
    """Regression: `live --record /dev/full` ended in a traceback and, as root, created /dev/full.meta.json."""
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    existed = os.path.exists(device + ".meta.json")
    assert main(["live", "--headless", "--samples", "2", "--interval", "10ms", "--record", device]) == 2
    one_error_line(capsys, f"{device}: not a regular file (a character device)")
    assert os.path.exists(device + ".meta.json") == existed


@needs_proc
def test_record_refuses_to_overwrite_the_trace_or_its_meta(tmp_path: Path, capsys) -> None:
    rec = tmp_path / "rec.jsonl"
    args = ["live", "--headless", "--samples", "2", "--interval", "10ms", "--record", str(rec)]
    rec.write_text("old\n")
    assert main(args) == 2
    one_error_line(capsys, f"{rec}: exists; --force overwrites it")
    rec.unlink()
    (tmp_path / "rec.meta.json").write_text("{}")
    assert main(args) == 2
    one_error_line(capsys, "rec.meta.json: exists; --force overwrites it (the meta file written beside rec.jsonl)")
    assert not rec.exists() and (tmp_path / "rec.meta.json").read_text() == "{}"
    assert main([*args, "--force"]) == 0
    assert len(rec.read_text().splitlines()) == 2 and '"complete": true' in (tmp_path / "rec.meta.json").read_text()
    capsys.readouterr()
    (tmp_path / "file").write_text("")
    assert main([*args[:-1], str(tmp_path / "file" / "rec.jsonl")]) == 2
    one_error_line(capsys, "cannot write: Not a directory")


@needs_proc
@pytest.mark.parametrize("room", [0, 200, 5000])
def test_record_on_a_full_disk_is_removed(tmp_path: Path, capsys, full_disk, room: int) -> None:
    full_disk(room=room)
    rec = tmp_path / "rec.jsonl"
    assert main(["live", "--headless", "--samples", "5", "--interval", "10ms", "--record", str(rec)]) == 2
    err = capsys.readouterr().err
    assert f"{rec}: cannot write: No space left on device; the recording" in err and "is removed" in err
    assert "Traceback" not in err and leftovers(tmp_path) == []


@needs_proc
def test_live_player_recording_on_a_full_disk_stops_with_an_error(tmp_path: Path, full_disk) -> None:
    import time

    from swaptui.procfs import Sampler
    from swaptui.trace_player import LivePlayer, TraceWriter

    sampler = Sampler()
    full_disk(room=len(json.dumps(sampler.sample(), separators=(",", ":"))) * 2)  # about two samples
    writer = TraceWriter(tmp_path / "bg.jsonl", sampler.meta(10_000_000, "bg"))
    player = LivePlayer(sampler, 10_000_000, writer, samples=50)
    deadline = time.monotonic() + 20
    while player.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    player.close()
    assert player.error is not None and "No space left on device" in player.error and "is removed" in player.error
    assert player.finished and leftovers(tmp_path) == []
    assert player.error in player.snapshot_at(player.last_tick).notices  # the app shows it
