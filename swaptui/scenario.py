"""The scenario schema, and loading YAML into it with errors that name file, line and key."""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.fields import FieldInfo

from swaptui.model import kernels
from swaptui.text import describe_char, find_control, printable
from swaptui.units import (
    DURATION_PATTERN,
    MIB,
    MS,
    SIZE_PATTERN,
    TIB,
    US,
    S,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
)

MAX_TICKS = 10_000_000
MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read: scenarios are written by hand (the bundled ones are 1 to 3 KiB), and a
limit checked on the bytes, before any parsing, keeps a huge file from costing minutes of YAML work."""
MAX_DEPTH = 32
"""Deepest nesting of lists and mappings: a scenario needs four levels (swap.devices[0].size)."""
MAX_NODES = 20_000
"""Most values (keys, items and scalars) with every alias expanded: refuses alias bombs and files of
tens of thousands of keys before they are built. A 64-workload scenario has about 2,000."""
MAX_ALIASES = 100
"""Most aliases (*name) in one file."""
MAX_WORKLOADS = 64
"""Most workloads: each is a row of the app's process pane and its own address space in the model."""
MAX_PROCESSES = 8192
"""Most processes over all workloads: the model keeps state for each and steps every one every tick."""
MAX_ISSUES_SHOWN = 50
"""Problems listed for one file; past that a last line says how many more there are."""
NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
Design = Literal["classic", "swap_table", "vswap"]
Key = tuple[str | int, ...]

_SIZE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": SIZE_PATTERN,
    "examples": ["4GiB", "512MiB"],
    "description": "A size with a unit: B, K/KiB, M/MiB, G/GiB, T/TiB (1024-based) or KB, MB, GB, TB (1000-based).",
}
_DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "examples": ["1ms", "2.5s"],
    "description": "A duration with a unit: ns, us, ms, s, min or h.",
}


class KeyedError(ValueError):
    """A cross-field check's failures, each at a key path relative to the model that raised it."""

    def __init__(self, problems: Sequence[tuple[Key, str]]) -> None:
        """Keep the (relative key path, message) pairs for the error translator."""
        super().__init__("; ".join(message for _, message in problems))
        self.problems = list(problems)


def _raise_problems(problems: list[tuple[Key, str]]) -> None:
    """Raise a KeyedError if any cross-field check failed."""
    if problems:
        raise KeyedError(problems)


def _shown(value: object) -> str:
    """Render an input value the way the user wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _range(kind: str, show: Callable[[int], str], lo: int, hi: int | None, positive: bool) -> AfterValidator:
    """Build a check that a parsed quantity lies within its bounds, worded in the user's units."""
    if positive:
        wanted = f"a {kind} greater than 0" + (f" and at most {show(hi)}" if hi is not None else "")
    elif hi is None:
        wanted = f"a {kind} of at least {show(lo)}"
    else:
        wanted = f"a {kind} from {show(lo)} to {show(hi)}"

    def check(amount: int) -> int:
        """Refuse the quantity outside the bounds."""
        if amount < lo or (hi is not None and amount > hi) or (positive and amount == 0):
            raise ValueError(f"expected {wanted}; got {show(amount)}")
        return amount

    return AfterValidator(check)


def size_range(lo: int = 0, hi: int | None = None, *, positive: bool = False) -> AfterValidator:
    """Limit a Size field to lo..hi bytes (or above 0), as in Annotated[Size, size_range(...)]."""
    return _range("size", format_size, lo, hi, positive)


def duration_range(lo: int = 0, hi: int | None = None) -> AfterValidator:
    """Limit a Duration field to lo..hi nanoseconds, as in Annotated[Duration, duration_range(...)]."""
    return _range("duration", format_duration, lo, hi, False)


def _auto_size(value: object) -> int | str:
    """Accept the word auto or a size."""
    return "auto" if value == "auto" else parse_size(value)


def _min_free_kbytes(value: object) -> int | str:
    """Accept the word auto or a whole number of KiB from 128 to 1048576, as the sysctl does."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 128 <= value <= 1048576):
        return value
    raise ValueError(f"expected auto or a whole number (KiB) from 128 to 1048576; got {_shown(value)}")


Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema(_SIZE_SCHEMA)]
"""A size written with a unit ("1.5GiB"), held as whole bytes."""
Duration = Annotated[int, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
"""A duration written with a unit ("2.5s"), held as whole nanoseconds."""
AutoSize = Annotated[
    int | Literal["auto"], PlainValidator(_auto_size), WithJsonSchema({"anyOf": [{"const": "auto"}, _SIZE_SCHEMA]})
]
"""A size, or the word auto for the kernel's own choice."""
MinFreeKbytes = Annotated[
    int | Literal["auto"],
    PlainValidator(_min_free_kbytes),
    WithJsonSchema({"anyOf": [{"const": "auto"}, {"type": "integer", "minimum": 128, "maximum": 1048576}]}),
]
"""vm.min_free_kbytes: a whole number of KiB, or auto for the kernel's formula."""


def _kernel_version(value: object) -> str:
    """Accept a known mainline release written as a quoted string ("6.12"); an unquoted number gets a hint."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        also = " (6.10 too, as 6.1)" if isinstance(value, float) else ""
        raise ValueError(
            f"expected a version as quoted text; got the number {value}: YAML reads unquoted versions as "
            f'numbers{also}, so quote it: kernel: "{value}"'
        )
    if not isinstance(value, str):
        known = ", ".join(kernels.KNOWN_KERNELS)
        raise ValueError(f"expected a version as quoted text, one of: {known}; got {_shown(value)}")
    try:
        return kernels.check_kernel(value)
    except kernels.KernelError as error:
        raise ValueError(str(error)) from None


def _feature_names(features: dict[str, bool]) -> dict[str, bool]:
    """Refuse feature names that are not in the kernel table (swaptui kernels lists them)."""
    known = ", ".join(kernels.FEATURE_NAMES)
    problems: list[tuple[Key, str]] = [
        (
            (name,),
            f"unknown feature '{name}'; expected one of: {known} (swaptui kernels lists them)"
            + _suggest(name, kernels.FEATURE_NAMES),
        )
        for name in features
        if name not in kernels.BY_NAME
    ]
    _raise_problems(problems)
    return features


KernelVersion = Annotated[
    str,
    PlainValidator(_kernel_version),
    WithJsonSchema({"type": "string", "enum": list(kernels.KNOWN_KERNELS)}),
]
"""A mainline release the model knows, as quoted text ("6.1")."""
Features = Annotated[
    dict[str, Annotated[bool, Field(strict=True)]],
    AfterValidator(_feature_names),
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"enum": list(kernels.FEATURE_NAMES)},
            "additionalProperties": {"type": "boolean"},
        }
    ),
]
"""Per-behaviour overrides of the kernel's defaults, by the names in swaptui.model.kernels."""


def _plain_text(allow_newlines: bool) -> AfterValidator:
    """Refuse text holding control characters (ESC, NUL ...): it is shown on terminals as it is."""

    def check(text: str) -> str:
        at = find_control(text, allow_newlines=allow_newlines)
        if at is not None:
            raise ValueError(
                f"expected text without control characters; got {describe_char(text[at])} at "
                f"character {at + 1} of {_shown(text[:40] + ('...' if len(text) > 40 else ''))}"
            )
        return text

    return AfterValidator(check)


