"""Scenario loading: the bundled files validate, and every class of bad input names its line and key."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest

from swaptui.model import footprint
from swaptui.scenario import (
    MAX_TICKS,
    Scenario,
    ScenarioError,
    ScenarioIssue,
    load_scenario,
    load_scenario_text,
    scenario_json_schema,
)
from swaptui.units import GIB, MIB, MS, S

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLED = ["usemem-zram.yaml", "usemem-ssd.yaml", "hotcold-ssd.yaml"]

BASE = textwrap.dedent(
    """\
    name: test
    tick: 1ms
    duration: 10s
    machine:
      memory: 1GiB
      cpus: 4
    swap:
      design: classic
      devices:
        - {name: zram0, kind: zram, size: 2GiB}
    workloads:
      - name: usemem
        kind: usemem
        size: 1GiB
        passes: 2
    """
)


def _edit(old: str, new: str) -> Callable[[str], str]:
    """Return an edit of BASE that replaces one exact piece of text."""

    def edit(text: str) -> str:
        """Apply the replacement, insisting the piece is there."""
        assert old in text
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    """Return an edit of BASE that appends lines at the end."""
    return lambda text: text + extra


def _issues(text: str, tmp_path: Path, **kwargs: object) -> list[ScenarioIssue]:
    """Write text to a file, load it, and return the issues it raised."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    assert caught.value.issues
    assert all(issue.file == str(path) for issue in caught.value.issues)
    return caught.value.issues


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenarios_validate(name: str) -> None:
    """Each example scenario loads and matches the machine it promises."""
    scenario = load_scenario(SCENARIOS / name)
    assert scenario.machine.memory == GIB
    assert scenario.machine.cpus == 4
    assert [device.size for device in scenario.swap.devices] == [2 * GIB]
    assert scenario.workloads[0].size == 3 * GIB // 2
    assert 2 <= len(scenario.description.split(". ")) + 1 <= 6
    assert scenario.beats


def test_bundled_details() -> None:
    """The usemem scenarios make two passes; hotcold has a 256 MiB hot set on an SSD."""
    zram = load_scenario(SCENARIOS / "usemem-zram.yaml")
    assert (zram.swap.devices[0].kind, zram.workloads[0].passes) == ("zram", 2)
    assert load_scenario(SCENARIOS / "usemem-ssd.yaml").swap.devices[0].kind == "ssd"
    hotcold = load_scenario(SCENARIOS / "hotcold-ssd.yaml")
    assert (hotcold.workloads[0].kind, hotcold.workloads[0].hot_size) == ("hotcold", 256 * MIB)


def test_defaults_and_units_become_ints() -> None:
    """Sizes and durations are held as bytes and nanoseconds, defaults included."""
    scenario = load_scenario_text(BASE)
    assert (scenario.tick, scenario.duration, scenario.ticks) == (MS, 10 * S, 10_000)
    assert scenario.workloads[0].start == 0
    assert scenario.machine.reserved == "auto" and scenario.machine.min_free_kbytes == "auto"
    assert scenario.swap.zswap.compressor == "lz4" and scenario.compare is None
    assert isinstance(scenario, Scenario)


def test_scenario_is_frozen() -> None:
    """A validated scenario cannot be changed."""
    scenario = load_scenario_text(BASE)
    with pytest.raises(pydantic.ValidationError):
        scenario.seed = 2  # type: ignore[misc]


