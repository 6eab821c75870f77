"""memlab's workloads (the program that recorded traces/): its command line, access order and page contents.

`parse_memlab_args` reads memlab's own command line (`usemem --size-mb 1536 --passes 2 --seed 12345`), with
the subcommands, flags, defaults and units of its `workload_main`. `MemlabPattern` then replays what the
program does: the same page order, the same reads and writes, the same random choices (memlab's xorshift64*
stream and its splitmix64 page hashes, reimplemented here) and the same page contents, decided by `--seed`.

Simplifications, where the model cannot say what memlab does:
- Page contents become the model's content classes: a data page (the first `--entropy` share of its 64-bit
  words random, the rest zero) compresses to one fixed size, `data_page_csize`; a random page (zeromix
  `--rand-pct`) is incompressible; zero and same-filled pages are CONTENT_ZERO and CONTENT_SAME. The write of
  one word that hotcold and `--rewrite` make to a page does not change its class or size.
- A read of a page is one access, whatever memlab reads in it (word 0 and the checksum words).
- frag's two mappings are one address range in the model: the fill region, then the THP region starting on
  the next 2 MiB boundary. `--thp` does not apply to frag, as in memlab (fill is MADV_NOHUGEPAGE, the THP
  region MADV_HUGEPAGE). Its hold phase sleeps in whole ticks, re-reading one page per 2 MiB every 50 ms.
- `--thp huge` is MADV_HUGEPAGE and `never` MADV_NOHUGEPAGE on the whole mapping, as memlab's map_anon does.
- memlab silently accepts a flag of another subcommand (and ignores it); so does this parser. Values memlab
  would read with atol/atof leniently ("768M" as 768) are errors here, and so are out-of-range ones.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field, replace

import numpy as np

from swaptui.model.jit import kernel
from swaptui.model.memmap import PAGE_SIZE

MIB_PAGES = (1 << 20) // PAGE_SIZE
HPAGE_PAGES = 512
WORDS_PER_PAGE = PAGE_SIZE // 8
HOLD_READ_INTERVAL_NS = 50_000_000  # frag's hold loop: usleep(50000) between re-reads
SUBCOMMANDS = ("usemem", "hotcold", "frag", "zeromix")
MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
XORSHIFT_INIT = 88172645463325252
ZEROMIX_SALT = 0xABCDEF
LZO_OVERHEAD_PER = 22
"""A data page's compressed size: its random bytes plus about one byte in 22 for lzo's literal runs and the
zero tail; 1071 B at --entropy 0.25, what zram's mm_stat reports per page in traces/usemem_zram."""

# phase ops of the pattern
OP_TOUCH, OP_ZAP, OP_SLEEP = range(3)


class MemlabArgsError(ValueError):
    """A memlab command line memlab would refuse, or one the model cannot take; the message says what was expected."""


@dataclass(frozen=True)
class MemlabArgs:
    """memlab's workload options (struct opts and its globals), with memlab's defaults."""

    subcommand: str
    size_mb: int = 256
    hot_mb: int = 128
    cold_mb: int = 256
    frag_mb: int = 256
    thp_mb: int = 128
    passes: int = 2
    accesses: int = 200_000
    hot_per_cold: int = 1
    hold_ms: int = 3000
    hot_frac: float = 0.9
    write_frac: float = 0.2
    zero_pct: int = 40
    same_pct: int = 10
    rand_pct: int = 25
    rewrite: bool = False
    seed: int = 12345
    entropy: float = 0.25
    thp: str = "default"

    def npages(self) -> int:
        """Virtual pages the workload maps (frag: the fill region, padding to 2 MiB, then the THP region)."""
        if self.subcommand == "hotcold":
            return (self.hot_mb + self.cold_mb) * MIB_PAGES
        if self.subcommand == "frag":
            return frag_thp_offset(self.frag_mb * MIB_PAGES) + self.thp_mb * MIB_PAGES
        return self.size_mb * MIB_PAGES