Line = Annotated[str, _plain_text(allow_newlines=False)]
"""One line of text, without control characters."""
Text = Annotated[str, _plain_text(allow_newlines=True)]
"""Text that may span lines (newlines and tabs), without other control characters."""
Name = Annotated[str, Field(min_length=1, max_length=32, pattern=NAME_PATTERN)]
"""A short identifier: letters, digits, '_', '.' and '-'."""


def _whole(default: int, lo: int, hi: int, description: str) -> Any:
    """A strict whole-number field from lo to hi."""
    return Field(default, ge=lo, le=hi, strict=True, description=description)


def _fraction(default: float, description: str) -> Any:
    """A strict number field from 0 to 1."""
    return Field(default, ge=0.0, le=1.0, strict=True, description=description)


def _flag(default: bool, description: str) -> Any:
    """A strict true/false field."""
    return Field(default, strict=True, description=description)


class _Schema(BaseModel):
    """Base for every scenario section: unknown keys are errors, values are frozen, defaults validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _mthp_size(value: int) -> int:
    if value & (value - 1) or not 16 * 1024 <= value <= 1024 * 1024:
        raise ValueError("an mTHP size must be a power of two from 16KiB to 1MiB (orders 2 to 8)")
    return value


MthpSize = Annotated[Size, AfterValidator(_mthp_size)]


class Machine(_Schema):
    """The simulated machine: RAM, CPUs and the vm sysctls that shape reclaim."""

    memory: Annotated[Size, size_range(16 * MIB, TIB)] = Field(
        description="RAM of the simulated machine, 16MiB to 1TiB."
    )
    reserved: AutoSize = Field(
        "auto",
        description="RAM not managed by the buddy allocator (kernel image, memmap, firmware); "
        "auto derives it from memory.",
    )
    kernel_used: AutoSize = Field(
        "auto",
        description="Pages the kernel holds at boot (slab, page tables, stacks), unmovable; "
        "auto derives it from memory.",
    )
    cpus: int = _whole(4, 1, 1024, "Number of CPUs; each gives workloads, kswapd and kcompactd a time budget per tick.")
    cpu: Literal["native", "qemu-tcg"] = Field(
        "native",
        description="CPU cost profile: native (a ~3 GHz x86-64 core) or qemu-tcg (the kernel under QEMU's "
        "software emulation, as the shared traces were recorded: CPU costs slower by class, "
        "devices unchanged).",
    )
    min_free_kbytes: MinFreeKbytes = Field(
        "auto",
        description="vm.min_free_kbytes: the min watermark in KiB (128 to 1048576); auto uses the kernel's formula.",
    )
    watermark_scale_factor: int = _whole(
        10, 1, 3000, "vm.watermark_scale_factor: gap between the min, low and high watermarks, in 1/10000 of memory."
    )
    watermark_boost_factor: int = _whole(
        15000,
        0,
        100000,
        "vm.watermark_boost_factor: temporary boost of the watermarks after fragmentation events, "
        "in 1/10000 of the high watermark.",
    )
    extfrag_threshold: int = _whole(
        500, 0, 1000, "vm.extfrag_threshold: fragmentation index above which compaction is preferred to reclaim."
    )
    compaction_proactiveness: int = _whole(
        20, 0, 100, "vm.compaction_proactiveness: how hard kcompactd compacts in the background (0 = off)."
    )
    swappiness: int = _whole(60, 0, 200, "vm.swappiness: relative cost of reclaiming anonymous versus file pages.")
    thp: Literal["never", "madvise", "always"] = Field(
        "madvise", description="Transparent huge pages mode (/sys/kernel/mm/transparent_hugepage/enabled)."
    )
    thp_defrag: Literal["always", "defer", "defer+madvise", "madvise", "never"] = Field(
        "madvise",
        description="THP fault defrag (/sys/kernel/mm/transparent_hugepage/defrag): who may direct-compact "
        "for a huge page (always, or madvise: MADV_HUGEPAGE regions) and who only wakes "
        "kswapd/kcompactd (defer).",
    )
    mthp: tuple[MthpSize, ...] = Field(
        (),
        description="Anonymous mTHP sizes enabled 'always' (hugepages-<size>kB/enabled), e.g. [64KiB]: "
        "16KiB to 1MiB, powers of two. Faults try the largest enabled size first.",
    )
    vma_ra_enabled: bool = _flag(
        True, "Swap readahead by virtual address (vma_ra_enabled); false reads ahead in swap slot order."
    )
    kernel: KernelVersion = Field(
        kernels.DEFAULT_KERNEL,
        description="Mainline kernel release whose swap and reclaim behaviours to run, as quoted text: "
        f"{', '.join(kernels.KNOWN_KERNELS)} (default {kernels.DEFAULT_KERNEL}, the newest modelled). "
        "It sets the default swap.design; `swaptui kernels` lists what each release has.",
    )
    features: Features = Field(
        default_factory=dict,
        description="Overrides of single behaviours for what-if runs, {NAME: true|false}; "
        "`swaptui kernels` lists the names.",
    )

    @model_validator(mode="after")
    def _kernel_share(self) -> Machine:
        """Refuse reserved plus kernel_used reaching half of memory."""
        given = [
            (key, value)
            for key, value in (("reserved", self.reserved), ("kernel_used", self.kernel_used))
            if isinstance(value, int)
        ]
        total = sum(value for _, value in given)
        if given and total >= self.memory // 2:
            _raise_problems(
                [
                    (
                        (given[-1][0],),
                        (
                            f"reserved + kernel_used ({format_size(total)}) must be less "
                            f"than half of memory ({format_size(self.memory)})"
                        ),
                    )
                ]
            )
        return self


class SwapDevice(_Schema):
    """One swap device (swapon): a zram disk, an SSD, an HDD or persistent memory."""

    name: Name = Field(description="Device name, unique among devices (letters, digits, _ . -).")
    kind: Literal["zram", "ssd", "hdd", "pmem"] = Field(description="Backend, which sets latency and bandwidth.")
    size: Annotated[Size, size_range(2 * MIB, 64 * TIB)] = Field(
        description="Device size, 2MiB (one 512-slot cluster) to 64TiB."
    )
    priority: int = _whole(
        -1, -1, 32767, "swapon priority; -1 means assigned automatically, decreasing, as the kernel does."
    )
    discard: bool = _flag(False, "Discard freed clusters (swapon --discard).")
    compressor: Literal["lzo", "lzo-rle", "lz4", "zstd"] | None = Field(
        None,
        description="A zram device's comp_algorithm: lzo, lzo-rle, lz4 or zstd (zram only). Default lzo-rle, "
        "zram's CONFIG_ZRAM_DEF_COMP since 5.1. It sets the CPU cost of each store and load; the compressed "
        "size follows from the page contents alone.",
    )

    @model_validator(mode="after")
    def _compressor_is_zrams(self) -> SwapDevice:
        """Only a zram device compresses."""
        if self.compressor is not None and self.kind != "zram":
            _raise_problems([(("compressor",), f"only a zram device has a compressor, not a {self.kind} one")])
        return self


class Zswap(_Schema):
    """The zswap compressed cache in front of the swap devices."""

    enabled: bool = _flag(False, "Enable zswap.")
    max_pool_percent: int = _whole(20, 1, 100, "Pool limit as a percentage of RAM.")
    accept_threshold_percent: int = _whole(
        90, 0, 100, "After hitting the pool limit, accept new pages again below this percentage of it."
    )
    compressor: Literal["lz4", "lzo", "lzo-rle", "zstd"] = Field(
        "lz4", description="Compression algorithm (zswap.compressor): lz4, lzo, lzo-rle or zstd."
    )
    zpool: Literal["zsmalloc", "zbud"] | None = Field(
        None,
        description="The pool zswap stores into (zswap.zpool): zsmalloc, or zbud (2 objects a page, until "
        "6.15). Default: the kernel's CONFIG_ZSWAP_ZPOOL_DEFAULT (zbud up to 6.6, zsmalloc from 6.7).",
    )
    shrinker_enabled: bool = _flag(True, "Let the shrinker write cold zswap entries back to the device.")


class VswapOptions(_Schema):
    """Switches for optimisations proposed for the virtual swap design."""

    cache_only_bit: bool = _flag(False, "Mark swap-cache-only descriptors with a bit instead of a lookup.")
    batch_cgroup_check: bool = _flag(False, "Check cgroup limits once per batch instead of per page.")
    lookup_cache: bool = _flag(False, "Cache the last virtual-cluster lookup.")


class Swap(_Schema):
    """Swap: which design manages entries, the devices, zswap and readahead."""

    design: Design = Field(
        kernels.default_design(kernels.features_of()),
        description="Swap design: classic (XArray swap cache), swap_table, or vswap. Default: the one "
        "machine.kernel runs (swap_table from 6.18, classic before).",
    )
    devices: tuple[SwapDevice, ...] = Field((), description="Swap devices, highest priority used first; names unique.")
    zswap: Zswap = Field(default_factory=Zswap, description="zswap settings.")
    page_cluster: int = _whole(3, 0, 31, "vm.page-cluster: the swap readahead window is 2^page_cluster pages.")
    vswap: VswapOptions = Field(default_factory=VswapOptions, description="Options for the vswap design.")

    @model_validator(mode="after")
    def _unique_devices(self) -> Swap:
        """Refuse two devices with the same name."""
        _raise_problems([(("devices", i, "name"), message) for i, message in _duplicates(self.devices, "devices")])
        return self


KIND_KEYS: dict[str, tuple[str, ...]] = {
    "passes": ("usemem",),
    "random": ("usemem",),
    "free_after": ("usemem",),
    "hot_size": ("hotcold",),
    "hot_fraction": ("hotcold",),
    "zipf_s": ("zipf",),
    "zero_fraction": ("usemem", "hotcold", "zipf"),
    "same_filled_fraction": ("usemem", "hotcold", "zipf"),
    "compress_ratio": ("usemem", "hotcold", "zipf"),
    "huge": ("usemem", "hotcold", "zipf"),
    "nohugepage": ("usemem", "hotcold", "zipf"),
    "free_every": ("usemem", "slab"),
    "migratetype": ("slab",),
    "args": ("memlab", "usemem"),
}
"""Workload keys that only some kinds accept; giving one to another kind is an error."""


class Workload(_Schema):
    """A group of identical processes with one access pattern."""

    name: Name = Field(description="Workload name, unique among workloads (letters, digits, _ . -).")
    kind: Literal["usemem", "hotcold", "zipf", "filecache", "slab", "memlab"] = Field(
        description="Access pattern: usemem (touch every page, like the usemem tool), hotcold, zipf, "
        "filecache (read a file), slab (unmovable kernel allocations made on the workload's behalf), or "
        "memlab (the program that recorded traces/, run by its own command line in args)."
    )
    size: Annotated[Size, size_range(positive=True)] | None = Field(
        None,
        description="Per process: the anonymous memory each process maps; for filecache, the file size. "
        "Required, except with args (which decide the size).",
    )
    args: Annotated[str, _plain_text(False)] | None = Field(
        None,
        description="memlab (required): memlab's command line without the program name, such as "
        "'usemem --size-mb 1536 --passes 2 --entropy 0.25 --seed 12345'. usemem (instead of size, processes, "
        "passes and random): vm-scalability usemem's command line, such as '--init-time -O -y -x -n 1 56G'.",
    )
    processes: int = _whole(1, 1, 4096, "Number of processes running this workload.")
    # Defaults in the file's own units; the Duration validator turns them into ns (validate_default).
    start: Duration = Field("0s", description="When the processes start.")  # type: ignore[assignment]
    passes: int = _whole(1, 1, 1000, "usemem: 1 writes every page once; 2 writes then reads back to verify; and so on.")
    random: bool = _flag(False, "usemem: touch pages in random instead of sequential order.")
    free_after: bool = _flag(True, "usemem: unmap the memory at the end.")
    hot_size: Annotated[Size, size_range(positive=True)] | None = Field(
        None, description="hotcold (required): size of the hot set, smaller than size."
    )
    hot_fraction: float = _fraction(0.9, "hotcold: share of accesses that go to the hot set.")
    zipf_s: float = Field(
        1.1, gt=0.0, le=5.0, strict=True, description="zipf: exponent s of the popularity law, above 0, at most 5."
    )
    zero_fraction: float = _fraction(0.0, "Share of pages that are all zero.")
    same_filled_fraction: float = _fraction(0.0, "Share of pages filled with one non-zero byte (like memhog's 0xff).")
    compress_ratio: float = Field(
        2.5, ge=1.0, le=64.0, strict=True, description="Mean compression ratio of the other pages, 1 to 64."
    )
    huge: bool = _flag(
        False,
        "madvise(MADV_HUGEPAGE) on the memory: huge-page faults when machine.thp is madvise, and direct "
        "compaction for them when thp_defrag is madvise.",
    )
    nohugepage: bool = _flag(
        False, "madvise(MADV_NOHUGEPAGE) on the memory: base pages only, even where THP or mTHP sizes are 'always'."
    )
    free_every: int = _whole(
        0,
        0,
        1024,
        "usemem and slab: once every page is allocated, free every Nth one (2: every other page) and keep "
        "the rest; 0 frees nothing. Fragments physical memory.",
    )
    cgroup: Name | None = Field(
        None, description="The memory cgroup (a name under cgroups) its processes run in; default: the root."
    )
    migratetype: Literal["unmovable", "reclaimable"] = Field(
        "unmovable",
        description="slab: the pageblock type its allocations want (GFP_KERNEL: unmovable; "
        "reclaimable caches such as dentries: reclaimable; the model never shrinks them).",
    )

    @model_validator(mode="after")
    def _kind_keys(self) -> Workload:
        """Refuse keys meant for another kind, a missing or oversized hot set, and fractions over 1."""
        problems: list[tuple[Key, str]] = []
        for key in sorted(self.model_fields_set & KIND_KEYS.keys(), key=list(Workload.model_fields).index):
            kinds = KIND_KEYS[key]
            if self.kind not in kinds:
                problems.append(((key,), f"'{key}' applies only to {' and '.join(kinds)} workloads, not {self.kind}"))
        problems += self._size_or_args()
        if self.kind == "hotcold" and self.hot_size is None:
            problems.append(
                (
                    ("hot_size",),
                    "missing required key 'hot_size': a hotcold workload needs the size of its hot set, such as 256MiB",
                )
            )
        elif self.kind == "hotcold" and self.hot_size is not None and self.size and self.hot_size >= self.size:
            problems.append(
                (
                    ("hot_size",),
                    f"hot_size ({format_size(self.hot_size)}) must be smaller than size ({format_size(self.size)})",
                )
            )
        if self.zero_fraction + self.same_filled_fraction > 1.0:
            total = self.zero_fraction + self.same_filled_fraction
            problems.append(
                (("same_filled_fraction",), f"zero_fraction + same_filled_fraction must be at most 1; got {total:g}")
            )
        _raise_problems(problems)
        return self._with_usemem_args()

    def _size_or_args(self) -> list[tuple[Key, str]]:
        """args (memlab's or usemem's command line) decide the size, so take no size; without args, size is needed."""
        if self.args is None or self.kind not in ("memlab", "usemem"):  # args on another kind: refused as its key
            if self.kind == "memlab":
                example = "'usemem --size-mb 1536 --passes 2 --seed 12345'"
                return [
                    (
                        ("args",),
                        f"missing required key 'args': a memlab workload needs memlab's command line, such as {example}",
                    )
                ]
            return [] if self.size is not None else [(("size",), "missing required key 'size'")]
        problems: list[tuple[Key, str]] = []
        if self.size is not None:
            problems.append((("size",), "a workload with args takes no size: its command line's flags decide it"))
        if self.kind == "usemem":
            for key, flag in (("processes", "-n"), ("passes", "-r"), ("random", "-R")):
                if key in self.model_fields_set:
                    problems.append(((key,), f"a usemem workload with args takes no '{key}': usemem's {flag} sets it"))
        from swaptui.model.memlab import MemlabArgsError, parse_memlab_args
        from swaptui.model.usemem_args import UsememArgsError, parse_usemem_args

        try:
            parse_usemem_args(self.args) if self.kind == "usemem" else parse_memlab_args(self.args)
        except (MemlabArgsError, UsememArgsError) as error:
            problems.append((("args",), str(error)))
        return problems

    def _with_usemem_args(self) -> Workload:
        """A usemem workload with args, with size, processes, passes and random as its command line sets them."""
        if self.kind != "usemem" or self.args is None:
            return self
        from swaptui.model.usemem_args import parse_usemem_args

        a = parse_usemem_args(self.args)
        return self.model_copy(update={"size": a.size, "processes": a.nproc, "passes": a.repeat, "random": a.random})

    def mapped_bytes(self) -> int:
        """Per process: the bytes of address space the workload maps (memlab: what its command line maps)."""
        if self.kind == "memlab" and self.args is not None:
            from swaptui.model.memlab import PAGE_SIZE, parse_memlab_args

            return parse_memlab_args(self.args).npages() * PAGE_SIZE
        assert self.size is not None
        return self.size


CGROUP_V2_FILES: dict[str, str] = {
    "memory.max": "the hard limit: a charge over it reclaims in the charging task, then OOM-kills in the cgroup",
    "memory.high": "the throttle limit: over it, tasks reclaim and sleep on their way back to user space",
    "memory.low": "best-effort protection from reclaim while usage is under it",
    "memory.min": "hard protection from reclaim while usage is under it",
    "memory.swap.max": "the swap limit: swap-out is refused when the cgroup's swap use would exceed it",
    "memory.zswap.max": "the zswap limit: zswap stores are refused over it",
    "memory.zswap.writeback": "0 or 1: whether zswap entries may be written back to the device",
}
"""The cgroup v2 memory controller's files a scenario may set (Documentation/admin-guide/cgroup-v2.rst)."""
CGROUP_V1_FILES: dict[str, str] = {
    "memory.limit_in_bytes": "the memory limit: a charge over it reclaims in the charging task, then OOM-kills",
    "memory.memsw.limit_in_bytes": "the memory+swap limit: memory and swap charged together",
    "memory.swappiness": "0 to 200: the cgroup's own swappiness for its reclaim",
    "memory.soft_limit_in_bytes": "the soft limit (kept, not modelled: soft-limit reclaim is not built)",
}
"""The cgroup v1 memory controller's files a scenario may set (Documentation/admin-guide/cgroup-v1/memory.rst)."""
CGROUP_MAX = -1
"""A limit written as max (v2) or -1 (v1): PAGE_COUNTER_MAX, no limit."""
_CGROUP_KEYS = ("name", "version", "parent")


