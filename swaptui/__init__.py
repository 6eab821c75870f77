"""swaptui: a deterministic stepping model of Linux memory reclaim and swap, seen live."""

__version__ = "0.1.0"
