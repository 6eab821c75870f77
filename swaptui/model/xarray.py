"""XArray shape and lookup-depth model (lib/xarray.c, include/linux/xarray.h).

A forest of XArrays, each covering `span` consecutive indices (the swap cache uses one per 64 MiB of
swap, 2^14 slots). Entries are counted per leaf node (64 slots) and per second-level node (4096
slots) so that each tree's height and node count are exact without walking anything:
height = ceil(bitlen(max index)/6) levels, 0 when only index 0 (or nothing) is stored.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.jit import kernel

XA_CHUNK_SHIFT = 6
XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT
XA_NODE_BYTES = 576


@kernel
def xa_height(max_index: int) -> int:
    """Node hops for a tree whose largest index is max_index (0 means the head holds index 0 alone)."""
    bits = 0
    while max_index > 0:
        bits += 1
        max_index >>= 1
    return -(-bits // XA_CHUNK_SHIFT)


@kernel
def xa_count_update(
    leaf: np.ndarray,
    mid: np.ndarray,
    entries: np.ndarray,
    nonzero: np.ndarray,
    beyond64: np.ndarray,
    beyond4096: np.ndarray,
    idx: np.ndarray,
    sign: int,
    span_shift: int,
    masked: bool,
) -> None:
    """xas_store's bookkeeping for entries stored (sign 1) or erased (sign -1) at these indices: the per-tree
    counts that decide each tree's height, the leaf counts and which second-level nodes have live leaves."""
    span_mask = (1 << span_shift) - 1
    for i in range(len(idx)):
        x = idx[i]
        t = x >> span_shift
        local = x & span_mask if masked else x
        entries[t] += sign
        if local > 0:
            nonzero[t] += sign
        if local >= XA_CHUNK_SIZE:
            beyond64[t] += sign
        if local >= XA_CHUNK_SIZE * XA_CHUNK_SIZE:
            beyond4096[t] += sign
        lf = x >> XA_CHUNK_SHIFT
        before = leaf[lf] > 0
        leaf[lf] += sign
        after = leaf[lf] > 0
        if before != after:
            mid[lf >> XA_CHUNK_SHIFT] += 1 if after else -1


@kernel
def xa_tree_height(
    entries: np.ndarray,
    nonzero: np.ndarray,
    beyond64: np.ndarray,
    beyond4096: np.ndarray,
    tree: int,
    span_shift: int,
    masked: bool,
) -> int:
    """Levels xas_load walks in one tree (0: the head holds index 0 alone, or nothing)."""
    if beyond4096[tree] > 0:
        h = 3
    elif beyond64[tree] > 0:
        h = 2
    else:
        h = 1 if nonzero[tree] > 0 else 0
    if not masked and entries[tree] > 0:
        # Unmasked trees index by the full offset: the tree's base decides the height.
        h = max(h, xa_height((tree << span_shift) + (1 << span_shift) - 1))
    return h


@kernel
def xa_lookup_hops(
    entries: np.ndarray,
    nonzero: np.ndarray,
    beyond64: np.ndarray,
    beyond4096: np.ndarray,
    idx: np.ndarray,
    span_shift: int,
    masked: bool,
) -> np.ndarray:
    """Node hops of a lookup of each index."""
    out = np.empty(len(idx), dtype=np.int64)
    last = -1
    h = 0
    for i in range(len(idx)):
        t = idx[i] >> span_shift
        if t != last:
            h = xa_tree_height(entries, nonzero, beyond64, beyond4096, t, span_shift, masked)
            last = t
        out[i] = h
    return out


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

    def _update(self, idx: np.ndarray, sign: int) -> None:
        if len(idx):
            xa_count_update(
                self.leaf,
                self.mid,
                self.entries,
                self.nonzero,
                self.beyond64,
                self.beyond4096,
                idx,
                sign,
                self.span_shift,
                self.masked,
            )

    def insert(self, idx: np.ndarray) -> None:
        """Store entries at these indices (they must be empty)."""
        self._update(np.asarray(idx, dtype=np.int64), 1)

    def erase(self, idx: np.ndarray) -> None:
        """Erase entries at these indices (they must be present)."""
        self._update(np.asarray(idx, dtype=np.int64), -1)

    def height(self, trees: np.ndarray) -> np.ndarray:
        """Levels walked by a lookup in each given tree (xas_load's node hops)."""
        return self.lookup_hops(np.asarray(trees, dtype=np.int64) << self.span_shift)

    def tree_height(self, tree: int) -> int:
        """Levels walked by a lookup in one tree."""
        return xa_tree_height(
            self.entries, self.nonzero, self.beyond64, self.beyond4096, tree, self.span_shift, self.masked
        )

    def lookup_hops(self, idx: np.ndarray) -> np.ndarray:
        """Hops for lookups of these indices."""
        return xa_lookup_hops(
            self.entries,
            self.nonzero,
            self.beyond64,
            self.beyond4096,
            np.asarray(idx, dtype=np.int64),
            self.span_shift,
            self.masked,
        )

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
