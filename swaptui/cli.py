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
    """Print one error line to stderr, prefixed with the program name (control characters shown escaped)."""
    from swaptui.text import printable

    print(f"swaptui: {printable(message)}", file=sys.stderr)


def _args_scenario(parser: argparse.ArgumentParser) -> None:
    """Declare the scenario file argument."""
    parser.add_argument(
        "file", metavar="FILE", help="scenario YAML file, or a bundled scenario's name (`swaptui scenarios` lists them)"
    )


def _load_or_report(path: str):
    """Load and validate a scenario (a file, else a bundled name); on a bad file print every problem
    (file:line: key: ...) and return None."""
    from swaptui.bundled import resolve_scenario, unknown_scenario_message
    from swaptui.scenario import ScenarioError, load_scenario

    resolved = resolve_scenario(path)
    if resolved is None:
        _fail(unknown_scenario_message(path))
        return None
    try:
        return load_scenario(resolved)
    except ScenarioError as error:
        for issue in error.issues:
            _fail(str(issue))
        return None


def _ticks_from_args(args: argparse.Namespace, scenario, least: int) -> int | None:
    """Ticks to run from --ticks, --duration or the scenario's own duration; None (after saying why) if bad."""
    from swaptui.units import UnitError, parse_duration

    if args.ticks is not None:
        if args.ticks < least:
            _fail(f"--ticks: expected a whole number from {least} up; got {args.ticks}")
            return None
        return args.ticks
    if args.duration is not None:
        try:
            return parse_duration(args.duration) // scenario.tick
        except UnitError as error:
            _fail(f"--duration: {error}")
            return None
    return scenario.ticks


def _cmd_check(args: argparse.Namespace) -> int:
    """Validate a scenario file; print a one-line summary, or every problem with its file:line and key."""
    from swaptui.text import printable
    from swaptui.units import format_duration, format_size

    scenario = _load_or_report(args.file)
    if scenario is None:
        return 2
    devices = len(scenario.swap.devices)
    print(
        f'ok: {printable(args.file)} \u2014 "{printable(scenario.name)}" ({format_size(scenario.machine.memory)} RAM, '
        f"{devices} swap device{'' if devices == 1 else 's'}, "
        f"{scenario.ticks} ticks of {format_duration(scenario.tick)}, kernel {scenario.machine.kernel})"
    )
    from swaptui.model import kernels

    features = kernels.features_of(scenario.machine.kernel, scenario.machine.features)
    for notice in kernels.notices(scenario.machine.kernel, scenario.swap.design, features):
        _fail(f"notice: {notice}")
    return 0


def _args_force(parser: argparse.ArgumentParser) -> None:
    """Declare --force, for every command that writes a file."""
    parser.add_argument("--force", action="store_true", help="overwrite output files that exist (never a device)")


def _check_outputs(force: bool, *options: tuple[str, str | None]) -> bool:
    """Check output paths before any work (exists without --force, not a regular file, no such directory);
    say what is wrong with each and return False if any is."""
    from swaptui.output import OutputError, check_target

    given = [(option, path) for option, path in options if path]
    ok = True
    for i, (option, path) in enumerate(given):
        for other, other_path in given[:i]:
            if os.path.abspath(path) == os.path.abspath(other_path):
                _fail(f"{other} and {option}: expected two different files; both are {path}")
                return False
        try:
            check_target(path, force, option)
        except OutputError as error:
            _fail(str(error))
            ok = False
    return ok


def _args_schema(parser: argparse.ArgumentParser) -> None:
    """Declare where the schema goes."""
    parser.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of standard output")
    _args_force(parser)


def _cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON schema of scenario files (for editors), or write it to --out."""
    from swaptui.scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    return 0 if _check_outputs(args.force, ("--out", args.out)) and _write_file(args.out, text, args.force) else 2


def _write_file(path: str, text: str, force: bool) -> bool:
    """Write text to a file whole or not at all; on failure say why (file: reason) and return False."""
    from swaptui.output import OutputError, atomic_output

    try:
        with atomic_output(path, force) as out:
            out.write(text)
    except OutputError as error:
        _fail(str(error))
        return False
    return True


def _args_none(parser: argparse.ArgumentParser) -> None:
    """Declare no arguments."""


def _cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios, one a line: the name `run` and the app take, and the scenario's title."""
    from swaptui.bundled import SCENARIO_DIR, bundled_names, bundled_path, scenario_title

    names = bundled_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        path = bundled_path(name)
        print(f"{name:<{width}}  {scenario_title(path) if path else ''}")
    print(
        f"\n{len(names)} bundled scenarios in {SCENARIO_DIR}; `swaptui run NAME` runs one headless, "
        "`swaptui NAME` opens it in the app"
    )
    return 0


def _cmd_kernels(args: argparse.Namespace) -> int:
    """Print the kernel table: which release has which behaviour, whether the model switches it, and the source."""
    from swaptui.model.kernels import render_table

    sys.stdout.write(render_table())
    return 0


