"""Checks and builders shared by tests: a workload simulates on a device with consistent totals; a one-GEMM workload."""

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


def single_gemm(m: int, n: int, k: int, dtype: str):
    """A workload of one weight GEMM (m × k times k × n) in ``dtype`` (int8 or a 16-bit float)."""
    from workloads.ir import Op, Workload

    bits = 8 if dtype == "int8" else 16
    wl = Workload("gemm", items=1.0)
    wl.add(Op("gemm", "matmul", {"m": m, "n": n, "k": k, "batch": 1}, act_bits=bits, weight_bits=bits, out_bits=bits,
              tags={"weight": True}, dtype=dtype))
    return wl
