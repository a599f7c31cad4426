"""Held-out validation on synthetic tables (times the model generated at known values plus seeded noise: they test
the validation machinery, they are not measurements)."""

import pandas as pd
import pytest

import cosim
from cosim.cli import main
from tests.calibration_data import PATHS, PRESET, synthetic_table, workloads


@pytest.fixture(scope="module")
def table_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("val") / "synthetic.parquet"
    synthetic_table(workloads(), noise=0.02, seed=3).to_parquet(path)
    return path


def test_kfold_predicts_every_measurement_once_and_beats_the_preset(table_file, tmp_path):
    result = cosim.validate_calibration(table_file, PRESET, parameters=PATHS, folds=3, output=tmp_path)
    table = result.predictions
    assert sorted(table["measurement_id"]) == [f"syn{i:03d}" for i in range(15)]
    assert set(table["fold"]) == {0, 1, 2}
    summary = result.summary.set_index(["group", "quantity"])
    for group in ("per-op", "end-to-end", "op: matmul", "op: elementwise"):
        row = summary.loc[(group, "time")]
        assert row["mape_calibrated"] < 5 < row["mape_preset"]
        assert row["fitted_parameters"] == 2
    # a compute-bound GEMM depends on neither fitted parameter: its error bar is zero, the others' are not
    assert (table["time_stderr_s"] >= 0).all() and (table["time_stderr_s"] > 0).sum() >= 12
    for name in ("predictions.parquet", "summary.csv", "predicted_vs_measured.png", "validation.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert "fitted parameters (2)" in (tmp_path / "validation.md").read_text()


def test_a_named_split_holds_out_those_rows(table_file, tmp_path, capsys):
    assert main(["validate", str(table_file), "--hardware", PRESET, "--parameters", ",".join(PATHS),
                 "--split", "scope=end_to_end", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "split scope=end_to_end held out" in out and "(2 fitted parameters)" in out
    table = pd.read_parquet(tmp_path / "predictions.parquet")
    assert set(table["scope"]) == {"end_to_end"} and len(table) == 3


def test_an_overlay_gives_preset_and_parameters_and_its_in_sample_error(table_file, tmp_path):
    overlay = cosim.fit_calibration(table_file, PRESET, PATHS)
    result = cosim.validate_calibration(table_file, calibration=overlay, folds=5)
    assert result.parameters == PATHS and result.hardware == PRESET
    assert "mape_overlay_in_sample" in result.summary.columns


@pytest.mark.parametrize("args, named", [
    (["--split", "nope=1"], "--split: no column 'nope'"),
    (["--split", "scope=op-and-more"], "holds out 0 of 15"),
    (["--folds", "99"], "--folds 99: must be between 2 and the 15"),
    ([], "name the preset"),
])
def test_bad_validation_requests_exit_2(table_file, tmp_path, capsys, args, named):
    hardware = ["--hardware", PRESET, "--parameters", ",".join(PATHS)] if args else []
    assert main(["validate", str(table_file), *hardware, *args, "-o", str(tmp_path)]) == 2
    assert named in capsys.readouterr().err