def _compiling_notice() -> None:
    """Say so before a run that compiles the model's kernels (the first run after install or an upgrade).

    The line is for a person waiting at a terminal, so it is written only when standard error is one:
    in a pipe, a log or a test's capture, standard error stays one line per error and nothing else.
    """
    import swaptui.model.machine  # noqa: F401 -- imports every model module, so every kernel is registered
    from swaptui.model import jit

    if jit.first_run():
        import atexit

        atexit.register(jit.mark_compiled)
        isatty = getattr(sys.stderr, "isatty", None)
        if isatty is not None and isatty():
            _fail("compiling the model, first run only (cached for later runs)")


def _notices(machine) -> None:
    """Print the machine's one-line notices (a what-if design, behaviours the model cannot switch) to stderr."""
    for notice in machine.notices:
        _fail(f"notice: {notice}")


def _args_plot(parser: argparse.ArgumentParser) -> None:
    """Declare --plot, the counters over time as a figure."""
    parser.add_argument(
        "--plot",
        metavar="OUT",
        help="draw the counters that matter over simulated time to OUT.png or OUT.svg (needs matplotlib)",
    )


def _plot_refused(args: argparse.Namespace) -> bool:
    """Say why --plot cannot be drawn (not a .png or .svg, matplotlib missing); False if it can or is not asked."""
    from swaptui.plots import EXTENSIONS

    if not args.plot:
        return False
    if not args.plot.lower().endswith(EXTENSIONS):
        _fail(f"--plot: expected a FILE.png or FILE.svg; got {args.plot}")
        return True
    return _missing_extra("--plot", "matplotlib", "plot")


def _draw_plot(args: argparse.Namespace, series, scenario, ticks: int, what: str) -> bool:
    """Draw the --plot figure of the recorded series; on failure say why and return False."""
    from swaptui.output import OutputError
    from swaptui.plots import plot_series
    from swaptui.text import printable

    subtitle = (
        f"seed {scenario.seed} · {what} · {ticks:,} ticks = {ticks * scenario.tick / 1e9:g} s simulated · "
        "counters cumulative, as in /proc/vmstat"
    )
    try:
        plot_series(series, printable(scenario.name), subtitle, args.plot, args.force)
    except OutputError as error:
        _fail(str(error))
        return False
    return True


