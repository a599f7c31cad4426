"""The public API returns data: catalogs, preset descriptions with sources and overrides, parameter spaces of
presets and workloads, validated workloads, serving estimates with routing as a parameter."""

from pathlib import Path

import pandas as pd
import pytest

import cosim
from cosim import api
from cosim.errors import CosimInputError
from hw_models.preset import HardwareConfigError
from workloads.routing import MODELS as ROUTING_MODELS
from workloads.transformer import WorkloadParamError

PRESET_DIR = Path(__file__).resolve().parents[1] / "hw_models" / "presets"


def test_package_exports_the_api():
    assert set(cosim.__all__) == set(api.__all__)
    assert all(getattr(cosim, name) is getattr(api, name) for name in api.__all__)


# --- catalogs ----------------------------------------------------------------------------------------------------

def test_available_hardware_lists_every_preset_with_kind_and_description():
    table = api.available_hardware()
    assert list(table.columns) == ["name", "kind", "description"]
    assert set(table["name"]) == {p.stem for p in PRESET_DIR.glob("*.yaml")}
    row = table.set_index("name").loc["H100-SXM5-80GB"]
    assert row["kind"] == "gpu" and "H100" in row["description"]


def test_available_hardware_filters_by_kind():
    hetero = api.available_hardware(kind="hetero")
    assert {"NeuPIMs", "Duplex"} <= set(hetero["name"]) and set(hetero["kind"]) == {"hetero"}
    assert set(api.available_hardware(kind="gpu")["kind"]) == {"gpu"}
    with pytest.raises(HardwareConfigError, match="unknown device kind 'tpu'.*allowed: gpu, spatial"):
        api.available_hardware(kind="tpu")


def test_available_workloads_filters_by_family():
    table = api.available_workloads()
    assert list(table.columns) == ["name", "family", "description"]
    assert {"llama-2-7b", "resnet-50", "mixtral-8x7b"} <= set(table["name"])
    cnn = api.available_workloads(family="cnn")
    assert "resnet-50" in set(cnn["name"]) and set(cnn["family"]) == {"cnn"}
    with pytest.raises(WorkloadParamError, match="unknown workload family 'cnns'.*allowed:.*cnn"):
        api.available_workloads(family="cnns")


# --- describe_hardware -------------------------------------------------------------------------------------------

def test_describe_hardware_gives_values_units_and_sources():
    d = api.describe_hardware("h100-sxm5-80gb")
    assert (d.name, d.kind, d.file) == ("H100-SXM5-80GB", "gpu", PRESET_DIR / "H100-SXM5-80GB.yaml")
    params = d.parameters
    assert list(params.columns) == ["path", "value", "unit", "source", "overridden", "preset_value", "preset_source",
                                    "expression"]
    row = params.set_index("path").loc["memory.hbm_bandwidth_gbps"]
    assert (row["value"], row["unit"], row["preset_value"]) == (3350, "GB/s (10^9 bytes per second)", 3350)
    assert row["source"] == row["preset_source"] and "H100" in row["source"]
    assert not params["overridden"].any()
    derived = params["expression"].notna()  # peaks are SMs x per-SM rate x clock
    assert "compute.tensor_tflops.fp16" in set(params.loc[derived, "path"])
    assert params.loc[derived, "source"].str.startswith("derived").all()
    numeric = params[params["value"].map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))]
    assert len(numeric) > 20 and numeric["source"].notna().all()
    assert not {"name", "kind", "description"} & set(params["path"])


def test_describe_hardware_marks_overrides_beside_the_preset_value():
    d = api.describe_hardware("A100-SXM4-80GB", {"memory.hbm_bandwidth_gbps": 2500,
                                                 "compute.tensor_tflops.fp8": 624.0})
    rows = d.parameters.set_index("path")
    bw = rows.loc["memory.hbm_bandwidth_gbps"]
    assert bw["overridden"] and bw["value"] == 2500 and bw["preset_value"] != 2500
    assert bw["source"] == "override" and "A100" in bw["preset_source"]
    fp8 = rows.loc["compute.tensor_tflops.fp8"]  # a datatype the preset lacks: added by the override
    assert fp8["overridden"] and fp8["value"] == 624.0 and fp8["preset_value"] is None
    assert set(rows.index[rows["overridden"]]) == {"memory.hbm_bandwidth_gbps", "compute.tensor_tflops.fp8"}
    assert d.overrides == {"memory.hbm_bandwidth_gbps": 2500, "compute.tensor_tflops.fp8": 624.0}


