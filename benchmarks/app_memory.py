"""The app's memory over a long session of stepping, seeking and restarting (issue 15, item 6).

Drives the stepper thread (what the app runs: the Player, its checkpoints, the snapshot cache and
the counter history) headless, with a publish callback that acknowledges every frame at once, the
way the app does after painting. A session is `--rounds` rounds; each round steps forward, steps
back one tick at a time, seeks to a random tick already visited, and every third round restarts and
goes back to the furthest tick. The first tenth of the rounds stands for the first minute of a
ten-minute session. Prints peak RSS after that first tenth and at the end, the ratio (the target:
under 2), and the checkpoint and cache counts.

    python benchmarks/app_memory.py [--scenario scenarios/usemem-zram.yaml] [--rounds 30]
                                    [--forward 300] [--every 200] [--designs classic,vswap]

`--every` is the Player's checkpoint spacing in ticks (the app's default is 200); a smaller one
makes the session reach the checkpoint cap in fewer ticks, so the benchmark runs faster. `--designs`
drives the app's side-by-side player instead (swaptui.lockstep: 2 or 3 machines sharing one budget).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from swaptui.lockstep import LockstepPlayer, read_options  # noqa: E402
from swaptui.player import DEFAULT_CHECKPOINT_EVERY, Player  # noqa: E402
from swaptui.scenario import load_scenario  # noqa: E402
from swaptui.ui.stepper import Stepper  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Resident set size now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1 << 20)


class Session:
    """A stepper in its own thread, acknowledging each frame as soon as it is published."""

    def __init__(self, scenario, every: int, lineup=None) -> None:
        self.frames = 0

        def player(s):
            return Player(s, every) if lineup is None else LockstepPlayer(lineup.variants, every, key=lineup.key)

        self.stepper = Stepper(scenario, self._publish, lambda s: None, player_factory=player)
        self.thread = threading.Thread(target=self.stepper.run, daemon=True)
        self.thread.start()

    def _publish(self, frame) -> None:
        self.frames += 1
        self.stepper.ack()

    def settle(self) -> None:
        time.sleep(0.005)
        s = self.stepper
        while not (s.player is not None and s.idle.is_set() and not s._commands and self.frames):
            if s.error is not None:
                raise s.error
            time.sleep(0.005)

    def close(self) -> None:
        self.stepper.stop()
        self.thread.join(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "usemem-zram.yaml"))
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--forward", type=int, default=300, help="ticks stepped forward per round")
    ap.add_argument("--every", type=int, default=DEFAULT_CHECKPOINT_EVERY, help="checkpoint spacing in ticks")
    ap.add_argument("--designs", metavar="A,B", help="side by side: one machine per design, in lockstep")
    args = ap.parse_args()
    rng = random.Random(1)
    lineup = None
    if args.designs:
        with open(args.scenario, encoding="utf-8") as file:
            lineup = read_options(yaml.safe_load(file), args.designs, [])
    session = Session(load_scenario(args.scenario), args.every, lineup)
    session.settle()
    s = session.stepper
    first = max(1, args.rounds // 10)
    started = time.perf_counter()
    furthest = 0
    first_peak = 0.0
    for r in range(args.rounds):
        for _ in range(args.forward // 50):  # forwards, in steps of 50 ticks (frames published on the way)
            s.step(50)
            session.settle()
        furthest = max(furthest, s.shown_tick)
        for _ in range(5):
            s.back(1)
            session.settle()
        s.go_to(rng.randint(0, furthest))
        session.settle()
        if r % 3 == 2:
            s.restart()
            session.settle()
            s.go_to(furthest)
            session.settle()
        else:
            s.go_to(furthest)
            session.settle()
        player = s.player
        print(
            f"round {r + 1:3}: tick {s.shown_tick:6,}  rss {rss_mib():7.1f} MiB  peak {peak_rss_mib():7.1f} MiB  "
            f"checkpoints {len(player.checkpoints):3}  cached snapshots {len(s._cache):4}  "
            f"{time.perf_counter() - started:6.1f} s",
            flush=True,
        )
        if r + 1 == first:
            first_peak = peak_rss_mib()
    end_peak = peak_rss_mib()
    session.close()
    print(f"peak RSS after the first {first} of {args.rounds} rounds: {first_peak:.1f} MiB")
    print(f"peak RSS at the end: {end_peak:.1f} MiB")
    print(f"ratio end / first: {end_peak / first_peak:.2f} (target < 2)")


if __name__ == "__main__":
    main()