def _args_run(parser: argparse.ArgumentParser) -> None:
    """Declare the headless run's options."""
    _args_scenario(parser)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--ticks", metavar="N", type=int, help="run N ticks (default: the scenario's duration)")
    length.add_argument("--duration", metavar="D", help="run this much simulated time, e.g. 2s or 500ms")
    parser.add_argument("--json", metavar="OUT", help="write per-tick counters as JSON lines to OUT")
    parser.add_argument("--csv", metavar="OUT", help="write per-tick counters as CSV to OUT")
    _args_plot(parser)
    _args_force(parser)
    parser.add_argument("--every", metavar="N", type=int, default=1, help="sample the series every N ticks")
    parser.add_argument("--seed", metavar="N", type=int, help="override the scenario's seed")
    parser.add_argument("--all", action="store_true", help="list every counter, not only those that moved")
    parser.add_argument(
        "--check-invariants",
        action="store_true",
        help="check the model's invariants after every tick (slow; for testing)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario headless: progress on a terminal, a final table of counters, series to files."""
    import time

    scenario = _load_or_report(args.file)
    if scenario is None:
        return 2
    if args.seed is not None:
        if args.seed < 0:
            _fail(f"--seed: expected a whole number from 0 up; got {args.seed}")
            return 2
        scenario = scenario.model_copy(update={"seed": args.seed})
    ticks = _ticks_from_args(args, scenario, least=0)
    if ticks is None:
        return 2
    if args.every < 1:
        _fail(f"--every: expected a whole number from 1 up; got {args.every}")
        return 2
    if _plot_refused(args) or not _check_outputs(
        args.force, ("--json", args.json), ("--csv", args.csv), ("--plot", args.plot)
    ):
        return 2
    import contextlib

    from swaptui.model.machine import DesignNotBuilt, Machine
    from swaptui.output import OutputError, atomic_output
    from swaptui.report import SeriesRecorder, SeriesWriter, plot_every, render_summary

    _compiling_notice()
    try:
        machine = Machine(scenario, check_invariants=args.check_invariants)
    except DesignNotBuilt as error:
        _fail(f"{args.file}: swap.design: {error}")
        return 2
    _notices(machine)
    start = time.perf_counter()
    try:
        with contextlib.ExitStack() as outputs:  # each file is renamed into place only when the run is done
            json_out = outputs.enter_context(atomic_output(args.json, args.force)) if args.json else None
            csv_out = outputs.enter_context(atomic_output(args.csv, args.force, newline="")) if args.csv else None
            writer = SeriesWriter(json_out, csv_out, args.every) if args.json or args.csv else None
            recorder = SeriesRecorder(plot_every(ticks)) if args.plot else None
            _run_with_progress(machine, ticks, writer, scenario.name, recorder)
    except OutputError as error:
        _fail(str(error))
        return 2
    wall = time.perf_counter() - start
    if recorder is not None and not _draw_plot(
        args, {machine.design: recorder}, scenario, ticks, f"design {machine.design}"
    ):
        return 2
    sys.stdout.write(render_summary(machine, wall, args.all))
    return 0


def _run_with_progress(machine, ticks: int, writer, name: str, recorder=None) -> None:
    """Step the machine, with a progress bar when standard error is a terminal."""
    from swaptui.report import run_machine

    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} ticks"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(name, total=ticks)
            run_machine(machine, ticks, writer, lambda done: bar.update(task, completed=done), recorder)
    else:
        run_machine(machine, ticks, writer, recorder=recorder)


def _args_compare(parser: argparse.ArgumentParser) -> None:
    """Declare the comparison's options."""
    _args_scenario(parser)
    parser.add_argument(
        "--designs",
        metavar="LIST",
        help="comma-separated designs (default: the scenario's `compare:` list, else every built one)",
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--ticks", metavar="N", type=int, help="run N ticks per design")
    length.add_argument("--duration", metavar="D", help="run this much simulated time per design")
    parser.add_argument("--json", metavar="OUT", help="write the metrics by design as JSON to OUT")
    parser.add_argument(
        "--format",
        choices=("table", "markdown"),
        default="table",
        help="print a text table (default) or a markdown table that pastes into a mail",
    )
    _args_plot(parser)
    _args_force(parser)


def _cmd_compare(args: argparse.Namespace) -> int:
    """Run a scenario under several swap designs with the same seed and print one table."""
    from swaptui.compare import BUILT_DESIGNS, render, render_markdown, run_designs

    scenario = _load_or_report(args.file)
    if scenario is None:
        return 2
    if args.designs:
        designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    else:
        designs = list(scenario.compare or BUILT_DESIGNS)
    known = ("classic", "swap_table", "vswap")
    for d in designs:
        if d not in known:
            _fail(f"--designs: unknown design {d!r}; expected some of: {', '.join(known)}")
            return 2
    if len(designs) < 1 or len(set(designs)) != len(designs):
        _fail("--designs: expected one or more different designs, e.g. classic,swap_table")
        return 2
    ticks = _ticks_from_args(args, scenario, least=1)
    if (
        ticks is None
        or _plot_refused(args)
        or not _check_outputs(args.force, ("--json", args.json), ("--plot", args.plot))
    ):
        return 2
    from swaptui.report import SeriesRecorder, plot_every
    from swaptui.text import markup_safe

    _compiling_notice()
    series: dict[str, SeriesRecorder] | None = {} if args.plot else None
    results = run_designs(scenario, designs, ticks, series=series, every=plot_every(ticks))
    if args.format == "markdown":
        sys.stdout.write(render_markdown(results, f"{scenario.name}: {ticks} ticks, seed {scenario.seed}"))
    else:
        sys.stdout.write(render(results, f"{markup_safe(scenario.name)}: {ticks} ticks, seed {scenario.seed}"))
    if args.json and not _write_file(args.json, json.dumps(results, indent=2, sort_keys=True) + "\n", args.force):
        return 2
    if series is not None and not _draw_plot(args, series, scenario, ticks, "one line per design"):
        return 2
    return 0


def _args_validate(parser: argparse.ArgumentParser) -> None:
    """Declare the scenario and the recorded trace to check it against."""
    _args_scenario(parser)
    parser.add_argument("trace", metavar="TRACE", help="recorded kernel trace (NAME.jsonl, shared/traces format)")
    parser.add_argument(
        "--cgroup",
        metavar="NAME",
        help="the scenario's cgroup to compare with the trace's memcg block (default: its only cgroup)",
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    """Run the scenario to the end and set its counter deltas beside a real kernel's; exit 1 if a target is missed."""
    from swaptui.model.machine import Machine
    from swaptui.traces import TraceError, load_trace
    from swaptui.validate import render, run_model

    scenario = _load_or_report(args.file)
    if scenario is None:
        return 2
    try:
        trace = load_trace(args.trace)
    except TraceError as error:
        _fail(str(error))
        return 2
    names = [cg.name for cg in scenario.cgroups]
    cgroup = args.cgroup
    if cgroup is not None and cgroup not in names:
        known = ", ".join(names) if names else "none"
        _fail(f"--cgroup: {args.file} has no cgroup named {cgroup!r} (its cgroups: {known})")
        return 2
    if cgroup is None and trace.has_memcg() and len(names) > 1:
        _fail(f"--cgroup: {args.file} has {len(names)} cgroups ({', '.join(names)}); name the one to compare")
        return 2
    if cgroup is None and trace.has_memcg() and names:
        cgroup = names[0]
    _compiling_notice()
    run = run_model(Machine(scenario), scenario.ticks, cgroup=cgroup)
    text, passed = render(run, trace, scenario.name)
    sys.stdout.write(text)
    return 0 if passed else 1


def _open_checks(args: argparse.Namespace):
    """Check `swaptui FILE`'s scenario and options (what `swaptui check` checks, then --designs/--set, --speed
    and --at); return the scenario, its start tick and the side-by-side lineup (None for one machine), or None
    after saying what is wrong."""
    scenario = _load_or_report(args.file)
    if scenario is None:
        return None
    lineup = None
    if args.designs is not None or args.settings:
        lineup = _lineup(args)
        if lineup is None:
            return None
        scenario = lineup.scenario
        if len(lineup.variants) == 1:
            lineup = None
    if args.speed < 1:
        _fail(f"--speed: expected a whole number from 1 up; got {args.speed}")
        return None
    start = 0
    if args.at is not None:
        from swaptui.ui.dialogs import parse_tick

        try:
            start = parse_tick(args.at, scenario.tick, scenario.ticks)
        except ValueError as error:
            _fail(f"--at: {error}")
            return None
    return scenario, start, lineup


def _served() -> bool:
    """Tell whether this app runs under `swaptui serve`: textual-serve's web driver, over pipes to a browser."""
    return os.environ.get("TEXTUAL_DRIVER", "").startswith("textual.drivers.web_driver")


def _has_terminal() -> bool:
    """Tell whether the app has a screen: a terminal, or a browser page through `swaptui serve`."""
    return _served() or (sys.stdin.isatty() and sys.stdout.isatty())


def _cmd_open(args: argparse.Namespace) -> int:
    """Open a scenario in the live app; a bad file prints what `swaptui check` prints and exits 2, no app."""
    checked = _open_checks(args)
    if checked is None:
        return 2
    scenario, start, lineup = checked
    if not _has_terminal():
        _fail(f"{args.file} is valid, but the app needs a terminal; `swaptui run {args.file}` runs it headless")
        return 2
    from swaptui.ui.app import SwapApp

    if _served():
        import signal

        # ^C at the server's terminal reaches its whole process group, this app too; the server stops its
        # apps itself (it tells each to quit and waits), so a served app leaves SIGINT to it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _compiling_notice()
    app = SwapApp(scenario, start_tick=start, speed=args.speed, running=args.run, theme=args.theme, lineup=lineup)
    result = app.run()
    return int(app.return_code or 0) if result is None else int(result)


def _args_serve(parser: argparse.ArgumentParser) -> None:
    """Declare `swaptui FILE`'s arguments, and where the server listens."""
    _args_open(parser)
    parser.add_argument("--port", metavar="N", type=int, default=8000, help="the TCP port to listen on (default 8000)")
    parser.add_argument(
        "--host",
        metavar="H",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)",
    )


def _open_command(args: argparse.Namespace) -> list[str]:
    """The `python -m swaptui FILE ...` command that opens what `swaptui serve` was given: this Python, and
    every option of `swaptui FILE` that is not at its default (a scenario file by its absolute path)."""
    command = [sys.executable, "-m", "swaptui"]
    for action in _open_parser()._actions:
        value = getattr(args, action.dest, None)
        if isinstance(action, argparse._HelpAction) or value is None or value == action.default:
            continue
        if not action.option_strings:
            command.append(os.path.abspath(value) if os.path.exists(value) else value)
        elif isinstance(action, argparse._StoreTrueAction):
            command.append(action.option_strings[-1])
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                command += [action.option_strings[-1], str(item)]
        elif type(action) is argparse._StoreAction:
            command += [action.option_strings[-1], str(value)]
        else:
            raise NotImplementedError(f"swaptui serve cannot pass on {action.option_strings[-1]} yet")
    return command


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app to browsers: check the scenario and options as `swaptui FILE` does, listen, print the URL,
    and run until ^C; each browser tab gets its own app (`python -m swaptui FILE ...`)."""
    import shlex

    if _open_checks(args) is None or _missing_extra("serve", "textual_serve", "serve"):
        return 2
    from swaptui.serve import ServeError, listen, serve
    from swaptui.text import printable

    try:
        sock = listen(args.host, args.port)
    except ServeError as error:
        _fail(str(error))
        return 2

    def started(url: str) -> None:
        print(f"serving {printable(args.file)} at {url} (each browser tab runs its own app; ^C stops)", flush=True)

    try:
        serve(shlex.join(_open_command(args)), sock, f"swaptui {printable(args.file)}", started)
    except KeyboardInterrupt:  # a ^C before the server's own handler is in place
        pass
    finally:
        sock.close()
    print("stopped", flush=True)
    return 0


def _lineup(args: argparse.Namespace):
    """The variants --designs and --set ask for (swaptui.lockstep), or None after one line saying why not."""
    from swaptui.bundled import resolve_scenario
    from swaptui.lockstep import read_options
    from swaptui.scenario import scenario_data
    from swaptui.variants import SetError

    path = resolve_scenario(args.file)
    assert path is not None
    with open(path, encoding="utf-8") as file:
        data = scenario_data(file.read(), args.file)
    try:
        return read_options(data, args.designs, args.settings)
    except SetError as error:
        _fail(str(error))
        return None


def _args_app_view(parser: argparse.ArgumentParser, speed: int, per: str = "samples") -> None:
    """Declare the app's view options: its theme, and its speed in `per` (ticks or samples) per second."""
    parser.add_argument(
        "--theme",
        choices=("dark", "light", "projector", "colour-blind"),
        default="dark",
        help="colours: dark (default), light, projector (high contrast), colour-blind safe",
    )
    parser.add_argument(
        "--speed",
        metavar="N",
        type=int,
        default=speed,
        help=f"{per} per second of wall time while running (default {speed}; + and - change it)",
    )


def _args_replay(parser: argparse.ArgumentParser) -> None:
    """Declare the trace to replay and the view options."""
    parser.add_argument(
        "trace",
        metavar="TRACE",
        help="recorded kernel trace (NAME.jsonl, shared/traces format; `swaptui live --record` writes one)",
    )
    _args_app_view(parser, speed=16)
    parser.add_argument("--at", metavar="SAMPLE", help="start at this sample or time into the trace (e.g. 120 or 12s)")
    parser.add_argument("--run", dest="start_running", action="store_true", help="start running instead of paused")


def _cmd_replay(args: argparse.Namespace) -> int:
    """Open a recorded kernel trace in the app: the same panes, fed by the kernel's own counters."""
    from swaptui.trace_player import load_trace_player
    from swaptui.traces import TraceError

    try:
        player = load_trace_player(args.trace)
    except TraceError as error:
        _fail(str(error))
        return 2
    if args.speed < 1:
        _fail(f"--speed: expected a whole number from 1 up; got {args.speed}")
        return 2
    start = 0
    if args.at is not None:
        from swaptui.units import UnitError, parse_duration

        text = args.at.strip().replace(",", "")
        try:
            start = int(text) if text.isdigit() else player.tick_at(parse_duration(text))
        except UnitError as error:
            _fail(f"--at: expected a sample number or a time such as 12s; {error}")
            return 2
        if start > player.last_tick:
            _fail(f"--at: the trace has samples 0 to {player.last_tick:,}; got {start:,}")
            return 2
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        _fail(f"{args.trace} is a valid trace ({player.last_tick + 1:,} samples), but the app needs a terminal")
        return 2
    from swaptui.ui.app import SwapApp

    app = SwapApp(
        player.info,
        start_tick=start,
        speed=args.speed,
        running=args.start_running,
        theme=args.theme,
        player_factory=lambda _: player,
    )
    result = app.run()
    return int(app.return_code or 0) if result is None else int(result)


def _args_live(parser: argparse.ArgumentParser) -> None:
    """Declare the sampling, recording and view options."""
    parser.add_argument("--interval", metavar="D", default="1s", help="time between samples (default 1s; e.g. 100ms)")
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="also write the samples to FILE (JSON lines, the shared/traces format) and FILE's .meta.json beside it",
    )
    parser.add_argument("--samples", metavar="N", type=int, help="stop sampling after N samples")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no app: sample (and record) only; prints one line per sample unless recording",
    )
    _args_force(parser)
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="read DIR/proc and DIR/sys instead of /proc and /sys (a copy of another machine's files, a container's)",
    )
    _args_app_view(parser, speed=64)