BAD = [
    # (id, edit, line, key, message fragment)
    ("yaml-syntax", _edit("  cpus: 4", "   cpus: 4"), 6, "", "invalid YAML"),
    ("yaml-flow", _edit("{name: zram0,", "{name: [zram0,"), 10, "", "invalid YAML"),
    ("unknown-key", _edit("design: classic", "desing: classic"), 8, "swap.desing", "did you mean 'design'?"),
    ("unknown-top-key", _append("colour: red\n"), 16, "colour", "unknown key 'colour'"),
    ("wrong-type", _edit("cpus: 4", "cpus: four"), 6, "machine.cpus", "expected a whole number from 1 to 1024"),
    ("wrong-bool", _append("events: yes\n"), 16, "events", "expected a list"),
    (
        "out-of-range",
        _edit("cpus: 4", "cpus: 4\n  swappiness: 300"),
        7,
        "machine.swappiness",
        "expected a whole number from 0 to 200",
    ),
    (
        "bad-literal",
        _edit("design: classic", "design: vswp"),
        8,
        "swap.design",
        "expected one of: classic, swap_table, vswap",
    ),
    ("bad-unit", _edit("size: 1GiB", "size: 1 gigs"), 14, "workloads[0].size", "unknown unit 'gigs'"),
    ("missing-unit", _edit("memory: 1GiB", "memory: 1073741824"), 5, "machine.memory", "missing unit"),
    ("zero-size", _edit("size: 1GiB", "size: 0GiB"), 14, "workloads[0].size", "greater than 0"),
    ("negative-size", _edit("size: 1GiB", "size: -1GiB"), 14, "workloads[0].size", "negative"),
    ("small-memory", _edit("memory: 1GiB", "memory: 8MiB"), 5, "machine.memory", "from 16 MiB to 1 TiB"),
    ("small-device", _edit("size: 2GiB", "size: 1MiB"), 10, "swap.devices[0].size", "from 2 MiB"),
    ("tick-too-small", _edit("tick: 1ms", "tick: 1us"), 2, "tick", "from 10 us to 100 ms"),
    ("tick-too-big", _edit("tick: 1ms", "tick: 1s"), 2, "tick", "from 10 us to 100 ms"),
    ("duration-too-long", _edit("duration: 10s", "duration: 2h"), 3, "duration", "to 1 h"),
    ("duration-below-tick", _edit("duration: 10s", "duration: 20us"), 3, "duration", "at least one tick"),
    (
        "too-many-ticks",
        _edit("tick: 1ms\nduration: 10s", "tick: 10us\nduration: 101s"),
        3,
        "duration",
        f"at most {MAX_TICKS}",
    ),
    (
        "event-after-end",
        _append("events:\n  - {at: 1s, do: compact}\n  - {at: 11s, do: pause}\n"),
        18,
        "events[1].at",
        "after the end",
    ),
    ("caption-after-end", _append("captions:\n  - {at: 12s, text: late}\n"), 17, "captions[0].at", "after the end"),
    (
        "caption-until-before-at",
        _append("captions:\n  - {at: 2s, until: 1s, text: x}\n"),
        17,
        "captions[0].until",
        "must be after at",
    ),
    (
        "duplicate-workload",
        _append("  - {name: usemem, kind: zipf, size: 1GiB}\n"),
        16,
        "workloads[1].name",
        "duplicate name 'usemem'",
    ),
    (
        "duplicate-device",
        _edit("size: 2GiB}", "size: 2GiB}\n    - {name: zram0, kind: ssd, size: 2GiB}"),
        11,
        "swap.devices[1].name",
        "duplicate name 'zram0'",
    ),
    (
        "duplicate-yaml-key",
        _edit("  cpus: 4", "  cpus: 4\n  cpus: 8"),
        7,
        "machine.cpus",
        "duplicate key 'cpus' (first given on line 6)",
    ),
    ("missing-required", _edit("  memory: 1GiB\n", ""), 4, "machine.memory", "missing required key 'memory'"),
    ("missing-top-level", _edit("name: test\n", ""), 1, "name", "missing required key 'name'"),
    (
        "hot-size-on-usemem",
        _edit("passes: 2", "hot_size: 64MiB"),
        15,
        "workloads[0].hot_size",
        "applies only to hotcold",
    ),
    ("passes-on-zipf", _edit("kind: usemem", "kind: zipf"), 15, "workloads[0].passes", "applies only to usemem"),
    (
        "hotcold-without-hot-size",
        _edit("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: hotcold\n    size: 1GiB"),
        12,
        "workloads[0].hot_size",
        "missing required key 'hot_size'",
    ),
    (
        "hot-set-too-big",
        _edit("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: hotcold\n    size: 1GiB\n    hot_size: 1GiB"),
        15,
        "workloads[0].hot_size",
        "must be smaller than size",
    ),
    (
        "fractions-over-one",
        _edit("passes: 2", "zero_fraction: 0.6\n    same_filled_fraction: 0.6"),
        16,
        "workloads[0].same_filled_fraction",
        "at most 1",
    ),
    ("bad-name", _edit("name: usemem", "name: use mem"), 12, "workloads[0].name", "letters, digits"),
    (
        "no-workloads",
        _edit("workloads:\n  - name: usemem\n    kind: usemem\n    size: 1GiB\n    passes: 2\n", "workloads: []\n"),
        11,
        "workloads",
        "at least 1 entry",
    ),
    ("compare-twice", _append("compare: [classic, classic]\n"), 16, "compare[1]", "listed twice"),
    ("compare-one", _append("compare: [vswap]\n"), 16, "compare", "at least 2 entries"),
    (
        "kernel-share",
        _edit("cpus: 4", "cpus: 4\n  reserved: 300MiB\n  kernel_used: 300MiB"),
        8,
        "machine.kernel_used",
        "less than half of memory",
    ),
    (
        "min-free-kbytes",
        _edit("cpus: 4", "cpus: 4\n  min_free_kbytes: 64"),
        7,
        "machine.min_free_kbytes",
        "from 128 to 1048576",
    ),
    ("start-after-end", _edit("passes: 2", "start: 10s"), 15, "workloads[0].start", "before the end"),
    ("size-missing", _edit("    size: 1GiB\n", ""), 12, "workloads[0].size", "missing required key 'size'"),
    *(
        (
            f"memlab-{case}",
            _edit("kind: usemem\n    size: 1GiB\n    passes: 2", f"kind: memlab\n    args: {args}"),
            14,
            "workloads[0].args",
            fragment,
        )
        for case, args, fragment in [
            ("unknown-subcommand", "frob --size-mb 1", "unknown memlab subcommand 'frob'; expected one of usemem"),
            ("unknown-flag", "usemem --size 768M", "unknown memlab flag '--size'; did you mean '--size-mb'?"),
            ("bad-size", "usemem --size-mb 1.5G", "--size-mb: expected a whole number of MiB from 1"),
            ("missing-value", "hotcold --hot-mb 64 --accesses", "--accesses: missing value"),
            ("bad-fraction", "hotcold --hot-frac 2", "--hot-frac: expected a number from 0 to 1; got '2'"),
            ("bad-percentages", "zeromix --zero-pct 90 --rand-pct 20", "at most 100; got 120"),
            ("bad-thp", "frag --thp always", "--thp: expected one of: default, never, huge"),
        ]
    ),
    (
        "memlab-args-and-size",
        _edit("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: memlab\n    size: 1GiB\n    args: usemem"),
        14,
        "workloads[0].size",
        "a workload with args takes no size",
    ),
    (
        "memlab-without-args",
        _edit("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: memlab"),
        12,
        "workloads[0].args",
        "missing required key 'args'",
    ),
    (
        "usemem-args-unmodelled-flag",
        _edit("size: 1GiB\n    passes: 2", "args: -O -F -n 1 1G"),
        14,
        "workloads[0].args",
        "usemem flag -F (--prefault) is not modelled",
    ),
    (
        "usemem-args-bad-size",
        _edit("size: 1GiB\n    passes: 2", "args: -n 1 56GB"),
        14,
        "workloads[0].args",
        "expected usemem's size",
    ),
    ("usemem-args-and-passes", _edit("size: 1GiB", "args: -n 1 1G"), 15, "workloads[0].passes", "usemem's -r sets it"),
    (
        "args-on-zipf",
        _edit("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: zipf\n    size: 1GiB\n    args: x"),
        15,
        "workloads[0].args",
        "applies only to memlab and usemem",
    ),
    (
        "passes-on-memlab",
        _edit("kind: usemem\n    size: 1GiB", "kind: memlab\n    args: usemem --passes 2"),
        15,
        "workloads[0].passes",
        "applies only to usemem",
    ),
    (
        "cgroup-unknown-file",
        _append("cgroups:\n  - {name: a, memory.maxx: 1G}\n"),
        17,
        "cgroups[0].memory.maxx",
        "did you mean 'memory.max'?",
    ),
    (
        "cgroup-v1-file-on-v2",
        _append("cgroups:\n  - {name: a, memory.limit_in_bytes: 1G}\n"),
        17,
        "cgroups[0].memory.limit_in_bytes",
        "is a cgroup v1 file; this cgroup is version 2 (add version: 1",
    ),
    (
        "cgroup-v2-file-on-v1",
        _append("cgroups:\n  - {name: a, version: 1, memory.max: 1G}\n"),
        17,
        "cgroups[0].memory.max",
        "is a cgroup v2 file; this cgroup is version 1",
    ),
    (
        "cgroup-bad-value",
        _append("cgroups:\n  - {name: a, memory.max: lots}\n"),
        17,
        "cgroups[0].memory.max",
        "expected max, a byte count or a size such as 3G or 512MiB; got 'lots'",
    ),
    (
        "cgroup-v1-swappiness",
        _append("cgroups:\n  - {name: a, version: 1, memory.swappiness: 201}\n"),
        17,
        "cgroups[0].memory.swappiness",
        "from 0 to 200",
    ),
    (
        "cgroup-unknown-parent",
        _append("cgroups:\n  - {name: a, parent: b}\n"),
        17,
        "cgroups[0].parent",
        "unknown cgroup 'b'",
    ),
    (
        "cgroup-cycle",
        _append("cgroups:\n  - {name: a, parent: a}\n"),
        17,
        "cgroups[0].parent",
        "its own ancestor",
    ),
    (
        "cgroup-two-versions",
        _append("cgroups:\n  - {name: a}\n  - {name: b, version: 1}\n"),
        18,
        "cgroups[1].version",
        "one cgroup version per scenario",
    ),
    (
        "reclaim-without-amount",
        _append("cgroups:\n  - {name: a}\nevents:\n  - {at: 1s, do: reclaim, cgroup: a}\n"),
        19,
        "events[0].amount",
        "missing required key 'amount'",
    ),
    (
        "amount-on-compact",
        _append("events:\n  - {at: 1s, do: compact, amount: 1MiB}\n"),
        17,
        "events[0].amount",
        "applies only to do: reclaim",
    ),
    (
        "reclaim-unknown-cgroup",
        _append("events:\n  - {at: 1s, do: reclaim, cgroup: b, amount: 1MiB}\n"),
        17,
        "events[0].cgroup",
        "unknown cgroup 'b'",
    ),
    (
        "workload-unknown-cgroup",
        _edit("passes: 2", "passes: 2\n    cgroup: bulid\ncgroups:\n  - {name: build}"),
        16,
        "workloads[0].cgroup",
        "unknown cgroup 'bulid'; did you mean 'build'?",
    ),
]


