"""The memlab workload: memlab.c's command line, its access order, writes and page contents, run in the model.

Known answers come from the reference program itself (/work/shared/reference/memlab.c built with gcc): the
page-type counts its zeromix prints, and the first outputs of its xorshift64* stream for a seed.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from swaptui.model.memlab import (
    MIB_PAGES,
    PT_DATA,
    PT_RAND,
    PT_SAME,
    PT_ZERO,
    MemlabArgs,
    MemlabArgsError,
    MemlabPattern,
    Xorshift64Star,
    data_page_csize,
    parse_memlab_args,
    zeromix_types,
)
from swaptui.model.workload import CONTENT_NORMAL, CONTENT_SAME, CONTENT_ZERO

MEMLAB_C_DEFAULTS = {
    # struct opts in workload_main, and the globals g_seed, g_entropy, g_thp
    "size_mb": 256,
    "hot_mb": 128,
    "cold_mb": 256,
    "frag_mb": 256,
    "thp_mb": 128,
    "passes": 2,
    "accesses": 200_000,
    "hot_per_cold": 1,
    "hold_ms": 3000,
    "hot_frac": 0.9,
    "write_frac": 0.2,
    "zero_pct": 40,
    "same_pct": 10,
    "rand_pct": 25,
    "rewrite": False,
    "seed": 12345,
    "entropy": 0.25,
    "thp": "default",
}


@pytest.mark.parametrize("sub", ["usemem", "hotcold", "frag", "zeromix"])
def test_every_subcommand_parses_with_memlab_c_defaults(sub: str) -> None:
    args = parse_memlab_args(sub)
    assert args.subcommand == sub
    assert {k: getattr(args, k) for k in MEMLAB_C_DEFAULTS} == MEMLAB_C_DEFAULTS


def test_flags_units_and_values() -> None:
    a = parse_memlab_args("usemem --size-mb 1536 --passes 3 --entropy 0.5 --seed 0x10 --rewrite --thp never")
    assert (a.size_mb, a.passes, a.entropy, a.seed, a.rewrite, a.thp) == (1536, 3, 0.5, 16, True, "never")
    assert a.npages() == 1536 * 256  # --size-mb is MiB: 256 pages of 4 KiB each
    h = parse_memlab_args(
        "hotcold --hot-mb 64 --cold-mb 192 --accesses 1000 --hot-frac 0.75 --hot-per-cold 3 --write-frac 0.5"
    )
    assert (h.hot_mb, h.cold_mb, h.accesses, h.hot_frac, h.hot_per_cold, h.write_frac) == (64, 192, 1000, 0.75, 3, 0.5)
    assert h.npages() == 256 * 256
    f = parse_memlab_args("frag --frag-mb 3 --thp-mb 4 --hold-ms 100")
    assert (f.frag_mb, f.thp_mb, f.hold_ms) == (3, 4, 100)
    assert f.npages() == 1024 + 1024  # the THP region starts on the 2 MiB boundary after 3 MiB of fill
    z = parse_memlab_args("zeromix --size-mb 8 --zero-pct 5 --same-pct 6 --rand-pct 7 --passes 1")
    assert (z.zero_pct, z.same_pct, z.rand_pct, z.passes) == (5, 6, 7, 1)
    assert parse_memlab_args("usemem --seed 010").seed == 8  # strtoull base 0: octal
    assert parse_memlab_args("usemem --hot-mb 3").hot_mb == 3  # memlab accepts (and ignores) others' flags


BAD_ARGS = [
    ("", "expected a memlab subcommand"),
    ("frob --size-mb 1", "unknown memlab subcommand 'frob'"),
    ("memlab usemem", "leave out the program name"),
    ("sample --out x -- usemem", "sampler"),
    ("usemem --size 768M", "unknown memlab flag '--size'; did you mean '--size-mb'?"),
    ("usemem --size-mb", "--size-mb: missing value"),
    ("usemem --size-mb 768M", "--size-mb: expected a whole number of MiB"),
    ("usemem --size-mb 0", "from 1 to"),
    ("usemem --size-mb -5", "got '-5'"),
    ("usemem --passes 0", "--passes: expected a whole number of passes from 1"),
    ("hotcold --hot-frac 1.5", "--hot-frac: expected a number from 0 to 1"),
    ("hotcold --write-frac nan", "--write-frac: expected a number from 0 to 1"),
    ("usemem --seed x", "--seed: expected a whole number"),
    ("usemem --thp always", "--thp: expected one of: default, never, huge"),
    ("zeromix --zero-pct 60 --same-pct 30 --rand-pct 20", "at most 100; got 110"),
    ("usemem 'unclosed", "expected a memlab command line"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_ARGS)
def test_bad_command_lines_are_refused_in_words(text: str, fragment: str) -> None:
    with pytest.raises(MemlabArgsError) as caught:
        parse_memlab_args(text)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_xorshift_stream_matches_memlab_c() -> None:
    """w_hotcold's stream for seed 12345: rnd() % nh and rnd01() < 0.2 as memlab.c printed them."""
    r = Xorshift64Star(12345)
    r.state ^= 12345
    nh, nc = 128 * MIB_PAGES, 256 * MIB_PAGES
    cold_alloc = [(r.next() % nh, int(r.next01() < 0.2)) for _ in range(5)]
    assert cold_alloc == [(17198, 0), (7228, 1), (16476, 0), (16987, 0), (23892, 0)]
    rand = []
    for _ in range(5):
        idx = r.next() % nh if r.next01() < 0.9 else nh + r.next() % nc
        rand.append((idx, int(r.next01() < 0.2)))
    assert rand == [(8409, 0), (27544, 0), (30421, 0), (23706, 0), (28568, 0)]