LIVE_MIN_INTERVAL = 10_000_000  # ns


def _live_line(sample: dict, previous: dict | None, interval_s: float) -> str:
    """One headless line: free and available memory, swap use, swap I/O since the previous sample, PSI."""
    from swaptui.units import format_size

    mem = sample.get("meminfo_kb", {})
    swaps = sample.get("swaps", [])
    used = sum(r["used_kb"] for r in swaps) << 10
    total = sum(r["size_kb"] for r in swaps) << 10

    def rate(name: str) -> str:
        if previous is None:
            return "—"
        dt = (sample["t_ms"] - previous["t_ms"]) / 1000 or interval_s
        return f"{(sample['vmstat'].get(name, 0) - previous['vmstat'].get(name, 0)) / dt:,.0f}/s"

    psi = sample.get("psi_memory", {}).get("some", {})
    return (
        f"{sample['seq']:>6} t={sample['t_ms'] / 1000:9.1f}s  free {format_size(mem.get('MemFree', 0) << 10):>9}"
        f"  avail {format_size(mem.get('MemAvailable', 0) << 10):>9}  swap {format_size(used)}/{format_size(total)}"
        f"  pswpout {rate('pswpout')}  pswpin {rate('pswpin')}  pgscan_kswapd {rate('pgscan_kswapd')}"
        + (f"  psi some {psi.get('avg10', 0):.2f}%" if psi else "")
    )