MAX_MB = 16 << 20  # 16 TiB in MiB: beyond any machine the model can hold
_INT_FLAGS = {
    "--size-mb": ("size_mb", 1, MAX_MB, "a whole number of MiB"),
    "--hot-mb": ("hot_mb", 1, MAX_MB, "a whole number of MiB"),
    "--cold-mb": ("cold_mb", 1, MAX_MB, "a whole number of MiB"),
    "--frag-mb": ("frag_mb", 1, MAX_MB, "a whole number of MiB"),
    "--thp-mb": ("thp_mb", 1, MAX_MB, "a whole number of MiB"),
    "--passes": ("passes", 1, 1000, "a whole number of passes"),
    "--accesses": ("accesses", 0, 1 << 40, "a whole number of accesses"),
    "--hot-per-cold": ("hot_per_cold", 0, 1 << 20, "a whole number of hot touches per cold page"),
    "--hold-ms": ("hold_ms", 0, 3_600_000, "a whole number of milliseconds"),
    "--zero-pct": ("zero_pct", 0, 100, "a whole percentage"),
    "--same-pct": ("same_pct", 0, 100, "a whole percentage"),
    "--rand-pct": ("rand_pct", 0, 100, "a whole percentage"),
}
_FLOAT_FLAGS = {
    "--hot-frac": "hot_frac",
    "--write-frac": "write_frac",
    "--entropy": "entropy",
}
FLAGS = (*_INT_FLAGS, *_FLOAT_FLAGS, "--seed", "--thp", "--rewrite")
COMMON_FLAGS = ("--seed", "--thp", "--entropy")
OWN_FLAGS = {
    "usemem": ("--size-mb", "--passes", "--rewrite"),
    "hotcold": ("--hot-mb", "--cold-mb", "--accesses", "--hot-frac", "--hot-per-cold", "--write-frac"),
    "frag": ("--frag-mb", "--thp-mb", "--hold-ms"),
    "zeromix": ("--size-mb", "--zero-pct", "--same-pct", "--rand-pct", "--passes"),
}
"""Each subcommand's flags, as memlab's usage lists them; memlab accepts (and ignores) the others' too."""
THP_MODES = ("default", "never", "huge")


def _whole(flag: str, text: str, lo: int, hi: int, noun: str) -> int:
    """A decimal whole number within lo..hi, or an error naming the flag."""
    if not text.isascii() or not text.isdigit():
        raise MemlabArgsError(f"{flag}: expected {noun} from {lo} to {hi}; got {text!r}")
    value = int(text)
    if not lo <= value <= hi:
        raise MemlabArgsError(f"{flag}: expected {noun} from {lo} to {hi}; got {value}")
    return value


