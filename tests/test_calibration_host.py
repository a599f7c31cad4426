"""The whole calibration loop on the machine the tests run on, with real measurements (never mocked): measure the
host CPU (the tiny set), fit the Host-CPU preset's fittable parameters, validate held out, and use the overlay.

Times on a shared machine are noisy, so accuracy is a benchmark figure (benchmarks/RESULTS.md), not asserted here.
What must hold on any machine: the fit never ends worse than where it started on the data it was fitted to (least
squares from the preset's values), every fitted value stays within its physical bounds, and the overlay runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cosim
from cosim.cli import main

PRESET = "Host-CPU"


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    path = tmp_path_factory.mktemp("host") / "host.parquet"
    cosim.measure_board("host-cpu", path, "tiny", time_cap_s=0.05)
    return path


@pytest.fixture(scope="module")
def overlay(measured):
    return cosim.fit_calibration(measured, PRESET)


def _log_rms(hardware, table) -> float:
    """RMS of log(predicted / measured) time over the table's rows."""
    errors = []
    for _, row in table.iterrows():
        predicted = cosim.simulate(hardware, cosim.measured_workload(row)).latency_s
        errors.append(math.log(predicted / row["median_s"]))
    return float(np.sqrt(np.mean(np.square(errors))))


def test_the_fit_starts_from_the_preset_and_never_ends_worse(measured, overlay):
    table = cosim.read_measurements(measured)
    used = table[table["measurement_id"].isin(overlay.measurements)]
    before = _log_rms(cosim.load_hardware(PRESET), used)
    after = _log_rms(cosim.load_hardware(PRESET, calibration=overlay), used)
    assert after <= before * (1 + 1e-6)
    assert overlay.fit["rmse_log"] == pytest.approx(after, rel=1e-3)


def test_fitted_values_stay_within_their_physical_bounds(overlay):
    assert overlay.parameters and not overlay.fit["energy_points"]  # no power sensor on the host: no energy fitted
    assert not any(p.startswith("energy.") or p == "power.idle_w" for p in overlay.parameters)
    for path, entry in overlay.parameters.items():
        low, high = entry["bounds"]
        assert (low is None or entry["value"] >= low) and (high is None or entry["value"] <= high), path
        assert math.isfinite(entry["stderr"]), path


def test_measure_fit_validate_and_run_from_the_command_line(measured, tmp_path, capsys):
    overlay_path = tmp_path / "host.yaml"
    # the tiny set's 13 measurements leave too few per fold for all of the kind's parameters: fit three
    fitted = "runtime.gemm_efficiency,runtime.cache_bandwidth_efficiency,runtime.dispatch_us"
    assert main(["calibrate", "fit", str(measured), "--hardware", PRESET, "--parameters", fitted,
                 "-o", str(overlay_path)]) == 0
    assert main(["validate", str(measured), "--calibration", str(overlay_path), "--folds", "3",
                 "-o", str(tmp_path / "validation")]) == 0
    out = capsys.readouterr().out
    assert "MAPE preset" in out and "3 fitted parameters" in out
    for name in ("predictions.parquet", "summary.csv", "predicted_vs_measured.png", "validation.md"):
        assert (tmp_path / "validation" / name).is_file(), name
    assert main(["run", PRESET, "resnet-18", "batch=1", "dtype=fp32", "--calibration", str(overlay_path)]) == 0
    assert "±" in capsys.readouterr().out