def test_describe_hardware_rejects_bad_names_paths_and_values():
    with pytest.raises(HardwareConfigError, match="unknown hardware 'H10'.*available:.*H100-SXM5-80GB"):
        api.describe_hardware("H10")
    with pytest.raises(HardwareConfigError, match="unknown hardware parameter 'memory.hbm_bw'"):
        api.describe_hardware("H100-SXM5-80GB", {"memory.hbm_bw": 1})
    with pytest.raises(HardwareConfigError, match="hbm_bandwidth_gbps"):
        api.describe_hardware("H100-SXM5-80GB", {"memory.hbm_bandwidth_gbps": -1})


def test_describe_hetero_hardware_unit_by_unit():
    d = api.describe_hardware("NeuPIMs", {"units.npu.compute.pe_rows": 64, "concurrency": "overlap"})
    assert d.kind == "hetero" and d.units == {"npu": "NeuPIMs-NPU", "pim": "NeuPIMs-PIM"}
    rows = d.parameters.set_index("path")
    pe = rows.loc["units.npu.compute.pe_rows"]
    assert pe["overridden"] and pe["value"] == 64 and pe["preset_value"] == 128 and pe["source"] == "override"
    assert rows.loc["concurrency", "overridden"] and rows.loc["concurrency", "preset_value"] == "subbatch"
    link = rows.loc["links.membus.bandwidth_gbps"]
    assert link["value"] == 1024 and link["unit"].startswith("GB/s") and not link["overridden"]
    assert rows.loc["units.pim.preset", "value"] == "NeuPIMs-PIM"
    assert set(rows.index[rows["overridden"]]) == {"units.npu.compute.pe_rows", "concurrency"}


def test_describe_hetero_cites_the_unit_override_of_the_hetero_preset():
    row = api.describe_hardware("NeuPIMs-NPU+PIM-naive").parameters.set_index("path").loc["units.pim.organization.mode"]
    assert row["value"] == "blocked" and "naive" in row["source"]


# --- parameter spaces --------------------------------------------------------------------------------------------

def test_parameter_space_of_a_preset_has_types_units_ranges_and_choices():
    space = api.parameter_space("SCALE-Sim-32x32")
    assert list(space.columns) == ["path", "type", "unit", "value", "default", "minimum", "exclusive_minimum",
                                   "maximum", "exclusive_maximum", "allowed"]
    rows = space.set_index("path")
    pe = rows.loc["compute.pe_rows"]
    assert (pe["type"], pe["value"], pe["minimum"], pe["exclusive_minimum"]) == ("int", 32, 0, True)
    assert rows.loc["compute.clock_mhz", "unit"] == "MHz"
    assert rows.loc["compute.dataflow", "allowed"] == ("os", "ws", "is", "free")
    assert rows.loc["compute.arrays", "default"] == 1
    described = api.describe_hardware("SCALE-Sim-32x32").parameters
    assert set(described["path"]) <= set(space["path"])  # every preset parameter is in the space


def test_parameter_space_of_a_hetero_preset_covers_units_links_and_settings():
    rows = api.parameter_space("NeuPIMs").set_index("path")
    assert rows.loc["units.npu.compute.pe_rows", "value"] == 128
    assert rows.loc["links.membus.bandwidth_gbps", "exclusive_minimum"]
    assert rows.loc["concurrency", "allowed"] == ("sequential", "overlap", "subbatch")
    assert (rows.loc["split_steps", "minimum"], rows.loc["split_steps", "maximum"]) == (1, 64)
    with pytest.raises(HardwareConfigError, match="unknown hardware"):
        api.parameter_space("NeuPIM")