@pytest.mark.parametrize(("edit", "line", "key", "fragment"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_is_located(tmp_path: Path, edit: Callable[[str], str], line: int, key: str, fragment: str) -> None:
    """Each class of mistake gives one issue with the right line, key path and a plain-words message."""
    issues = _issues(edit(BASE), tmp_path)
    assert [(issue.line, issue.key) for issue in issues] == [(line, key)], issues
    assert fragment in issues[0].message
    assert "pydantic" not in issues[0].message and "Input should" not in issues[0].message
    path = str(tmp_path / "bad.yaml")
    assert str(issues[0]).startswith(f"{path}:{line}:")


def test_issue_format_has_file_line_column_key() -> None:
    """An issue prints as FILE:LINE:COL: key: message, dropping what is unknown."""
    assert str(ScenarioIssue("a.yaml", 3, 7, "workloads[0].size", "bad")) == "a.yaml:3:7: workloads[0].size: bad"
    assert str(ScenarioIssue("a.yaml", None, None, "", "no such file")) == "a.yaml: no such file"


def test_unknown_key_column_points_at_the_key(tmp_path: Path) -> None:
    """An unknown key is reported at the key itself, not its value."""
    (issue,) = _issues(_edit("design: classic", "desing: classic")(BASE), tmp_path)
    assert (issue.line, issue.column) == (8, 3)


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    """Independent problems in one file are reported together, by line."""
    text = _edit("cpus: 4", "cpus: 0")(_edit("size: 1GiB", "size: 1")(BASE)) + "extra: 1\n"
    issues = _issues(text, tmp_path)
    assert [(issue.line, issue.key) for issue in issues] == [
        (6, "machine.cpus"),
        (14, "workloads[0].size"),
        (16, "extra"),
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("just text\n", "expected a mapping"),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
    ],
)
def test_top_level_must_be_one_mapping(tmp_path: Path, text: str, fragment: str) -> None:
    """Empty files, lists, scalars and several documents are refused."""
    (issue,) = _issues(text, tmp_path)
    assert fragment in issue.message


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A file that does not exist is reported by name, without a line."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.message) == (str(path), None, "no such file")


def test_directory_and_non_utf8_are_refused(tmp_path: Path) -> None:
    """A directory or a binary file is refused with a reason."""
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_scenario(path)


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    """Python object tags are not constructed (SafeLoader)."""
    (issue,) = _issues("name: !!python/object/apply:os.getcwd []\n", tmp_path)
    assert issue.line == 1 and "invalid YAML" in issue.message


def test_recursive_alias_does_not_hang(tmp_path: Path) -> None:
    """A self-referencing alias is reported, not followed forever."""
    (issue,) = _issues(BASE + "events: &loop [*loop]\n", tmp_path)
    assert (issue.line, issue.key) == (16, "events[0]") and "the alias *loop is inside the value it names" in str(issue)


def test_too_big_for_this_host_is_refused_before_allocating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With little host memory available, the scenario is refused on machine.memory by the estimate alone."""
    calls: list[Scenario] = []
    estimate = footprint.estimate_state_bytes

    def spy(scenario: Scenario) -> int:
        """Record the call and return the real estimate."""
        calls.append(scenario)
        return estimate(scenario)

    monkeypatch.setattr(footprint, "estimate_state_bytes", spy)
    monkeypatch.setattr(footprint, "available_memory_bytes", lambda: 32 * MIB)
    (issue,) = _issues(_edit("memory: 1GiB", "memory: 512GiB")(BASE), tmp_path)
    assert len(calls) == 1
    assert (issue.line, issue.key) == (5, "machine.memory")
    assert "would need about" in issue.message and "32 MiB available" in issue.message


def test_largest_contributor_is_named(tmp_path: Path) -> None:
    """When swap slots dominate the estimate, the device size is the key reported."""
    (issue,) = _issues(_edit("size: 2GiB", "size: 4TiB")(BASE), tmp_path, available_memory=lambda: 100 * MIB)
    assert (issue.line, issue.key) == (10, "swap.devices[0].size")


def test_memory_check_can_be_skipped() -> None:
    """check_memory=False loads a scenario bigger than the host."""
    assert load_scenario_text(BASE, available_memory=lambda: 0, check_memory=False).machine.memory == GIB


def test_estimate_known_answer() -> None:
    """The estimate adds frames, slots, virtual pages and processes at their per-item cost, plus the fixed overhead."""
    scenario = load_scenario_text(BASE)
    pages, slots, vpages = GIB // 4096, 2 * GIB // 4096, GIB // 4096
    expected = (
        pages * footprint.FRAME_BYTES
        + slots * footprint.SLOT_BYTES
        + vpages * footprint.VPAGE_BYTES
        + footprint.PROCESS_BYTES
        + footprint.OVERHEAD_BYTES
    )
    assert footprint.estimate_state_bytes(scenario) == expected
    assert footprint.available_memory_bytes() > 0


def test_loading_a_huge_scenario_allocates_nothing_and_imports_no_model() -> None:
    """Refusing a 1 TiB scenario touches neither the model nor much memory, and footprint needs no UI library."""
    code = textwrap.dedent(
        f"""
        import sys, tracemalloc
        from swaptui.scenario import ScenarioError, load_scenario_text
        text = {BASE.replace("memory: 1GiB", "memory: 1TiB").replace("size: 2GiB", "size: 64TiB")!r}
        tracemalloc.start()
        try:
            load_scenario_text(text, available_memory=lambda: 1 << 30)
        except ScenarioError as error:
            print(error)
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < 4 << 20, peak
        assert "swaptui.model.footprint" in sys.modules
        loaded = [name for name in sys.modules if name == "swaptui.model.machine" or name.startswith(("textual", "rich"))]
        assert not loaded, loaded
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "swap.devices[0].size" in result.stdout


def test_json_schema_shows_units_as_strings() -> None:
    """The JSON schema describes sizes and durations as patterned strings with descriptions."""
    schema = scenario_json_schema()
    json.dumps(schema)
    memory = schema["$defs"]["Machine"]["properties"]["memory"]
    assert memory["type"] == "string" and "pattern" in memory and memory["description"]
    assert schema["properties"]["tick"]["default"] == "1ms"
    assert schema["additionalProperties"] is False
    for definition in schema["$defs"].values():
        assert definition["additionalProperties"] is False
        assert all(prop.get("description") for prop in definition["properties"].values())


# -- hostile files: each limit is checked before the work, and named (issue 11) ---------------------------


def _peak_bytes(work: Callable[[], object]) -> int:
    """Peak bytes Python allocated while doing the work (allocation, unlike time, does not depend on the machine)."""
    import tracemalloc

    tracemalloc.start()
    try:
        work()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize(
    "char, name",
    [
        ("\x00", "U+0000 (NUL)"),
        ("\x1b", "U+001B (ESC)"),
        ("\x07", "U+0007 (BEL)"),
        ("\x7f", "U+007F (DEL)"),
        ("\x85", "U+0085"),
    ],
)
def test_control_character_in_the_file_is_one_located_line(tmp_path: Path, char: str, name: str) -> None:
    (issue,) = _issues(BASE.replace("cpus: 4", f"cpus: 4{char}"), tmp_path)
    assert (issue.line, issue.column) == (6, 10) and f"control character {name} is not allowed" in issue.message
    assert char not in str(issue)


def test_characters_yaml_refuses_are_located_not_a_reader_traceback(tmp_path: Path) -> None:
    (issue,) = _issues(BASE.replace("name: test", "name: te\ufffest"), tmp_path)
    assert (issue.line, issue.column) == (1, 9) and "U+FFFE" in issue.message


def test_alias_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    bomb = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, 10):
        bomb += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(BASE + bomb)
    caught: list[ScenarioError] = []

    def load() -> None:
        try:
            load_scenario(path)
        except ScenarioError as error:
            caught.append(error)

    assert _peak_bytes(load) < 8 << 20  # 9**10 values if expanded
    (issue,) = caught[0].issues
    assert issue.line == 20 and issue.key.startswith("a")
    assert "too many values: the limit is 20,000 keys, items and scalars (aliases expanded)" in issue.message


