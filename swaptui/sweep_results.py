"""A sweep's results file: rows appended as runs finish, resumed on a rerun, summarised (plotted by plots.py).

CSV rows are appended one `write` each (and synced), so a crash loses no finished run and leaves at
most a cut last line, which a resume drops. Beside the table, `OUT.sweep.json` records what the
rows answer (scenario digest, run length, swept keys, columns); a rerun with the same `--out`
resumes only if those match, and runs only the points not yet in the file (failed ones again). At
the end the table is rewritten in grid order, so a grid gives the same file however it was run.
Parquet output streams into `OUT.rows.csv` the same way and becomes `OUT` at the end.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swaptui.output import OutputError, atomic_output, check_target, write_bytes
from swaptui.sweep import COUNTER_COLUMNS, Task
from swaptui.text import printable

INT_COLUMNS = frozenset({"point", "seed", "ticks", *COUNTER_COLUMNS})
SUMMARY_COLUMNS = (
    "runtime_s",
    "kswapd_share",
    "pgsteal_kswapd",
    "pgsteal_direct",
    "allocstall_movable",
    "pswpout",
    "pswpin",
    "kswapd_cpu_s",
    "direct_cpu_s",
)
"""What --summary shows per point, as the LKML mails do: runtime, the reclaim split, swap I/O, CPU."""


class ResumeError(ValueError):
    """A results file that this sweep cannot resume: one line saying why."""


def _line(values: Sequence[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def typed(row: dict[str, str], keys: Sequence[str]) -> dict[str, Any]:
    """A row read back from CSV with its numbers as numbers (the swept values stay as given)."""
    out: dict[str, Any] = {}
    for name, text in row.items():
        if name in keys or name == "error" or text == "":
            out[name] = text
        elif name in INT_COLUMNS or text.lstrip("-").isdigit():  # written as an int, read back as one
            out[name] = int(text)
        else:
            out[name] = float(text)
    return out


class ResultsFile:
    """The table a sweep writes: checked and resumed at open, a row appended per finished run."""

    def __init__(self, path: str, columns: list[str], meta: dict[str, Any], keys: Sequence[str]) -> None:
        self.path = path
        self.parquet = path.endswith(".parquet")
        self.rows_path = path + ".rows.csv" if self.parquet else path
        self.meta_path = path + ".sweep.json"
        self.columns = columns
        self.meta = {**meta, "columns": columns}
        self.keys = list(keys)
        self._fd: int | None = None

    def open(self, tasks: list[Task], force: bool) -> dict[tuple[tuple[str, ...], int], dict[str, str]]:
        """Start the file, or resume it: the finished rows already there, by (values, seed). Refuse
        (ResumeError) a file from another grid, scenario or version of the table unless force."""
        done: dict[tuple[tuple[str, ...], int], dict[str, str]] = {}
        check_target(self.path, True, "--out")  # a directory or a device is refused before anything else
        exists = os.path.lexists(self.path) or (self.parquet and os.path.lexists(self.rows_path))
        if exists and not force:
            done = self._resume(tasks)
        for target in {self.path, self.rows_path, self.meta_path}:
            check_target(target, True, "--out")
        text = json.dumps(self.meta, indent=2) + "\n"
        with atomic_output(self.meta_path, True) as out:
            out.write(text)
        with atomic_output(self.rows_path, True, newline="") as out:  # the kept rows, whole or not at all
            out.write(_line(self.columns) + "".join(_line([r[c] for c in self.columns]) for r in done.values()))
        try:
            self._fd = os.open(self.rows_path, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise OutputError(f"{self.rows_path}: cannot write: {error.strerror or error}") from None
        return done

    def _resume(self, tasks: list[Task]) -> dict[tuple[tuple[str, ...], int], dict[str, str]]:
        """The finished rows of a file this sweep may resume; ResumeError if it may not."""
        shown = f"--out {self.path}"
        try:
            old = json.loads(Path(self.meta_path).read_text())
        except (OSError, ValueError):
            raise ResumeError(
                f"{shown}: exists, and is not a sweep this one can resume (no readable {self.meta_path}); "
                "--force starts it over"
            ) from None
        for field in ("scenario", "sha256", "length", "keys", "columns"):
            if old.get(field) != self.meta.get(field):
                what = {"sha256": "scenario file's contents", "length": "run length (--ticks/--duration)"}
                raise ResumeError(
                    f"{shown}: holds another sweep (its {what.get(field, field)} differ from this one's); "
                    "--force starts it over, or choose another --out"
                )
        rows = self._read_rows()
        grid = {task.key: task for task in tasks}
        done = {}
        for row in rows:
            key = (tuple(row[k] for k in self.keys), int(row["seed"]))
            if key not in grid:
                label = ",".join(f"{k}={v}" for k, v in zip(self.keys, key[0]))
                raise ResumeError(
                    f"{shown}: holds a run outside this grid ({label} seed={key[1]}); "
                    "--force starts it over, or choose another --out"
                )
            if not row.get("error"):
                done[key] = {**row, "point": str(grid[key].point)}
        return done

    def _read_rows(self) -> list[dict[str, str]]:
        """Every row of the file (and, for parquet, of its streamed rows), a cut last line dropped."""
        rows: list[dict[str, str]] = []
        if self.parquet and os.path.exists(self.path):
            import pyarrow.parquet as pq

            try:
                table = pq.read_table(self.path)
            except Exception as error:  # pyarrow's ArrowInvalid and OSError: not a parquet file, or cut short
                problem = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise ResumeError(f"--out {self.path}: cannot read it ({problem}); --force starts it over") from None
            if table.schema.names != self.columns:
                raise ResumeError(f"--out {self.path}: its columns differ from this sweep's; --force starts it over")
            rows += [_strings(record) for record in table.to_pylist()]
        if os.path.exists(self.rows_path):
            with open(self.rows_path, encoding="utf-8", newline="") as file:
                text = file.read()
            if not text.endswith("\n"):
                text = text[: text.rfind("\n") + 1]
            reader = csv.reader(io.StringIO(text))
            header = next(reader, None)
            if header != self.columns:
                raise ResumeError(f"--out {self.path}: its columns differ from this sweep's; --force starts it over")
            rows += [dict(zip(header, values)) for values in reader if len(values) == len(header)]
        return rows

    def _write(self, text: str) -> None:
        assert self._fd is not None
        data = text.encode()
        while data:
            data = data[os.write(self._fd, data) :]
        os.fsync(self._fd)

    def append(self, row: dict[str, Any]) -> None:
        """Add a finished run's row in one write, synced: nothing finished is lost if the sweep dies."""
        try:
            self._write(_line([row.get(c, "") for c in self.columns]))
        except OSError as error:
            raise OutputError(f"{self.rows_path}: cannot write: {error.strerror or error}") from None

    def finish(self, rows: list[dict[str, Any]]) -> None:
        """Rewrite the table whole, in grid order (for parquet: write it and drop the streamed rows)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        rows = sorted(rows, key=lambda r: (int(r["point"]), int(r["seed"])))
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist([typed(_strings(r), self.keys) for r in rows], schema=self._schema())
            buf = pa.BufferOutputStream()
            pq.write_table(table, buf)
            write_bytes(self.path, buf.getvalue().to_pybytes(), True)
            os.unlink(self.rows_path)
            return
        with atomic_output(self.path, True, newline="") as out:
            out.write(_line(self.columns) + "".join(_line([r.get(c, "") for c in self.columns]) for r in rows))

    def _schema(self) -> Any:
        import pyarrow as pa

        def kind(name: str) -> Any:
            if name in self.keys or name == "error":
                return pa.string()
            return pa.int64() if name in INT_COLUMNS else pa.float64()

        return pa.schema([(name, kind(name)) for name in self.columns])


def _strings(row: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in row.items()}


def _fmt(mean: float, sd: float, whole: bool) -> str:
    """Mean ± sd: counts to the page (one decimal when small), times and shares to three places."""
    if abs(mean) >= 100:
        return f"{mean:,.0f} ± {sd:,.0f}"
    return f"{mean:.1f} ± {sd:.1f}" if whole else f"{mean:.3f} ± {sd:.3f}"


def summary_table(rows: list[dict[str, Any]], keys: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Mean ± sd (sample, over the seeds that did not fail) per point: (header, rows), in grid order."""
    by_point: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_point.setdefault(int(row["point"]), []).append(row)
    header = [*keys, "runs", *SUMMARY_COLUMNS]
    out = []
    for point in sorted(by_point):
        group = by_point[point]
        good = [r for r in group if not r.get("error")]
        cells = [str(group[0][k]) for k in keys]
        cells.append(f"{len(good)}" + (f" ({len(group) - len(good)} failed)" if len(good) < len(group) else ""))
        for column in SUMMARY_COLUMNS:
            values = [float(r[column]) for r in good]
            if not values:
                cells.append("n/a")
                continue
            mean = sum(values) / len(values)
            sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
            cells.append(_fmt(mean, sd, column in INT_COLUMNS))
        out.append(cells)
    return header, out