def test_workload_parameters_have_types_defaults_and_allowed_values():
    table = api.workload_parameters("llama-2-7b")
    assert list(table.columns) == ["name", "type", "default", "allowed", "minimum"]
    rows = table.set_index("name")
    assert rows.loc["phase", "allowed"] == ("prefill", "decode", "mixed") and rows.loc["phase", "default"] == "decode"
    assert (rows.loc["batch", "type"], rows.loc["batch", "default"], rows.loc["batch", "minimum"]) == ("int", 1, 1)
    assert rows.loc["context", "minimum"] == 0 and "fp16" in rows.loc["dtype", "allowed"]
    moe = api.workload_parameters("mixtral-8x7b").set_index("name")
    assert moe.loc["routing", "allowed"] == ROUTING_MODELS and moe.loc["zipf_s", "type"] == "float"
    assert moe.loc["seed", "minimum"] == 0
    with pytest.raises(WorkloadParamError, match="unknown workload 'lama-2-7b'.*did you mean"):
        api.workload_parameters("lama-2-7b")


# --- workloads ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, expected", [
    ({"phase": "decoding"}, "allowed: prefill, decode"),
    ({"batch": 0}, "integer >= 1"),
    ({"dtype": "fp12"}, "allowed: fp64"),
    ({"batchsize": 4}, "unknown parameter 'batchsize'"),
])
def test_load_workload_checks_parameters(params, expected):
    with pytest.raises(CosimInputError, match=expected):
        api.load_workload("llama-2-7b", **params)


def test_load_workload_accepts_numpy_integers_and_a_zero_seed():
    import numpy as np

    wl = api.load_workload("llama-2-7b", batch=np.int64(4))
    assert wl.params["batch"] == 4
    assert api.load_workload("mixtral-8x7b", seed=0).name.startswith("mixtral-8x7b")


def test_describe_finds_hardware_or_workload_and_suggests():
    assert isinstance(api.describe("h100-sxm5-80gb"), api.HardwareDescription)
    wl = api.describe("llama-2-7b")
    assert isinstance(wl, api.WorkloadDescription)
    assert wl.family == "transformer-decoder" and wl.config["hidden_size"] == 4096 and wl.sources
    assert "batch" in set(wl.parameters["name"])
    assert api.describe("resnet-50").config is None
    with pytest.raises(CosimInputError, match="unknown name 'lama-2-7b'; did you mean"):
        api.describe("lama-2-7b")


def test_mapping_report_lists_ops_and_checks_top():
    hw = api.load_hardware("TPU-like")
    wl = api.load_workload("bert-base", seq_len=64)
    assert "has a searched mapping" in api.mapping_report(hw, wl)
    with pytest.raises(CosimInputError, match="top must be >= 1"):
        api.mapping_report(hw, wl, 0, top=0)


def test_pareto_front_keeps_the_non_dominated_points():
    results = pd.DataFrame({"task": ["t"] * 3, "hardware": ["a", "b", "c"], "throughput": [1.0, 2.0, 1.5],
                            "energy_per_item_j": [1.0, 2.0, 3.0], "latency_s": [1.0] * 3, "power_w": [1.0] * 3,
                            "pareto": [True, True, False]})
    assert list(api.pareto_front(results)["hardware"]) == ["b", "a"]


# --- serving -----------------------------------------------------------------------------------------------------

def test_routing_is_a_serving_parameter():
    assert api.Routing().params() == {"routing": "uniform", "zipf_s": 1.0, "dirichlet_alpha": 1.0, "trace": "",
                                      "capacity_factor": 0.0, "seed": 0}
    hw = api.load_hardware("H100-SXM5-80GB")
    uniform = api.serve(hw, "mixtral-8x7b", 8, 256, 256, devices=2)
    assert uniform.feasible and isinstance(uniform, api.ServingEstimate)
    assert api.serve(hw, "mixtral-8x7b", 8, 256, 256, devices=2, routing=api.Routing()) == uniform
    skewed = api.serve(hw, "mixtral-8x7b", 8, 256, 256, devices=2, routing=api.Routing("zipf", zipf_s=2.0))
    assert skewed.feasible and skewed.tokens_per_s != uniform.tokens_per_s


def test_serving_rejects_bad_routing():
    hw = api.load_hardware("H100-SXM5-80GB")
    expected = "routing of 'mixtral-8x7b': 'zipfian' is not a routing model; allowed: uniform, zipf, dirichlet, trace"
    with pytest.raises(CosimInputError, match=expected):
        api.serve(hw, "mixtral-8x7b", 8, 256, 256, routing="zipfian")
    with pytest.raises(CosimInputError, match="no experts to route"):
        api.serve(hw, "llama-3-8b", 8, 256, 256, routing="zipf")
