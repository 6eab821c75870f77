"""Stories: a scenario's beats, each firing once, in order, at the first tick its trigger holds.

A beat's trigger is a time (`at: 2s`) or an expression over what the model does (`on:`):

- an event: `kswapd_wake`, `allocstall`, `oom_kill`, `exit` ... (EVENTS), or any counter that only grows
  (`pswpout`, `zswpwb`, `compact_stall`): it holds on a tick in which the event happened;
- `first EVENT`: holds from the tick the event first happened in the run, even before the beat's turn;
- a comparison of counters (vmstat names, as the counters pane shows them) and whole numbers:
  `pswpout >= 100000`, `pgsteal_direct > pgsteal_kswapd`;
- the workloads' phase: `phase == reread` holds while some process is in that phase (PHASES);
  `phase != alloc` while none is;
- terms joined by `and`.

The expression is parsed once, at scenario load, by the small tokenizer and recursive parser here
(no eval); a bad one is a `TriggerError` whose message says what was expected. The beats' state lives
in the Machine (`Machine.story`), so a checkpoint holds it and a replay after a seek fires the same
beats at the same ticks; at most one beat fires per tick, and a beat is looked at only from the tick
after the previous one fired.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from swaptui.model.vmstat import GAUGES, INDEX, NAMES

if TYPE_CHECKING:
    from swaptui.model.machine import Machine
    from swaptui.model.workload import Process

MAX_EXPRESSION = 200
"""Longest `on:` expression, in characters: a beat's trigger is a line, not a program."""
MAX_TERMS = 8
"""Most terms joined by `and` in one expression."""
PANES = ("memory", "watermarks", "clusters", "xarray", "caches", "fragmentation", "counters", "events", "tasks")
"""The panes a beat may point at, by the ids the app gives them (swaptui.ui.panes.PANES; a test keeps them equal)."""
PHASES = (
    "wait",
    "alloc",
    "reread",
    "rewrite",
    "sleep",
    "run",
    "exit",
    # memlab's own phase names (memlab.MemlabPattern.phase)
    "hot_alloc",
    "cold_alloc",
    "random",
    "fill",
    "punch",
    "thp_fault",
    "hold",
    "done",
)
"""A process's phase: wait (not started), alloc (usemem's first pass), reread or rewrite (its later passes),
sleep (usemem -s after its passes), run (the other kinds), exit (gone), or memlab's phase names."""
NOT_COUNTED = frozenset({"nr_anon_pages"})
"""Counters set only when a snapshot counts every frame: a tick does not keep them, so no trigger can read them."""
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")


def _zswap_pool_limit(m: Machine) -> int:
    """zswap_check_limits' pool_limit_hit (zswap's debugfs counter; not in /proc/vmstat)."""
    return m.zswap.pool_limit_hit if m.zswap is not None else 0


def _exited(m: Machine) -> int:
    """Processes that have exited or were killed."""
    return sum(1 for p in m.procs if p.exited)


def _counters(*names: str) -> Callable[[Machine], int]:
    index = [INDEX[n] for n in names]
    return lambda m: int(m.vm.values[index].sum())


@dataclass(frozen=True)
class EventSource:
    """How one named event is seen: a tally of the machine that grows when it happens, or a line of its event log."""

    description: str
    tally: Callable[[Machine], int] | None = None
    log: tuple[str, str] | None = None  # (kind, text prefix) of Machine.event lines