def _live_headless(sampler, writer, interval: int, samples: int | None) -> int:
    """Sample every `interval` ns on a fixed cadence until `samples` (or ^C); record, or print one line per
    sample. Notices (a file missing or odd) go to standard error when a file first has one."""
    from swaptui.output import OutputError
    from swaptui.procfs import Cadence

    cadence = Cadence(interval / 1e9)
    previous = None
    taken = 0
    costs = []
    noted: set[str] = set()
    try:
        while samples is None or taken < samples:
            if taken:
                cadence.wait()
            sample = sampler.sample()
            costs.append(sample["sample_ms"])
            taken += 1
            if writer is not None:
                writer.write(sample)
            else:
                print(_live_line(sample, previous, interval / 1e9), flush=True)
            new = [notice for key, notice in sampler.notices.items() if key not in noted]
            noted = set(sampler.notices)
            if new:
                _fail(
                    "note: "
                    + ("not readable here (the samples leave them out): " if taken == 1 else "")
                    + "; ".join(new)
                )
            previous = sample
        if writer is not None:
            writer.close(sampler.notices)
    except KeyboardInterrupt:
        if writer is not None:
            try:
                writer.close(sampler.notices)
            except OutputError as error:
                _fail(str(error))
                return 2
    except OutputError as error:
        if writer is not None:
            writer.abort()
        _fail(str(error))
        return 2
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    missed = f"; {cadence.missed:,} slots skipped (a sample took longer than the interval)" if cadence.missed else ""
    if writer is not None:
        print(
            f"recorded {taken:,} sample{'s' if taken != 1 else ''} to {writer.path} "
            f"(every {interval / 1e6:g} ms); reading /proc took {sum(costs) / max(1, len(costs)):.2f} ms per sample"
            + missed
        )
    return 0