def test_hotcold_pattern_draws_memlab_c_stream() -> None:
    """The compiled pattern: cold page i written, then the hot touch memlab.c drew (seed 12345)."""
    pattern = MemlabPattern(parse_memlab_args("hotcold"))
    nh = 128 * MIB_PAGES
    pattern.generate(nh)  # hot_alloc
    v, w = pattern.generate(10)
    assert v.tolist() == [nh, 17198, nh + 1, 7228, nh + 2, 16476, nh + 3, 16987, nh + 4, 23892]
    assert w.tolist() == [True, False, True, True, True, False, True, False, True, False]


@pytest.mark.parametrize(
    ("args", "counts"),
    [
        ("zeromix --size-mb 4", {"data": 245, "zero": 426, "same": 100, "rand": 253}),
        (
            "zeromix --size-mb 4 --seed 7 --zero-pct 10 --same-pct 20 --rand-pct 30",
            {"data": 391, "zero": 104, "same": 230, "rand": 299},
        ),
    ],
)
def test_zeromix_page_types_match_memlab_c(args: str, counts: dict[str, int]) -> None:
    """The counts memlab.c prints ('memlab: zeromix pages data=... zero=... same=... rand=...')."""
    t = zeromix_types(parse_memlab_args(args))
    got = {
        name: int((t == code).sum())
        for name, code in [("data", PT_DATA), ("zero", PT_ZERO), ("same", PT_SAME), ("rand", PT_RAND)]
    }
    assert got == counts


def _all_accesses(args: str) -> tuple[np.ndarray, np.ndarray]:
    pattern = MemlabPattern(parse_memlab_args(args))
    vs, ws = [], []
    while not pattern.done():
        if pattern.control() is not None:
            pattern.next_op()
            continue
        v, w = pattern.generate(4096)
        vs.append(v)
        ws.append(w)
    return np.concatenate(vs), np.concatenate(ws)


def test_usemem_order_and_writes() -> None:
    v, w = _all_accesses("usemem --size-mb 2 --passes 3")
    n = 2 * MIB_PAGES
    assert np.array_equal(v, np.tile(np.arange(n), 3))
    assert w[:n].all() and not w[n:].any()  # alloc writes, rereads read
    v, w = _all_accesses("usemem --size-mb 2 --passes 2 --rewrite")
    assert w.all()


def test_hotcold_order_hot_share_and_writes() -> None:
    v, w = _all_accesses("hotcold --hot-mb 4 --cold-mb 16 --accesses 40000 --hot-per-cold 2 --write-frac 0.3")
    nh, nc = 4 * MIB_PAGES, 16 * MIB_PAGES
    assert np.array_equal(v[:nh], np.arange(nh)) and w[:nh].all()
    cold = v[nh : nh + 3 * nc]
    assert np.array_equal(cold[::3], nh + np.arange(nc))  # each cold page written, then two hot touches
    assert (cold[1::3] < nh).all() and (cold[2::3] < nh).all()
    rand, rand_w = v[nh + 3 * nc :], w[nh + 3 * nc :]
    assert len(rand) == 40000
    assert abs((rand < nh).mean() - 0.9) < 0.01  # --hot-frac default
    assert abs(rand_w.mean() - 0.3) < 0.01


def test_same_seed_same_sequence_other_seed_another() -> None:
    base = "hotcold --hot-mb 2 --cold-mb 4 --accesses 5000"
    a, aw = _all_accesses(base + " --seed 1")
    b, bw = _all_accesses(base + " --seed 1")
    c, _ = _all_accesses(base + " --seed 2")
    assert np.array_equal(a, b) and np.array_equal(aw, bw)
    assert not np.array_equal(a, c)
    z1 = zeromix_types(parse_memlab_args("zeromix --size-mb 2 --seed 1"))
    assert np.array_equal(z1, zeromix_types(parse_memlab_args("zeromix --size-mb 2 --seed 1")))
    assert not np.array_equal(z1, zeromix_types(parse_memlab_args("zeromix --size-mb 2 --seed 2")))


