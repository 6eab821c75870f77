"""swaptui: a deterministic stepping model of Linux memory reclaim and swap, seen live."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("swaptui")  # the one place it is set is pyproject.toml
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
