"""Fitting, overlays, error bars and extrapolation flags, on synthetic tables whose times the model generated at
known parameter values (they test the fitter; they are not measurements)."""

import json

import numpy as np
import pandas as pd
import pytest

import cosim
from cosim.calibration.parameters import fit_parameters
from cosim.cli import main
from cosim.errors import CosimInputError
from workloads.trace_io import workload_to_dict
from tests.calibration_data import PATHS, PRESET, TRUTH, gemm, synthetic_table, workloads


@pytest.fixture(scope="module")
def table_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "synthetic.parquet"
    synthetic_table(workloads()).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def overlay_file(table_file):
    path = table_file.parent / "overlay.yaml"
    cosim.write_calibration(cosim.fit_calibration(table_file, PRESET, PATHS), path)
    return path


def test_fit_recovers_the_values_that_generated_the_table(table_file):
    overlay = cosim.fit_calibration(table_file, PRESET, PATHS)
    fitted = np.array([overlay.parameters[p]["value"] for p in PATHS])
    assert fitted == pytest.approx(TRUTH, rel=1e-3)
    assert overlay.parameters[PATHS[0]]["preset"] == 3350
    assert overlay.fit["parameters"] == 2 and overlay.fit["points"] == 15
    assert overlay.fit["rmse_log"] < 1e-3
    assert len(overlay.measurements) == 15 and overlay.skipped == []


def test_energy_is_fitted_where_measured(tmp_path):
    truth = {"energy.e_hbm_pj_per_bit": 9.0}
    wls = workloads()
    hw = cosim.load_hardware(PRESET, {**dict(zip(PATHS, TRUTH)), **truth})
    frame = synthetic_table(wls, energy=True)
    results = [cosim.simulate(hw, w) for w in wls]  # time too: power-capped ops slow down with energy per byte
    frame["median_s"], frame["energy_j"] = [r.latency_s for r in results], [r.energy_j for r in results]
    frame["min_s"] = frame["max_s"] = frame["median_s"]
    frame.to_parquet(tmp_path / "m.parquet")
    overlay = cosim.fit_calibration(tmp_path / "m.parquet", PRESET, [*PATHS, "energy.e_hbm_pj_per_bit"])
    assert overlay.parameters["energy.e_hbm_pj_per_bit"]["value"] == pytest.approx(9.0, rel=1e-3)
    assert overlay.fit["energy_points"] == 15


def test_bounds_come_from_the_spec_constraints():
    hw = cosim.load_hardware(PRESET)
    share, launch = fit_parameters(hw, ["runtime.l2_resident_operand_fraction", "runtime.kernel_launch_us"])
    assert 0 < share.lower < 1e-6 and share.upper == 1.0
    assert launch.lower == 0.0 and launch.upper == np.inf
    with pytest.raises(CosimInputError, match="unknown parameter 'memory.nope'"):
        fit_parameters(hw, ["memory.nope"])
    with pytest.raises(CosimInputError, match="declares no fittable parameters"):
        fit_parameters(cosim.load_hardware("TPU-like"))


def test_unmappable_measurements_are_skipped_and_listed(tmp_path):
    wls = workloads()
    frame = synthetic_table(wls)
    wls[0].memory_bytes = {"weights": 1e12}  # more than the GPU holds: the model cannot run it
    frame.loc[0, "workload_json"] = json.dumps(workload_to_dict(wls[0]))
    frame.to_parquet(tmp_path / "m.parquet")
    overlay = cosim.fit_calibration(tmp_path / "m.parquet", PRESET, PATHS)
    assert [s["measurement_id"] for s in overlay.skipped] == ["syn000"]
    assert "memory" in overlay.skipped[0]["reason"] and "syn000" not in overlay.measurements


def test_overlay_round_trip_and_application(overlay_file):
    overlay = cosim.read_calibration(overlay_file)
    assert overlay.hardware == PRESET and overlay.paths == PATHS
    assert overlay.covariance.shape == (2, 2)
    hw = cosim.load_hardware(PRESET, calibration=overlay_file)
    assert np.array_equal(hw.params, cosim.load_hardware(PRESET, overlay.values).params)
    mine = cosim.load_hardware(PRESET, {"runtime.kernel_launch_us": 1.0}, calibration=overlay)
    assert mine.spec.runtime.kernel_launch_us == 1.0 and mine.free_parameters == [PATHS[0]]


