"""'DNN is not all you need' (Tabanelli, Tagliavini, Benini, ACM TECS 22(3) 2023; dnn-01, 03, 04, 05).

What the paper's setup needs and what of it is known is ``SETUP``: only the abstract and the first sentence of the
introduction could be retrieved (the stored copies of dl.acm.org/doi/10.1145/3571133, the arXiv abstract pages and
the catalogue records end there; no code or data of the authors is public), so the datasets' dimensions, the
algorithms' parameters, what one measured run covers and the clocks are missing, and ``MISSING`` names them. The
computation therefore runs the eight classic-ML kernels of ``workloads.classic_ml`` at their catalog defaults (batch
1 query) on the GAP8 (8 RI5CY cores, FP emulation), PULP-OPEN (the same cluster with FPUs) and STM32F4 (Cortex-M4F)
presets at their preset operating points. The cores split each kernel's parallel work in whole units (trees,
support vectors, queries), and the Cortex-M4 pays loop control per iteration (no hardware loops) and pipelines runs
of loads, as its reference manual gives. The per-operation cycles of the two emulation libraries are labelled
assumptions in the presets, and the results move with them. The paper's measured cycles are not inputs anywhere.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cosim import api
from workloads.classic_ml import catalog

STANDARD_EMULATION = (("compute.fp_mode", "emulation-standard"),)
ONE_CORE = (("compute.cores", 1),)

# Each input of the paper's setup: (what the reproduction uses, where that comes from). "published" inputs are in
# the retrieved abstract; "not retrieved" ones are stated in the paper body, which could not be read, and a catalog
# default or a preset value stands in.
SETUP = {
    "platforms": ("GAP8 (FP emulation), PULP-OPEN (native FPU), both octa-core RISC-V clusters; an Arm Cortex-M4",
                  "published: abstract"),
    "emulation libraries": ("a standard and a target-optimised FP emulation library on GAP8",
                            "published: abstract (which libraries, and their cycles per operation: not retrieved; "
                            "preset assumptions)"),
    "algorithm list": ("decision tree, random forest, linear and RBF SVM, k-NN, k-means, Gaussian naive Bayes, "
                       "logistic regression (the catalog's eight)", "not retrieved: the abstract names none"),
    "dataset dimensions": ("catalog defaults: 16 features, 4 classes; k-NN 256 training samples; k-means 256 points",
                           "not retrieved"),
    "algorithm parameters": ("catalog defaults: tree depth 8, 10 trees, 64 support vectors, k = 5, 4 clusters, "
                             "10 k-means iterations", "not retrieved"),
    "measured run": ("one query (batch 1), one k-means window", "not retrieved: a single query or a test set"),
    "GAP8 clock": ("250 MHz (preset maximum)", "not retrieved"),
    "PULP-OPEN clock": ("250 MHz (taken as GAP8-like in the preset)", "not retrieved: an FPGA emulator's clock"),
    "Cortex-M4 board and clock": ("STM32F407 at 168 MHz (preset)", "not retrieved"),
    "Cortex-M4 comparison unit": ("latency (time)", "not retrieved: time or cycles"),
    "PULP-OPEN FPU sharing": ("one FPU per core (preset assumption)", "not retrieved"),
}
MISSING = tuple(name for name, (_, source) in SETUP.items() if source.startswith("not retrieved"))


@lru_cache(maxsize=None)
def latency_s(hw: str, overrides: tuple[tuple[str, object], ...], name: str) -> float:
    """Latency of catalog kernel ``name`` on preset ``hw`` with ``overrides`` (hashable pairs)."""
    return api.simulate(api.load_hardware(hw, dict(overrides)), api.load_workload(name)).latency_s


def ratios(slow: tuple, fast: tuple) -> dict[str, float]:
    """Per kernel: latency on ``slow`` over latency on ``fast``, each a (preset, overrides) pair."""
    return {n: latency_s(*slow, n) / latency_s(*fast, n) for n in catalog()}


COMPARISONS = {
    "dnn-01": (("GAP8", STANDARD_EMULATION), ("GAP8", ()), np.mean),
    "dnn-03": (("GAP8", STANDARD_EMULATION), ("PULP-OPEN", ()), max),
    "dnn-04": (("PULP-OPEN", ONE_CORE), ("PULP-OPEN", ()), np.mean),
    "dnn-05": (("STM32F4", ()), ("PULP-OPEN", ()), np.mean),
}
"""Per claim: the slower and the faster (preset, overrides) and how the per-kernel ratios combine."""


def _value(claim_id: str) -> float:
    slow, fast, combine = COMPARISONS[claim_id]
    return float(combine(list(ratios(slow, fast).values())))


MODEL_VALUES = {claim_id: (lambda c=claim_id: _value(c)) for claim_id in COMPARISONS}
