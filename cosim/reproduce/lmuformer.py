"""LMUFormer (ICLR'24): on Speech Commands V2 the LMUFormer needs 53x fewer parameters (lmu-01) and 65x fewer FLOPs
(lmu-02) than the SOTA transformer-based ANN.

Setup as published: the comparison transformer is AST (the authors' README lists it as the best ANN transformer on
SCv2, 98.11%), run as the AST authors' Speech Commands recipe (128 mel bins x 128 frames, 16x16 patches with stride
10: 144 patches, DeiT-base with class and distillation tokens, 35 classes; catalog workload ``ast-speechcommands``).
The LMUFormer is the network of the authors' ``src/gsc.yml`` (catalog ``spiking-lmuformer``; the ANN LMUFormer has
the same layers with real-valued activations, so its parameters and MACs are those of the SNN's ANN twin). FLOPs are
counted as multiply-accumulates of the weight layers, attention and the Legendre memory (the convention of MAC
counters such as thop); the ratio does not depend on counting a MAC as one or two operations.
"""

from __future__ import annotations

from functools import lru_cache

from workloads import Workload, load_workload
from workloads.snn import build_ann_twin, spiking_config

TRANSFORMER = "ast-speechcommands"
LMUFORMER = "spiking-lmuformer"


def macs(wl: Workload) -> float:
    """Multiply-accumulates of one forward pass of ``wl`` (repeat counts included)."""
    return sum(op.macs * op.count for op in wl.ops)


@lru_cache(maxsize=None)
def networks() -> tuple[Workload, Workload]:
    """(the SOTA transformer, the LMUFormer) as the catalog builds them, one utterance each."""
    return load_workload(TRANSFORMER), build_ann_twin(spiking_config(LMUFORMER))


def parameter_reduction() -> float:
    """Parameters of the transformer over those of the LMUFormer (lmu-01)."""
    ast, lmu = networks()
    return ast.parameters / lmu.parameters


def flops_reduction() -> float:
    """MACs per utterance of the transformer over those of the LMUFormer (lmu-02)."""
    ast, lmu = networks()
    return macs(ast) / macs(lmu)


MODEL_VALUES = {"lmu-01": parameter_reduction, "lmu-02": flops_reduction}