EVENTS: dict[str, EventSource] = {
    "kswapd_wake": EventSource("kswapd woke below the low watermark (wakeup_kswapd)", log=("kswapd", "kswapd woke")),
    "kswapd_sleep": EventSource("kswapd went to sleep above the high watermark", log=("kswapd", "kswapd sleeps")),
    "allocstall": EventSource(
        "an allocation entered direct reclaim (allocstall_movable or allocstall_normal grew)",
        tally=_counters("allocstall_movable", "allocstall_normal"),
    ),
    "throttle": EventSource(
        "a direct reclaimer was throttled (pgscan_direct_throttle grew)", tally=_counters("pgscan_direct_throttle")
    ),
    "kcompactd_wake": EventSource("kcompactd ran (compact_daemon_wake grew)", tally=_counters("compact_daemon_wake")),
    "zswap_pool_limit": EventSource(
        "a zswap store found the pool at max_pool_percent (zswap's pool_limit_hit grew)", tally=_zswap_pool_limit
    ),
    "zswap_writeback": EventSource(
        "zswap wrote entries back to the swap device (zswpwb grew)", tally=_counters("zswpwb")
    ),
    "mthp_swpout_fallback": EventSource(
        "an mTHP folio was split before swap-out (swaptui_mthp_swpout_fallback grew)",
        tally=_counters("swaptui_mthp_swpout_fallback"),
    ),
    "exit": EventSource("a process exited (or was killed)", tally=_exited),
}
"""The named events; besides these, every counter that only grows is an event of its own name."""
EVENT_COUNTERS = tuple(n for n in NAMES if n not in GAUGES and n not in NOT_COUNTED and n not in EVENTS)


class TriggerError(ValueError):
    """An `on:` expression that cannot be used; the message says what was expected."""


# -- the expression -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtTime:
    """Holds from simulated time `ns` on."""

    ns: int


@dataclass(frozen=True)
class OnEvent:
    """Holds on a tick in which the event happened; `first`: from the first such tick on."""

    name: str
    first: bool = False


@dataclass(frozen=True)
class Compare:
    """Holds while `left op right`; each side is a counter name or a whole number."""

    left: str | int
    op: str
    right: str | int


@dataclass(frozen=True)
class PhaseIs:
    """Holds while some process is in `phase` (equal) or none is (not equal)."""

    phase: str
    equal: bool = True


Term = AtTime | OnEvent | Compare | PhaseIs


@dataclass(frozen=True)
class Trigger:
    """Terms that must all hold on one tick."""

    terms: tuple[Term, ...]
    text: str = ""

    def events(self) -> set[str]:
        """The event names the trigger reads."""
        return {t.name for t in self.terms if isinstance(t, OnEvent)}

    def reads_phase(self) -> bool:
        return any(isinstance(t, PhaseIs) for t in self.terms)


