"""Files swaptui writes (run --json/--csv/--plot, compare --json/--plot, schema --out, live --record): checked, then whole or not at all.

Every output path is checked before any work: a path that exists is refused unless the user said
--force, and a path that is not a regular file (/dev/full, /dev/null, a FIFO, a directory) is
refused always. A file written in one go (`atomic_output`) goes to a temporary file beside it and is
renamed over the target only when complete, so a full disk or an interrupted run leaves no partial
file (and, with --force, the old file untouched). A recording streams into its file instead (it must
be readable while it grows and after a crash); `remove_partial` deletes it when a write fails.
Failures are `OutputError`s: one line naming the file and the reason.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TextIO


class OutputError(Exception):
    """An output that cannot be written: one line, `PATH: reason`."""


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return "a special file"


def check_target(path: str | Path, force: bool, option: str = "") -> None:
    """Raise OutputError unless `path` can become a new regular file (or, with force, replace one)."""
    shown = f"{option} {path}" if option else str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        parent = os.path.dirname(os.path.abspath(path))
        try:
            pst = os.stat(parent)
        except FileNotFoundError:
            raise OutputError(f"{shown}: cannot write: the directory {parent} does not exist") from None
        except OSError as error:
            raise OutputError(f"{shown}: cannot write: {parent}: {error.strerror or error}") from None
        if not stat.S_ISDIR(pst.st_mode):
            raise OutputError(f"{shown}: cannot write: {parent} is not a directory") from None
        return
    except OSError as error:  # ENOTDIR (a path through a file), ELOOP, EACCES ...
        raise OutputError(f"{shown}: cannot write: {error.strerror or error}") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{shown}: not a regular file ({_kind(st.st_mode)}); expected a path for a new file")
    if not force:
        raise OutputError(f"{shown}: exists; --force overwrites it")


def _mode_for(target: str) -> int:
    """The permissions a new file would get (0666 less the umask), or the replaced file's own."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def _replace_when_done(path: str | Path, force: bool) -> Iterator[tuple[int, str]]:
    """A temporary file beside `path` (its fd and name) that is renamed over `path` only if the block completes;
    any failure removes it (OutputError on OSError). The check is repeated at the rename, so a file that
    appeared meanwhile is not overwritten."""
    target = os.path.realpath(path)  # through a symlink: replace the file it names, keep the link
    check_target(path, force)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".part", dir=os.path.dirname(target))
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        yield fd, tmp
        os.chmod(tmp, _mode_for(target))
        if not force and os.path.lexists(target):
            raise OutputError(f"{path}: exists (it appeared while writing); --force overwrites it")
        os.replace(tmp, target)
    except OSError as error:
        _unlink(tmp)
        raise OutputError(f"{path}: cannot write: {error.strerror or error} (nothing written)") from None
    except BaseException:
        _unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_output(path: str | Path, force: bool, newline: str | None = None) -> Iterator[_Named]:
    """A text file that becomes `path` only if the block completes (see _replace_when_done)."""
    with _replace_when_done(path, force) as (fd, _), _fdopen(fd, newline) as out:
        yield _Named(out, str(path))


def write_bytes(path: str | Path, data: bytes, force: bool) -> None:
    """Write a binary file (a plot, a parquet table) whole or not at all, as atomic_output does for text."""
    with _replace_when_done(path, force) as (fd, _), os.fdopen(fd, "wb") as out:
        out.write(data)


class TextSink(Protocol):
    """Where text goes: a file, or a stream that names its file when a write fails."""

    def write(self, text: str, /) -> int: ...


class _Named:
    """A text stream whose failed writes raise OutputError naming its file (so that of two outputs open at
    once, the one that failed is named)."""

    def __init__(self, stream: TextIO, path: str) -> None:
        self._stream = stream
        self.path = path

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise OutputError(f"{self.path}: cannot write: {error.strerror or error} (nothing written)") from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _fdopen(fd: int, newline: str | None) -> TextIO:
    """The text stream over a new file (tests replace this to fill the disk)."""
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)


def open_new(path: str | Path, force: bool) -> TextIO:
    """Open a streamed output (a recording) after check_target: created new ('x') unless force."""
    check_target(path, force)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL), 0o666)
    except FileExistsError:
        raise OutputError(f"{path}: exists; --force overwrites it") from None
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    return _fdopen(fd, None)


def _unlink(path: str | Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def remove_partial(*paths: str | Path) -> None:
    """Delete files a failed write left (a missing one is fine)."""
    for p in paths:
        _unlink(p)
