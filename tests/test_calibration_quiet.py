"""The CPU model against a full host-CPU measurement taken on a quiet machine (vendored in tests/data): the fit on
these measurements is pinned, so a change to the CPU model or the fit that moves it shows here. Accuracy targets are
benchmark figures (benchmarks/RESULTS.md, Calibration); this pins what the model does with the same data."""

from __future__ import annotations

from pathlib import Path

import pytest

import cosim

MEASURED = Path(__file__).parent / "data" / "host-cpu-quiet-2026-12-02.parquet"


@pytest.fixture(scope="module")
def overlay():
    return cosim.fit_calibration(MEASURED, "Host-CPU")


def test_the_fit_of_the_quiet_full_run_is_pinned(overlay):
    assert len(overlay.measurements) == 173
    assert overlay.fit["rmse_log"] == pytest.approx(0.278, abs=0.005)
    values = {path: entry["value"] for path, entry in overlay.parameters.items()}
    assert values["memory.l3_share"] == pytest.approx(0.361, rel=0.02)
    assert values["runtime.gemm_pack_bytes_per_cycle"] == pytest.approx(1.71, rel=0.02)
    assert values["runtime.copy_run_cycles"] == pytest.approx(39.0, rel=0.02)
    # no power sensor on the host: no energy parameter is fitted
    assert not any(p.startswith("energy.") or p == "power.idle_w" for p in overlay.parameters)


def test_calibration_improves_the_preset_on_the_quiet_run(overlay):
    table = cosim.read_measurements(MEASURED)
    preset, calibrated = cosim.load_hardware("Host-CPU"), cosim.load_hardware("Host-CPU", calibration=overlay)
    errors = {"preset": [], "calibrated": []}
    for _, row in table[table["scope"] == "end_to_end"].iterrows():
        workload = cosim.measured_workload(row)
        for name, hardware in (("preset", preset), ("calibrated", calibrated)):
            errors[name].append(abs(cosim.simulate(hardware, workload).latency_s / row["median_s"] - 1))
    mape = {name: sum(e) / len(e) for name, e in errors.items()}
    assert mape["calibrated"] < mape["preset"]
    assert mape["calibrated"] == pytest.approx(0.11, abs=0.01)
