"""Double-buffered stationary operands on a systolic array (``compute.stationary_double_buffered``): hand-counted
cycles of a weight-stationary GEMM with and without the overlap, on one 128 x 128 array of the NeuPIMs NPU."""

import numpy as np
import pytest

import cosim
from hw_models.cost import N_OUT, O_TIME
from hw_models.spatial import DTYPES, P
from hw_models.spatial_kernels import gemm_mapping_cost

FP16 = DTYPES.index("fp16")
WS, MNK = 1, 0  # weight-stationary; loop order m, n, k (k innermost: no tile keeps its weights across tiles)
FAST_MEMORY = {"compute.arrays": 1, "memory.dram_bandwidth_gbps": 1e9,
               "memory.global_buffer_bandwidth_bytes_per_cycle": 1e9}  # only the array's cycles count


def _cycles(m, n, k, overlap):
    params = cosim.load_hardware("NeuPIMs-NPU", {**FAST_MEMORY, "compute.stationary_double_buffered": overlap}).params
    out = np.zeros(N_OUT)
    gemm_mapping_cost(m, n, k, 1.0, 2.0, 2.0, 2.0, 1.0, FP16, params, WS, MNK, m, n, k, out)
    return out[O_TIME] * params[P["clock_hz"]]


def test_overlap_hides_exactly_the_load_when_the_stream_is_longer():
    # k 128 x n 256 = 2 folds on a 128 x 128 array; m = 512 rows streamed per fold. Without overlap each fold pays
    # load 128 + stream 512 + skew 254 = 894 cycles: 1788. With it the second fold's load (and the first fold's
    # drain) run under the first fold's stream: 2 x 512 + (128 + 254) once = 1406, exactly one fold's load and
    # skew fewer.
    assert _cycles(512, 256, 128, False) == pytest.approx(1788, abs=1e-3)
    assert _cycles(512, 256, 128, True) == pytest.approx(1406, abs=1e-3)


def test_a_load_longer_than_the_stream_sets_the_fold_time():
    # m = 64 < 128 rows: each fold waits for the next fold's 128-cycle load: 2 x 128 + 382 = 638 (without: 2 x 446)
    assert _cycles(64, 256, 128, False) == pytest.approx(892, abs=1e-3)
    assert _cycles(64, 256, 128, True) == pytest.approx(638, abs=1e-3)


def test_one_fold_gains_nothing():
    assert _cycles(512, 128, 128, True) == pytest.approx(_cycles(512, 128, 128, False), abs=1e-3)


def test_default_is_off_so_scalesim_counts_stay():
    assert cosim.load_hardware("SCALE-Sim-32x32").params[P["stationary_db"]] == 0.0
    assert cosim.load_hardware("NeuPIMs-NPU").params[P["stationary_db"]] == 1.0