def _fraction(flag: str, text: str) -> float:
    """A number from 0 to 1, or an error naming the flag."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise MemlabArgsError(f"{flag}: expected a number from 0 to 1; got {text!r}")
    return value


def strtoull_base0(text: str) -> int:
    """A whole number as C's strtoull(text, NULL, 0) reads one, strictly: decimal, 0x hex or leading-0 octal,
    nothing after the digits. Raises ValueError otherwise."""
    t = text.lower()
    if t.startswith("0x"):
        return int(t[2:], 16)
    if len(t) > 1 and t.startswith("0"):
        return int(t[1:], 8)
    if t.isascii() and t.isdigit():
        return int(t)
    raise ValueError(text)


def _seed(text: str) -> int:
    """--seed as strtoull(v, NULL, 0) reads it: decimal, 0x hex or 0 octal, 0 to 2^64-1."""
    try:
        value = strtoull_base0(text)
    except ValueError:
        raise MemlabArgsError(
            f"--seed: expected a whole number from 0 to 2^64-1 (decimal, 0x hex); got {text!r}"
        ) from None
    if value > MASK64:
        raise MemlabArgsError(f"--seed: expected a whole number from 0 to 2^64-1; got {text!r}")
    return value


def parse_memlab_args(text: str) -> MemlabArgs:
    """memlab's command line without the program name, as workload_main reads it; MemlabArgsError if bad."""
    try:
        argv = shlex.split(text)
    except ValueError as error:
        raise MemlabArgsError(f"expected a memlab command line; {error}") from None
    wanted = f"one of {', '.join(SUBCOMMANDS)} and its flags"
    if not argv:
        raise MemlabArgsError(f"expected a memlab subcommand, {wanted}, such as 'usemem --size-mb 1536'")
    mode = argv[0]
    if mode not in SUBCOMMANDS:
        hint = ""
        if mode == "memlab":
            hint = " (leave out the program name)"
        elif mode == "sample":
            hint = " (sample is memlab's sampler: give the workload after its '--')"
        raise MemlabArgsError(f"unknown memlab subcommand {mode!r}{hint}; expected {wanted}")
    values: dict[str, object] = {}
    i = 1
    while i < len(argv):
        flag = argv[i]
        if flag == "--rewrite":
            values["rewrite"] = True
            i += 1
            continue
        if flag not in FLAGS:
            own = (*OWN_FLAGS[mode], *COMMON_FLAGS)
            close = difflib.get_close_matches(flag, FLAGS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise MemlabArgsError(f"unknown memlab flag {flag!r}{hint} ({mode} takes {', '.join(own)})")
        if i + 1 >= len(argv):
            raise MemlabArgsError(f"{flag}: missing value")
        value = argv[i + 1]
        if flag in _INT_FLAGS:
            name, lo, hi, noun = _INT_FLAGS[flag]
            values[name] = _whole(flag, value, lo, hi, noun)
        elif flag in _FLOAT_FLAGS:
            values[_FLOAT_FLAGS[flag]] = _fraction(flag, value)
        elif flag == "--seed":
            values["seed"] = _seed(value)
        elif value in THP_MODES:  # --thp
            values["thp"] = value
        else:
            raise MemlabArgsError(f"--thp: expected one of: {', '.join(THP_MODES)}; got {value!r}")
        i += 2
    args = replace(MemlabArgs(mode), **values)  # type: ignore[arg-type]
    if mode == "zeromix" and args.zero_pct + args.same_pct + args.rand_pct > 100:
        total = args.zero_pct + args.same_pct + args.rand_pct
        raise MemlabArgsError(f"--zero-pct + --same-pct + --rand-pct: expected at most 100; got {total}")
    return args


# -- memlab's generators ----------------------------------------------------------------------------------


def splitmix64_next(state: int) -> tuple[int, int]:
    """One splitmix64 step: (new state, output)."""
    state = (state + GOLDEN) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def mix(a: int, b: int) -> int:
    """memlab's two-word hash: a splitmix64 step from a seed made of both."""
    s = ((a * GOLDEN) & MASK64) ^ ((b + 0x632BE59BD9B4E019) & MASK64)
    return splitmix64_next(s)[1]


def mix_pages(a: int, pages: np.ndarray) -> np.ndarray:
    """mix(a, page) for every page number at once (uint64 arithmetic wraps as C's does)."""
    with np.errstate(over="ignore"):
        s = np.uint64((a * GOLDEN) & MASK64) ^ (pages.astype(np.uint64) + np.uint64(0x632BE59BD9B4E019))
        z = s + np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class Xorshift64Star:
    """memlab's access-pattern generator (xorshift64*), seeded as workload_main seeds it."""

    def __init__(self, seed: int) -> None:
        self.state = XORSHIFT_INIT ^ mix(seed, 1)

    def next(self) -> int:
        """rnd(): the next 64-bit output."""
        x = self.state
        x ^= x >> 12
        x = (x ^ (x << 25)) & MASK64
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & MASK64

    def next01(self) -> float:
        """rnd01(): a double in [0, 1) from the top 53 bits."""
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


_U12, _U25, _U27, _U11 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(11)
_XS_MULT = np.uint64(0x2545F4914F6CDD1D)
_INV_2_53 = 1.0 / 9007199254740992.0


@kernel
def _xorshift_step(x: np.uint64) -> np.uint64:
    """One xorshift64 step (the state; rnd() returns it times _XS_MULT)."""
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    return x


@kernel
def hotcold_touches(
    state: np.uint64,
    start: int,
    nh: int,
    nc: int,
    per: int,
    hot_frac: float,
    write_frac: float,
    cold_alloc: bool,
    idx: np.ndarray,
    wr: np.ndarray,
) -> np.uint64:
    """w_hotcold's accesses start .. start + len(idx) - 1 of its cold_alloc phase (each cold page written, then
    per - 1 random hot touches) or its random phase, drawn from the xorshift64* state; returns the new state.
    The uint64 products wrap, as C's do (run as plain Python under NUMBA_DISABLE_JIT, numpy warns of it)."""
    unh, unc = np.uint64(nh), np.uint64(nc)
    for j in range(len(idx)):
        if cold_alloc:
            pos = start + j
            if pos % per == 0:
                idx[j] = nh + pos // per
                wr[j] = True
                continue
            state = _xorshift_step(state)
            idx[j] = np.int64((state * _XS_MULT) % unh)
        else:
            state = _xorshift_step(state)
            if np.float64((state * _XS_MULT) >> _U11) * _INV_2_53 < hot_frac:
                state = _xorshift_step(state)
                idx[j] = np.int64((state * _XS_MULT) % unh)
            else:
                state = _xorshift_step(state)
                idx[j] = nh + np.int64((state * _XS_MULT) % unc)
        state = _xorshift_step(state)
        wr[j] = np.float64((state * _XS_MULT) >> _U11) * _INV_2_53 < write_frac
    return state


def data_page_csize(entropy: float) -> int:
    """Compressed bytes of a memlab data page: round(entropy * 512) random words (1 to 512), the rest zero."""
    words = min(WORDS_PER_PAGE, max(1, int(entropy * WORDS_PER_PAGE + 0.5)))
    if words == WORDS_PER_PAGE:
        return PAGE_SIZE
    literal = words * 8
    return int(min(PAGE_SIZE, max(64, literal + -(-literal // LZO_OVERHEAD_PER))))


# page types, as memlab's enum ptype
PT_DATA, PT_ZERO, PT_SAME, PT_RAND = range(4)


def zeromix_types(args: MemlabArgs) -> np.ndarray:
    """The type of every zeromix page: mix(seed ^ 0xABCDEF, page) % 100 against the percentages."""
    h = mix_pages(args.seed ^ ZEROMIX_SALT, np.arange(args.size_mb * MIB_PAGES, dtype=np.uint64)) % np.uint64(100)
    h = h.astype(np.int64)
    types = np.full(len(h), PT_DATA, dtype=np.uint8)
    z, s, r = args.zero_pct, args.same_pct, args.rand_pct
    types[h < z + s + r] = PT_RAND
    types[h < z + s] = PT_SAME
    types[h < z] = PT_ZERO
    return types


def frag_thp_offset(nf: int) -> int:
    """Where frag's THP region starts in the model's range: the first 2 MiB boundary after the fill region."""
    return -(-nf // HPAGE_PAGES) * HPAGE_PAGES


# -- the pattern ------------------------------------------------------------------------------------------


@dataclass
class MemlabPattern:
    """memlab's phases as plain state: a list of ops, a cursor in the current one, and the xorshift stream.

    Each op is (OP_TOUCH, phase name, count), (OP_ZAP, pages) or (OP_SLEEP, ns); touches are generated a chunk
    at a time so a Machine stays cheap to deep-copy for checkpoints."""

    args: MemlabArgs
    ops: list[tuple] = field(default_factory=list)
    op: int = 0
    cursor: int = 0
    rng: Xorshift64Star = field(init=False)
    types: np.ndarray | None = None

    def __post_init__(self) -> None:
        a = self.args
        self.rng = Xorshift64Star(a.seed)
        if a.subcommand in ("usemem", "zeromix"):
            n = a.size_mb * MIB_PAGES
            self.ops = [(OP_TOUCH, "alloc", n)]
            reread = "rewrite" if a.subcommand == "usemem" and a.rewrite else "reread"
            self.ops += [(OP_TOUCH, reread, n)] * (a.passes - 1)
            if a.subcommand == "zeromix":
                self.types = zeromix_types(a)
        elif a.subcommand == "hotcold":
            nh, nc = a.hot_mb * MIB_PAGES, a.cold_mb * MIB_PAGES
            self.rng.state ^= a.seed  # w_hotcold mixes the seed in once more
            self.ops = [
                (OP_TOUCH, "hot_alloc", nh),
                (OP_TOUCH, "cold_alloc", nc * (1 + a.hot_per_cold)),
                (OP_TOUCH, "random", a.accesses),
            ]
        else:  # frag
            nf, nt = a.frag_mb * MIB_PAGES, a.thp_mb * MIB_PAGES
            reads = -(-nt // HPAGE_PAGES)
            self.ops = [
                (OP_TOUCH, "fill", nf),
                (OP_ZAP, np.arange(1, nf, 2, dtype=np.int64)),
                (OP_TOUCH, "thp_fault", nt),
            ]
            loops = -(-a.hold_ms * 1_000_000 // HOLD_READ_INTERVAL_NS) if a.hold_ms else 0
            for _ in range(loops):
                self.ops += [(OP_TOUCH, "hold", reads), (OP_SLEEP, HOLD_READ_INTERVAL_NS)]

    @property
    def phase(self) -> str:
        """The memlab phase the pattern is in (memlab's own phase names), or 'done'."""
        if self.op >= len(self.ops):
            return "done"
        op = self.ops[self.op]
        return op[1] if op[0] == OP_TOUCH else ("punch" if op[0] == OP_ZAP else "hold")

    def planned_accesses(self) -> int:
        """Every access of every touch phase."""
        return sum(op[2] for op in self.ops if op[0] == OP_TOUCH)

    def done(self) -> bool:
        """True when every op has run."""
        return self.op >= len(self.ops)

    def control(self) -> tuple | None:
        """The current op if it is a zap or a sleep (the caller runs it, then calls `next_op`); else None."""
        if self.op < len(self.ops) and self.ops[self.op][0] != OP_TOUCH:
            return self.ops[self.op]
        return None

    def next_op(self) -> None:
        """Move past the current op."""
        self.op += 1
        self.cursor = 0

    def generate(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to n accesses of the current touch op (page numbers in the range, is-write); empty at an op end."""
        while self.op < len(self.ops) and self.ops[self.op][0] == OP_TOUCH and self.cursor >= self.ops[self.op][2]:
            self.next_op()
        if self.op >= len(self.ops) or self.ops[self.op][0] != OP_TOUCH:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        _, name, count = self.ops[self.op]
        k = min(n, count - self.cursor)
        start = self.cursor
        self.cursor += k
        out = self._touches(name, start, k)
        if self.cursor >= count:
            self.next_op()
        return out

    def _touches(self, name: str, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Accesses start .. start + k - 1 of the touch op `name`."""
        a = self.args
        if name in ("alloc", "fill", "hot_alloc"):
            return np.arange(start, start + k, dtype=np.int64), np.ones(k, dtype=bool)
        if name in ("reread", "rewrite"):
            return np.arange(start, start + k, dtype=np.int64), np.full(k, name == "rewrite")
        if name == "thp_fault":
            base = frag_thp_offset(a.frag_mb * MIB_PAGES)
            return np.arange(base + start, base + start + k, dtype=np.int64), np.ones(k, dtype=bool)
        if name == "hold":
            base = frag_thp_offset(a.frag_mb * MIB_PAGES)
            idx = base + np.arange(start, start + k, dtype=np.int64) * HPAGE_PAGES
            return idx, np.zeros(k, dtype=bool)
        nh, nc = a.hot_mb * MIB_PAGES, a.cold_mb * MIB_PAGES
        idx = np.empty(k, dtype=np.int64)
        wr = np.empty(k, dtype=np.bool_)
        state = hotcold_touches(
            np.uint64(self.rng.state),
            start,
            nh,
            nc,
            1 + a.hot_per_cold,
            a.hot_frac,
            a.write_frac,
            name == "cold_alloc",
            idx,
            wr,
        )
        self.rng.state = int(state)
        return idx, wr

    def content(self, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Content class and compressed size of freshly written pages, by page number in the range."""
        from swaptui.model.workload import CONTENT_NORMAL, CONTENT_SAME, CONTENT_ZERO

        n = len(pages)
        content = np.full(n, CONTENT_NORMAL, dtype=np.uint8)
        csize = np.full(n, data_page_csize(self.args.entropy), dtype=np.uint16)
        if self.types is not None:
            t = self.types[pages]
            content[t == PT_ZERO] = CONTENT_ZERO
            content[t == PT_SAME] = CONTENT_SAME
            csize[t == PT_RAND] = PAGE_SIZE
        return content, csize
