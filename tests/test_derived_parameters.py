"""Derived preset parameters (expressions), parameter descriptions, `cosim show` of derived and overridden values, and
the unit convention of parameter names."""

import pytest

from cosim.cli import main
from hw_models.hardware import load_hardware
from cosim.api import describe_hardware
from hw_models.expressions import Expression, evaluate_expressions
from hw_models.preset import (HardwareConfigError, Preset, available_presets, leaf_paths, read_preset, resolve_values,
                              split_sources, unit_of)

SCALESIM = "SCALE-Sim-32x32"
BANDWIDTH = "memory.global_buffer_bandwidth_bytes_per_cycle"


def toy(expressions: dict, **values) -> Preset:
    """A preset with plain values and expressions (their paths hold None until evaluated)."""
    tree = {"name": "toy", "kind": "spatial", "a": {"x": 2, "y": 3}, **values}
    for path in expressions:
        tree.setdefault(path, None)
    return Preset(name="toy", kind="spatial", values=tree, expressions=expressions)


def test_arithmetic_and_functions():
    values = {"a": {"x": 2, "y": 3.5}, "d": None}
    out = evaluate_expressions(values, {"d": "(a.x + 1) * a.y - 10 // 4 + 2 ** a.x - max(1, a.x) / 4 + min(a.y, -1)"},
                               "toy")
    assert out["d"] == pytest.approx(3 * 3.5 - 2 + 4 - 0.5 - 1)


def test_expressions_may_use_other_expressions():
    values = resolve_values(toy({"b": "c * 2", "c": "a.x + a.y"}))
    assert values["c"] == 5 and values["b"] == 10


def test_yaml_leaf_with_expr_becomes_an_expression():
    values, sources = split_sources({"bw": {"expr": "3 * pe", "source": "derived: three per column"}, "pe": 4})
    assert values["bw"] == Expression("3 * pe") and sources["bw"] == "derived: three per column"


def test_every_preset_expression_is_evaluated():
    for name in available_presets():
        preset = read_preset(name)
        for path in preset.expressions:
            value = preset.values
            for key in path.split("."):
                value = value[key]
            assert isinstance(value, (int, float)), (name, path)
            assert preset.sources[path].startswith("derived"), (name, path)
    assert read_preset(SCALESIM).expressions[BANDWIDTH] == "compute.pe_rows + 2 * compute.pe_cols"


def test_override_of_an_input_propagates():
    assert load_hardware(SCALESIM).param("gb_bw_bytes_per_cycle") == 96
    hw = load_hardware(SCALESIM, {"compute.pe_rows": 128, "compute.pe_cols": 128})
    assert hw.param("gb_bw_bytes_per_cycle") == 3 * 128


def test_override_of_the_derived_value_wins():
    hw = load_hardware(SCALESIM, {"compute.pe_cols": 128, BANDWIDTH: 100})
    assert hw.param("gb_bw_bytes_per_cycle") == 100


def test_hetero_units_follow_their_expressions():
    hw = load_hardware("NeuPIMs", {"units.npu.compute.arrays": 4})
    npu = hw.units["npu"]
    assert npu.param("gb_bw_bytes_per_cycle") == 4 * 128 * 2 * 2
    assert npu.param("gb_bytes") == 4 * 2048 * 1024


def test_hetero_preset_expressions_follow_link_overrides():
    from hw_models.hardware import load_hetero

    preset = read_preset("NeuPIMs")
    preset.expressions["links.membus.bandwidth_gbps"] = "links.membus.latency_us * 1e5"
    hw = load_hetero(preset, {"links.membus.latency_us": 0.02})
    assert hw.spec.links["membus"].bandwidth_gbps == pytest.approx(2000)
    assert load_hetero(preset, {"links.membus.bandwidth_gbps": 7}).spec.links["membus"].bandwidth_gbps == 7


def test_cycle_is_an_error_naming_preset_and_paths():
    with pytest.raises(HardwareConfigError, match=r"'toy'.*cycle: (b -> c -> b|c -> b -> c)"):
        resolve_values(toy({"b": "c + 1", "c": "b * 2"}))


def test_unknown_name_is_an_error_naming_preset_path_and_name():
    with pytest.raises(HardwareConfigError, match=r"'toy': b = 'a.z \* 2': unknown parameter 'a.z'"):
        resolve_values(toy({"b": "a.z * 2"}))


def test_non_numeric_parameter_is_an_error():
    with pytest.raises(HardwareConfigError, match="'mode' is 'fast', not a number"):
        resolve_values(toy({"b": "mode * 2"}, mode="fast"))