def render_summary(rows: list[dict[str, Any]], keys: Sequence[str], title: str, markdown: bool) -> str:
    """The summary as a rich text table, or as a markdown table that pastes into a mail."""
    header, body = summary_table(rows, keys)
    if markdown:
        from swaptui.text import markdown_table

        return f"**{printable(title)}** (mean ± sd over seeds)\n\n" + markdown_table(header, body, len(keys))
    from rich.console import Console
    from rich.table import Table

    from swaptui.text import markup_safe

    table = Table(title=f"{markup_safe(title)} (mean ± sd over seeds)")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i < len(keys) else "right")
    for cells in body:
        table.add_row(*(markup_safe(c) for c in cells))
    buf = io.StringIO()
    Console(file=buf, width=220, color_system=None).print(table)
    return buf.getvalue()


class SweepProgress:
    """Runs done, running and the ETA: a rich bar on a terminal, else one plain line per finished run."""

    def __init__(self, total: int, jobs: int, stream: Any) -> None:
        import time

        self.total, self.jobs, self.stream = total, jobs, stream
        self.done = 0
        self.start = time.monotonic()
        self._bar: Any = None
        if stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs · {task.fields[running]} running · ETA"),
                TimeRemainingColumn(),
                console=Console(file=stream),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("sweep", total=total, running=min(jobs, total))

    def running(self) -> int:
        """Runs in flight: as many as there are workers, until fewer are left."""
        return min(self.jobs, self.total - self.done)

    def eta(self) -> str:
        """Time left at the rate so far (runs per second of wall time)."""
        import time

        if not self.done:
            return "?"
        left = (time.monotonic() - self.start) / self.done * (self.total - self.done)
        return f"{int(left) // 60}:{int(left) % 60:02d}"

    def finished(self, label: str, row: dict[str, Any]) -> None:
        """Count one finished run."""
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, running=self.running())
            return
        failed = f" FAILED: {printable(row['error'])}" if row.get("error") else ""
        print(
            f"sweep: {self.done}/{self.total} {printable(label)} in {row.get('wall_s', 0):.1f}s{failed}; "
            f"{self.running()} running, ETA {self.eta()}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        """Take the bar off the terminal."""
        if self._bar is not None:
            self._bar.stop()