def _cgroup_value(key: str, value: object, version: int) -> int:
    """A cgroup file's value as the kernel's write handler takes it: bytes (a count, or with a K/M/G/T suffix as
    memparse reads it, or the project's KiB/MiB/GiB units) or max (v1: -1) as CGROUP_MAX; memory.swappiness a
    number from 0 to 200 (mem_cgroup_swappiness_write), memory.zswap.writeback 0 or 1."""
    if key == "memory.swappiness":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 200:
            return value
        raise ValueError(f"expected a whole number from 0 to 200; got {_shown(value)}")
    if key == "memory.zswap.writeback":
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        raise ValueError(f"expected 0 or 1; got {_shown(value)}")
    unlimited = "max or -1" if version == 1 else "max"
    if value == "max" or (version == 1 and value in (-1, "-1")):
        return CGROUP_MAX
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"expected a byte count of at least 0 or {unlimited}; got {value}")
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        return int(value)
    try:
        return parse_size(value)
    except ValueError:
        raise ValueError(
            f"expected {unlimited}, a byte count or a size such as 3G or 512MiB; got {_shown(value)}"
        ) from None


class Cgroup(_Schema):
    """A memory cgroup, its limits written with the kernel's own file names as keys."""

    name: Name = Field(description="Cgroup name, unique among cgroups (letters, digits, _ . -); not 'root'.")
    version: Literal[1, 2] = Field(2, description="Memory controller version: 2 (the default) or 1.")
    parent: Name | None = Field(None, description="The cgroup it is nested in; default: the root.")
    files: dict[str, int] = Field(
        default_factory=dict,
        description="The controller files set (filled from the cgroup's own keys, such as memory.max).",
        exclude=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _file_keys(cls, data: Any) -> Any:
        """Gather the controller files (memory.max, memory.limit_in_bytes ...) into `files`, each checked."""
        if not isinstance(data, dict):
            return data
        version = data.get("version", 2)
        own, other = (CGROUP_V1_FILES, CGROUP_V2_FILES) if version == 1 else (CGROUP_V2_FILES, CGROUP_V1_FILES)
        problems: list[tuple[Key, str]] = []
        files: dict[str, int] = {}
        rest: dict[str, Any] = {}
        for key, value in data.items():
            if key in _CGROUP_KEYS:
                rest[key] = value
            elif version not in (1, 2):
                continue  # the version's own error says what is wrong
            elif key in own:
                try:
                    files[key] = _cgroup_value(key, value, version)
                except ValueError as error:
                    problems.append(((key,), str(error)))
            elif key in other:
                if version == 1:
                    hint = "this cgroup is version 1 (remove version: 1 to use v2 files)"
                else:
                    hint = "this cgroup is version 2 (add version: 1 to use v1 files)"
                problems.append(((key,), f"'{key}' is a cgroup v{3 - version} file; {hint}"))
            else:
                names = [*_CGROUP_KEYS, *own]
                problems.append(
                    (
                        (key,),
                        f"unknown key '{key}'" + (_suggest(key, names) or f"; expected one of: {', '.join(names)}"),
                    )
                )
        _raise_problems(problems)
        return {**rest, "files": files}

    def limit(self, key: str) -> int:
        """The value of one file: as set, or the kernel's default (max for limits, 0 for protection)."""
        if key in self.files:
            return self.files[key]
        if key in ("memory.low", "memory.min"):
            return 0
        if key == "memory.swappiness":
            return -1  # not set: the parent's (vm.swappiness at the top)
        if key == "memory.zswap.writeback":
            return 1
        return CGROUP_MAX


class Event(_Schema):
    """A scripted action at a given time."""

    at: Duration = Field(description="When to act, within the scenario's duration.")
    do: Literal["compact", "drop_caches", "pause", "reclaim"] = Field(
        description="compact (echo 1 > /proc/sys/vm/compact_memory), drop_caches, pause the player, or reclaim "
        "(echo AMOUNT > memory.reclaim of a cgroup)."
    )
    cgroup: Name | None = Field(None, description="reclaim: the cgroup whose memory.reclaim is written.")
    amount: Annotated[Size, size_range(positive=True)] | None = Field(
        None, description="reclaim (required): how much to reclaim, such as 100MiB."
    )
    swappiness: int | None = Field(
        None, ge=0, le=200, strict=True, description="reclaim: memory.reclaim's swappiness= argument, 0 to 200."
    )

    @model_validator(mode="after")
    def _reclaim_keys(self) -> Event:
        """cgroup, amount and swappiness belong to reclaim; reclaim needs cgroup and amount."""
        problems: list[tuple[Key, str]] = []
        for key in ("cgroup", "amount", "swappiness"):
            if self.do != "reclaim" and key in self.model_fields_set:
                problems.append(((key,), f"'{key}' applies only to do: reclaim, not {self.do}"))
        if self.do == "reclaim":
            for key, example in (("cgroup", "build"), ("amount", "100MiB")):
                if getattr(self, key) is None:
                    problems.append(((key,), f"missing required key '{key}': reclaim needs one, such as {example}"))
        _raise_problems(problems)
        return self


class Caption(_Schema):
    """A line of narration shown in the app from `at` until `until` (or the next caption)."""

    at: Duration = Field(description="When the caption appears.")
    text: Text = Field(min_length=1, max_length=300, description="The narration, 1 to 300 characters.")
    until: Duration | None = Field(
        None, description="When the caption disappears, after at; default: at the next caption."
    )

    @model_validator(mode="after")
    def _until_after_at(self) -> Caption:
        """Refuse a caption that ends before it starts."""
        if self.until is not None and self.until <= self.at:
            _raise_problems(
                [(("until",), f"until ({format_duration(self.until)}) must be after at ({format_duration(self.at)})")]
            )
        return self


def _trigger(text: str) -> str:
    """Parse an `on:` expression at load, so a bad one is an error naming its line (story.parse_trigger)."""
    from swaptui.model.story import TriggerError, parse_trigger

    try:
        parse_trigger(text)
    except TriggerError as error:
        raise ValueError(str(error)) from None
    return text


def _beat_text(text: str) -> str:
    """Check a beat's {counter} placeholders."""
    from swaptui.model.story import TriggerError, check_text

    try:
        check_text(text)
    except TriggerError as error:
        raise ValueError(str(error)) from None
    return text


def _counter_name(name: str) -> str:
    """Accept a counter the counters pane lists."""
    from swaptui.model.vmstat import NAMES

    if name not in NAMES:
        raise ValueError(
            f"unknown counter {name!r}; expected a /proc/vmstat name as the counters pane shows it"
            + _suggest(name, NAMES)
        )
    return name


class Beat(_Schema):
    """One step of a story: it fires once, in order, at the first tick its trigger (at or on) holds."""

    at: Duration | None = Field(None, description="Fire at this simulated time (or use on:).")
    on: Annotated[Line, AfterValidator(_trigger)] | None = Field(
        None,
        max_length=200,
        description="Fire on what the model does: an event (kswapd_wake, allocstall, oom_kill, or a counter that "
        "grows), first EVENT, a comparison (pswpout >= 100000) or phase == NAME; terms joined by and.",
    )
    text: Annotated[Text, AfterValidator(_beat_text)] = Field(
        min_length=1, max_length=300, description="The narration, 1 to 300 characters; {counter} shows its value."
    )
    pane: (
        Literal["memory", "watermarks", "clusters", "xarray", "caches", "fragmentation", "counters", "events", "tasks"]
        | None
    ) = Field(None, description="The pane the beat speaks of: highlighted while it is the current beat.")
    counter: Annotated[str, AfterValidator(_counter_name)] | None = Field(
        None, description="The counter the beat speaks of: highlighted in the counters pane."
    )
    pause: bool = _flag(False, "Pause the model when the beat fires.")

    @model_validator(mode="after")
    def _one_trigger(self) -> Beat:
        """A beat fires on a time or on an expression: exactly one of them."""
        if (self.at is None) == (self.on is None):
            _raise_problems([((), "expected exactly one of at: (a time) or on: (an expression)")])
        return self


class Scenario(_Schema):
    """A complete scenario: the machine, its swap, the workloads, and a script of events and captions."""

    name: Line = Field(min_length=1, max_length=200, description="Title shown in the app and reports.")
    description: Text = Field("", max_length=10_000, description="What the scenario shows and what to watch for.")
    seed: int = Field(1, ge=0, strict=True, description="Seed for every random choice; same seed, same run.")
    tick: Annotated[Duration, duration_range(10 * US, 100 * MS)] = Field(  # type: ignore[assignment]
        "1ms", description="Simulated time per step, 10us to 100ms."
    )
    duration: Annotated[Duration, duration_range(10 * US, 3600 * S)] = Field(  # type: ignore[assignment]
        "10s", description=f"Simulated run time: at least one tick, at most 1h and {MAX_TICKS} ticks."
    )
    machine: Machine = Field(description="The simulated machine.")
    swap: Swap = Field(default_factory=Swap, description="Swap design, devices and zswap.")
    workloads: tuple[Workload, ...] = Field(
        min_length=1,
        max_length=MAX_WORKLOADS,
        description=f"The processes that use memory; at least one, at most {MAX_WORKLOADS} workloads and "
        f"{MAX_PROCESSES} processes in all.",
    )
    cgroups: tuple[Cgroup, ...] = Field(
        (),
        max_length=64,
        description="Memory cgroups (one controller version for all), at most 64; workloads name theirs with cgroup.",
    )
    events: tuple[Event, ...] = Field((), description="Scripted actions at given times.")
    captions: tuple[Caption, ...] = Field(
        (), description="Narration shown in the app at given times (the older form of beats)."
    )
    beats: tuple[Beat, ...] = Field(
        (), max_length=100, description="A story: narration that fires on what the model does, one beat at a time."
    )
    compare: tuple[Design, ...] | None = Field(
        None, min_length=2, max_length=3, description="Swap designs to run side by side (2 or 3, all different)."
    )

    @model_validator(mode="before")
    @classmethod
    def _kernel_design(cls, data: Any) -> Any:
        """Default swap.design to the design machine.kernel runs (its features applied), when not given."""
        if not isinstance(data, dict):
            return data
        machine, swap = data.get("machine"), data.get("swap", {})
        if not isinstance(machine, dict) or not isinstance(swap, dict) or "design" in swap:
            return data
        try:
            features = kernels.features_of(machine.get("kernel", kernels.DEFAULT_KERNEL), machine.get("features"))
        except (kernels.KernelError, TypeError, AttributeError, ValueError):
            return data  # the field validators say what is wrong
        return {**data, "swap": {**swap, "design": kernels.default_design(features)}}

    @property
    def ticks(self) -> int:
        """Number of ticks the scenario runs."""
        return self.duration // self.tick

    @model_validator(mode="after")
    def _whole_scenario(self) -> Scenario:
        """Check what spans sections: unique names, tick count, and times within the duration."""
        problems: list[tuple[Key, str]] = [
            (("workloads", i, "name"), message) for i, message in _duplicates(self.workloads, "workloads")
        ]
        processes = sum(workload.processes for workload in self.workloads)
        if processes > MAX_PROCESSES:
            problems.append(
                (
                    ("workloads",),
                    (
                        f"the workloads run {processes} processes in all; at most "
                        f"{MAX_PROCESSES} are allowed (the model keeps state for each and "
                        "steps every one every tick)"
                    ),
                )
            )
        end = format_duration(self.duration)
        if self.duration < self.tick:
            problems.append(
                (("duration",), f"duration ({end}) must be at least one tick ({format_duration(self.tick)})")
            )
        elif self.ticks > MAX_TICKS:
            problems.append(
                (
                    ("duration",),
                    (
                        f"{end} at a tick of {format_duration(self.tick)} is {self.ticks} ticks; "
                        f"at most {MAX_TICKS} are allowed, so use a longer tick or a shorter "
                        "duration"
                    ),
                )
            )
        times: list[tuple[Key, str, int | None]] = [
            *((("workloads", i, "start"), "start", workload.start) for i, workload in enumerate(self.workloads)),
            *((("events", i, "at"), "at", event.at) for i, event in enumerate(self.events)),
            *((("captions", i, "at"), "at", caption.at) for i, caption in enumerate(self.captions)),
            *((("captions", i, "until"), "until", caption.until) for i, caption in enumerate(self.captions)),
            *((("beats", i, "at"), "at", beat.at) for i, beat in enumerate(self.beats)),
        ]
        if self.beats and self.captions:
            problems.append((("captions",), "a scenario has beats or captions, not both; move the captions to beats"))
        for path, key, when in times:
            if when is not None and path[0] == "workloads" and when >= self.duration:
                problems.append(
                    (path, f"{key} ({format_duration(when)}) must be before the end of the scenario ({end})")
                )
            elif when is not None and when > self.duration:
                problems.append((path, f"{key} ({format_duration(when)}) is after the end of the scenario ({end})"))
        if self.swap.zswap.zpool == "zbud":
            try:
                has_zbud = kernels.features_of(self.machine.kernel, self.machine.features)["zbud"]
            except kernels.KernelError:
                has_zbud = True  # the machine's own validators report a bad kernel or feature
            if not has_zbud:
                problems.append(
                    (
                        ("swap", "zswap", "zpool"),
                        (
                            f"kernel {self.machine.kernel} has no zbud (removed in 6.15, 'mm: zbud: remove zbud'); "
                            "expected zsmalloc, or machine.kernel before 6.15"
                        ),
                    )
                )
        problems += self._cgroup_tree()
        for i, design in enumerate(self.compare or ()):
            if design in (self.compare or ())[:i]:
                problems.append(
                    (("compare", i), f"design '{design}' is listed twice; compare needs 2 or 3 different designs")
                )
        _raise_problems(problems)
        return self

    def _cgroup_tree(self) -> list[tuple[Key, str]]:
        """Cgroup names unique and not 'root', one version, parents that exist and no cycles, known workload cgroups."""
        problems: list[tuple[Key, str]] = [
            (("cgroups", i, "name"), message) for i, message in _duplicates(self.cgroups, "cgroups")
        ]
        names = {cg.name: i for i, cg in enumerate(self.cgroups)}
        for i, cg in enumerate(self.cgroups):
            if cg.name == "root":
                problems.append(
                    (("cgroups", i, "name"), "'root' is the root cgroup, which is always there; pick another name")
                )
            if cg.version != self.cgroups[0].version:
                problems.append(
                    (
                        ("cgroups", i, "version"),
                        (
                            f"one cgroup version per scenario: cgroups[0] is version {self.cgroups[0].version}, "
                            f"this one {cg.version}"
                        ),
                    )
                )
            if cg.parent is not None and cg.parent != "root" and cg.parent not in names:
                problems.append(
                    (("cgroups", i, "parent"), f"unknown cgroup '{cg.parent}'" + _suggest(cg.parent, list(names)))
                )
        for i, cg in enumerate(self.cgroups):
            seen = {cg.name}
            up = cg.parent
            while up is not None and up in names:
                if up in seen:
                    problems.append((("cgroups", i, "parent"), f"cgroup '{cg.name}' is its own ancestor (a cycle)"))
                    break
                seen.add(up)
                up = self.cgroups[names[up]].parent
        for i, ev in enumerate(self.events):
            if ev.cgroup is not None and ev.cgroup != "root" and ev.cgroup not in names:
                problems.append(
                    (("events", i, "cgroup"), f"unknown cgroup '{ev.cgroup}'" + _suggest(ev.cgroup, list(names)))
                )
        for i, w in enumerate(self.workloads):
            if w.cgroup is not None and w.cgroup != "root" and w.cgroup not in names:
                hint = _suggest(w.cgroup, list(names)) or (
                    f"; the cgroups are: {', '.join(names)}" if names else "; the scenario lists no cgroups"
                )
                problems.append((("workloads", i, "cgroup"), f"unknown cgroup '{w.cgroup}'{hint}"))
        return problems


def _duplicates(items: Sequence[SwapDevice | Workload | Cgroup], key: str) -> Iterator[tuple[int, str]]:
    """Yield (index, message) for each item whose name an earlier item in the list already uses."""
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.name in first:
            yield i, f"duplicate name '{item.name}' (first used by {key}[{first[item.name]}])"
        else:
            first[item.name] = i


def scenario_json_schema() -> dict[str, Any]:
    """Return the JSON schema of a scenario file, for editors and documentation."""
    schema = Scenario.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem in a scenario file, located by line and column (1-based, when known) and key path."""

    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        """Format as FILE:LINE:COL: key.path: message, leaving out what is unknown; one line, control
        characters from the file shown as escapes."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return printable(text)


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found, one per line."""

    def __init__(self, issues: Sequence[ScenarioIssue]) -> None:
        """Keep the issues; the message is one line per issue."""
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def one(cls, filename: str, line: int | None, column: int | None, key: str, message: str) -> ScenarioError:
        """A scenario error with a single issue."""
        return cls([ScenarioIssue(filename, line, column, key, message)])


def format_key(path: Key) -> str:
    """Format a key path as the user would name it, like workloads[0].size."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


Position = tuple[int, int]


@dataclass
class _Marks:
    """Where each key and each value starts in the YAML text, by key path."""

    values: dict[Key, Position]
    keys: dict[Key, Position]

    def value(self, path: Key) -> Position | None:
        """Position of the value at path, or of the closest enclosing value that exists in the file."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path)

    def key(self, path: Key) -> Position | None:
        """Position of the key naming path, or of its value when it has no key (a list item)."""
        return self.keys.get(path) or self.value(path)


def _start(node: yaml.Node) -> Position:
    """The 1-based line and column where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _index(node: yaml.Node, filename: str) -> tuple[_Marks, list[ScenarioIssue]]:
    """Record the position of every key path and report keys given twice in one mapping."""
    marks = _Marks({}, {})
    issues: list[ScenarioIssue] = []

    def walk(node: yaml.Node, path: Key, ancestors: frozenset[int]) -> None:
        """Visit one node and its children; aliases that loop back are not followed."""
        if id(node) in ancestors:
            return
        ancestors = ancestors | {id(node)}
        marks.values[path] = _start(node)
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i), ancestors)
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                name = key_node.value
                line, column = _start(key_node)
                if name in first:
                    issues.append(
                        ScenarioIssue(
                            filename,
                            line,
                            column,
                            format_key((*path, name)),
                            f"duplicate key '{name}' (first given on line {first[name]})",
                        )
                    )
                else:
                    first[name] = line
                marks.keys[(*path, name)] = (line, column)
                walk(value_node, (*path, name), ancestors)

    walk(node, (), frozenset())
    return marks, issues