def _cmd_live(args: argparse.Namespace) -> int:
    """This machine's kernel in the app (or headless), sampled at --interval, optionally recorded as a trace."""
    from swaptui.output import OutputError
    from swaptui.procfs import Sampler
    from swaptui.trace_player import LivePlayer, TraceWriter
    from swaptui.units import UnitError, parse_duration

    try:
        interval = parse_duration(args.interval)
    except UnitError as error:
        _fail(f"--interval: {error}")
        return 2
    if interval < LIVE_MIN_INTERVAL:
        _fail(f"--interval: expected 10ms or more; got {args.interval}")
        return 2
    if args.samples is not None and args.samples < 1:
        _fail(f"--samples: expected a whole number from 1 up; got {args.samples}")
        return 2
    if args.speed < 1:
        _fail(f"--speed: expected a whole number from 1 up; got {args.speed}")
        return 2
    if not args.headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        _fail("the app needs a terminal; `swaptui live --headless` samples without it")
        return 2
    root = args.root or "/"
    sampler = Sampler(os.path.join(root, "proc"), os.path.join(root, "sys"))
    if not os.path.isfile(sampler.paths["vmstat"]):
        _fail(f"{sampler.paths['vmstat']}: not present; `swaptui live` needs Linux's /proc")
        return 2
    writer = None
    if args.record:
        name = os.path.basename(args.record).removesuffix(".jsonl")
        try:
            writer = TraceWriter(args.record, sampler.meta(interval, name), force=args.force)
        except OutputError as error:
            _fail(str(error))
            return 2
    import signal

    if args.headless:

        def stop(signum: int, _frame) -> None:
            """SIGTERM and SIGHUP end the sampling as ^C does: the recording is finished, not cut."""
            raise KeyboardInterrupt

        saved = {sig: signal.signal(sig, stop) for sig in (signal.SIGHUP, signal.SIGTERM)}
        try:
            return _live_headless(sampler, writer, interval, args.samples)
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
    from swaptui.ui.app import SwapApp

    try:
        player = LivePlayer(sampler, interval, writer, args.samples)
    except OutputError as error:
        _fail(str(error))
        return 2

    def finish(signum: int, _frame) -> None:
        """A closed terminal (SIGHUP) or a kill (SIGTERM) still finishes the recording's meta file."""
        player.close()
        raise SystemExit(128 + signum)

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, finish)
    try:
        app = SwapApp(player.info, speed=args.speed, running=True, theme=args.theme, player_factory=lambda _: player)
        result = app.run()
    finally:
        player.close()
    if player.error is not None:
        _fail(player.error)
        return 2
    if writer is not None:
        print(f"recorded {writer.count:,} samples to {writer.path}; `swaptui replay {writer.path}` replays them")
    return int(app.return_code or 0) if result is None else int(result)