def test_many_aliases_are_refused(tmp_path: Path) -> None:
    text = BASE + "x: &x 1\n" + "".join(f"y{i}: *x\n" for i in range(101))
    (issue,) = _issues(text, tmp_path)
    assert issue.key == "y100" and "too many aliases: the limit is 100" in issue.message


@pytest.mark.parametrize(
    "nest",
    [
        "[" * 2000 + "]" * 2000,
        "{a: " * 2000 + "1" + "}" * 2000,
        "".join("\n" + "  " * i + "a:" for i in range(1, 200)) + " 1",
    ],
)
def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path, nest: str) -> None:
    (issue,) = _issues(BASE + "events: " + nest + "\n", tmp_path)
    assert issue.line is not None and "nested too deeply: the limit is 32 levels" in issue.message


def test_tens_of_thousands_of_keys_are_refused_at_the_limit(tmp_path: Path) -> None:
    text = BASE + "".join(f"k{i}: {i}\n" for i in range(20_000))
    (issue,) = _issues(text, tmp_path)
    assert issue.line is not None and issue.line < 10_020 and "too many values" in issue.message


def test_200000_keys_or_a_40_mb_file_is_refused_on_its_size_unread(tmp_path: Path) -> None:
    many = tmp_path / "keys.yaml"
    many.write_text(BASE + "".join(f"k{i}: {i}\n" for i in range(200_000)))
    big = tmp_path / "big.yaml"
    with open(big, "w") as out:
        out.write(BASE + "# " + "x" * (40 << 20) + "\n")
    for path in (many, big):
        caught: list[ScenarioError] = []

        def load(path: Path = path, caught: list[ScenarioError] = caught) -> None:
            try:
                load_scenario(path)
            except ScenarioError as error:
                caught.append(error)

        assert _peak_bytes(load) < 4 << 20  # the first MiB and a byte, no more
        (issue,) = caught[0].issues
        assert issue.line is None and "the file is too big: more than 1 MiB" in issue.message


