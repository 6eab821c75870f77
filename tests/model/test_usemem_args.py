"""vm-scalability usemem's command line for `kind: usemem` with `args:`: getopt_long's reading, and the run."""

from __future__ import annotations

import pytest

from swaptui.model.usemem_args import UsememArgs, UsememArgsError, memparse, parse_usemem_args
from swaptui.units import GIB, MIB


def test_the_lkml_command_lines() -> None:
    assert parse_usemem_args("--init-time -O -y -x -n 1 56G") == UsememArgs(size=56 * GIB)
    assert parse_usemem_args("-O -R -n 4 -s 10 1g") == UsememArgs(size=GIB, nproc=4, random=True, sleep_s=10)
    assert parse_usemem_args("-w -q -r 3 512m") == UsememArgs(size=512 * MIB, repeat=3)


def test_getopt_forms() -> None:
    """Bundled short flags, attached values, --name=value, and the size before the flags."""
    assert parse_usemem_args("-Oyxn2 1G") == UsememArgs(size=GIB, nproc=2)
    assert parse_usemem_args("1G --nproc=3 --repeat 2 --random") == UsememArgs(size=GIB, nproc=3, repeat=2, random=True)
    assert parse_usemem_args("-- 4096") == UsememArgs(size=4096)


def test_memparse_units() -> None:
    assert memparse("4096") == 4096  # bare numbers are bytes
    assert (memparse("8k"), memparse("3M"), memparse("2g"), memparse("1T")) == (8 << 10, 3 << 20, 2 << 30, 1 << 40)
    assert memparse("0x1000") == 4096 and memparse("010") == 8  # strtoull base 0


BAD = [
    ("-n 1", "expected one size"),
    ("1G 2G", "got '1G', '2G'"),
    ("1.5G", "expected usemem's size"),
    ("56GiB", "expected usemem's size"),
    ("100", "at least one page"),
    ("-n", "-n: missing value"),
    ("--nproc", "--nproc: missing value"),
    ("-n x 1G", "-n: expected a whole number of processes"),
    ("-n 0 1G", "from 1 to 4096"),
    ("-r 0 1G", "-r: expected a whole number of passes"),
    ("-s -1 1G", "-s: expected a whole number of seconds"),
    ("-K 1G", "unknown usemem flag '-K'"),
    ("--frob 1G", "unknown usemem flag '--frob'"),
    ("-F 1G", "usemem flag -F (--prefault) is not modelled"),
    ("-o 1G", "usemem flag -o (--readonly) is not modelled"),
    ("--mlock 1G", "usemem flag -M (--mlock) is not modelled"),
    ("--punch-holes 1G", "usemem flag --punch-holes is not modelled"),
    ("--init-time=1 1G", "takes no value"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_usemem_command_lines_name_the_flag(text: str, fragment: str) -> None:
    with pytest.raises(UsememArgsError) as caught:
        parse_usemem_args(text)
    assert fragment in str(caught.value)


def _workload(args: str) -> str:
    return f'- {{name: u, kind: usemem, args: "{args}"}}'


def test_args_set_size_processes_passes_and_random(make_machine) -> None:
    m = make_machine(workloads=_workload("-n 3 -r 2 -R 40M"), check_invariants=False)
    w = m.scenario.workloads[0]
    assert (w.size, w.processes, w.passes, w.random) == (40 * MIB, 3, 2, True)
    assert len(m.procs) == 3 and all(p.npages == 40 * MIB // 4096 and p.random for p in m.procs)


def test_usemem_args_run_every_pass_writes_and_sleep_before_unmap(make_machine) -> None:
    """-n 2 -r 2 48M in 32 MiB: each process touches every page twice, writing every time, sleeps 1 s, exits."""
    m = make_machine(memory="32MiB", workloads=_workload("--init-time -O -y -x -n 2 -r 2 -s 1 24M"), duration="10s")
    assert len(m.procs) == 2
    while not all(p.exited for p in m.procs) and m.tick < 8000:
        m.step(25)
    pages = 24 * MIB // 4096
    for p in m.procs:
        assert p.exited and p.touched == 2 * pages and p.write_every_pass
        assert p.exit_ns >= 1_000_000_000  # the 1 s sleep came before the unmap
    assert m.vm["pswpout"] > 0
