"""'DNN is not all you need' (Tabanelli, Tagliavini, Benini, ACM TECS 22(3) 2023; dnn-01, 03, 04, 05).

Setup: the eight classic-ML kernels of ``workloads.classic_ml`` with their catalog defaults (batch 1 query) — the
paper's datasets, algorithm parameters and clocks were not available, so this is not its exact setup. Hardware:
GAP8 (8 RI5CY cores, FP emulation), PULP-OPEN (the same cluster with FPUs) and STM32F4 (Cortex-M4F) presets, at their
preset operating points. The main inputs are the emulation libraries' cycles per FP operation, labelled assumptions in
the presets: the results move with them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cosim import api
from workloads.classic_ml import catalog

STANDARD_EMULATION = (("compute.fp_mode", "emulation-standard"),)
ONE_CORE = (("compute.cores", 1),)


@lru_cache(maxsize=None)
def latency_s(hw: str, overrides: tuple[tuple[str, object], ...], name: str) -> float:
    """Latency of catalog kernel ``name`` on preset ``hw`` with ``overrides`` (hashable pairs)."""
    return api.simulate(api.load_hardware(hw, dict(overrides)), api.load_workload(name)).latency_s


def _ratios(slow: tuple, fast: tuple) -> list[float]:
    """Per kernel: latency on ``slow`` over latency on ``fast``, each a (preset, overrides) pair."""
    return [latency_s(*slow, n) / latency_s(*fast, n) for n in catalog()]


MODEL_VALUES = {
    "dnn-01": lambda: float(np.mean(_ratios(("GAP8", STANDARD_EMULATION), ("GAP8", ())))),
    "dnn-03": lambda: float(max(_ratios(("GAP8", STANDARD_EMULATION), ("PULP-OPEN", ())))),
    "dnn-04": lambda: float(np.mean(_ratios(("PULP-OPEN", ONE_CORE), ("PULP-OPEN", ())))),
    "dnn-05": lambda: float(np.mean(_ratios(("STM32F4", ()), ("PULP-OPEN", ())))),
}
