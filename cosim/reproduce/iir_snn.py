"""IIR-SNN ('One Timestep is All You Need'): VGG-16 with one timestep and direct encoding is 25-33x more
energy-efficient than the iso-architecture DNN (iir-03).

Setup as published: VGG-16 on CIFAR-10 (the authors' shapes: avg pools, 2048-4096-4096-10 head), T = 1, direct
encoding (first conv stays MAC), 45 nm E_MAC = 4.6 pJ / E_AC = 0.9 pJ (the claim's setup in claims.yaml), compute
energy only: E_ANN = MACs x E_MAC; E_SNN = first-layer MACs x T x E_MAC + ACs x E_AC. The paper's per-layer spike
rates could not be retrieved, so the catalog's cited default (an assumed average input spike rate of 0.1 for every
spiking layer) is used.
"""

from __future__ import annotations

from functools import lru_cache

from cosim.reproduce.claims import claim
from workloads import Workload, load_workload
from workloads.snn import to_spiking


def op_class_totals(wl: Workload) -> dict[str, float]:
    """Operations of ``wl`` summed per class (``mac``, ``ac``, ...), repeat counts included."""
    out: dict[str, float] = {}
    for op in wl.ops:
        for k, v in op.ops_by_class.items():
            out[k] = out.get(k, 0.0) + v * op.count
    return out


def energy_ratio(ann: Workload, snn: Workload, e_mac_j: float, e_ac_j: float) -> float:
    """E_ANN / E_SNN with E = MACs x E_MAC (+ ACs x E_AC for the SNN; its MACs are the direct first layer x T)."""
    a, s = op_class_totals(ann), op_class_totals(snn)
    return a["mac"] * e_mac_j / (s.get("mac", 0.0) * e_mac_j + s.get("ac", 0.0) * e_ac_j)


def setup_energies_j() -> tuple[float, float]:
    """The claim's published (E_MAC, E_AC) in joules."""
    setup = claim("iir-03").setup
    return setup["e_mac_pj"] * 1e-12, setup["e_ac_pj"] * 1e-12


@lru_cache(maxsize=None)
def ratio(ann: str = "vgg-16-cifar10", snn: str = "spiking-vgg-16-cifar10", rate: float | None = None) -> float:
    """E_ANN / E_SNN of catalog workloads ``ann`` and ``snn``; with ``rate``, the SNN is ``ann`` at T = 1 and that
    average spike rate instead."""
    a = load_workload(ann)
    s = to_spiking(a, 1, rate) if rate is not None else load_workload(snn)
    return energy_ratio(a, s, *setup_energies_j())


MODEL_VALUES = {"iir-03": ratio}