def test_division_by_zero_is_an_error():
    with pytest.raises(HardwareConfigError, match="b = 'a.x / 0'"):
        resolve_values(toy({"b": "a.x / 0"}))


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "open('f')", "a.x.real()", "[1, 2][0]",
                                  "'ab' * 2", "lambda: 1", "1 if a.x else 2", "a.x < 3", "True + 1", "min(*a)",
                                  "max(a.x, key=abs)", "a['x']", "a.x;", "import os"])
def test_unsafe_or_unsupported_syntax_is_rejected(text):
    with pytest.raises(HardwareConfigError, match="not (allowed|valid syntax)"):
        resolve_values(toy({"b": text}))


def test_attribute_access_is_only_a_parameter_path():
    with pytest.raises(HardwareConfigError, match="unknown parameter 'a.x.__class__'"):
        resolve_values(toy({"b": "a.x.__class__"}))


def test_describe_parameters_records():
    frame = describe_hardware(SCALESIM, {"compute.pe_cols": 64}).parameters
    records = {r.path: r for r in frame.itertuples()}
    bw = records[BANDWIDTH]
    assert (bw.value, bw.preset_value, bw.overridden) == (32 + 2 * 64, 96, False)
    assert bw.expression == "compute.pe_rows + 2 * compute.pe_cols" and bw.unit == "bytes per cycle"
    assert bw.source.startswith("derived:")
    cols = records["compute.pe_cols"]
    assert (cols.value, cols.preset_value, cols.overridden, cols.expression) == (64, 32, True, None)
    assert "name" not in records and "description" not in records


def test_show_prints_expression_and_value(capsys):
    assert main(["show", SCALESIM, "--set", "compute.pe_rows=128", "--set", "compute.pe_cols=128"]) == 0
    out = capsys.readouterr().out
    assert f"  {BANDWIDTH} = 384  (derived: compute.pe_rows + 2 * compute.pe_cols)  [bytes per cycle]" in out
    lines = out.splitlines()
    i = lines.index("  compute.pe_cols = 128  override (preset: 32)")
    assert lines[i + 1].startswith("      source: override (preset source: shared/reference/README.md")


def test_show_of_an_overridden_derived_value(capsys):
    assert main(["show", SCALESIM, "--set", f"{BANDWIDTH}=100"]) == 0
    out = capsys.readouterr().out
    assert (f"  {BANDWIDTH} = 100  override (preset: compute.pe_rows + 2 * compute.pe_cols = 96)  [bytes per cycle]"
            in out)


def test_show_bad_override_is_a_clear_error(capsys):
    assert main(["show", SCALESIM, "--set", "compute.pe_colz=4"]) == 2
    assert "did you mean" in capsys.readouterr().err


@pytest.mark.parametrize("path, unit", [("memory.global_buffer_kib", "KiB (2^10 bytes)"),
                                        ("buffers.input_buffer_mib", "MiB (2^20 bytes)"),
                                        ("memory.l2_capacity_mb", "MB (10^6 bytes)"),
                                        ("memory.hbm_bandwidth_gbps", "GB/s (10^9 bytes per second)"),
                                        ("bus.pin_gbit_per_s", "Gb/s (10^9 bits per second)"),
                                        ("memory.local_buffer_kib_per_pe", "KiB (2^10 bytes) per PE"),
                                        ("energy.e_mac_pj.int8", "pJ")])
def test_unit_names(path, unit):
    assert unit_of(path) == unit


def test_no_parameter_name_leaves_its_byte_unit_ambiguous():
    """Sizes are _kb/_mb/_gb (10^3/10^6/10^9) or _kib/_mib/_gib (2^10/2^20/2^30); bit rates say gbit."""
    for name in available_presets():
        for path in leaf_paths(read_preset(name).values):
            leaf = path.split(".")[-1]
            assert not leaf.endswith("_gbits"), path
            if "pin" in leaf:
                assert leaf.endswith("_gbit_per_s"), f"{name}: {path} is a per-pin bit rate"


def test_binary_sizes_pack_as_powers_of_two():
    duplex = load_hardware("Duplex-Logic-PIM")
    mib = read_preset("Duplex-Logic-PIM").values["buffers"]["input_buffer_mib"]
    assert duplex.param("input_buffer_bytes") == mib * 2 ** 20
    gpu = load_hardware("H100-SXM5-80GB")
    assert gpu.param("l2_bytes") == read_preset("H100-SXM5-80GB").values["memory"]["l2_capacity_mb"] * 1e6
