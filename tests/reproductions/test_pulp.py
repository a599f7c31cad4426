"""'DNN is not all you need' (Tabanelli, Tagliavini, Benini, ACM TECS 22(3) 2023; paper_claims dnn-01, 03, 04, 05).

Setup: the eight classic-ML kernels of workloads/classic_ml.py with their catalog defaults (batch 1 query) — the
paper's datasets, algorithm parameters and clocks were not available, so this is not its exact setup. Hardware:
GAP8 (8 RI5CY cores, FP emulation), PULP-OPEN (the same cluster with FPUs) and STM32F4 (Cortex-M4F) presets, all
at their preset operating points. The main inputs are the emulation libraries' cycles per FP operation, which are
labelled assumptions in the presets (no published per-operation counts were retrieved): the results move with them.

Claims and the model's numbers (asserted with a 2 % noise-only tolerance, since nothing here is random):
- dnn-01 optimized vs standard emulation on GAP8, average speed-up: paper 1.61x, model ~1.54x (close: set by the
  assumed per-op cycle ratio ~1.7 diluted by integer work and loads).
- dnn-03 native FPU vs emulation, best kernel: paper up to 32.09x, model ~29x (PULP-OPEN FPU vs GAP8 standard lib).
- dnn-04 parallel speed-up on 8 cores, average: paper 7.04x, model ~3.6x on PULP-OPEN. MISS: at batch 1 several
  kernels (decision tree, random forest, linear models) have only tens to hundreds of cycles of work, so the assumed
  150-cycle fork/join and the partial-sum merges dominate; the paper parallelises larger problems. With more work
  per region the model's speed-up approaches min(8, 1/(1-p)) (tested in tests/test_iot.py).
- dnn-05 Cortex-M4 slower than PULP-OPEN, average: paper 12.87x, model ~7.8x. MISS: the Cortex-M4 preset runs at
  168 MHz against an assumed 250 MHz PULP-OPEN clock (the FPGA emulator's clock is unknown), and the lower parallel
  speed-up above carries over.
"""

import numpy as np
import pytest

import cosim
from workloads.classic_ml import catalog

NAMES = list(catalog())
TOL = 0.02


def _lat(hw, overrides, name):
    return cosim.simulate(cosim.load_hardware(hw, overrides), cosim.load_workload(name)).latency_s


def test_dnn01_optimized_emulation():
    ratio = np.mean([_lat("GAP8", {"compute.fp_mode": "emulation-standard"}, n) / _lat("GAP8", {}, n) for n in NAMES])
    assert ratio == pytest.approx(1.536, rel=TOL)  # paper 1.61
    assert ratio > 1.0


def test_dnn03_native_fpu():
    best = max(_lat("GAP8", {"compute.fp_mode": "emulation-standard"}, n) / _lat("PULP-OPEN", {}, n) for n in NAMES)
    assert best == pytest.approx(29.27, rel=TOL)  # paper up to 32.09


def test_dnn04_parallel_speedup():
    ratio = np.mean([_lat("PULP-OPEN", {"compute.cores": 1}, n) / _lat("PULP-OPEN", {}, n) for n in NAMES])
    assert ratio == pytest.approx(3.595, rel=TOL)  # paper 7.04 (miss, see docstring)
    assert 1.0 < ratio <= 8.0


def test_dnn05_cortex_m4():
    ratio = np.mean([_lat("STM32F4", {}, n) / _lat("PULP-OPEN", {}, n) for n in NAMES])
    assert ratio == pytest.approx(7.83, rel=TOL)  # paper 12.87 (miss, see docstring)
