"""Side by side: 2 or 3 variants of one scenario (`--designs A,B` or `--set KEY=A,B`), stepped in lockstep.

The variants are the points of the same grid `swaptui sweep` builds (swaptui.sweep.build_grid: the
keys resolved against the schema, every point validated), run from the same seed. A LockstepPlayer
holds one Player per variant and moves them together: every step is one tick of each, every seek
and restart sends each to the same tick, so each machine is always at the tick the others are at.

Memory: the players share one checkpoint budget, the single player's 384 MiB split evenly (each gets
budget / N bytes), and all keep the same count (the smallest any of them could hold), so their
checkpoints fall on the same ticks and a rewind replays each from the same base tick.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from swaptui.model.machine import Machine
from swaptui.model.snapshot import Snapshot
from swaptui.player import (
    DEFAULT_CHECKPOINT_BUDGET,
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_MAX_CHECKPOINTS,
    Player,
)
from swaptui.scenario import Scenario
from swaptui.variants import SetError, Setting, parse_set

MAX_VARIANTS = 3
DESIGNS_KEY = "swap.design"


@dataclass(frozen=True)
class Variant:
    """One machine of a side-by-side run: its short name (the values that set it apart) and its scenario."""

    name: str
    scenario: Scenario


@dataclass(frozen=True)
class Lineup:
    """The variants the app runs side by side and the keys that set them apart."""

    variants: tuple[Variant, ...]
    key: str

    @property
    def scenario(self) -> Scenario:
        """The first variant's scenario (the app's title, captions and clock)."""
        return self.variants[0].scenario

    def player(self, _scenario: object = None) -> LockstepPlayer:
        """A fresh lockstep player over the variants (the stepper's player factory)."""
        return LockstepPlayer(self.variants, key=self.key)


def designs_option(text: str, data: dict[str, Any]) -> Setting:
    """`--designs A,B` read as `--set swap.design=A,B`; its errors name --designs."""
    try:
        return parse_set(f"{DESIGNS_KEY}={text}", data)
    except SetError as error:
        raise SetError(_as_designs(str(error))) from None


def _as_designs(message: str) -> str:
    return message.replace(f"--set {DESIGNS_KEY}=", "--designs ", 1)


def read_options(data: dict[str, Any], designs: str | None, sets: Sequence[str]) -> Lineup:
    """The variants `--designs` and `--set` ask for (one, if nothing varies) and the keys that set them apart
    (`swap.design`); SetError (one line) if they cannot be: a key or value the schema refuses, a key given
    twice, different tick lengths, or more than MAX_VARIANTS points."""
    from swaptui.sweep import build_grid

    settings = [parse_set(text, data) for text in sets]
    shown = _as_designs if designs is not None else str
    if designs is not None:
        if any(s.path == tuple(DESIGNS_KEY.split(".")) for s in settings):
            raise SetError(f"--designs: is short for --set {DESIGNS_KEY}=...; expected one of the two")
        setting = designs_option(designs, data)
        if len(setting.texts) < 2:
            raise SetError(f"--designs {designs}: expected 2 or 3 different designs, e.g. classic,vswap")
        settings.insert(0, setting)
    if len({s.path for s in settings}) != len(settings):
        raise SetError("--set: expected each key once; combine its values as KEY=A,B")
    points = 1
    for s in settings:
        points *= len(s.texts)
    if points > MAX_VARIANTS:
        given = " ".join(s.shown() for s in settings)
        raise SetError(
            f"{shown(given)}: side by side runs 2 or 3 machines; these values make {points} "
            "(`swaptui sweep` runs a bigger grid headless)"
        )
    try:
        tasks = build_grid(data, settings, seeds=1)
    except SetError as error:
        raise SetError(shown(str(error))) from None
    varying = [i for i, s in enumerate(settings) if len(s.texts) > 1]
    variants = [Variant(" ".join(t.values[i] for i in varying), t.scenario) for t in tasks]
    ticks = {v.scenario.tick for v in variants}
    if len(ticks) > 1:
        raise SetError(
            f"{shown(' '.join(s.shown() for s in settings))}: side by side steps every machine one tick "
            f"at a time; expected the same tick length in each (got {', '.join(f'{t:,} ns' for t in sorted(ticks))})"
        )
    return Lineup(tuple(variants), ", ".join(settings[i].key for i in varying))


class LockstepPlayer:
    """One Player per variant, moved together: the Player's interface, with a tuple of machines and snapshots."""

    def __init__(
        self,
        variants: Sequence[Variant],
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_budget: int = DEFAULT_CHECKPOINT_BUDGET,
        max_checkpoints: int = DEFAULT_MAX_CHECKPOINTS,
        key: str = "",
    ) -> None:
        if not 1 <= len(variants) <= MAX_VARIANTS:
            raise ValueError(f"expected 1 to {MAX_VARIANTS} variants; got {len(variants)}")
        self.names = tuple(v.name for v in variants)
        self.key = key
        share = checkpoint_budget // len(variants)
        self.players = [Player(v.scenario, checkpoint_every, share, max_checkpoints) for v in variants]
        common = min(p.max_checkpoints for p in self.players)
        for p in self.players:
            p.max_checkpoints = common
        self.scenario = self.players[0].scenario

    @property
    def machine(self) -> Machine:
        """The first variant's machine (what a single-machine caller sees)."""
        return self.players[0].machine

    @property
    def machines(self) -> tuple[Machine, ...]:
        return tuple(p.machine for p in self.players)

    @property
    def tick(self) -> int:
        return self.players[0].tick

    @property
    def last_tick(self) -> int:
        """The last tick every variant reaches (the shortest scenario's end)."""
        return min(p.last_tick for p in self.players)

    @property
    def checkpoints(self) -> frozenset[int]:
        """The ticks every variant holds a checkpoint of (the same ticks: they step and thin alike)."""
        return frozenset.intersection(*(frozenset(p.checkpoints) for p in self.players))

    @property
    def checkpoint_bytes(self) -> int:
        """What the checkpoints of every variant hold together, at most the one budget."""
        return sum(p._checkpoint_bytes * len(p.checkpoints) for p in self.players)

    @property
    def replayed_ticks(self) -> int:
        return self.players[0].replayed_ticks

    def at_end(self) -> bool:
        return self.tick >= self.last_tick

    def snapshot(self) -> Snapshot:
        """The first variant's snapshot."""
        return self.players[0].snapshot()

    def snapshots(self) -> tuple[Snapshot, ...]:
        """Every variant's snapshot of the current tick."""
        return tuple(p.snapshot() for p in self.players)

    def step(self, n: int = 1) -> int:
        """Advance every machine up to n ticks, one tick of each at a time; returns ticks advanced."""
        done = 0
        for _ in itertools.repeat(None, n):
            if self.at_end():
                break
            for p in self.players:
                p.step(1)
            done += 1
        return done

    def go_to(self, tick: int) -> None:
        """Move every machine to `tick` (clamped to [0, last_tick])."""
        tick = max(0, min(tick, self.last_tick))
        for p in self.players:
            p.go_to(tick)

    def back(self, n: int = 1) -> None:
        self.go_to(self.tick - n)

    def restart(self) -> None:
        self.go_to(0)