def test_a_long_list_of_problems_is_cut_with_a_count(tmp_path: Path) -> None:
    issues = _issues(BASE + "".join(f"k{i}: {i}\n" for i in range(500)), tmp_path)
    assert len(issues) == 50 and issues[-1].message == "and 451 more problems (not shown)"
    assert all("unknown key" in issue.message for issue in issues[:-1])


def _workloads(n: int, processes: int = 1, size: str = "1MiB") -> str:
    return (
        BASE.split("workloads:")[0]
        + "workloads:\n"
        + "".join(f"  - {{name: w{i}, kind: usemem, size: {size}, processes: {processes}}}\n" for i in range(n))
    )


def test_500_workloads_are_refused(tmp_path: Path) -> None:
    (issue,) = _issues(_workloads(500), tmp_path)
    assert issue.key == "workloads" and "expected at most 64 entries; got 500" in issue.message


def test_too_many_processes_in_all_are_refused(tmp_path: Path) -> None:
    (issue,) = _issues(_workloads(3, processes=4096), tmp_path)
    assert issue.key == "workloads" and "run 12288 processes in all; at most 8192 are allowed" in issue.message
    assert load_scenario_text(_workloads(2, processes=4096)).workloads[1].processes == 4096


def test_footprint_counts_each_workloads_processes(tmp_path: Path) -> None:
    """What the 500-workload scenario missed: every process costs its own state, whatever its size."""
    small = load_scenario_text(_workloads(1, processes=1, size="4KiB"))
    many = load_scenario_text(_workloads(2, processes=4096, size="4KiB"))
    parts = footprint.estimate_parts(many)
    assert parts["workloads"] - footprint.estimate_parts(small)["workloads"] == (2 * 4096 - 1) * (
        footprint.PROCESS_BYTES + footprint.VPAGE_BYTES
    )
    vswap = load_scenario_text(_workloads(1, size="1GiB").replace("design: classic", "design: vswap"))
    assert (
        footprint.workload_bytes(vswap, vswap.workloads[0])
        == GIB // 4096 * (footprint.VPAGE_BYTES + footprint.VSWAP_VPAGE_BYTES) + footprint.PROCESS_BYTES
    )


