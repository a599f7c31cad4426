"""Sweep configs as text and dicts, results folders, and design points read back from results rows: the API the
explorer builds on (and that a notebook can use the same way)."""

import pytest

from cosim import api
from cosim.errors import CosimInputError

CONFIG = {"name": "pts", "hardware": [{"preset": "H100-SXM5-80GB", "grid": {"memory.hbm_bandwidth_gbps": [2000, 3350]}},
                                      {"preset": "A100-SXM4-80GB", "label": "a100"}],
          "workloads": [{"model": "llama-2-7b", "params": {"phase": "decode"}, "grid": {"batch": [1, 8]}},
                        {"model": "resnet-18", "params": {"batch": 2}}]}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("pts")
    seen = []
    outcome = api.sweep(CONFIG, out, with_ops=True, on_batch=lambda done, todo: seen.append((done, todo)))
    return out, outcome.results, seen


def test_sweep_reports_each_batch(swept):
    _, results, seen = swept
    assert seen[-1] == (len(results), len(results)) == (9, 9)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_count_points_matches_the_sweep(swept):
    assert api.count_points(CONFIG) == len(swept[1])


def test_parse_config_reads_yaml_text_safely_and_names_the_source():
    cfg = api.parse_config(api.config_yaml(CONFIG), "upload.yaml")
    assert cfg.hardware[0].grid == {"memory.hbm_bandwidth_gbps": [2000, 3350]}
    with pytest.raises(CosimInputError, match=r"upload.yaml: malformed YAML: line 1"):
        api.parse_config("hardware: [", "upload.yaml")
    with pytest.raises(CosimInputError, match=r"upload.yaml: .*could not determine a constructor"):
        api.parse_config("!!python/object/apply:os.system ['true']", "upload.yaml")
    with pytest.raises(CosimInputError, match=r"upload.yaml: expected a mapping"):
        api.parse_config("- 1", "upload.yaml")
    with pytest.raises(CosimInputError, match=r"upload.yaml: hardware\[0\].preset: .*H100-SXM9"):
        api.parse_config("hardware: [{preset: H100-SXM9}]\nworkloads: [{model: llama-2-7b}]", "upload.yaml")


def test_config_yaml_refuses_a_bad_config():
    with pytest.raises(CosimInputError, match=r"workloads\[0\]\.grid\.batch\[0\]"):
        api.config_yaml({"hardware": [{"preset": "H100-SXM5-80GB"}],
                         "workloads": [{"model": "llama-2-7b", "grid": {"batch": [0]}}]})


def test_read_results_returns_both_tables(swept, tmp_path):
    out, results, _ = swept
    table, ops = api.read_results(out)
    assert list(table["point_id"]) == list(results["point_id"])
    assert set(ops["point_id"]) == set(results[results["feasible"]]["point_id"])
    with pytest.raises(CosimInputError, match="no results.parquet"):
        api.read_results(tmp_path)


def test_a_row_rebuilds_its_design_point_and_simulates_to_the_same_numbers(swept):
    _, results, _ = swept
    for _, row in results.iterrows():
        inputs = api.point_inputs(row)
        hardware, workload = api.load_point(row)
        result = api.simulate(hardware, workload)
        assert result.totals["latency_s"] == row["latency_s"] or not row["feasible"]
        assert result.totals["energy_j"] == row["energy_j"] or not row["feasible"]
        if row["workload"] == "resnet-18":
            assert inputs.params["batch"] == 2 and "phase" not in inputs.params  # other models' columns skipped


def test_swept_values_equal_to_the_presets_are_left_out(swept):
    _, results, _ = swept
    h100 = results[(results["preset"] == "H100-SXM5-80GB")]
    assert {api.point_inputs(r).overrides.get("memory.hbm_bandwidth_gbps") for _, r in h100.iterrows()} == {2000,
                                                                                                         None}
    a100 = api.point_inputs(results[results["preset"] == "A100-SXM4-80GB"].iloc[0])
    assert a100.overrides == {} and a100.label == "a100"


def test_point_config_reproduces_the_rows(swept, tmp_path):
    _, results, _ = swept
    rows = results[(results["workload"] == "llama-2-7b") & (results["wl.batch"] == 8)]
    config = api.point_config(rows, name="again")
    assert config["workloads"] == [{"model": "llama-2-7b", "params": {"batch": 8, "phase": "decode"}}]
    again = api.sweep(config, tmp_path).results
    # the same numbers (a swept value equal to the preset's is not an override, so that point's id differs)
    assert list(again["latency_s"]) == list(rows["latency_s"]) and list(again["energy_j"]) == list(rows["energy_j"])
    with pytest.raises(CosimInputError, match="no design points"):
        api.point_config([])


def test_a_row_without_its_identity_is_refused():
    with pytest.raises(CosimInputError, match="needs a 'preset' column"):
        api.point_inputs({"workload": "llama-2-7b"})


def test_workload_cells_come_back_as_parameter_values():
    inputs = api.point_inputs({"preset": "H100-SXM5-80GB", "workload": "llama-2-7b", "wl.batch": "8",
                               "wl.context": 2048.0, "wl.phase": "decode", "wl.kv_dtype": None})
    assert inputs.params == {"batch": 8, "context": 2048, "phase": "decode"}


def test_the_explorer_script_ships_beside_cosim():
    script = api.explorer_script()
    assert script.is_file() and script.parent.name == "app"


def test_read_results_refuses_a_file_that_is_not_a_results_table(tmp_path):
    import pandas as pd

    (tmp_path / "results.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(CosimInputError, match=r"results.parquet: not a Parquet table"):
        api.read_results(tmp_path)
    pd.DataFrame({"point_id": ["a"], "x": [1]}).to_parquet(tmp_path / "results.parquet")
    with pytest.raises(CosimInputError, match=r"missing column\(s\) hardware, preset, workload, feasible"):
        api.read_results(tmp_path)


def test_parse_config_can_refuse_files_to_read():
    text = "hardware: [{preset: H100-SXM5-80GB, calibration: /etc/passwd}]\nworkloads: [{model: llama-2-7b}]"
    with pytest.raises(CosimInputError, match=r"up.yaml: hardware\[0\].calibration: this config may not name files"):
        api.parse_config(text, "up.yaml", files=False)


def test_mappable_ops_are_those_the_mapping_report_shows():
    hardware, workload = api.load_hardware("H100-SXM5-80GB"), api.load_workload("llama-2-7b")
    mapped = api.mappable_ops(hardware, workload)
    assert mapped and all(workload.ops[i].kind in ("matmul", "attention") for i in mapped)
    assert all(f"  {i:4d} * " in api.mapping_report(hardware, workload) for i in mapped)
    with pytest.raises(CosimInputError, match="fixed kernels"):
        api.mappable_ops(api.load_hardware("HBM-PIM-Aquabolt-XL"), workload)
