"""Heterogeneous devices evaluated for many points at once give the same totals as one point at a time."""

import numpy as np
import pytest

from cosim.engine import evaluate_points
from hw_models.hardware import load_hardware
from workloads import load_workload

GPT3 = dict(phase="decode", tensor_parallel=4, batch=33, context=228)  # odd batch: unequal sub-batches and splits
CASES = [
    ("NeuPIMs", [{}, {"units.pim.organization.multipliers_per_bank": 4}, {"concurrency": "sequential"},
                 {"concurrency": "overlap"}, {"units.npu.compute.arrays": 2}, {"subbatch_min_batch": 0}], "latency"),
    ("NeuPIMs-NPU+PIM-naive", [{}, {"concurrency": "subbatch"}, {"units.pim.organization.multipliers_per_bank": 32}],
     "energy"),
    ("Duplex", [{}, {"units.lpim.memory.internal_bandwidth_multiplier": 2}, {"split_steps": 2}, {"allow_split": False},
                {"units.xpu.memory.hbm_bandwidth_gbps": 1000}], "latency"),
    ("Duplex", [{}, {"split_steps": 3}], "edp"),
]


@pytest.mark.parametrize("preset, variants, objective", CASES)
def test_batched_totals_equal_one_point_at_a_time(preset, variants, objective):
    workload = load_workload("gpt3-13b", **GPT3)
    hws = [load_hardware(preset, v) for v in variants]
    matrix = np.stack([h.params for h in hws])
    together, raw = evaluate_points(hws[0], workload, matrix, objective, with_raw=True)
    assert together["feasible"].any()
    for i, hw in enumerate(hws):
        alone, raw_alone = evaluate_points(hw, workload, hw.params, objective, with_raw=True)
        for key, values in together.items():
            a, b = values[i], alone[key][0]
            if isinstance(a, (str, bool, np.bool_)):
                assert a == b, key
            else:
                assert np.array_equal(a, b, equal_nan=True), (key, a, b)
        assert np.array_equal(raw[i, :, :10], raw_alone[0, :, :10], equal_nan=True)  # costs (not mapping fields)