@pytest.mark.parametrize(
    "design, workloads",
    [
        ("classic", "[{name: a, kind: usemem, size: 8KiB, processes: 2048, start: 5ms}]"),
        ("vswap", "[{name: a, kind: usemem, size: 256MiB, start: 5ms}]"),
        (
            "classic",
            (
                "[{name: a, kind: filecache, size: 256MiB, start: 5ms}, "
                "{name: b, kind: usemem, size: 64MiB, processes: 64, start: 5ms}]"
            ),
        ),
    ],
)
def test_footprint_estimate_covers_what_the_model_allocates(design: str, workloads: str) -> None:
    """The estimate (without its fixed overhead) is at least what building a Machine and a few ticks allocate."""
    from swaptui.model.machine import Machine

    text = (
        f"name: t\nduration: 10ms\nmachine: {{memory: 256MiB}}\nswap: {{design: {design}, devices: "
        f"[{{name: d, kind: zram, size: 256MiB}}]}}\nworkloads: {workloads}\n"
    )
    scenario = load_scenario_text(text)
    Machine(scenario).step(2)  # compile and import outside the measurement

    def build() -> None:
        Machine(scenario).step(2)

    assert _peak_bytes(build) <= footprint.estimate_state_bytes(scenario) - footprint.OVERHEAD_BYTES