_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|>=|<=|>|<)|(?P<number>[0-9][0-9_]*)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) for each token; a TriggerError at the first character that starts none."""
    out: list[tuple[str, str, int]] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            bad = text[at:].lstrip()[0]
            column = len(text) - len(text[at:].lstrip()) + 1
            raise TriggerError(
                f"unexpected {bad!r} at column {column}; expected an event, a counter, a whole number, "
                f"'phase', 'first', 'and' or one of {' '.join(OPERATORS)}"
            )
        out.append((match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup) + 1))
        at = match.end()
        if match.lastgroup == "number" and at < len(text) and (text[at].isalnum() or text[at] in "._"):
            word = re.match(r"[\w.]*", text[match.start("number") :])
            raise TriggerError(
                f"expected a whole number (digits, and _ between them) at column {out[-1][2]}; "
                f"got {word.group(0) if word else text[at]!r}"
            )
    return out


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _event(word: str) -> str:
    if word in EVENTS or word in EVENT_COUNTERS:
        return word
    if word in GAUGES:
        raise TriggerError(f"{word} is a gauge (set every tick), not an event; compare it instead, e.g. {word} > 0")
    if word in NOT_COUNTED:
        raise TriggerError(f"{word} is counted only when the app draws a frame; no trigger can read it")
    raise TriggerError(
        f"unknown event {word!r}; expected one of {', '.join(EVENTS)} or a counter that only grows (swaptui counters "
        f"in the app's counters pane){_suggest(word, [*EVENTS, *EVENT_COUNTERS])}"
    )


def _operand(kind: str, word: str) -> str | int:
    if kind == "number":
        return int(word.replace("_", ""))
    if word in INDEX and word not in NOT_COUNTED:
        return word
    if word in NOT_COUNTED:
        raise TriggerError(f"{word} is counted only when the app draws a frame; no trigger can read it")
    raise TriggerError(
        f"unknown counter {word!r}; expected a /proc/vmstat name as the counters pane shows it or a whole number"
        + _suggest(word, [n for n in NAMES if n not in NOT_COUNTED])
    )


def _term(tokens: list[tuple[str, str, int]]) -> Term:
    """One term from the whole of `tokens` (already split at `and`)."""
    kinds = [k for k, _, _ in tokens]
    words = [w for _, w, _ in tokens]
    if not tokens:
        raise TriggerError("an empty term; expected an event, 'first EVENT' or a comparison around 'and'")
    if words[0] == "first":
        if kinds[1:] != ["word"]:
            raise TriggerError("expected one event name after 'first', e.g. first allocstall")
        return OnEvent(_event(words[1]), first=True)
    if words[0] == "phase":
        if len(tokens) != 3 or words[1] not in ("==", "!=") or kinds[2] != "word":
            raise TriggerError("expected phase == NAME or phase != NAME, e.g. phase == reread")
        if words[2] not in PHASES:
            raise TriggerError(
                f"unknown phase {words[2]!r}; expected one of {', '.join(PHASES)}{_suggest(words[2], PHASES)}"
            )
        return PhaseIs(words[2], words[1] == "==")
    if len(tokens) == 1:
        if kinds[0] != "word":
            raise TriggerError(f"a number alone ({words[0]}) is no trigger; expected an event or a comparison")
        return OnEvent(_event(words[0]))
    if len(tokens) == 3 and kinds[1] == "op" and kinds[0] != "op" and kinds[2] != "op":
        left, right = _operand(kinds[0], words[0]), _operand(kinds[2], words[2])
        if isinstance(left, int) and isinstance(right, int):
            raise TriggerError(f"{' '.join(words)} compares two numbers; expected a counter on one side")
        return Compare(left, words[1], right)
    raise TriggerError(
        f"cannot read {' '.join(words)!r} (column {tokens[0][2]}); expected EVENT, first EVENT, "
        "COUNTER OP NUMBER (OP one of == != >= <= > <) or phase == NAME"
    )


def parse_trigger(text: str) -> Trigger:
    """Parse an `on:` expression; a TriggerError says what is wrong."""
    if not isinstance(text, str):
        raise TriggerError('expected an expression as text, e.g. kswapd_wake or "pswpout >= 100000"')
    if len(text) > MAX_EXPRESSION:
        raise TriggerError(f"an expression of at most {MAX_EXPRESSION} characters; got {len(text)}")
    tokens = _tokens(text)
    if not tokens:
        raise TriggerError("an empty expression; expected an event, 'first EVENT' or a comparison")
    terms: list[list[tuple[str, str, int]]] = [[]]
    for token in tokens:
        if token[0] == "word" and token[1] == "and":
            terms.append([])
        else:
            terms[-1].append(token)
    if len(terms) > MAX_TERMS:
        raise TriggerError(f"at most {MAX_TERMS} terms joined by 'and'; got {len(terms)}")
    return Trigger(tuple(_term(t) for t in terms), " ".join(text.split()))


_BRACES = re.compile(r"\{\{|\}\}|\{([^{}:]*)(?::([^{}]*))?\}")
UNITS = {
    "s": lambda v: f"{v / 1e9:,.3f} s",
    "ms": lambda v: f"{v / 1e6:,.1f} ms",
    "mib": lambda v: f"{v * 4096 / (1 << 20):,.0f} MiB",
    "kib": lambda v: f"{v / 1024:,.0f} KiB",
}
"""How a placeholder may show its counter: {name} as a count, {name:s} and {name:ms} for a time in ns,
{name:mib} for a count of 4 KiB pages, {name:kib} for bytes."""


def check_text(text: str) -> None:
    """Refuse beat text whose {placeholders} are not counter names (a `{{` or `}}` is a literal brace)."""
    for match in _BRACES.finditer(text):
        name, unit = match.group(1), match.group(2)
        if name is not None and (name not in INDEX or name in NOT_COUNTED):
            raise TriggerError(
                f"unknown counter {{{name}}} in the text; a placeholder is a counter's name, shown with its value "
                "when the beat fires (write {{ and }} for braces)" + _suggest(name, NAMES)
            )
        if unit is not None and unit not in UNITS:
            raise TriggerError(
                f"unknown unit {{{name}:{unit}}} in the text; expected one of {', '.join(UNITS)} "
                "(s and ms for a time in ns, mib for pages, kib for bytes)"
            )
    rest = _BRACES.sub("", text)
    if "{" in rest or "}" in rest:
        raise TriggerError("an unmatched brace in the text; write {{ and }} for braces, {counter} for a value")


def fill_text(text: str, counters: np.ndarray) -> str:
    """The beat's text with each {counter} replaced by its value (thousands separated, or in its unit),
    {{ and }} by braces."""

    def value(match: re.Match[str]) -> str:
        name, unit = match.group(1), match.group(2)
        if name is None:
            return match.group(0)[0]
        if name not in INDEX:
            return match.group(0)
        v = int(counters[INDEX[name]])
        return UNITS[unit](v) if unit in UNITS else f"{v:,}"

    return _BRACES.sub(value, text)


# -- what a tick looks like to a trigger ------------------------------------------------------------------


def process_phase(p: Process, now: int) -> str:
    """The phase of one process (PHASES)."""
    if p.exited:
        return "exit"
    if not p.started(now):
        return "wait"
    if p.memlab is not None:
        return str(p.memlab.phase)
    if p.kind == "usemem":
        if p.finished_accessing():
            return "sleep" if p.sleep_until > now else "done"
        if p.touched < p.npages:
            return "alloc"
        return "rewrite" if p.write_every_pass else "reread"
    return "run"


def phases(m: Machine) -> frozenset[str]:
    """Every phase some process of the machine is in now."""
    return frozenset(process_phase(p, m.now) for p in m.procs)


@dataclass
class Observation:
    """One tick as a trigger sees it: time, counters, the events that happened in it, the phases."""

    tick: int
    time_ns: int
    counters: np.ndarray
    happened: frozenset[str]  # events that happened in this tick
    seen: frozenset[str]  # events that have happened at least once, up to and including this tick
    phases: Callable[[], frozenset[str]]

    def value(self, operand: str | int) -> int:
        return operand if isinstance(operand, int) else int(self.counters[INDEX[operand]])


def term_holds(term: Term, obs: Observation) -> bool:
    """Whether one term holds on the observed tick."""
    if isinstance(term, AtTime):
        return obs.time_ns >= term.ns
    if isinstance(term, OnEvent):
        return term.name in (obs.seen if term.first else obs.happened)
    if isinstance(term, PhaseIs):
        return (term.phase in obs.phases()) == term.equal
    a, b = obs.value(term.left), obs.value(term.right)
    return {
        "==": a == b,
        "!=": a != b,
        ">=": a >= b,
        "<=": a <= b,
        ">": a > b,
        "<": a < b,
    }[term.op]


def holds(trigger: Trigger, obs: Observation) -> bool:
    """Whether every term of the trigger holds on the observed tick."""
    return all(term_holds(t, obs) for t in trigger.terms)


# -- the beats of one run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatSpec:
    """What the model needs of a scenario beat: its trigger, its text and whether it pauses."""

    trigger: Trigger
    text: str
    pause: bool = False


@dataclass(frozen=True)
class FiredBeat:
    """A beat that fired: which, at what tick and time, and its text with the counters of that tick."""

    index: int
    tick: int
    time_ns: int
    text: str
    pause: bool


def beat_specs(beats: Sequence) -> tuple[BeatSpec, ...]:
    """The model's view of a scenario's beats (`at:` or `on:`)."""
    out = []
    for b in beats:
        trigger = Trigger((AtTime(b.at),), f"at {b.at} ns") if b.on is None else parse_trigger(b.on)
        out.append(BeatSpec(trigger, b.text, b.pause))
    return tuple(out)


class EventTally:
    """Counts of the named and counter events the beats read, tick by tick."""

    def __init__(self, names: set[str]) -> None:
        self.names = sorted(names)
        self.logged: dict[str, tuple[str, str]] = {
            n: log for n in self.names if n in EVENTS and (log := EVENTS[n].log) is not None
        }
        self.log_counts = dict.fromkeys(self.logged, 0)
        self.last: dict[str, int] = {}
        self.seq = 0

    def _tally(self, m: Machine, name: str) -> int:
        if name in self.logged:
            return self.log_counts[name]
        source = EVENTS.get(name)
        if source is not None and source.tally is not None:
            return source.tally(m)
        return int(m.vm.values[INDEX[name]])

    def advance(self, m: Machine) -> frozenset[str]:
        """Read the machine after a tick: the events that happened in it (none at tick 0)."""
        if self.logged:
            new = min(m.event_seq - self.seq, len(m.events))
            for e in (m.events[-i] for i in range(new, 0, -1)):  # this tick's lines, oldest first
                for name, (kind, prefix) in self.logged.items():
                    if e.kind == kind and e.text.startswith(prefix):
                        self.log_counts[name] += 1
        self.seq = m.event_seq
        happened = set()
        for name in self.names:
            now = self._tally(m, name)
            if name in self.last and now > self.last[name]:
                happened.add(name)
            self.last[name] = now
        return frozenset(happened)


@dataclass
class Story:
    """The beats of one run and which have fired: owned by the Machine, so checkpoints and replays keep it."""

    beats: tuple[BeatSpec, ...]
    fired: list[FiredBeat] = field(default_factory=list)
    tally: EventTally = field(init=False)
    seen: set[str] = field(default_factory=set)
    _last_fired_tick: int = -1

    def __post_init__(self) -> None:
        self.tally = EventTally(set().union(*(b.trigger.events() for b in self.beats)))

    def observe(self, m: Machine) -> Observation:
        """This tick as the triggers see it (call once per tick, in order: event counts move on)."""
        happened = self.tally.advance(m)
        self.seen |= happened
        cache: list[frozenset[str]] = []

        def lazy_phases() -> frozenset[str]:
            if not cache:
                cache.append(phases(m))
            return cache[0]

        return Observation(m.tick, m.now, m.vm.values, happened, frozenset(self.seen), lazy_phases)

    def after_tick(self, m: Machine) -> FiredBeat | None:
        """Look at the machine after a tick (and once at tick 0); fire the next beat if its trigger holds."""
        obs = self.observe(m)
        k = len(self.fired)
        if k >= len(self.beats) or m.tick <= self._last_fired_tick:
            return None
        beat = self.beats[k]
        if not holds(beat.trigger, obs):
            return None
        fired = FiredBeat(k, m.tick, m.now, fill_text(beat.text, m.vm.values), beat.pause)
        self.fired.append(fired)
        self._last_fired_tick = m.tick
        return fired

    @property
    def current(self) -> int:
        """The index of the last beat that fired, -1 before the first."""
        return len(self.fired) - 1

    def paused_at(self, tick: int) -> bool:
        """Whether a beat with pause: true fired at this tick."""
        return bool(self.fired) and self.fired[-1].tick == tick and self.fired[-1].pause
