"""Known answers and properties for parsing and formatting sizes and durations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swaptui.units import (
    DURATION_UNITS,
    MIB,
    SIZE_UNITS,
    TIB,
    UnitError,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0B", 0),
        ("1B", 1),
        ("4K", 4096),
        ("4KiB", 4096),
        ("1M", 1 << 20),
        ("512MiB", 512 << 20),
        ("2G", 2 << 30),
        ("4GiB", 4 << 30),
        ("1T", 1 << 40),
        ("1TiB", 1 << 40),
        ("1KB", 1000),
        ("1kB", 1000),
        ("3MB", 3_000_000),
        ("2GB", 2_000_000_000),
        ("1TB", 10**12),
        ("1.5GiB", 3 << 29),
        ("0.5 MiB", 512 << 10),
        (".25KiB", 256),
        ("  16 MiB  ", 16 << 20),
        ("1.0000001KiB", 1024),
        ("1.9B", 1),
    ],
)
def test_parse_size_known_answers(text: str, expected: int) -> None:
    """Every unit, decimals and spacing give the exact byte count, rounded down."""
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0s", 0),
        ("1ns", 1),
        ("250us", 250_000),
        ("250µs", 250_000),
        ("250μs", 250_000),
        ("1ms", 1_000_000),
        ("2.5s", 2_500_000_000),
        ("1min", 60_000_000_000),
        ("1.5h", 5_400_000_000_000),
        (" 10 ms ", 10_000_000),
        ("0.5ns", 0),
    ],
)
def test_parse_duration_known_answers(text: str, expected: int) -> None:
    """Every unit, decimals and spacing give the exact nanosecond count, rounded down."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("value", [3, 4096, 1.5, "3", "4096", " 12 ", "1.5"])
@pytest.mark.parametrize("parse", [parse_size, parse_duration])
def test_bare_numbers_are_missing_a_unit(parse: object, value: object) -> None:
    """A number without a unit is refused, and the message says a unit is missing and what one looks like."""
    with pytest.raises(UnitError, match="missing unit") as caught:
        parse(value)  # type: ignore[operator]
    assert "such as" in str(caught.value)


def test_size_message_names_what_was_expected() -> None:
    """The message gives an example and the rejected input."""
    with pytest.raises(UnitError) as caught:
        parse_size(3)
    assert str(caught.value) == "missing unit: expected a size with a unit, such as 4GiB or 512MiB; got 3"


@pytest.mark.parametrize("value", ["-1GiB", "-4K", "- 2MiB"])
def test_negative_sizes_are_refused(value: str) -> None:
    """Negative sizes are refused as negative."""
    with pytest.raises(UnitError, match="negative"):
        parse_size(value)


@pytest.mark.parametrize("value", ["-1ms", "-0.5s"])
def test_negative_durations_are_refused(value: str) -> None:
    """Negative durations are refused as negative."""
    with pytest.raises(UnitError, match="negative"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", ["", "GiB", "abc", "1 2GiB", "1GiBs", "1e3MiB", "1,5GiB", "0x10MiB", True, False, None, [1], {"a": 1}]
)
def test_size_garbage_is_refused(value: object) -> None:
    """Anything that is not a number followed by a known unit is refused."""
    with pytest.raises(UnitError, match="expected a size with a unit"):
        parse_size(value)


@pytest.mark.parametrize("value", ["", "ms", "1m", "1 sec", "1MS", "1hours", "1.2.3s", True, None])
def test_duration_garbage_is_refused(value: object) -> None:
    """Anything that is not a number followed by a known unit is refused; "m" is ambiguous and refused."""
    with pytest.raises(UnitError, match="expected a duration with a unit"):
        parse_duration(value)


def test_unknown_unit_is_named() -> None:
    """An unknown unit is named in the message with the accepted ones."""
    with pytest.raises(UnitError, match=r"unknown unit 'gigs'.*GiB"):
        parse_size("4 gigs")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (100, "100 B"),
        (4096, "4 KiB"),
        (512 << 20, "512 MiB"),
        (3 << 29, "1.5 GiB"),
        (1 << 40, "1 TiB"),
        ((1 << 30) - 1, "1 GiB"),
        (1000, "1000 B"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    """Sizes format with the largest binary unit and at most two decimals."""
    assert format_size(size) == text


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0 s"),
        (1, "1 ns"),
        (250_000, "250 us"),
        (1_000_000, "1 ms"),
        (2_500_000_000, "2.5 s"),
        (90_000_000_000, "1.5 min"),
        (3_600_000_000_000, "1 h"),
    ],
)
def test_format_duration(ns: int, text: str) -> None:
    """Durations format with the largest unit and at most two decimals."""
    assert format_duration(ns) == text


@given(st.integers(0, 10**6), st.sampled_from(sorted(SIZE_UNITS)), st.booleans())
def test_whole_sizes_parse_exactly(number: int, unit: str, upper: bool) -> None:
    """A whole number of any unit, in either case, parses to number times the unit."""
    assert parse_size(f"{number}{unit.upper() if upper else unit}") == number * SIZE_UNITS[unit]


@given(st.integers(0, 10**6), st.sampled_from(sorted(DURATION_UNITS)))
def test_whole_durations_parse_exactly(number: int, unit: str) -> None:
    """A whole number of any unit parses to number times the unit."""
    assert parse_duration(f"{number} {unit}") == number * DURATION_UNITS[unit]


@given(st.integers(0, 1 << 50))
def test_format_size_parses_back_closely(size: int) -> None:
    """What format_size prints parses back to within 0.5% of the original."""
    assert abs(parse_size(format_size(size)) - size) <= size * 0.005 + 1


@given(st.integers(0, 10**16))
def test_format_duration_parses_back_closely(ns: int) -> None:
    """What format_duration prints parses back to within 0.5% of the original."""
    assert abs(parse_duration(format_duration(ns).replace(" ", "")) - ns) <= ns * 0.005 + 1


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (4096, "4.00 KiB"),
        (int(45.6 * MIB), "45.6 MiB"),
        (1000 * MIB, "1000 MiB"),
        (1 << 30, "1.00 GiB"),
        (3 << 29, "1.50 GiB"),
        (-(5 << 20), "-5.00 MiB"),
        (2000 * TIB, "2000 TiB"),
    ],
)
def test_format_size_to_three_figures_keeps_its_width(size: int, text: str) -> None:
    """The one byte formatter: with figures=3 (the panes' columns) a number never changes width as it grows."""
    assert format_size(size, figures=3) == text
