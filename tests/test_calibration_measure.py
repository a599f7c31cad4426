"""Host-CPU board measurements: real (tiny) runs, the table's schema and round trip, bad files (exit 2), and a run
interrupted part-way keeping what it measured."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pandas as pd
import pytest

from cosim.api import convert_board_csv, measure_board, measured_workload, measurement_rates, read_measurements
from cosim.calibration.environment import host_environment
from cosim.calibration.measure import run_cases
from cosim.calibration.schema import COLUMNS, append_measurements, write_atomic
from cosim.calibration.suites import gemm, host_cases, stream
from cosim.calibration.timing import HostTimer, RepeatPolicy
from cosim.cli import main
from cosim.errors import CosimInputError
from workloads.trace_io import workload_to_dict

FAST = RepeatPolicy(warmup_calls=1, min_sample_s=1e-4, time_cap_s=0.01)


@pytest.fixture(scope="module")
def tiny_table(tmp_path_factory):
    """A real measurement of this machine: the tiny set with a short time cap (a few seconds)."""
    path = tmp_path_factory.mktemp("m") / "tiny.parquet"
    outcome = measure_board("host-cpu", path, "tiny", time_cap_s=0.02)
    assert outcome.written == len(host_cases("tiny")) and not outcome.skipped
    return path


def test_tiny_host_run_writes_a_valid_table(tiny_table):
    df = read_measurements(tiny_table)
    assert list(df.columns[:len(COLUMNS)]) == list(COLUMNS)
    assert set(df["board"]) == {"host-cpu"} and set(df["scope"]) == {"op", "end_to_end"}
    assert (df["min_s"] <= df["median_s"]).all() and (df["median_s"] <= df["max_s"]).all()
    assert df["measurement_id"].is_unique and df["energy_j"].isna().all() and set(df["power_source"]) == {"none"}
    env = json.loads(df["library_versions"].iloc[0])
    assert env["numpy"] == np.__version__ and env["blas"]
    assert (df["threads"] >= 1).all()
    e2e = df[df["scope"] == "end_to_end"]
    assert set(e2e["op_kind"]) == {"workload"} and len(e2e) == 2


def test_rows_rebuild_the_measured_workload(tiny_table):
    df = read_measurements(tiny_table)
    by_label = {c.label: c for c in host_cases("tiny")}
    for row in df.to_dict("records"):
        assert workload_to_dict(measured_workload(row)) == workload_to_dict(by_label[row["label"]].workload)


def test_measured_rates_are_physical(tiny_table):
    rates = measurement_rates(read_measurements(tiny_table)).set_index("label")
    # a 2-core laptop/server CPU: well above 0.1 GFLOP/s in fp32 BLAS, below 100 TFLOP/s; copies below 10 TB/s
    assert 0.1 < rates.loc["matmul 64x64x64 fp32", "gflops_per_s"] < 1e5
    assert 0.05 < rates.loc["copy 65536 fp32", "gbytes_per_s"] < 1e4
    assert rates.loc["copy 65536 fp32", "gflops_per_s"] == 0


def test_append_round_trip(tmp_path):
    env = host_environment()
    path = tmp_path / "m.parquet"
    cases = [gemm(16, 16, 16, "fp64"), stream("copy", 1024, "fp32")]
    from cosim.calibration.numpy_ops import lower_workload

    run_cases(cases[:1], path, env, lower_workload, HostTimer(), FAST, progress=False)
    first = read_measurements(path)
    run_cases(cases, path, env, lower_workload, HostTimer(), FAST, progress=False)  # resumes: adds only the copy
    both = read_measurements(path)
    assert list(both["label"]) == [c.label for c in cases]
    pd.testing.assert_frame_equal(both.iloc[:1], first)
    assert both["time_capped"].dtype == bool and both["repetitions"].dtype.kind == "i"


def test_interrupted_run_keeps_finished_rows_and_resume_completes(tmp_path):
    from cosim.calibration.numpy_ops import lower_workload

    env, path = host_environment(), tmp_path / "m.parquet"
    cases = [gemm(8, 8, 8, "fp32"), gemm(16, 8, 8, "fp32"), gemm(32, 8, 8, "fp32")]

    def lower_then_interrupt(workload):
        if workload.name == cases[2].label:
            raise KeyboardInterrupt
        return lower_workload(workload)
    outcome = run_cases(cases, path, env, lower_then_interrupt, HostTimer(), FAST, progress=False)
    assert outcome.interrupted and outcome.written == 2
    assert list(read_measurements(path)["label"]) == [c.label for c in cases[:2]]
    again = run_cases(cases, path, env, lower_workload, HostTimer(), FAST, progress=False)
    assert again.written == 1 and [why for _, why in again.skipped] == ["already measured"] * 2
    assert len(read_measurements(path)) == 3


def test_a_crash_while_writing_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.parquet"
    path.write_bytes(b"old")

    def half_write(tmp):
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, half_write)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.parquet"]


def test_existing_output_needs_resume_or_overwrite(tmp_path):
    path = tmp_path / "m.parquet"
    path.write_bytes(b"x")
    with pytest.raises(CosimInputError, match="--resume"):
        measure_board("host-cpu", path, "tiny")
    with pytest.raises(CosimInputError, match="m.parquet: cannot read"):
        measure_board("host-cpu", path, "tiny", resume=True)
    with pytest.raises(CosimInputError, match="allowed: host-cpu, cuda"):
        measure_board("gap8", tmp_path / "n.parquet")
    with pytest.raises(CosimInputError, match="allowed: tiny, quick, full"):
        measure_board("host-cpu", tmp_path / "n.parquet", "huge")


def _good_frame(tiny_table):
    return pd.read_parquet(tiny_table)


@pytest.mark.parametrize("change, column, words", [
    (lambda df: df.drop(columns=["dtype"]), "'dtype'", "missing column"),
    (lambda df: df.rename(columns={"median_s": "median_ms"}), "'median_ms'", "wrong unit"),
    (lambda df: df.assign(min_s=-1.0), "'min_s'", "> 0"),
    (lambda df: df.assign(board="tpu"), "'board'", "allowed: host-cpu"),
    (lambda df: df.assign(repetitions=df["repetitions"].astype(float)), "'repetitions'", "int"),
    (lambda df: df.assign(workload_json="{}"), "'workload_json'", "not a cosim trace"),
    (lambda df: df.assign(energy_j=0.0), "'energy_j'", "> 0"),
])
def test_bad_measurement_files_name_the_file_and_column(tmp_path, tiny_table, change, column, words):
    path = tmp_path / "bad.parquet"
    change(_good_frame(tiny_table)).to_parquet(path)
    with pytest.raises(CosimInputError) as err:
        read_measurements(path)
    message = str(err.value)
    assert str(path) in message and column in message and words in message


def test_cli_exit_2_on_a_bad_file(tmp_path, tiny_table, capsys):
    path = tmp_path / "bad.parquet"
    _good_frame(tiny_table).drop(columns=["median_s"]).to_parquet(path)
    assert main(["calibrate", "measure", "--board", "host-cpu", "-o", str(path), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cosim: error: ") and str(path) in err and "'median_s'" in err


def test_cli_measure_resume_adds_nothing_when_complete(tmp_path, tiny_table, capsys):
    path = tmp_path / "m.parquet"
    path.write_bytes(tiny_table.read_bytes())
    assert main(["calibrate", "measure", "--board", "host-cpu", "--set", "tiny", "-o", str(path), "--resume",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "0 measurements written" in out and "gflops_per_s" in out
    assert len(read_measurements(path)) == len(host_cases("tiny"))


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="PyTorch is installed")
def test_cuda_board_without_torch_is_an_input_error(tmp_path):
    with pytest.raises(CosimInputError, match=r"cosim-hw\[cuda\]"):
        measure_board("cuda", tmp_path / "g.parquet", "tiny")


def test_convert_refuses_example_rows_and_converts_measured_ones(tmp_path):
    from cosim.calibration.sdk_boards import EXAMPLE

    with pytest.raises(CosimInputError, match="line 5: column 'origin'.*example"):
        convert_board_csv(EXAMPLE, "gap8", tmp_path / "x.parquet")
    rows = EXAMPLE.read_text().replace(",example,illustrative value", ",measured,")
    csv = tmp_path / "board.csv"
    csv.write_text(rows)
    out = convert_board_csv(csv, "gap8", tmp_path / "m.parquet")
    df = read_measurements(out)
    assert list(df["scope"]) == ["op", "op", "end_to_end"] and set(df["board"]) == {"gap8"}
    # 100000 cycles at 175 MHz
    assert math.isclose(df["median_s"].iloc[0], 100000 / 175e6)
    assert math.isclose(df["min_s"].iloc[0], 99000 / 175e6) and math.isclose(df["max_s"].iloc[0], 101000 / 175e6)
    assert df["energy_j"].iloc[1] == 0.001 and df["power_source"].iloc[1] == "rails"
    assert measured_workload(df.iloc[2].to_dict()).name == "ds-cnn-s/forward"
    assert measured_workload(df.iloc[0].to_dict()).ops[0].macs == 64 ** 3


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("m=64;n=64;k=64;batch=1", "m=64;n=sixty"), "line 5: column 'dims'"),
    (lambda t: t.replace(",int8,,100000,", ",int7,,100000,"), "line 5: column 'dtype'"),
    (lambda t: t.replace(",175,10,,,8,", ",,10,,,8,"), "line 5: column 'clock_mhz'"),
    (lambda t: t.replace("end_to_end,,,,ds-cnn-s", "end_to_end,,,,no-such-net"), "line 7: column 'workload'"),
])
def test_convert_errors_name_the_line_and_column(tmp_path, capsys, edit, words):
    from cosim.calibration.sdk_boards import EXAMPLE

    csv = tmp_path / "board.csv"
    csv.write_text(edit(EXAMPLE.read_text().replace(",example,illustrative value", ",measured,")))
    assert main(["calibrate", "convert", str(csv), "--board", "gap8", "-o", str(tmp_path / "m.parquet")]) == 2
    err = capsys.readouterr().err
    assert str(csv) in err and words in err


def test_template_has_every_documented_column():
    from cosim.calibration.sdk_boards import EXAMPLE, TEMPLATE

    header = [line for line in TEMPLATE.read_text().splitlines() if not line.startswith("#")][0]
    example = [line for line in EXAMPLE.read_text().splitlines() if not line.startswith("#")][0]
    assert header == example and {"label", "cycles", "clock_mhz", "time_s", "origin", "source"} <= set(header.split(","))


def test_append_rejects_rows_without_a_column(tmp_path):
    with pytest.raises(ValueError, match="lacks column"):
        append_measurements(tmp_path / "m.parquet", [{"label": "x"}])
