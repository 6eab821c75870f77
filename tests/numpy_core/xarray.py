"""XArray shape and lookup-depth model (lib/xarray.c, include/linux/xarray.h).

A forest of XArrays, each covering `span` consecutive indices (the swap cache uses one per 64 MiB of
swap, 2^14 slots). Entries are counted per leaf node (64 slots) and per second-level node (4096
slots) so that each tree's height and node count are exact without walking anything:
height = ceil(bitlen(max index)/6) levels, 0 when only index 0 (or nothing) is stored.
"""

from __future__ import annotations

import numpy as np

XA_CHUNK_SHIFT = 6
XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT
XA_NODE_BYTES = 576


def xa_height(max_index: int) -> int:
    """Node hops for a tree whose largest index is max_index (0 means the head holds index 0 alone)."""
    if max_index <= 0:
        return 0
    return -(-int(max_index).bit_length() // XA_CHUNK_SHIFT)


class XArrayForest:
    """Entry counts of many fixed-span XArrays, with per-tree height and node counts."""

    def __init__(self, nr_indices: int, span_shift: int, masked: bool = True) -> None:
        self.span_shift = span_shift
        self.masked = masked  # True: each tree is indexed by (index & (span-1)), as the 6.11+ swap cache
        self.nr_trees = max(1, -(-nr_indices >> span_shift) if nr_indices else 1)
        nr_leaves = -(-nr_indices // XA_CHUNK_SIZE) + 1
        self.leaf = np.zeros(nr_leaves, dtype=np.int16)  # entries in each 64-slot leaf
        self.mid = np.zeros(nr_leaves // XA_CHUNK_SIZE + 2, dtype=np.int16)  # live leaves under each 4096
        self.entries = np.zeros(self.nr_trees, dtype=np.int64)
        self.nodes = np.zeros(self.nr_trees, dtype=np.int64)
        # Highest occupied leaf per tree decides the height; kept as counts per height class.
        self.beyond64 = np.zeros(self.nr_trees, dtype=np.int64)  # entries at tree index >= 64
        self.beyond4096 = np.zeros(self.nr_trees, dtype=np.int64)  # entries at tree index >= 4096
        self.nonzero = np.zeros(self.nr_trees, dtype=np.int64)  # entries at tree index > 0

    def _local(self, idx: np.ndarray) -> np.ndarray:
        return idx & ((1 << self.span_shift) - 1) if self.masked else idx

    def _update(self, idx: np.ndarray, sign: int) -> None:
        if len(idx) == 0:
            return
        trees = idx >> self.span_shift
        local = self._local(idx)
        t0 = int(trees[0])
        if t0 == int(trees[-1]) and (trees == t0).all():  # the common case: one tree
            self.entries[t0] += sign * len(idx)
            self.nonzero[t0] += sign * int(np.count_nonzero(local))
            self.beyond64[t0] += sign * int(np.count_nonzero(local >= XA_CHUNK_SIZE))
            self.beyond4096[t0] += sign * int(np.count_nonzero(local >= XA_CHUNK_SIZE**2))
        else:
            np.add.at(self.entries, trees, sign)
            np.add.at(self.nonzero, trees[local > 0], sign)
            np.add.at(self.beyond64, trees[local >= XA_CHUNK_SIZE], sign)
            np.add.at(self.beyond4096, trees[local >= XA_CHUNK_SIZE**2], sign)
        raw = idx >> XA_CHUNK_SHIFT
        lo = int(raw.min())
        span = int(raw.max()) - lo + 1
        if span <= 4 * len(raw) + 64:  # dense batch: a bincount over the range beats sorting
            binned = np.bincount(raw - lo, minlength=span)
            leaves = np.flatnonzero(binned)
            counts = binned[leaves]
            leaves = leaves + lo
        else:
            leaves, counts = np.unique(raw, return_counts=True)
        before = self.leaf[leaves] > 0
        self.leaf[leaves] += (sign * counts).astype(np.int16)
        after = self.leaf[leaves] > 0
        changed = leaves[before != after]
        if len(changed):
            delta = np.where(after[before != after], 1, -1)
            mids = changed >> XA_CHUNK_SHIFT
            np.add.at(self.mid, mids, delta.astype(np.int16))

    def insert(self, idx: np.ndarray) -> None:
        """Store entries at these indices (they must be empty)."""
        self._update(np.asarray(idx, dtype=np.int64), 1)

    def erase(self, idx: np.ndarray) -> None:
        """Erase entries at these indices (they must be present)."""
        self._update(np.asarray(idx, dtype=np.int64), -1)

    def height(self, trees: np.ndarray) -> np.ndarray:
        """Levels walked by a lookup in each given tree (xas_load's node hops)."""
        trees = np.asarray(trees, dtype=np.int64)
        h = np.zeros(len(trees), dtype=np.int64)
        h[self.nonzero[trees] > 0] = 1
        h[self.beyond64[trees] > 0] = 2
        h[self.beyond4096[trees] > 0] = 3
        if not self.masked:
            # Unmasked trees index by the full offset: the tree's base decides the height.
            base = trees << self.span_shift
            full = np.array([xa_height(int(b) + (1 << self.span_shift) - 1) for b in base.tolist()])
            h = np.where(self.entries[trees] > 0, np.maximum(h, full), h)
        return h

    def tree_height(self, tree: int) -> int:
        """Levels walked by a lookup in one tree."""
        if self.beyond4096[tree] > 0:
            h = 3
        elif self.beyond64[tree] > 0:
            h = 2
        else:
            h = 1 if self.nonzero[tree] > 0 else 0
        if not self.masked and self.entries[tree] > 0:
            h = max(h, xa_height((tree << self.span_shift) + (1 << self.span_shift) - 1))
        return h

    def lookup_hops(self, idx: np.ndarray) -> np.ndarray:
        """Hops for lookups of these indices."""
        trees = np.asarray(idx, dtype=np.int64) >> self.span_shift
        if len(trees) and trees[0] == trees[-1] and (trees == trees[0]).all():
            return np.full(len(trees), self.tree_height(int(trees[0])), dtype=np.int64)
        return self.height(trees)

    def node_count(self) -> int:
        """xa_nodes allocated across the forest (leaves + mid nodes + roots of tall trees)."""
        leaves = int(np.count_nonzero(self.leaf))
        mids = int(np.count_nonzero(self.mid))
        heights = self.height(np.arange(self.nr_trees))
        # A height-3 tree has a root over its mid nodes; a height-2 tree's root is its mid node.
        roots = int(np.count_nonzero(heights == 3))
        return leaves + mids + roots

    def metadata_bytes(self) -> int:
        """Bytes of xa_node memory."""
        return self.node_count() * XA_NODE_BYTES
