"""IoT core model: cycle arithmetic, Amdahl limits, FPU vs emulation, bank conflicts, energy, monotonicity."""

import numpy as np
import pytest

import cosim
from hw_models.iot_kernels import conflict_factor, kernel_cycles
from workloads.ir import Op, Workload
from workloads.table import op_table


def _kernel(p=1.0, units=None, **counts):
    tags = {"parallel_fraction": p} if units is None else {"parallel_fraction": p, "parallel_units": units}
    return Op("k", "kernel", dict(counts), act_bits=32, weight_bits=32, out_bits=32, dtype="fp32", tags=tags)


def _wl(op):
    return Workload("t", [op])


def _params(hw, **ov):
    return cosim.load_hardware(hw, ov).params


def test_single_core_cycles_by_hand():
    # STM32F4: 10 fp_add (1) + 5 fp_mul (1) + 4 loads (2) + 2 stores (1) + 3 int_cmp (alu 1 + branch 2) = 36
    row = op_table(_wl(_kernel(fp_add=10, fp_mul=5, loads=4, stores=2, int_cmp=3)))[0]
    cycles, active, acc = kernel_cycles(row, _params("STM32F4"), 1.0)
    assert cycles == pytest.approx(10 + 5 + 8 + 2 + 9)
    assert active == cycles and acc == 6
    r = cosim.simulate(cosim.load_hardware("STM32F4"), _wl(_kernel(fp_add=10, fp_mul=5, loads=4, stores=2, int_cmp=3)))
    assert r.latency_s == pytest.approx(34 / 168e6)


def test_loop_control_and_pipelined_loads_by_hand():
    # 2 loop iterations of 3 back-to-back loads and 2 FP adds each, on one core.
    row = op_table(_wl(_kernel(fp_add=4, loads=6, loop_iterations=2)))[0]
    # Cortex-M4: per iteration LDR 2 + 2 pipelined loads 1 + SUBS/BNE 3, and 4 FP adds of 1: 2 × (2 + 2 + 3) + 4
    assert kernel_cycles(row, _params("STM32F4"), 1.0)[0] == pytest.approx(2 * (2 + 2 + 3) + 4)
    # RI5CY (hardware loops, 1-cycle loads) with the optimised emulation library (add 35): 6 + 4 × 35
    gap8 = _params("GAP8", **{"compute.cores": 1})
    assert kernel_cycles(row, gap8, 1.0)[0] == pytest.approx(6 + 4 * 35)
    # without a loop count every load stands alone, as before
    alone = op_table(_wl(_kernel(fp_add=4, loads=6)))[0]
    assert kernel_cycles(alone, _params("STM32F4"), 1.0)[0] == pytest.approx(6 * 2 + 4)


def test_emulation_cycles_by_hand():
    row = op_table(_wl(_kernel(fp_add=2, fp_div=1)))[0]
    std = kernel_cycles(row, _params("GAP8", **{"compute.fp_mode": "emulation-standard", "compute.cores": 1}), 1.0)[0]
    assert std == pytest.approx(2 * 60 + 110)


