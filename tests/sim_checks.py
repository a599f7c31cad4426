"""Checks shared by the workload-family tests: a workload simulates on a device with consistent totals."""

import pytest

import cosim
from cosim.totals import ENERGY_COMPONENTS


def assert_simulates(workload, hardware="H100-SXM5-80GB"):
    """The workload is feasible on ``hardware``, takes time, and its energy is the sum of its components."""
    hw = cosim.load_hardware(hardware) if isinstance(hardware, str) else hardware
    result = cosim.simulate(hw, workload)
    t = result.totals
    assert t["feasible"], t["reason"]
    assert t["latency_s"] > 0
    assert t["energy_j"] == pytest.approx(sum(t[f"energy_{c}_j"] for c in ENERGY_COMPONENTS), rel=1e-9)
    return result
