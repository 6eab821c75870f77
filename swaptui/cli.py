"""The `swaptui` command: one function per subcommand, listed once in COMMANDS."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from swaptui import __version__


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, how it declares its arguments, and what it runs."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _fail(message: str) -> None:
    """Print one error line to stderr, prefixed with the program name."""
    print(f"swaptui: {message}", file=sys.stderr)


def _args_scenario(parser: argparse.ArgumentParser) -> None:
    """Declare the scenario file argument."""
    parser.add_argument("file", metavar="FILE", help="scenario YAML file")


def _cmd_check(args: argparse.Namespace) -> int:
    """Validate a scenario file; print a one-line summary, or every problem with its file:line and key."""
    from swaptui.scenario import ScenarioError, load_scenario
    from swaptui.units import format_duration, format_size

    try:
        scenario = load_scenario(args.file)
    except ScenarioError as error:
        for issue in error.issues:
            _fail(str(issue))
        return 2
    devices = len(scenario.swap.devices)
    print(f'ok: {args.file} \u2014 "{scenario.name}" ({format_size(scenario.machine.memory)} RAM, '
          f"{devices} swap device{'' if devices == 1 else 's'}, "
          f"{scenario.ticks} ticks of {format_duration(scenario.tick)})")
    return 0


def _args_schema(parser: argparse.ArgumentParser) -> None:
    """Declare where the schema goes."""
    parser.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of standard output")


def _cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON schema of scenario files (for editors), or write it to --out."""
    from swaptui.scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as error:
        _fail(f"{args.out}: cannot write: {error.strerror or error}")
        return 1
    return 0


def _cmd_open(args: argparse.Namespace) -> int:
    """Open a scenario in the app; until the app exists, validate it and say so."""
    status = _cmd_check(args)
    if status == 0:
        print("the app is not built yet")
    return status


COMMANDS: dict[str, Command] = {
    "check": Command("validate a scenario file and exit", _args_scenario, _cmd_check),
    "schema": Command("print the JSON schema of scenario files", _args_schema, _cmd_schema),
}
"""Subcommands by name; add an entry here (and its two functions) to add a subcommand."""


def _parser() -> argparse.ArgumentParser:
    """Build the parser for `swaptui COMMAND ...`, one subparser per entry in COMMANDS."""
    parser = argparse.ArgumentParser(
        prog="swaptui",
        description="A live, stepping model of Linux memory reclaim and swap. "
                    "`swaptui FILE` opens a scenario in the app.",
    )
    parser.add_argument("--version", action="version", version=f"swaptui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(subparser)
        subparser.set_defaults(run=command.run)
    return parser


def _open_parser() -> argparse.ArgumentParser:
    """Build the parser for `swaptui FILE`, which opens the app."""
    parser = argparse.ArgumentParser(prog="swaptui", description="Open a scenario in the app.")
    _args_scenario(parser)
    return parser


def _looks_like_file(argument: str) -> bool:
    """Tell whether a first argument that is not a subcommand names a scenario file."""
    return not argument.startswith("-") and (
        os.path.exists(argument) or argument.endswith((".yaml", ".yml")) or os.sep in argument
    )


def main(argv: list[str] | None = None) -> int:
    """Run the `swaptui` command line and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] not in COMMANDS and _looks_like_file(argv[0]):
        return _cmd_open(_open_parser().parse_args(argv))
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
