"""The compiled core's decorator: numba's njit, cached on disk and without the GIL, typed for mypy.

Every per-page and per-batch loop of the model is a `kernel`: a function over the model's numpy arrays (and
the NamedTuple structs that group them), compiled to machine code the first time it runs and loaded from
numba's on-disk cache after that. Kernels keep the kernel function's name and docstring; the Python layer
around them keeps orchestration, events and snapshots. `NUMBA_DISABLE_JIT=1` runs them as plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """Compile `fn` in nopython mode, cached, releasing the GIL while it runs."""
    return cast(F, numba.njit(cache=True, nogil=True)(fn))
