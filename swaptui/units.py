"""Parse and format sizes (bytes) and durations (nanoseconds) written with units, as in scenarios."""

from __future__ import annotations

import math
import re
from fractions import Fraction

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4

NS = 1
US = 1_000
MS = 1_000_000
S = 1_000_000_000
MIN = 60 * S
H = 3600 * S

# Keys are lower case: every spelling is unambiguous once case is folded, so "kB", "KB" and "kb" agree.
SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "k": KIB,
    "kib": KIB,
    "m": MIB,
    "mib": MIB,
    "g": GIB,
    "gib": GIB,
    "t": TIB,
    "tib": TIB,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
}

# Case matters for durations: "ms" (milli) and "Ms" must not be confused.
DURATION_UNITS: dict[str, int] = {
    "ns": NS,
    "us": US,
    "\u00b5s": US,  # micro sign
    "\u03bcs": US,  # Greek small letter mu
    "ms": MS,
    "s": S,
    "min": MIN,
    "h": H,
}

SIZE_PATTERN = r"^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*([bB]|[kKmMgGtT]([iI]?[bB])?)\s*$"
DURATION_PATTERN = r"^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*(ns|us|µs|μs|ms|s|min|h)\s*$"

_QUANTITY = re.compile(r"^\s*([+-]?)\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(\S*)\s*$")

_SIZE_EXAMPLE = "expected a size with a unit, such as 4GiB or 512MiB"
_DURATION_EXAMPLE = "expected a duration with a unit, such as 1ms or 2.5s"


class UnitError(ValueError):
    """A size or duration that is missing its unit, has an unknown one, or is not a quantity at all."""


def _show(value: object) -> str:
    """Render a rejected input the way the user wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _parse(value: object, units: dict[str, int], fold_case: bool, example: str, units_help: str) -> int:
    """Parse `<number><unit>` into an int count of the smallest unit, rounding down."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise UnitError(f"missing unit: {example}; got {_show(value)}")
    if not isinstance(value, str):
        raise UnitError(f"{example}; got {_show(value)}")
    match = _QUANTITY.match(value)
    if match is None:
        raise UnitError(f"{example}; got {_show(value)}")
    sign, number, unit = match.groups()
    if sign == "-" and Fraction(number) != 0:
        raise UnitError(f"must not be negative: {example}; got {_show(value)}")
    if unit == "":
        raise UnitError(f"missing unit: {example}; got {_show(value)}")
    multiplier = units.get(unit.lower() if fold_case else unit)
    if multiplier is None:
        raise UnitError(f"unknown unit {unit!r}: {example} (units: {units_help}); got {_show(value)}")
    return math.floor(Fraction(number) * multiplier)


def parse_size(value: object) -> int:
    """Parse a size such as "1.5GiB", "512 MiB" or "4KB" into whole bytes (binary and decimal units)."""
    return _parse(value, SIZE_UNITS, True, _SIZE_EXAMPLE, "B, K/KiB, M/MiB, G/GiB, T/TiB, KB, MB, GB, TB")


def parse_duration(value: object) -> int:
    """Parse a duration such as "1ms", "2.5s" or "250us" into whole nanoseconds."""
    return _parse(value, DURATION_UNITS, False, _DURATION_EXAMPLE, "ns, us, ms, s, min, h")


def _trim(number: float) -> str:
    """Format with at most two decimals and no trailing zeros."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_size(size: float, figures: int | None = None) -> str:
    """Bytes in the largest binary unit that keeps the number at least 1: "1.5 GiB" (at most two decimals), or
    with `figures` a fixed count of figures for text that should not change width ("1.50 GiB", "45.6 MiB")."""
    sign = "-" if size < 0 else ""
    size = abs(size)
    units = [("TiB", TIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)]
    for index, (name, scale) in enumerate(units):
        if size >= scale:
            value = size / scale
            if figures is not None:
                return f"{sign}{value:.{max(0, figures - len(str(int(value))))}f} {name}"
            text = _trim(value)
            if text == "1024" and index > 0:
                return f"{sign}1 {units[index - 1][0]}"
            return f"{sign}{text} {name}"
    return f"{sign}{int(size)} B"


def format_duration(ns: int) -> str:
    """Format nanoseconds with the largest unit that keeps the number at least 1, e.g. "2.5 s"."""
    if ns == 0:
        return "0 s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    for name, scale in (("h", H), ("min", MIN), ("s", S), ("ms", MS), ("us", US)):
        if ns >= scale:
            return f"{sign}{_trim(ns / scale)} {name}"
    return f"{sign}{ns} ns"
