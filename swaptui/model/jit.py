"""The compiled core's decorator: numba's njit, cached on disk and without the GIL, typed for mypy.

Every per-page and per-batch loop of the model is a `kernel`: a function over the model's numpy arrays (and
the NamedTuple structs that group them), compiled to machine code the first time it runs and loaded from
numba's on-disk cache after that. Kernels keep the kernel function's name and docstring; the Python layer
around them keeps orchestration, events and snapshots. `NUMBA_DISABLE_JIT=1` runs them as plain Python.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])

KERNELS: list[Any] = []  # every kernel's dispatcher, in definition order


def kernel(fn: F) -> F:
    """Compile `fn` in nopython mode, cached, releasing the GIL while it runs."""
    dispatcher = numba.njit(cache=True, nogil=True)(fn)
    KERNELS.append(dispatcher)
    return cast(F, dispatcher)


def _stamp() -> Path | None:
    """A file beside numba's cache that says these sources, under this numba, have been run (and compiled)."""
    if not KERNELS:
        return None
    try:
        cache_dir = Path(KERNELS[0]._cache._cache_path)
    except AttributeError:
        return None  # another numba layout, or the JIT disabled
    digest = hashlib.sha256(numba.__version__.encode())
    for source in sorted({inspect.getsourcefile(d.py_func) or "" for d in KERNELS}):
        st = os.stat(source)
        digest.update(f"{source}:{st.st_mtime_ns}:{st.st_size}".encode())
    return cache_dir / f"swaptui-compiled-{digest.hexdigest()[:16]}"


def first_run() -> bool:
    """True until a run of these sources has ended normally (then mark_compiled was called)."""
    stamp = _stamp()
    return stamp is not None and not stamp.exists()


def mark_compiled() -> None:
    """Note that the kernels this run used are in the cache (nothing happens if the cache cannot be written)."""
    stamp = _stamp()
    if stamp is not None:
        with contextlib.suppress(OSError):
            stamp.touch()