class _Position(Protocol):
    """Where a YAML event starts (yaml.error.Mark, or the C loader's own Mark)."""

    line: int
    column: int


class _LimitHit(Exception):
    """A size limit of scenario files was reached while composing; the mark says where."""

    def __init__(self, mark: _Position | None, message: str, key: str = "") -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.key = key


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that counts while it composes, so a file is refused before its values are built: nesting
    depth, aliases, and values with every alias expanded (what the constructor and the schema would walk)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._expanded = 0
        self._aliases = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded (set once it is complete)
        self._path: list[str | int] = []  # the key path being composed, for the error message

    def _limit(self, mark: _Position | None, message: str) -> _LimitHit:
        return _LimitHit(mark, message, format_key(tuple(part for part in self._path if part != "")))

    def _count(self, amount: int, mark: _Position | None) -> None:
        self._expanded += amount
        if self._expanded > MAX_NODES:
            raise self._limit(
                mark,
                f"too many values: the limit is {MAX_NODES:,} keys, items and scalars "
                "(aliases expanded); a scenario needs far fewer",
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node, refusing it when a limit is reached."""
        event = self.peek_event()
        if isinstance(index, yaml.ScalarNode):
            self._path.append(index.value)  # a mapping's value, under its key
        elif isinstance(index, int) and not isinstance(index, bool):
            self._path.append(index)
        else:
            self._path.append("")  # the document, or a mapping key
        try:
            node = self._compose_counted(event, parent, index)
        finally:
            self._path.pop()
        if (
            isinstance(parent, yaml.MappingNode)
            and index is None
            and isinstance(node, yaml.ScalarNode)
            and node.style is None
            and node.value in ("on", "On", "ON")
        ):
            node.tag = "tag:yaml.org,2002:str"  # a beat's `on:` key; YAML 1.1 would read it as true
        return node

    def _compose_counted(self, event: yaml.Event, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise self._limit(
                        event.start_mark, f"too many aliases: the limit is {MAX_ALIASES} (*name) in one file"
                    )
                size = self._sizes.get(id(node))
                if size is None:
                    raise self._limit(
                        event.start_mark,
                        f"the alias *{event.anchor} is inside the value it names "
                        "(&"
                        f"{event.anchor}); a scenario cannot contain itself",
                    )
                self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._limit(
                event.start_mark, f"nested too deeply: the limit is {MAX_DEPTH} levels of lists and mappings"
            )
        self._count(1, event.start_mark)
        before = self._expanded
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._expanded - before + 1
        return node


def scenario_data(text: str, filename: str) -> Any:
    """A scenario file's YAML as plain data, read as load_scenario reads it (a beat's `on:` key stays the
    text `on`, limits apply), for callers that vary keys before validating (sweep, side by side)."""
    return _parse_yaml(text, filename)[1]


def _parse_yaml(text: str, filename: str) -> tuple[yaml.Node | None, Any]:
    """Compose and construct the single YAML document, turning syntax errors and limits into located issues."""
    loader: _LimitedLoader | None = None
    try:
        loader = _LimitedLoader(text)  # the reader refuses unprintable characters here
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except _LimitHit as error:
        raise ScenarioError.one(
            filename,
            error.mark.line + 1 if error.mark else None,
            error.mark.column + 1 if error.mark else None,
            error.key,
            error.message,
        ) from None
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text, error.position)
        raise ScenarioError.one(
            filename,
            line,
            column,
            "",
            f"character {describe_char(chr(error.character))}"
            if isinstance(error.character, int)
            else "cannot read the text",
        ) from None
    except RecursionError:
        raise ScenarioError.one(
            filename,
            None,
            None,
            "",
            f"nested too deeply: the limit is {MAX_DEPTH} levels of lists and mappings",
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "cannot parse"
        message = f"invalid YAML: {problem}" + (f" ({error.context})" if error.context else "")
        raise ScenarioError.one(
            filename,
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
            "",
            message,
        ) from None
    except yaml.YAMLError as error:
        raise ScenarioError.one(filename, None, None, "", f"invalid YAML: {error}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _line_column(text: str, position: int) -> tuple[int, int]:
    """The 1-based line and column of a character index."""
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start + 1


def _check_characters(text: str, filename: str) -> None:
    """Refuse control characters (NUL, ESC ...) anywhere in the file, naming the first one's line and column."""
    at = find_control(text.removeprefix("\ufeff"))
    if at is None:
        return
    at += text.startswith("\ufeff")
    line, column = _line_column(text, at)
    count = sum(1 for _ in re.finditer("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text))
    more = f" ({count} in the file)" if count > 1 else ""
    raise ScenarioError.one(
        filename,
        line,
        column,
        "",
        f"control character {describe_char(text[at])} is not allowed in a scenario file{more}; expected YAML text",
    )


def _unwrap(annotation: Any) -> Any:
    """Drop None from an optional annotation."""
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return args[0] if len(args) == 1 else annotation
    return annotation


def _schema_at(loc: Key) -> tuple[Any, FieldInfo | None]:
    """Follow a pydantic error location through the models to the annotation and field it names."""
    current: Any = Scenario
    field: FieldInfo | None = None
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, str) and isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None, None
            current = field.annotation
        elif isinstance(part, int) and typing.get_origin(current) in (tuple, list):
            current, field = typing.get_args(current)[0], None
        else:
            return None, None
    return _unwrap(current), field


def _number(value: float) -> str:
    """Show a bound without a needless .0."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds_in_words(field: FieldInfo | None) -> str:
    """Describe a field's numeric bounds in words, such as ' from 0 to 200'."""
    bounds: dict[str, Any] = {}
    for item in field.metadata if field is not None else ():
        for name in ("ge", "gt", "le", "lt"):
            if getattr(item, name, None) is not None:
                bounds[name] = getattr(item, name)
    low = ("ge", bounds["ge"]) if "ge" in bounds else ("gt", bounds["gt"]) if "gt" in bounds else None
    high = ("le", bounds["le"]) if "le" in bounds else ("lt", bounds["lt"]) if "lt" in bounds else None
    if low and high and low[0] == "ge" and high[0] == "le":
        return f" from {_number(low[1])} to {_number(high[1])}"
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
    parts = [f"{words[name]} {_number(value)}" for name, value in (bound for bound in (low, high) if bound)]
    if len(parts) == 1 and parts[0].startswith("at "):
        return f" of {parts[0]}"
    return " " + " and ".join(parts) if parts else ""


def _suggest(word: object, options: Sequence[str]) -> str:
    """Suggest the closest option to a mistyped word, or nothing."""
    close = difflib.get_close_matches(str(word), options, n=1) if isinstance(word, str) else []
    return f"; did you mean '{close[0]}'?" if close else ""


def _message(error: Any, loc: Key) -> str:
    """Rewrite one pydantic error as what was expected, in plain words."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    got = f"; got {_shown(value)}"
    annotation, field = _schema_at(loc)
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        owner = _schema_at(loc[:-1])[0]
        names = list(owner.model_fields) if isinstance(owner, type) and issubclass(owner, BaseModel) else []
        hint = _suggest(loc[-1], names) or (f"; expected one of: {', '.join(names)}" if names else "")
        return f"unknown key '{loc[-1]}'{hint}"
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"])
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of: {', '.join(options)}{got}{_suggest(value, options)}"
    if kind in (
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "finite_number",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
    ):
        noun = "a whole number" if annotation is int else "a number"
        return f"expected {noun}{_bounds_in_words(field)}{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false{got}"
    if kind == "string_type":
        return f"expected text{got}"
    if kind == "string_too_short":
        shortest = ctx.get("min_length")
        return "must not be empty" if shortest == 1 else f"expected at least {shortest} characters"
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters; got {len(str(value))}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        return f"expected a name made of letters, digits, '_', '.' and '-'{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values{got}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"expected a list{got}"
    if kind in ("too_short", "too_long"):
        limit = f"at least {ctx.get('min_length')}" if kind == "too_short" else f"at most {ctx.get('max_length')}"
        noun = "entry" if limit.endswith(" 1") else "entries"
        return f"expected {limit} {noun}; got {ctx.get('actual_length')}"
    return re.sub(r"^Input should be", "expected", str(error["msg"]))


def _issues_from(error: ValidationError, filename: str, marks: _Marks) -> list[ScenarioIssue]:
    """Translate pydantic's errors into located issues, expanding cross-field checks into their keys."""
    details = error.errors()
    locs = [tuple(detail["loc"]) for detail in details]
    enclosing = {loc[:n] for loc in locs for n in range(len(loc))}  # every key path with a failure inside it
    issues: list[ScenarioIssue] = []

    def add(loc: Key, message: str, kind: str) -> None:
        """Locate one problem: a missing key at its parent, an unknown key at itself, else at its value."""
        if kind == "missing":
            parent = loc[:-1]
            position = marks.key(parent) if parent and isinstance(parent[-1], str) else marks.value(parent)
        elif kind == "extra_forbidden":
            position = marks.key(loc)
        else:
            position = marks.value(loc)
            if position is None and loc and isinstance(loc[-1], str):  # a key that is absent: at its parent
                parent = loc[:-1]
                position = marks.key(parent) if parent and isinstance(parent[-1], str) else marks.value(parent)
        line, column = position if position is not None else (None, None)
        issues.append(ScenarioIssue(filename, line, column, format_key(loc), message))

    for detail, loc in zip(details, locs):
        kind = detail["type"]
        if kind in ("too_short", "too_long") and loc in enclosing:
            continue  # pydantic counts only the items that validated, so the count would mislead
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, KeyedError):
            for sub, message in cause.problems:
                add((*loc, *sub), message, kind)
        else:
            add(loc, _message(detail, loc), kind)
    return issues


