"""`swaptui compare`: the same run under each design; depth-0 lookups for the swap table."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import swaptui, tiny_scenario

SCENARIO = tiny_scenario("tiny compare", tail="compare: [classic, swap_table]\n")


def test_compare_runs_each_design_and_writes_json(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(SCENARIO)
    out = tmp_path / "c.json"
    r = swaptui("compare", str(f), "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "classic" in r.stdout and "swap_table" in r.stdout and "mean lookup depth" in r.stdout
    res = json.loads(out.read_text())
    assert set(res) == {"classic", "swap_table"}
    assert res["swap_table"]["mean_depth"] == 0 and res["classic"]["mean_depth"] > 0
    # Same workload, same seed: the same pages go out and come back; only costs differ.
    assert res["classic"]["pswpin"] > 0
    assert res["swap_table"]["metadata_dynamic"] > 0


def test_compare_runs_all_three_designs(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(SCENARIO)
    out = tmp_path / "c.json"
    r = swaptui("compare", str(f), "--designs", "classic,swap_table,vswap", "--ticks", "150", "--json", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["vswap"]["mean_depth"] > 0 and res["swap_table"]["mean_depth"] == 0
    # The histogram by design and kind of lookup: the swap table never walks a tree.
    st = res["swap_table"]["lookups_by_kind"]["swap table"]
    assert st[0] > 0 and sum(st[1:]) == 0
    kinds = res["vswap"]["lookups_by_kind"]
    assert {"vswap cache", "vswap backing", "vswap free"} <= set(kinds)
    assert all(sum(h[1:]) > 0 for h in kinds.values() if sum(h))
    assert sum(res["classic"]["lookups_by_kind"]["swap cache xarray"][2:]) > 0
    assert "kind of lookup" in r.stdout


def test_compare_rejects_unknown_designs(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(SCENARIO)
    for designs, expect in (("classic,zram", "unknown design"), ("classic,classic", "different designs")):
        r = swaptui("compare", str(f), "--designs", designs, "--ticks", "5")
        assert r.returncode == 2 and expect in r.stderr and "Traceback" not in r.stderr


def test_compare_reports_compaction_for_huge_page_faults_on_fragmented_memory(tmp_path: Path) -> None:
    f = tmp_path / "thp.yaml"
    f.write_text(
        SCENARIO.replace("duration: 300ms", "duration: 700ms")
        .replace(
            "  - {name: um, kind: usemem, size: 40MiB, passes: 2}",
            "  - {name: f, kind: usemem, size: 24MiB, free_every: 2, free_after: false}\n"
            "  - {name: h, kind: usemem, size: 8MiB, huge: true, start: 0.3s, free_after: false}",
        )
        .replace("machine: {memory: 48MiB, cpus: 2}", "machine: {memory: 48MiB, cpus: 2, thp: madvise}")
    )
    out = tmp_path / "c.json"
    r = swaptui("compare", str(f), "--json", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    for design in ("classic", "swap_table"):
        # Every-other-page holes defeat the async free scanner's stride: the stalls fail and faults fall back.
        assert res[design]["compact_stall"] > 0
        assert res[design]["thp_fault_fallback"] > 0
    assert "compact_stall" in r.stdout and "thp_fault_fallback" in r.stdout


def test_compare_of_a_zswap_scenario_under_classic_and_swap_table_reports_zswap_lookups(tmp_path: Path) -> None:
    """A regression: with zswap on, compare under classic or swap_table ended in a TypeError (lookup_depths called
    zswap's depth_hist property as a function)."""
    f = tmp_path / "z.yaml"
    f.write_text(
        SCENARIO.replace(
            "    - {name: d0, kind: ssd, size: 64MiB}",
            "    - {name: d0, kind: ssd, size: 64MiB}\n  zswap: {enabled: true}",
        )
    )
    out = tmp_path / "z.json"
    r = swaptui("compare", str(f), "--json", str(out), "--duration", "150ms")
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    for design in ("classic", "swap_table"):
        assert sum(res[design]["lookups_by_kind"]["zswap tree"]) > 0


def test_compare_prints_a_markdown_table_that_pastes_into_a_mail(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(SCENARIO.replace("name: tiny compare", "name: tiny | compare"))
    r = swaptui("compare", str(f), "--ticks", "40", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "**tiny | compare: 40 ticks, seed 4**" and lines[1] == ""
    assert lines[2] == "| metric | classic | swap_table | unit |" and lines[3] == "|---|---:|---:|---:|"
    assert lines[4].startswith("| workload runtime (until the last task exits) | ") and lines[4].endswith(" | s |")
    assert any(line.startswith("| swap_ra_hit / swap_ra | ") for line in lines)