def test_footprint_cap_is_a_share_of_available_and_at_most_16_gib(tmp_path: Path) -> None:
    assert footprint.state_limit(10 * GIB) == (8 * GIB, "4/5 of the memory this host has available")
    assert footprint.state_limit(100 * GIB) == (16 * GIB, "swaptui's limit for one model")
    big = _workloads(1).replace("memory: 1GiB", "memory: 1TiB").replace("size: 2GiB", "size: 1TiB")
    (issue,) = _issues(big, tmp_path, available_memory=lambda: 1 << 40)
    assert issue.key == "machine.memory" and "but the limit is 16 GiB (swaptui's limit for one model" in issue.message
    (issue,) = _issues(_workloads(2, processes=4096, size="64MiB"), tmp_path, available_memory=lambda: 3 * GIB)
    assert issue.key == "workloads[0].size" and "the largest workload, workloads[0] 'w0'" in issue.message


@pytest.mark.parametrize(
    "edit, key",
    [
        (_edit("name: test", 'name: "\\e[31mred\\x07"'), "name"),
        (_append('description: "ok\\n\\e]0;title\\a"\n'), "description"),
        (_append('captions:\n  - {at: 1s, text: "\\0hidden"}\n'), "captions[0].text"),
    ],
)
def test_control_characters_in_text_values_are_refused_and_shown_escaped(
    tmp_path: Path, edit: Callable[[str], str], key: str
) -> None:
    (issue,) = _issues(edit(BASE), tmp_path)
    assert issue.key == key and "expected text without control characters" in issue.message
    assert "\\x" in str(issue) and not any(c in str(issue) for c in "\x1b\x07\x00")
    assert load_scenario_text(BASE + 'description: "two\\n\\tlines"\n').description == "two\n\tlines"


