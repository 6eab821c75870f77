"""Fuzzing: mutated copies of every bundled scenario go through `swaptui check` in-process.

Whatever the mutation, no exception may escape `main`, the exit status is 0 (valid), 1 or 2 (refused),
and nothing printed carries a control character that came from the file (ESC, NUL, BEL ...).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from swaptui.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").rglob("*.yaml"))  # stories/ too
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
COUNTS = {"tried": 0, "failed": 0}
COUNTING = os.environ.get("SWAPTUI_FUZZ_COUNT")

# Replacement values that are wrong in every interesting way: types, bounds, YAML features.
NASTY = [
    "-1",
    "0",
    "null",
    "~",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "1e999",
    ".nan",
    ".inf",
    "-.inf",
    "true",
    "'x'",
    '""',
    "1.5",
    "99999999999999999999999",
    "4GiB",
    "0B",
    "-4GiB",
    "1TiB",
    "64TiB",
    "1ms",
    "0s",
    "1h",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.getcwd []",
    "&a x",
    "*a",
    "*undefined",
    "<<: *a",
    "'\x1b[31mred'",
    '"\\e[2J\\x00"',
    "\x00",
    "\x1b",
    "\t",
    "|\n  x",
    ">-",
    "? x",
    "- x",
    "x: y: z",
    "[" * 60 + "]" * 60,
    "{a: " * 40 + "1" + "}" * 40,
    "'" + "x" * 5000 + "'",
    "2000",
    "4096",
    "5000",
    # beats' on: expressions
    "kswapd_wake and",
    "'pswpout >= 1e5'",
    '"phase == nope"',
    "first",
    "'first first'",
    "'{nr_free_pages'",
    "'{pswpout:gib}'",
    "'__import__(\"os\")'",
]
CHARS = [
    "\x00",
    "\x1b",
    "\x07",
    "\x7f",
    "\x85",
    "\ufeff",
    "\u2028",
    ":",
    "-",
    " ",
    "\n",
    "\t",
    "[",
    "{",
    "&",
    "*",
    "!",
    "|",
    ">",
    "'",
    '"',
    "#",
    "%",
    "@",
    "`",
    "\ud7ff",
    "é",
]


def _mutate(text: str, data: st.DataObject) -> str:
    """Apply one to three random edits: insert a character, delete a span, replace a value, duplicate or drop a line."""
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["insert", "delete", "value", "dup", "drop", "indent", "repeat"]))
        lines = text.split("\n")
        i = data.draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "insert":
            pos = data.draw(st.integers(0, len(text)))
            text = text[:pos] + data.draw(st.sampled_from(CHARS)) + text[pos:]
        elif op == "delete":
            pos = data.draw(st.integers(0, len(text)))
            text = text[:pos] + text[pos + data.draw(st.integers(1, 40)) :]
        elif op == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {data.draw(st.sampled_from(NASTY))}"
            text = "\n".join(lines)
        elif op == "dup":
            text = "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        elif op == "drop":
            text = "\n".join(lines[:i] + lines[i + 1 :])
        elif op == "indent":
            text = "\n".join([*lines[:i], " " * data.draw(st.integers(0, 5)) + lines[i].lstrip(), *lines[i + 1 :]])
        elif op == "repeat":  # a block copied many times: many keys, many workloads
            block = "\n".join(lines[i : i + 3])
            text = text + "\n" + "\n".join([block] * data.draw(st.integers(2, 300)))
    return text


def run_cli(*argv: str) -> tuple[int, str]:
    """Call `swaptui` in this process; return its exit status and everything it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue() + err.getvalue()


def check_survives(path: Path) -> None:
    """`swaptui check` on the file: a status of 0, 1 or 2, one clean line per problem, no raw control character."""
    COUNTS["tried"] += 1
    try:
        code, printed = run_cli("check", str(path))
        assert code in (0, 1, 2), code
        assert "Traceback" not in printed
        assert not CONTROL.search(printed), printed[:200]
    except BaseException:
        COUNTS["failed"] += 1
        if not COUNTING:
            raise


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    """With SWAPTUI_FUZZ_COUNT=FILE, failures are counted (not raised) and the totals appended to FILE."""
    yield
    if COUNTING:
        with open(COUNTING, "a", encoding="utf-8") as out:
            out.write(f"{__name__}: tried {COUNTS['tried']}, failed {COUNTS['failed']}\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenario-fuzz")


@pytest.mark.parametrize(
    "source",
    SCENARIOS,
    ids=[str(p.relative_to(p.parents[1] if p.parent.name == "stories" else p.parent)) for p in SCENARIOS],
)
@settings(
    max_examples=int(os.environ.get("SWAPTUI_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate] if COUNTING else list(Phase),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_bundled_scenarios_never_crash_check(source: Path, workdir: Path, data: st.DataObject) -> None:
    path = workdir / f"{source.parent.name}-{source.name}"
    path.write_text(_mutate(source.read_text(encoding="utf-8"), data), encoding="utf-8")
    check_survives(path)


def test_bundled_scenarios_pass_check_unmutated() -> None:
    """The fuzz starts from files that are valid: each one checks with status 0."""
    assert SCENARIOS
    for path in SCENARIOS:
        code, printed = run_cli("check", str(path))
        assert code == 0, printed


ARG_WORDS = st.sampled_from(
    [
        "usemem",
        "hotcold",
        "frag",
        "zeromix",
        "--size-mb",
        "--seed",
        "--thp",
        "-n",
        "-R",
        "--nproc=",
        "56G",
        "1",
        "-",
        "--",
        "0x",
        "'",
        '"',
        "\\",
        "\x00",
        "\x1b",
        "é",
        "-Oyx",
        "1e9",
        "-1",
        "nan",
        "=",
        "--hot-frac",
        "--rewrite",
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(words=st.lists(st.one_of(ARG_WORDS, st.text(max_size=6)), max_size=8))
def test_command_line_parsers_refuse_in_words_or_accept(words: list[str]) -> None:
    """memlab's and usemem's parsers, on any text: a result, or their own error with a one-line message."""
    from swaptui.model.memlab import MemlabArgsError, parse_memlab_args
    from swaptui.model.usemem_args import UsememArgsError, parse_usemem_args

    text = " ".join(words)
    for parse, error in ((parse_memlab_args, MemlabArgsError), (parse_usemem_args, UsememArgsError)):
        try:
            parse(text)
        except error as refused:
            assert str(refused) and "\n" not in str(refused)