def _args_sweep(parser: argparse.ArgumentParser) -> None:
    """Declare the sweep's grid, how it runs, and where its table goes."""
    _args_scenario(parser)
    parser.add_argument(
        "--set",
        dest="settings",
        metavar="KEY=A,B,...",
        action="append",
        default=[],
        help="a scenario key (dotted: swap.design, machine.memory, workloads.0.size) and the values to try; "
        "repeat for a grid of every combination",
    )
    parser.add_argument(
        "--seeds", metavar="N", type=int, default=1, help="runs per point, seeds scenario seed + 0 .. N-1 (default 1)"
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--ticks", metavar="N", type=int, help="run N ticks per point (default: its duration)")
    length.add_argument("--duration", metavar="D", help="run this much simulated time per point, e.g. 2s")
    parser.add_argument(
        "--jobs", metavar="N", type=int, help="worker processes, here or in --dask local (default: the CPU count)"
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a dask.distributed scheduler (tcp://host:8786), or `local` for a LocalCluster of --jobs "
        "workers (needs the dask extra)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="the table: FILE.csv, or FILE.parquet (needs pyarrow); a rerun with the same FILE resumes it",
    )
    parser.add_argument(
        "--force", action="store_true", help="start over: overwrite a results file instead of resuming it"
    )
    parser.add_argument("--summary", action="store_true", help="print mean ± sd per point across the seeds")
    parser.add_argument(
        "--format", choices=("table", "markdown"), default="table", help="--summary as a text or markdown table"
    )
    parser.add_argument("--plot", metavar="COLUMN", help="plot a column (pswpout, runtime_s, ...) against --plot-x")
    parser.add_argument("--plot-x", metavar="KEY", help="the swept key on the plot's x axis (default: the first --set)")
    parser.add_argument("--plot-out", metavar="FILE", help="where --plot goes: FILE.png or FILE.svg (needs matplotlib)")


def _missing_extra(option: str, module: str, extra: str) -> bool:
    """Say, in one line, that an option needs an optional extra that is not installed; False if it is there."""
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        _fail(f"{option}: needs {module.split('.')[0]}, an optional extra: pip install 'swaptui[{extra}]'")
    return not found


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of scenario variants times seeds in parallel into one table; exit 1 if any run failed."""
    import hashlib

    from swaptui.bundled import resolve_scenario
    from swaptui.scenario import scenario_data
    from swaptui.sweep import columns
    from swaptui.units import UnitError, parse_duration
    from swaptui.variants import SetError, parse_set

    scenario = _load_or_report(args.file)
    if scenario is None:
        return 2
    path = resolve_scenario(args.file)
    assert path is not None
    with open(path, "rb") as file:
        raw = file.read()
    data = scenario_data(raw.decode("utf-8"), args.file)
    checks = [
        (args.seeds < 1, f"--seeds: expected a whole number from 1 up; got {args.seeds}"),
        (args.jobs is not None and args.jobs < 1, f"--jobs: expected a whole number from 1 up; got {args.jobs}"),
        (
            args.jobs is not None and args.dask not in (None, "local"),
            "--jobs: applies to this machine and to --dask local; a scheduler's workers are its own",
        ),
        (args.ticks is not None and args.ticks < 1, f"--ticks: expected a whole number from 1 up; got {args.ticks}"),
        (not args.out.endswith((".csv", ".parquet")), f"--out: expected a FILE.csv or FILE.parquet; got {args.out}"),
        (bool(args.plot) != bool(args.plot_out), "--plot and --plot-out: expected both (a column and a FILE.png)"),
        (args.plot_x is not None and not args.plot, "--plot-x: expected --plot too"),
    ]
    for bad, message in checks:
        if bad:
            _fail(message)
            return 2
    if args.plot_out and not args.plot_out.endswith((".png", ".svg")):
        _fail(f"--plot-out: expected a FILE.png or FILE.svg; got {args.plot_out}")
        return 2
    if (
        (args.out.endswith(".parquet") and _missing_extra("--out FILE.parquet", "pyarrow", "parquet"))
        or (args.dask and _missing_extra("--dask", "dask.distributed", "dask"))
        or (args.plot and _missing_extra("--plot", "matplotlib", "plot"))
    ):
        return 2
    try:
        settings = [parse_set(text, data) for text in args.settings]
    except SetError as error:
        _fail(str(error))
        return 2
    keys = [setting.key for setting in settings]
    if len(set(keys)) != len(keys):
        _fail("--set: expected each key once; combine its values as KEY=A,B")
        return 2
    table_columns = columns(keys)
    if args.plot and (args.plot not in table_columns[len(keys) + 2 :] or args.plot in ("error",)):
        _fail(f"--plot: expected a column of the table, such as pswpout or runtime_s; got {args.plot!r}")
        return 2
    plot_x = args.plot_x or (keys[0] if keys else None)
    if args.plot and plot_x not in keys:
        _fail(f"--plot-x: expected one of the swept keys ({', '.join(keys) or 'none: add a --set'}); got {plot_x}")
        return 2
    duration = None
    if args.duration is not None:
        try:
            duration = parse_duration(args.duration)
        except UnitError as error:
            _fail(f"--duration: {error}")
            return 2
    from swaptui.sweep import build_grid

    try:
        tasks = build_grid(data, settings, args.seeds, args.ticks, duration)
    except SetError as error:
        _fail(str(error))
        return 2
    if args.plot_out and os.path.abspath(args.plot_out) == os.path.abspath(args.out):
        _fail(f"--out and --plot-out: expected two different files; both are {args.plot_out}")
        return 2
    if args.plot_out and not _check_outputs(args.force, ("--plot-out", args.plot_out)):
        return 2
    length = f"--ticks {args.ticks}" if args.ticks else f"--duration {args.duration}" if args.duration else "scenario"
    meta = {
        "scenario": os.path.basename(str(path)),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "length": length,
        "keys": keys,
    }
    return _sweep(args, scenario.name, tasks, keys, table_columns, meta, plot_x)


def _sweep(args: argparse.Namespace, name: str, tasks, keys, table_columns, meta, plot_x) -> int:
    """Open or resume the results file, run what is left, and report."""
    from swaptui.output import OutputError
    from swaptui.sweep import run_dask, run_local
    from swaptui.sweep_results import ResultsFile, ResumeError, SweepProgress, render_summary, typed
    from swaptui.text import printable

    results = ResultsFile(args.out, table_columns, meta, keys)
    try:
        done = results.open(tasks, args.force)
    except (ResumeError, OutputError) as error:
        _fail(str(error))
        return 2
    todo = [task for task in tasks if task.key not in done]
    jobs = args.jobs or os.cpu_count() or 1
    rows: list[dict] = [typed(row, keys) for row in done.values()]
    points = len({task.point for task in tasks})
    print(
        f"sweep: {points} point{'s' if points != 1 else ''} × {args.seeds} seed{'s' if args.seeds != 1 else ''}: "
        f"{len(todo)} to run"
        + (f", {len(done)} already in {printable(args.out)}" if done else "")
        + (
            ""
            if not todo
            else f" on dask ({printable(args.dask)})"
            if args.dask
            else f" on {min(jobs, len(todo))} process{'es' if min(jobs, len(todo)) != 1 else ''}"
        ),
        file=sys.stderr,
    )
    progress = SweepProgress(len(todo), jobs, sys.stderr)
    runs = run_dask(todo, args.dask, jobs) if args.dask and todo else run_local(todo, jobs)
    import signal

    def stop(signum: int, _frame) -> None:
        """SIGTERM and SIGHUP stop the sweep as ^C does: the workers are ended, the rows so far kept."""
        raise KeyboardInterrupt

    saved = {sig: signal.signal(sig, stop) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        for task, row in runs:
            row |= dict(zip(keys, task.values))
            results.append(row)
            rows.append(row)
            progress.finished(task.label, row)
    except KeyboardInterrupt:
        progress.close()
        _fail(f"interrupted: {len(rows)} runs are in {args.out}; the same command resumes the sweep")
        return 130
    except OutputError as error:
        progress.close()
        _fail(str(error))
        return 2
    finally:
        runs.close()
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    progress.close()
    try:
        results.finish(rows)
        if args.plot:
            from swaptui.plots import plot_sweep

            plot_sweep(rows, keys, plot_x, args.plot, printable(name), args.plot_out, args.force)
    except OutputError as error:
        _fail(str(error))
        return 2
    if args.summary:
        sys.stdout.write(render_summary(rows, keys, name, args.format == "markdown"))
    failed = sorted((row for row in rows if row.get("error")), key=lambda r: (int(r["point"]), int(r["seed"])))
    print(f"sweep: {len(rows)} runs in {printable(args.out)}", file=sys.stderr)
    if failed:
        first = ",".join(f"{k}={failed[0][k]}" for k in keys) + f" seed={failed[0]['seed']}"
        _fail(
            f"{len(failed)} of {len(rows)} runs failed (their rows carry the error); "
            f"the first, {printable(first)}: {printable(failed[0]['error'])}"
        )
        return 1
    return 0


COMMANDS: dict[str, Command] = {
    "check": Command("validate a scenario file and exit", _args_scenario, _cmd_check),
    "schema": Command("print the JSON schema of scenario files", _args_schema, _cmd_schema),
    "scenarios": Command("list the bundled scenarios (FILE may be one of their names)", _args_none, _cmd_scenarios),
    "kernels": Command(
        "list the kernel releases the model knows and the behaviours each has", _args_none, _cmd_kernels
    ),
    "run": Command("run a scenario headless and print its counters", _args_run, _cmd_run),
    "compare": Command("run a scenario under several swap designs and compare", _args_compare, _cmd_compare),
    "sweep": Command(
        "run a grid of scenario variants (--set KEY=A,B) times seeds in parallel into one table",
        _args_sweep,
        _cmd_sweep,
    ),
    "validate": Command("check a scenario against a recorded kernel trace", _args_validate, _cmd_validate),
    "replay": Command("open a recorded kernel trace in the app", _args_replay, _cmd_replay),
    "live": Command(
        "watch this machine's kernel in the app, or sample it --headless; --record writes a trace",
        _args_live,
        _cmd_live,
    ),
    "serve": Command(
        "serve the app (`swaptui FILE`) to a web browser on http://127.0.0.1:8000 (needs the serve extra)",
        _args_serve,
        _cmd_serve,
    ),
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
        subparser.set_defaults(handler=command.run)  # not "run": serve has a --run
    return parser


def _open_parser() -> argparse.ArgumentParser:
    """Build the parser for `swaptui FILE`, which opens the app."""
    parser = argparse.ArgumentParser(prog="swaptui", description="Open a scenario in the app.")
    _args_open(parser)
    return parser


def _args_open(parser: argparse.ArgumentParser) -> None:
    """Declare `swaptui FILE`'s arguments: the scenario, the view, and where and how it starts."""
    _args_scenario(parser)
    _args_app_view(parser, 64, "ticks")  # the model app: DEFAULT_SPEED (swaptui.ui.stepper, not imported here)
    parser.add_argument("--at", metavar="TICK", help="start at this tick or time (e.g. 1500 or 1.5s)")
    parser.add_argument("--run", action="store_true", help="start running instead of paused")
    parser.add_argument(
        "--designs",
        metavar="A,B[,C]",
        help="side by side: one machine per swap design, in lockstep from the same seed (short for "
        "--set swap.design=A,B)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        metavar="KEY=A,B",
        action="append",
        default=[],
        help="a scenario key (dotted, as in `swaptui sweep`) and its value, or 2-3 values to run side by side",
    )


def _looks_like_file(argument: str) -> bool:
    """Tell whether a first argument that is not a subcommand names a scenario file."""
    from swaptui.bundled import bundled_path

    return not argument.startswith("-") and (
        os.path.exists(argument)
        or argument.endswith((".yaml", ".yml"))
        or os.sep in argument
        or bundled_path(argument) is not None
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
    return args.handler(args)