def test_frag_phases() -> None:
    pattern = MemlabPattern(parse_memlab_args("frag --frag-mb 3 --thp-mb 2 --hold-ms 120"))
    names = []
    while not pattern.done():
        names.append(pattern.phase)
        if pattern.control() is not None:
            pattern.next_op()
        else:
            pattern.generate(1 << 20)
    assert names[:3] == ["fill", "punch", "thp_fault"]
    assert names[3:] == ["hold", "hold"] * 3  # ceil(120 ms / 50 ms) re-reads, each then a 50 ms sleep
    v, _ = _all_accesses("frag --frag-mb 3 --thp-mb 2 --hold-ms 0")
    assert np.array_equal(v, np.concatenate([np.arange(768), 1024 + np.arange(512)]))


def test_page_contents() -> None:
    assert data_page_csize(0.25) == 1071  # zram's bytes per page in traces/usemem_zram
    assert data_page_csize(1.0) == 4096 and data_page_csize(0.0) == 64
    pattern = MemlabPattern(parse_memlab_args("zeromix --size-mb 4"))
    content, csize = pattern.content(np.arange(4 * MIB_PAGES))
    t = zeromix_types(parse_memlab_args("zeromix --size-mb 4"))
    assert np.array_equal(content == CONTENT_ZERO, t == PT_ZERO)
    assert np.array_equal(content == CONTENT_SAME, t == PT_SAME)
    assert (csize[t == PT_RAND] == 4096).all() and (csize[t == PT_DATA] == 1071).all()
    assert (content[(t == PT_RAND) | (t == PT_DATA)] == CONTENT_NORMAL).all()


def test_args_dataclass_defaults_are_memlab_c_defaults() -> None:
    assert {k: getattr(MemlabArgs("usemem"), k) for k in MEMLAB_C_DEFAULTS} == MEMLAB_C_DEFAULTS


# -- in the model ------------------------------------------------------------------------------------------


def _run(make_machine, args: str, memory: str = "32MiB", ticks: int = 4000, **kw):
    m = make_machine(memory=memory, workloads=f'- {{name: m, kind: memlab, args: "{args}"}}', duration="10s", **kw)
    while not all(p.exited for p in m.procs) and m.tick < ticks:
        m.step(25)
    return m


def test_usemem_touches_size_over_page_times_passes(make_machine) -> None:
    """Under swap pressure (48 MiB in 32 MiB), every page is touched once per pass, as memlab does."""
    m = _run(make_machine, "usemem --size-mb 48 --passes 2 --seed 1")
    p = m.procs[0]
    assert p.exited and p.touched == 48 * (1 << 20) // 4096 * 2
    assert m.vm["pswpout"] > 0 and m.vm["pswpin"] > 0


def test_zeromix_contents_in_the_model(make_machine) -> None:
    m = _run(
        make_machine,
        "zeromix --size-mb 16 --passes 1 --zero-pct 30 --same-pct 20 --rand-pct 10",
        memory="64MiB",
        check_invariants=False,
    )
    p = m.procs[0]
    content = m.spaces.content[p.base : p.base + p.npages]
    csize = m.spaces.csize[p.base : p.base + p.npages]
    assert abs((content == CONTENT_ZERO).mean() - 0.30) < 0.02
    assert abs((content == CONTENT_SAME).mean() - 0.20) < 0.02
    assert abs(((content == CONTENT_NORMAL) & (csize == 4096)).mean() - 0.10) < 0.02


def test_hotcold_in_the_model_and_invariants(make_machine) -> None:
    """Every tick's invariants hold (make_machine checks them) through hotcold's three phases."""
    m = _run(make_machine, "hotcold --hot-mb 8 --cold-mb 32 --accesses 20000", memory="32MiB")
    p = m.procs[0]
    assert p.exited and p.touched == 8 * 256 + 32 * 256 * 2 + 20000


def test_frag_punches_and_faults_huge_pages(make_machine) -> None:
    m = _run(
        make_machine,
        "frag --frag-mb 8 --thp-mb 8 --hold-ms 100",
        memory="64MiB",
        extra_machine=", thp: madvise",
    )
    p = m.procs[0]
    assert p.exited
    assert m.vm["thp_fault_alloc"] + m.vm["thp_fault_fallback"] >= 1
    assert m.now >= 100_000_000  # the hold phase slept through its 100 ms


def test_a_checkpoint_continues_exactly_as_the_original(make_machine) -> None:
    """The player's step-back deep-copies the machine: a memlab process's stream and cursor go with it."""
    m = make_machine(
        memory="32MiB",
        workloads='- {name: m, kind: memlab, args: "hotcold --hot-mb 8 --cold-mb 32 --accesses 20000 --seed 3"}',
        check_invariants=False,
    )
    m.step(200)
    twin = copy.deepcopy(m)
    m.step(400)
    twin.step(400)
    assert np.array_equal(m.vm.values, twin.vm.values)
    assert np.array_equal(m.spaces.state, twin.spaces.state)