def _check_fits(scenario: Scenario, filename: str, marks: _Marks, available: Callable[[], int] | None) -> None:
    """Refuse, before anything is allocated, a scenario whose model would not fit: more than a share of this
    host's available memory, or more than swaptui's fixed limit for one model (footprint.state_limit)."""
    from swaptui.model import footprint

    need = footprint.estimate_state_bytes(scenario)
    have = (available or footprint.available_memory_bytes)()
    limit, why = footprint.state_limit(have)
    if need <= limit:
        return
    parts = footprint.estimate_parts(scenario)
    path: Key = ("machine", "memory")
    largest = max(parts, key=lambda part: parts[part])
    per_workload = [footprint.workload_bytes(scenario, w) for w in scenario.workloads]
    biggest = per_workload.index(max(per_workload))
    if largest == "swap_slots":
        sizes = [device.size for device in scenario.swap.devices]
        path = ("swap", "devices", sizes.index(max(sizes)), "size")
    elif largest == "workloads":
        w = scenario.workloads[biggest]
        pages_part = per_workload[biggest] - w.processes * footprint.PROCESS_BYTES
        path = ("workloads", biggest, "size" if pages_part >= w.processes * footprint.PROCESS_BYTES else "processes")
    names = {"frames": "page frames", "swap_slots": "swap slots", "workloads": "workloads", "overhead": "fixed"}
    detail = ", ".join(f"{names.get(part, part)} {format_size(amount)}" for part, amount in parts.items())
    if len(per_workload) > 1:
        detail += (
            f"; the largest workload, workloads[{biggest}] {scenario.workloads[biggest].name!r}, "
            f"{format_size(per_workload[biggest])}"
        )
    position = marks.value(path)
    line, column = position if position is not None else (None, None)
    message = (
        f"the model would need about {format_size(need)} of this host's memory ({detail}), "
        f"but the limit is {format_size(limit)} ({why}; this machine has {format_size(have)} available); "
        "make this smaller"
    )
    raise ScenarioError.one(filename, line, column, format_key(path), message)


