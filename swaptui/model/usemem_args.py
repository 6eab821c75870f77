"""vm-scalability's usemem command line (`usemem --init-time -O -y -x -n 1 56G`), for `kind: usemem` with `args:`.

The flags read as usemem's getopt_long reads them: short options bundle (`-Oyx`), a value may be attached
(`-n1`) or follow, long options take `--name value` or `--name=value`, and the one size may come anywhere. The
size is memparse's: a number (decimal, 0x hex, 0 octal) of bytes, or with k, m, g or t (1024-based).

What the model keeps: the size, -n (processes), -r (passes; usemem writes every word on every pass, so every
pass writes), -R (random order) and -s (sleep after the passes, before unmapping). -O, -y, -x, -w, -q and
--init-time change nothing the model shows and are accepted: the model's usemem memory is anonymous either way
(/dev/zero mapped MAP_PRIVATE, usemem's default, is anonymous memory too); a workload's processes start together
(-y) and each unmaps when it finishes, without -x's barrier before the frees; timing output is not modelled.
Simplified: -R in usemem draws bytes/8 word indices with replacement from lrand48 seeded by time and thread id;
the model touches every page once per pass in a random order from the scenario's seed. Any other usemem flag is
an error naming it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from swaptui.model.memlab import strtoull_base0

PAGE_SIZE = 4096
MAX_PROCESSES = 4096
SUFFIX_SHIFT = {"k": 10, "m": 20, "g": 30, "t": 40}


class UsememArgsError(ValueError):
    """A usemem command line usemem would refuse, or one with a flag the model does not take."""


@dataclass(frozen=True)
class UsememArgs:
    """What the model takes from a usemem command line, with usemem's defaults."""

    size: int
    nproc: int = 1
    repeat: int = 1
    random: bool = False
    sleep_s: int = 0


# short letter -> (long name, takes a value, modelled)
OPTIONS: dict[str, tuple[str, bool, bool]] = {
    "n": ("nproc", True, True),
    "r": ("repeat", True, True),
    "s": ("sleep", True, True),
    "R": ("random", False, True),
    "O": ("anonymous", False, True),
    "y": ("sync-rw", False, True),
    "x": ("sync-free", False, True),
    "w": ("open-rw", False, True),
    "q": ("quiet", False, True),
    "a": ("malloc", False, False),
    "u": ("unit", True, False),
    "j": ("step", True, False),
    "M": ("mlock", False, False),
    "o": ("readonly", False, False),
    "S": ("msync", False, False),
    "A": ("msync-async", False, False),
    "t": ("thread", True, False),
    "b": ("bind", True, False),
    "P": ("prealloc", False, False),
    "F": ("prefault", False, False),
    "f": ("file", True, False),
    "B": ("offset", True, False),
    "p": ("pid-file", True, False),
    "d": ("detach", False, False),
    "T": ("runtime", True, False),
    "g": ("getchar", False, False),
    "L": ("Lock", False, False),
    "D": ("advice", False, False),
    "E": ("remap", False, False),
    "H": ("mncr_hgpgs", False, False),
    "e": ("delay", True, False),
    "U": ("hugetlb", False, False),
    "Z": ("read-again", False, False),
    "m": ("m", True, False),
    "h": ("help", False, False),
}
LONG_ONLY = {"init-time": True, "punch-holes": False, "touch-alloc": False}
"""usemem's long options without a letter, and whether the model takes them (none takes a value)."""
LONG = {name: letter for letter, (name, _, _) in OPTIONS.items()}
MODELLED = [f"-{k}" for k, (_, _, ok) in OPTIONS.items() if ok] + ["--init-time"]


