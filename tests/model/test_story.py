"""Story beats: the `on:` parser (forms, errors, fuzz), the triggers' truth on a tick, and the firing rule on a machine."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swaptui.model.machine import Machine
from swaptui.model.story import (
    EVENTS,
    PANES,
    AtTime,
    Compare,
    Observation,
    OnEvent,
    PhaseIs,
    TriggerError,
    check_text,
    fill_text,
    holds,
    parse_trigger,
    term_holds,
)
from swaptui.model.vmstat import INDEX, NAMES
from swaptui.player import Player
from swaptui.scenario import load_scenario_text

SMALL = textwrap.dedent(
    """\
    name: story test
    tick: 1ms
    duration: 400ms
    machine: {memory: 128MiB, cpus: 2}
    swap:
      design: classic
      devices:
        - {name: zram0, kind: zram, size: 256MiB}
    workloads:
      - {name: usemem, kind: usemem, size: 160MiB, passes: 2, compress_ratio: 3.0}
    """
)


def _scenario(beats: str):
    return load_scenario_text(SMALL + "beats:\n" + textwrap.indent(textwrap.dedent(beats), "  "), "story.yaml")


# -- the parser ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("kswapd_wake", (OnEvent("kswapd_wake"),)),
        ("first allocstall", (OnEvent("allocstall", first=True),)),
        ("oom_kill", (OnEvent("oom_kill"),)),
        ("pswpout", (OnEvent("pswpout"),)),
        ("pswpout >= 100000", (Compare("pswpout", ">=", 100000),)),
        ("pswpout>=100_000", (Compare("pswpout", ">=", 100000),)),
        ("10 < swap_ra", (Compare(10, "<", "swap_ra"),)),
        ("pgsteal_direct > pgsteal_kswapd", (Compare("pgsteal_direct", ">", "pgsteal_kswapd"),)),
        ("nr_free_pages <= 5000", (Compare("nr_free_pages", "<=", 5000),)),
        ("phase == reread", (PhaseIs("reread"),)),
        ("phase != alloc", (PhaseIs("alloc", equal=False),)),
        (
            "phase == reread and  swap_ra > 0 and first kswapd_wake",
            (PhaseIs("reread"), Compare("swap_ra", ">", 0), OnEvent("kswapd_wake", first=True)),
        ),
    ],
)
def test_every_form_parses(text: str, terms: tuple) -> None:
    assert parse_trigger(text).terms == terms


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "an empty expression"),
        ("   ", "an empty expression"),
        ("kswapd_wakes", "did you mean kswapd_wake?"),
        ("allocstal", "did you mean allocstall?"),
        ("nr_free_pages", "is a gauge"),
        ("pswpout >= 1e5", "expected a whole number (digits, and _ between them) at column 12; got '1e5'"),
        ("pswpout >= 1.5", "got '1.5'"),
        ("pswpout >= -1", "unexpected '-'"),
        ("pswpout => 5", "unexpected '=' at column 9"),
        ("pswpot >= 5", "unknown counter 'pswpot'; expected a /proc/vmstat name"),
        ("1 < 2", "compares two numbers"),
        ("42", "a number alone"),
        ("phase == rerad", "did you mean reread?"),
        ("phase > reread", "expected phase == NAME"),
        ("first", "expected one event name after 'first'"),
        ("first 5", "expected one event name after 'first'"),
        ("kswapd_wake and", "an empty term"),
        ("and kswapd_wake", "an empty term"),
        ("kswapd_wake allocstall", "cannot read"),
        ("pswpout >= 5 >= 6", "cannot read"),
        ("__import__('os')", "unexpected '('"),
        ("nr_anon_pages > 0", "counted only when the app draws a frame"),
        ("x" * 201, "at most 200 characters"),
        (" and ".join(["kswapd_wake"] * 9), "at most 8 terms"),
    ],
)
def test_bad_expressions_say_what_was_expected(text: str, fragment: str) -> None:
    with pytest.raises(TriggerError) as caught:
        parse_trigger(text)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["first", "and", "phase", "==", "!=", ">=", "<", "(", ")", "'", "-", "*", "\x00", "é"]),
            st.sampled_from([*EVENTS, *NAMES[:20], "reread", "alloc", "nope"]),
            st.integers(-5, 10**20).map(str),
            st.text(max_size=4),
        ),
        max_size=8,
    ).map(" ".join)
)
def test_any_text_parses_or_is_a_trigger_error(text: str) -> None:
    """Fuzz: the parser never raises anything but a one-line TriggerError."""
    try:
        trigger = parse_trigger(text)
    except TriggerError as error:
        assert "\n" not in str(error) or "\n" in text
        return
    assert trigger.terms


def test_placeholders_in_text_are_counters() -> None:
    check_text("pswpout is {pswpout}, braces {{like this}}, {swaptui_kswapd_cpu_ns:s}")
    for bad, fragment in (
        ("{pswpot}", "did you mean pswpout?"),
        ("{ }", "unknown counter"),
        ("a } b", "unmatched"),
        ("{pswpout:gib}", "unknown unit {pswpout:gib}"),
    ):
        with pytest.raises(TriggerError) as caught:
            check_text(bad)
        assert fragment in str(caught.value)
    counters = np.zeros(len(NAMES), dtype=np.int64)
    counters[INDEX["pswpout"]] = 123456
    counters[INDEX["swaptui_kswapd_cpu_ns"]] = 1_234_567_890
    assert fill_text("{pswpout} out, {{x}}", counters) == "123,456 out, {x}"
    assert fill_text("{pswpout:mib} {swaptui_kswapd_cpu_ns:s} {swaptui_kswapd_cpu_ns:ms}", counters) == (
        "482 MiB 1.235 s 1,234.6 ms"
    )


def test_the_panes_a_beat_names_are_the_apps() -> None:
    from swaptui.ui.panes import PANES as APP_PANES

    assert tuple(p.id for p in APP_PANES) == PANES


# -- what holds on one tick --------------------------------------------------------------------------------


def _obs(
    counters: dict[str, int] | None = None,
    happened: frozenset[str] = frozenset(),
    seen: frozenset[str] = frozenset(),
    phases: frozenset[str] = frozenset(),
    time_ns: int = 0,
) -> Observation:
    values = np.zeros(len(NAMES), dtype=np.int64)
    for name, value in (counters or {}).items():
        values[INDEX[name]] = value
    return Observation(0, time_ns, values, happened, seen | happened, lambda: phases)


def test_terms_hold_as_written() -> None:
    assert term_holds(AtTime(5), _obs(time_ns=5)) and not term_holds(AtTime(5), _obs(time_ns=4))
    assert term_holds(OnEvent("allocstall"), _obs(happened=frozenset({"allocstall"})))
    assert not term_holds(OnEvent("allocstall"), _obs(seen=frozenset({"allocstall"})))
    assert term_holds(OnEvent("allocstall", first=True), _obs(seen=frozenset({"allocstall"})))
    for op, expected in (("==", False), ("!=", True), (">=", True), ("<=", False), (">", True), ("<", False)):
        assert term_holds(Compare("pswpout", op, 99), _obs({"pswpout": 100})) is expected, op
    assert term_holds(Compare("pgsteal_direct", ">", "pgsteal_kswapd"), _obs({"pgsteal_direct": 2}))
    assert term_holds(PhaseIs("reread"), _obs(phases=frozenset({"reread", "wait"})))
    assert term_holds(PhaseIs("alloc", equal=False), _obs(phases=frozenset({"reread"})))
    both = parse_trigger("pswpout > 5 and phase == reread")
    assert holds(both, _obs({"pswpout": 6}, phases=frozenset({"reread"})))
    assert not holds(both, _obs({"pswpout": 6}, phases=frozenset({"alloc"})))


# -- the firing rule on a machine ----------------------------------------------------------------------------


BEATS = """\
- {at: 0s, text: "start"}
- {on: kswapd_wake, text: "kswapd wakes at {nr_free_pages} free", pane: watermarks}
- {on: first kswapd_wake, text: "already woken: fires on the next tick"}
- {on: "pswpout >= 5000", text: "{pswpout} out", counter: pswpout, pause: true}
- {on: phase == reread, text: "reread"}
- {on: exit, text: "gone"}
"""


def _fired(m: Machine) -> list[tuple[int, int, str]]:
    assert m.story is not None
    return [(b.index, b.tick, b.text) for b in m.story.fired]


def test_beats_fire_once_in_order_one_per_tick() -> None:
    m = Machine(_scenario(BEATS))
    assert _fired(m) == [(0, 0, "start")]  # at: 0s fires before the first step
    while not m.done():
        m.step()
    fired = _fired(m)
    assert [i for i, _, _ in fired] == list(range(6))
    ticks = [t for _, t, _ in fired]
    assert ticks == sorted(set(ticks))  # strictly increasing: one beat per tick at most
    assert ticks[2] == ticks[1] + 1  # `first kswapd_wake` held already; it waited only for its turn
    assert int(fired[3][2].split()[0].replace(",", "")) >= 5000  # the text shows pswpout as it fired
    assert m.story.fired[3].pause and not m.story.fired[2].pause


def test_a_replay_from_a_checkpoint_fires_the_same_beats() -> None:
    scenario = _scenario(BEATS)
    player = Player(scenario, checkpoint_every=50)
    player.step(400)
    straight = _fired(player.machine)
    player.go_to(130)  # restores a checkpoint and replays
    assert all(t <= 130 for _, t, _ in _fired(player.machine))
    assert _fired(player.machine) == [f for f in straight if f[1] <= 130]
    player.step(400)
    assert _fired(player.machine) == straight
    again = copy.deepcopy(Machine(scenario))
    while not again.done():
        again.step()
    assert _fired(again) == straight  # deterministic: a fresh run agrees tick for tick


# -- bad beats in a file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beats", "line", "key", "fragment"),
    [
        ("- {on: kswapd_wakes, text: x}", 12, "beats[0].on", "did you mean kswapd_wake?"),
        ('- {on: "pswpot > 1", text: x}', 12, "beats[0].on", "unknown counter 'pswpot'"),
        ("- {on: phase == rerad, text: x}", 12, "beats[0].on", "unknown phase 'rerad'"),
        ("- {at: 100ms, on: oom_kill, text: x}", 12, "beats[0]", "exactly one of at:"),
        ("- {text: x}", 12, "beats[0]", "exactly one of at:"),
        ("- {at: 100ms, text: x}\n- {at: 5s, text: late}", 13, "beats[1].at", "after the end"),
        ("- {at: 100ms, text: x, pane: memmap}", 12, "beats[0].pane", "memory"),
        ("- {at: 100ms, text: x, counter: pswpot}", 12, "beats[0].counter", "did you mean 'pswpout'?"),
        ("- {at: 100ms, text: '{pswpot} out'}", 12, "beats[0].text", "unknown counter {pswpot}"),
        ("- {at: 100ms, text: x, pause: 1}", 12, "beats[0].pause", "true or false"),
    ],
)
def test_bad_beats_name_file_line_and_key(beats: str, line: int, key: str, fragment: str, tmp_path: Path) -> None:
    from clihelpers import swaptui

    path = tmp_path / "bad.yaml"
    path.write_text(SMALL + "beats:\n" + textwrap.indent(beats, "  ") + "\n")
    r = swaptui("check", str(path))
    assert r.returncode == 2, r.stdout
    (message,) = r.stderr.splitlines()
    assert message.startswith(f"swaptui: {path}:{line}:") and f": {key}: " in message, message
    assert fragment in message and "Traceback" not in message


def test_beats_and_captions_do_not_mix(tmp_path: Path) -> None:
    from clihelpers import swaptui

    path = tmp_path / "both.yaml"
    path.write_text(SMALL + "captions:\n  - {at: 0s, text: a}\nbeats:\n  - {at: 0s, text: b}\n")
    r = swaptui("check", str(path))
    assert r.returncode == 2 and "captions: a scenario has beats or captions, not both" in r.stderr