def load_scenario_text(
    text: str,
    filename: str = "<string>",
    *,
    available_memory: Callable[[], int] | None = None,
    check_memory: bool = True,
) -> Scenario:
    """Parse and validate scenario YAML, raising ScenarioError with every problem located by line and key."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError.one(
            filename,
            None,
            None,
            "",
            f"the file is too big: {len(text):,} characters, and the limit is {format_size(MAX_FILE_BYTES)}",
        )
    _check_characters(text, filename)
    node, data = _parse_yaml(text, filename)
    if node is None:
        raise ScenarioError.one(
            filename,
            None,
            None,
            "",
            "the file is empty; expected a scenario with at least name, machine and workloads",
        )
    marks, issues = _index(node, filename)
    if not isinstance(data, dict):
        line, column = _start(node)
        raise ScenarioError.one(
            filename,
            line,
            column,
            "",
            f"expected a mapping of keys such as name, machine and workloads at the top level; got {_shown(data)}",
        )
    return validate_data(data, filename, marks, issues, available_memory=available_memory, check_memory=check_memory)


def validate_data(
    data: dict[str, Any],
    filename: str,
    marks: _Marks | None = None,
    issues: list[ScenarioIssue] | None = None,
    *,
    available_memory: Callable[[], int] | None = None,
    check_memory: bool = True,
) -> Scenario:
    """Validate parsed scenario data (a file's, or one with `--set` values put in), raising ScenarioError with
    every problem; `marks` locates them by line in the file the data came from (without, by key only)."""
    marks = marks if marks is not None else _Marks({}, {})
    issues = list(issues or ())
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        issues += _issues_from(error, filename, marks)
    if issues or scenario is None:
        issues.sort(key=lambda issue: (issue.line or 0, issue.column or 0))
        if len(issues) > MAX_ISSUES_SHOWN:
            hidden = len(issues) - MAX_ISSUES_SHOWN + 1
            issues[MAX_ISSUES_SHOWN - 1 :] = [
                ScenarioIssue(filename, None, None, "", f"and {hidden:,} more problems (not shown)")
            ]
        raise ScenarioError(issues)
    if check_memory:
        _check_fits(scenario, filename, marks, available_memory)
    return scenario


def load_scenario(
    path: str | os.PathLike[str], *, available_memory: Callable[[], int] | None = None, check_memory: bool = True
) -> Scenario:
    """Read, parse and validate a scenario file, raising ScenarioError that names the file, line and key."""
    filename = os.fsdecode(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ScenarioError.one(
                filename,
                None,
                None,
                "",
                f"the file is too big: more than {format_size(MAX_FILE_BYTES)}, the limit for scenario files",
            )
        text = data.decode("utf-8")
    except FileNotFoundError:
        problem = "no such file"
    except IsADirectoryError:
        problem = "this is a directory, not a scenario file"
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ScenarioError.one(
            filename, line, None, "", f"not UTF-8 text (bad byte at offset {error.start})"
        ) from None
    except OSError as error:
        problem = f"cannot read the file: {error.strerror or error}"
    else:
        return load_scenario_text(text, filename, available_memory=available_memory, check_memory=check_memory)
    raise ScenarioError.one(filename, None, None, "", problem)