def memparse(text: str) -> int:
    """usemem's memparse, strictly: digits (0x hex, 0 octal) then at most one of k, m, g, t; bytes."""
    body, shift = text, 0
    if body and body[-1].lower() in SUFFIX_SHIFT:
        body, shift = body[:-1], SUFFIX_SHIFT[body[-1].lower()]
    try:
        value = strtoull_base0(body)
    except ValueError:
        raise UsememArgsError(
            f"expected usemem's size: a number of bytes, or with k, m, g or t (1024-based), such as 56G; got {text!r}"
        ) from None
    return value << shift


def _whole(flag: str, text: str, lo: int, hi: int, noun: str) -> int:
    """A decimal whole number in lo..hi for a flag's value."""
    if not (text.isascii() and text.isdigit()) or not lo <= int(text) <= hi:
        raise UsememArgsError(f"{flag}: expected a whole number of {noun} from {lo} to {hi}; got {text!r}")
    return int(text)


def _split(argv: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """getopt_long's reading: (flag shown as typed, value) pairs and the positional arguments."""
    flags: list[tuple[str, str | None]] = []
    positional: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            positional += argv[i:]
            break
        if token.startswith("--"):
            name, eq, attached = token[2:].partition("=")
            if name in LONG_ONLY:
                if eq:
                    raise UsememArgsError(f"usemem flag --{name} takes no value; got {token!r}")
                flags.append((f"--{name}", None))
                continue
            if name not in LONG:
                raise UsememArgsError(f"unknown usemem flag {token!r}")
            letter = LONG[name]
            value: str | None = None
            if OPTIONS[letter][1]:
                if eq:
                    value = attached
                elif i < len(argv):
                    value, i = argv[i], i + 1
                else:
                    raise UsememArgsError(f"--{name}: missing value")
            flags.append((f"-{letter}", value))
        elif token.startswith("-") and len(token) > 1:
            j = 1
            while j < len(token):
                letter = token[j]
                if letter not in OPTIONS:
                    raise UsememArgsError(f"unknown usemem flag '-{letter}'")
                j += 1
                if OPTIONS[letter][1]:
                    if j < len(token):
                        value = token[j:]
                    elif i < len(argv):
                        value, i = argv[i], i + 1
                    else:
                        raise UsememArgsError(f"-{letter}: missing value")
                    flags.append((f"-{letter}", value))
                    break
                flags.append((f"-{letter}", None))
        else:
            positional.append(token)
    return flags, positional


def parse_usemem_args(text: str) -> UsememArgs:
    """vm-scalability's usemem command line without the program name; UsememArgsError if bad or not modelled."""
    try:
        argv = shlex.split(text)
    except ValueError as error:
        raise UsememArgsError(f"expected a usemem command line; {error}") from None
    flags, positional = _split(argv)
    values: dict[str, object] = {}
    for flag, value in flags:
        letter = flag[1:] if len(flag) == 2 else ""
        if not letter:  # a long-only option
            if not LONG_ONLY[flag[2:]]:
                raise UsememArgsError(f"usemem flag {flag} is not modelled; the model takes {', '.join(MODELLED)}")
            continue
        name, _, modelled = OPTIONS[letter]
        if not modelled:
            raise UsememArgsError(
                f"usemem flag {flag} (--{name}) is not modelled; the model takes {', '.join(MODELLED)}"
            )
        if letter == "n":
            values["nproc"] = _whole(flag, value or "", 1, MAX_PROCESSES, "processes")
        elif letter == "r":
            values["repeat"] = _whole(flag, value or "", 1, 1000, "passes")
        elif letter == "s":
            values["sleep_s"] = _whole(flag, value or "", 0, 3600, "seconds")
        elif letter == "R":
            values["random"] = True
    if len(positional) != 1:
        got = "none" if not positional else ", ".join(repr(p) for p in positional)
        raise UsememArgsError(f"expected one size, such as 56G, after usemem's flags; got {got}")
    size = memparse(positional[0])
    if size < PAGE_SIZE:
        raise UsememArgsError(f"expected a size of at least one page (4096 bytes); got {positional[0]!r}")
    return UsememArgs(size=size, **values)  # type: ignore[arg-type]
