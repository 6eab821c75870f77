"""Doubly linked lists through per-element arrays (include/linux/list.h), for the compiled core.

The kernel strings pages, clusters and zspages on `list_head`s embedded in their structs; here each kind of
element has two int arrays, `next` and `prev`, and a family of lists has three small arrays indexed by list
id: `head` (the element list_add put there last), `tail` (the oldest, where reclaim and FIFO users take from)
and `nr`. An element is on at most one list of its family at a time. `next` runs from head towards tail,
`prev` back; -1 ends a list. All operations are O(1) but isolating or walking n elements.
"""

from __future__ import annotations

import numpy as np

from swaptui.model.jit import kernel

NIL = -1


@kernel
def list_add(
    nxt: np.ndarray, prv: np.ndarray, head: np.ndarray, tail: np.ndarray, nr: np.ndarray, lid: int, x: int
) -> None:
    """list_add: x becomes the head (the newest element) of list lid."""
    h = head[lid]
    nxt[x] = h
    prv[x] = NIL
    if h >= 0:
        prv[h] = x
    else:
        tail[lid] = x
    head[lid] = x
    nr[lid] += 1


@kernel
def list_add_tail(
    nxt: np.ndarray, prv: np.ndarray, head: np.ndarray, tail: np.ndarray, nr: np.ndarray, lid: int, x: int
) -> None:
    """list_add_tail: x becomes the tail (the oldest element) of list lid."""
    t = tail[lid]
    prv[x] = t
    nxt[x] = NIL
    if t >= 0:
        nxt[t] = x
    else:
        head[lid] = x
    tail[lid] = x
    nr[lid] += 1


@kernel
def list_del(
    nxt: np.ndarray, prv: np.ndarray, head: np.ndarray, tail: np.ndarray, nr: np.ndarray, lid: int, x: int
) -> None:
    """list_del: unlink x from list lid, wherever it is."""
    n = nxt[x]
    p = prv[x]
    if p >= 0:
        nxt[p] = n
    else:
        head[lid] = n
    if n >= 0:
        prv[n] = p
    else:
        tail[lid] = p
    nxt[x] = NIL
    prv[x] = NIL
    nr[lid] -= 1


@kernel
def list_replace(
    nxt: np.ndarray, prv: np.ndarray, head: np.ndarray, tail: np.ndarray, lid: int, old: int, new: int
) -> None:
    """list_replace: `new` takes `old`'s place on list lid (page migration keeps the LRU order)."""
    n = nxt[old]
    p = prv[old]
    nxt[new] = n
    prv[new] = p
    if p >= 0:
        nxt[p] = new
    else:
        head[lid] = new
    if n >= 0:
        prv[n] = new
    else:
        tail[lid] = new
    nxt[old] = NIL
    prv[old] = NIL


@kernel
def list_to_array(nxt: np.ndarray, head: np.ndarray, nr: np.ndarray, lid: int) -> np.ndarray:
    """The elements of list lid from head (newest) to tail (oldest)."""
    out = np.empty(nr[lid], dtype=np.int64)
    x = head[lid]
    i = 0
    while x >= 0:
        out[i] = x
        i += 1
        x = nxt[x]
    return out