def test_an_overlay_for_another_preset_is_refused(overlay_file, capsys):
    with pytest.raises(CosimInputError, match="fitted for preset 'H100-SXM5-80GB', not 'A100-SXM4-80GB'"):
        cosim.load_hardware("A100-SXM4-80GB", calibration=overlay_file)
    assert main(["run", "A100-SXM4-80GB", "bert-base", "--calibration", str(overlay_file)]) == 2
    assert "overlay.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("edit, named", [
    (lambda d: d.pop("covariance"), "missing key 'covariance'"),
    (lambda d: d.update(covariance=[[1.0]]), "covariance: expected a 2 x 2"),
    (lambda d: d["parameters"]["runtime.kernel_launch_us"].update(value="fast"),
     "parameters.runtime.kernel_launch_us.value: expected a number"),
    (lambda d: d.update(calibration_version=7), "calibration_version"),
])
def test_bad_overlay_files_name_the_file_and_key(overlay_file, tmp_path, capsys, edit, named):
    import yaml

    data = yaml.safe_load(overlay_file.read_text())
    edit(data)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert main(["run", PRESET, "bert-base", "--calibration", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and named in err and "Traceback" not in err


@pytest.mark.parametrize("edit, named", [
    (lambda f: f.drop(columns="median_s"), "missing column 'median_s'"),
    (lambda f: f.assign(median_s=-1.0), "column 'median_s'"),
    (lambda f: f.assign(board="gap8"), "column board: 'gap8' measurements cannot calibrate"),
    (lambda f: f.assign(workload_json="{"), "measurement syn000: column 'workload_json'"),
])
def test_bad_measurement_files_name_the_file_and_column(tmp_path, capsys, edit, named):
    path = tmp_path / "m.parquet"
    edit(synthetic_table(workloads(4))).to_parquet(path)
    code = main(["calibrate", "fit", str(path), "--hardware", PRESET, "--parameters", ",".join(PATHS),
                 "-o", str(tmp_path / "o.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and named in err


def test_cli_fit_writes_the_overlay(table_file, tmp_path, capsys):
    out = tmp_path / "o.yaml"
    assert main(["calibrate", "fit", str(table_file), "--hardware", PRESET, "--parameters", ",".join(PATHS),
                 "-o", str(out)]) == 0
    assert "memory.hbm_bandwidth_gbps = 2800" in capsys.readouterr().out
    assert cosim.read_calibration(out).measurements[0] == "syn000"


def test_error_bars_shrink_with_more_measurements(tmp_path):
    bars = []
    for repeats in (1, 4):  # the same shapes measured once, or four times with independent noise
        path = tmp_path / f"m{repeats}.parquet"
        synthetic_table(workloads(6) * repeats, noise=0.05, seed=1).to_parquet(path)
        hw = cosim.load_hardware(PRESET, calibration=cosim.fit_calibration(path, PRESET, PATHS))
        result = cosim.simulate(hw, cosim.load_workload("bert-base"))
        assert result.latency_s_stderr > 0 and result.energy_j_stderr > 0
        bars.append(result.latency_s_stderr / result.latency_s)
    assert bars[1] < 0.75 * bars[0]  # about 1/sqrt(4) expected


def test_predictions_outside_the_measured_range_are_flagged(overlay_file, capsys):
    hw = cosim.load_hardware(PRESET, calibration=overlay_file)
    assert cosim.simulate(hw, gemm(1024)).extrapolated == ""
    note = cosim.simulate(hw, gemm(16384)).extrapolated
    assert "op 'mm' (matmul)" in note and "flops" in note
    assert "no attention op was measured" in cosim.simulate(hw, cosim.load_workload("bert-base")).extrapolated
    assert main(["run", PRESET, "bert-base", "--calibration", str(overlay_file)]) == 0
    out = capsys.readouterr().out
    assert "±" in out and "extrapolated" in out


def test_sweep_with_an_overlay_writes_error_bar_columns(overlay_file, tmp_path):
    config = {"name": "cal", "hardware": [{"preset": PRESET, "calibration": str(overlay_file),
                                           "grid": {"memory.hbm_capacity_gb": [80, 141]}},
                                          {"preset": "A100-SXM4-80GB"}],
              "workloads": [{"model": "bert-base"}]}
    results = pd.read_parquet(cosim.sweep(config, tmp_path / "out").files["results"])
    calibrated = results[results["preset"] == PRESET]
    assert (calibrated["latency_s_stderr"] > 0).all() and (calibrated["energy_j_stderr"] > 0).all()
    assert calibrated["extrapolated"].str.contains("attention").all()
    assert results.loc[results["preset"] != PRESET, "latency_s_stderr"].isna().all()
    config["hardware"][1]["calibration"] = str(overlay_file)
    with pytest.raises(CosimInputError, match=r"hardware\[1\]\.calibration: .*not 'A100-SXM4-80GB'"):
        cosim.sweep(config, tmp_path / "out2")


def test_a_config_file_reads_its_overlay_relative_to_itself(overlay_file, tmp_path):
    import shutil

    import yaml

    (tmp_path / "cfg").mkdir()
    shutil.copy(overlay_file, tmp_path / "cfg" / "h100.yaml")
    config = tmp_path / "cfg" / "sweep.yaml"
    config.write_text(yaml.safe_dump({"hardware": [{"preset": PRESET, "calibration": "h100.yaml"}],
                                      "workloads": [{"model": "bert-base"}]}))
    outcome = cosim.sweep(config, tmp_path / "out")
    assert outcome.results["calibration"].iloc[0] == str(tmp_path / "cfg" / "h100.yaml")
    assert outcome.results["latency_s_stderr"].iloc[0] > 0