@pytest.mark.parametrize("p", [0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("cores", [2, 4, 8])
def test_amdahl_limits(p, cores):
    wl = _wl(_kernel(p, fp_add=200000, fp_mul=200000, loads=400000))
    one = cosim.simulate(cosim.load_hardware("PULP-OPEN", {"compute.cores": 1}), wl).latency_s
    many = cosim.simulate(cosim.load_hardware("PULP-OPEN", {"compute.cores": cores}), wl).latency_s
    speedup = one / many
    assert speedup <= cores + 1e-9
    assert speedup <= 1.0 / (1.0 - p) + 1e-9 if p < 1 else True
    assert speedup > 1.0


@pytest.mark.parametrize("units, busiest, working", [
    (0, 100 / 8, 8),  # no tag: finely divisible, 100 adds / 8 cores
    (10, 2 * 10, 8),  # 10 units of 10 adds on 8 cores: the busiest core runs 2 units
    (16, 2 * 100 / 16, 8),  # two rounds of 8, evenly
    (3, 100 / 3, 3),  # 3 units: 3 cores work, one unit each
    (1, 100, 1),  # one unit: no split
])
def test_whole_units_per_core_by_hand(units, busiest, working):
    # PULP-OPEN on 8 cores: fork/join 150 + barrier 20; 100 FP adds of 1 cycle, no L1 accesses (no bank stalls), one
    # FPU per core (no FPU-sharing bound). Time = 170 + busiest core's adds; active = 170 + working cores x busiest.
    row = op_table(_wl(_kernel(1.0, units=units, fp_add=100)))[0]
    cycles, active, _ = kernel_cycles(row, _params("PULP-OPEN"), 8.0)
    assert cycles == pytest.approx(170 + busiest)
    assert active == pytest.approx(170 + working * busiest)


def test_partial_sums_merged_only_from_working_cores():
    # 2 units with a reduction on 8 cores: 2 partial sums, so 1 merge of (fp add 1 + 2 loads + 1 store) = 4 cycles
    row = op_table(_wl(_kernel(1.0, units=2, fp_add=100, reduction_steps=1)))[0]
    cycles, _, _ = kernel_cycles(row, _params("PULP-OPEN"), 8.0)
    assert cycles == pytest.approx(170 + 50 + 4)


def test_fpu_faster_than_emulation():
    wl = _wl(_kernel(fp_add=1000, fp_mul=1000, fp_div=10, loads=2000))
    t = {m: cosim.simulate(cosim.load_hardware("PULP-OPEN", {"compute.fp_mode": m}), wl).latency_s
         for m in ("fpu", "emulation-standard", "emulation-optimized")}
    assert t["fpu"] < t["emulation-optimized"] < t["emulation-standard"]


def test_fpu_mode_without_fpu_is_infeasible():
    r = cosim.simulate(cosim.load_hardware("GAP8", {"compute.fp_mode": "fpu"}), cosim.load_workload("knn"))
    assert not r.feasible and "FPU" in r.reason


def test_bank_conflicts_grow_with_cores():
    f = [conflict_factor(n * 0.5, 16) for n in range(1, 17)]
    assert f[0] == 1.0 and all(b >= a for a, b in zip(f, f[1:])) and f[-1] > 1.0
    # two requests on B banks collide with probability 1/B: E[distinct] = 2 - 1/B
    assert conflict_factor(2.0, 16) == pytest.approx(2.0 / (2.0 - 1.0 / 16))


def test_energy_is_sum_of_parts():
    for hw in ("GAP8", "PULP-OPEN", "STM32F4"):
        for w in ("kmeans", "ds-cnn-s"):
            r = cosim.simulate(cosim.load_hardware(hw), cosim.load_workload(w))
            parts = sum(r.totals[f"energy_{c}_j"] for c in ("compute", "onchip", "dram", "interconnect", "static"))
            assert r.energy_j == pytest.approx(parts)
            assert r.energy_j > 0


def test_higher_frequency_never_slower():
    wl = cosim.load_workload("svm-rbf")
    t = [cosim.simulate(cosim.load_hardware("GAP8", {"compute.clock_mhz": f}), wl).latency_s for f in (50, 100, 250)]
    assert t[0] >= t[1] >= t[2]


def test_more_cores_never_slower_when_fully_parallel():
    wl = _wl(_kernel(1.0, fp_add=50000, fp_mul=50000, loads=100000))
    t = [cosim.simulate(cosim.load_hardware("PULP-OPEN", {"compute.cores": n}), wl).latency_s for n in (1, 2, 4, 8)]
    assert all(b <= a for a, b in zip(t, t[1:]))


def test_dvfs_limit_and_voltage_energy():
    r = cosim.simulate(cosim.load_hardware("GAP8", {"compute.voltage_v": 1.0}), cosim.load_workload("knn"))
    assert not r.feasible and "operating point" in r.reason  # 250 MHz needs 1.2 V
    lo = cosim.simulate(cosim.load_hardware("GAP8", {"compute.voltage_v": 1.0, "compute.clock_mhz": 150}),
                        cosim.load_workload("knn"))
    hi = cosim.simulate(cosim.load_hardware("GAP8", {"compute.voltage_v": 1.2, "compute.clock_mhz": 150}),
                        cosim.load_workload("knn"))
    assert lo.latency_s == pytest.approx(hi.latency_s) and lo.energy_compute_j < hi.energy_compute_j


@pytest.mark.parametrize("hw", ["GAP8", "PULP-OPEN", "STM32F4"])
def test_every_classic_ml_and_small_dnn_simulates(hw):
    from workloads.classic_ml import catalog

    for w in list(catalog()) + ["ds-cnn-s"]:
        r = cosim.simulate(cosim.load_hardware(hw), cosim.load_workload(w))
        assert r.feasible and np.isfinite(r.latency_s) and r.latency_s > 0


def test_faster_instructions_never_slow_a_cluster_through_bank_conflicts():
    """Regression: with every instruction 16x cheaper, a tiny int8 GEMM on PULP-OPEN got 6.6% slower (1.177 →
    1.255 µs) because the bank-conflict stall grew without bound with the request rate; a core issues at most one
    L1 access per cycle, which bounds it."""
    import numpy as np

    from cosim.api import load_hardware
    from cosim.engine import evaluate_points
    from workloads import Op, Workload

    hw = load_hardware("PULP-OPEN")
    op = Op("mm", "matmul", {"m": 1, "n": 19, "k": 1, "batch": 3}, act_bits=8, weight_bits=8, out_bits=8,
            dtype="int8", tags={"weight": False})
    index = hw.device.param_index
    faster = hw.params.copy()
    for name in index:
        if name.startswith("c_") or (name.startswith("fp_") and name != "fp_native"):
            faster[index[name]] /= 16.0
    totals = evaluate_points(hw, Workload("mm", [op], item_unit="item", items=1), np.vstack([hw.params, faster]))
    assert totals["latency_s"][1] <= totals["latency_s"][0]