def test_bad_memlab_args_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """`swaptui check` on bad memlab args: one line, file:line: key: what was expected, status 2, no traceback."""
    import contextlib
    import io

    from swaptui.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(
        BASE.replace("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: memlab\n    args: usemem --size-mb")
    )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path)])
    printed = (out.getvalue() + err.getvalue()).strip().splitlines()
    assert code == 2
    assert printed == [f"swaptui: {path}:14:11: workloads[0].args: --size-mb: missing value"]


def test_memlab_workload_loads_and_maps_what_its_args_say() -> None:
    """args decide the size: memlab usemem --size-mb 1536 maps 1.5 GiB; hotcold maps hot + cold."""
    text = BASE.replace(
        "kind: usemem\n    size: 1GiB\n    passes: 2", "kind: memlab\n    args: usemem --size-mb 1536 --passes 2"
    )
    w = load_scenario_text(text).workloads[0]
    assert (w.kind, w.size, w.mapped_bytes()) == ("memlab", None, 1536 * MIB)
    hotcold = BASE.replace("kind: usemem\n    size: 1GiB\n    passes: 2", "kind: memlab\n    args: hotcold")
    assert load_scenario_text(hotcold).workloads[0].mapped_bytes() == (128 + 256) * MIB


def test_cgroups_take_the_kernels_file_names_and_value_forms() -> None:
    """v2 and v1 keys, byte counts, memparse suffixes, the project's units and max (v1 also -1) all load."""
    v2 = load_scenario_text(
        BASE
        + "cgroups:\n"
        + "  - {name: a, memory.max: 3G, memory.high: max, memory.low: 1073741824, memory.swap.max: 512MiB}\n"
        + "  - {name: b, parent: a, memory.zswap.max: '4096', memory.zswap.writeback: 0}\n"
    )
    a, b = v2.cgroups
    assert a.limit("memory.max") == 3 * GIB and a.limit("memory.high") == -1 and a.limit("memory.low") == GIB
    assert a.limit("memory.swap.max") == 512 * MIB and a.limit("memory.min") == 0
    assert b.parent == "a" and b.limit("memory.zswap.max") == 4096 and b.limit("memory.zswap.writeback") == 0
    v1 = load_scenario_text(
        BASE
        + "cgroups:\n  - {name: t, version: 1, memory.limit_in_bytes: 1GiB, memory.memsw.limit_in_bytes: -1,"
        + " memory.swappiness: 60}\n"
    )
    (t,) = v1.cgroups
    assert (t.version, t.limit("memory.limit_in_bytes"), t.limit("memory.memsw.limit_in_bytes")) == (1, GIB, -1)
    assert t.limit("memory.swappiness") == 60 and v1.workloads[0].cgroup is None
