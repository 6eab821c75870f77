"""Compressors by the kernel's names: zram's comp_algorithm per device and zswap.compressor."""

from __future__ import annotations

import pytest
from conftest import small_scenario_yaml

from swaptui.model.machine import Machine
from swaptui.scenario import ScenarioError, load_scenario_text


def _zram(compressor: str | None) -> Machine:
    extra = f", compressor: {compressor}" if compressor else ""
    yaml = small_scenario_yaml(devices=f"- {{name: z0, kind: zram, size: 128MiB{extra}}}")
    return Machine(load_scenario_text(yaml, check_memory=False))


def test_a_zram_device_takes_its_comp_algorithm_and_defaults_to_lzo_rle() -> None:
    default, lzo_rle, lz4, zstd = (_zram(c).phys.devices[0].profile for c in (None, "lzo-rle", "lz4", "zstd"))
    assert default == lzo_rle  # CONFIG_ZRAM_DEF_COMP
    assert lz4.cpu_write_ns < lzo_rle.cpu_write_ns < zstd.cpu_write_ns
    assert lz4.cpu_read_ns < lzo_rle.cpu_read_ns < zstd.cpu_read_ns


def test_only_a_zram_device_has_a_compressor() -> None:
    yaml = small_scenario_yaml(devices="- {name: d0, kind: ssd, size: 128MiB, compressor: lz4}")
    with pytest.raises(ScenarioError, match=r"swap\.devices\[0\]\.compressor.*only a zram device"):
        load_scenario_text(yaml, check_memory=False)
    with pytest.raises(ScenarioError, match="compressor"):
        load_scenario_text(yaml.replace("kind: ssd", "kind: zram").replace("lz4", "lz77"), check_memory=False)


def test_zswap_takes_lzo() -> None:
    yaml = small_scenario_yaml(extra_swap="zswap: {enabled: true, compressor: lzo}")
    m = Machine(load_scenario_text(yaml, check_memory=False))
    assert m.zswap is not None and m.zswap.compressor == "lzo"
