"""Lamina (lamina-01, lamina-02): what its published setup states and what a throughput-per-dollar reproduction would
still need.

Lamina (arXiv 2405.01814) runs attention on cheap memory-optimised devices and the other operators on
compute-optimised accelerators, and claims 1.48-12.1x higher estimated throughput per dollar than homogeneous
deployments (v1, lamina-01) and 16.1-90.1% higher estimated throughput at similar cost (v2, lamina-02). Only the
abstracts were retrieved: the devices, their prices, the models and the workloads behind the ranges are not stated,
so neither claim is computed. cosim has the mechanism (the ``H100-attention-offload`` and ``A100+H20-PCIe`` presets,
``cosim.serving.tokens_per_dollar_s``), but its devices and prices are this project's assumptions, not the paper's;
running them would put a number beside the paper's that answers a different setup. ``MISSING`` names every input
the claims need.
"""

from __future__ import annotations

from cosim.reproduce.serving_runs import NOT_STATED, missing

SETUP = {
    "architecture": ("attention on memory-optimised devices holding the KV cache; other operators on "
                     "compute-optimised accelerators", "published: abstract (paper_claims lamina-01 setup)"),
    "metric": ("v1: estimated throughput per dollar over homogeneous; v2: estimated throughput at similar cost",
               "published: abstract (paper_claims lamina-01 metric_note)"),
    "compute devices": ("-", f"{NOT_STATED}: the accelerator model for non-attention operators"),
    "attention devices": ("-", f"{NOT_STATED}: the memory-optimised device model"),
    "interconnect": ("-", f"{NOT_STATED}: the link between the two device pools and its bandwidth"),
    "device prices": ("-", f"{NOT_STATED}: the dollar cost of each device the estimate divides by"),
    "homogeneous baselines": ("-", f"{NOT_STATED}: which device, how many, which serving system"),
    "models": ("-", f"{NOT_STATED}: the models behind the 1.48-12.1x and 16.1-90.1% ranges"),
    "workloads": ("-", f"{NOT_STATED}: batch sizes, context lengths or traces"),
    "device counts": ("-", f"{NOT_STATED}: how many of each device a Lamina deployment uses"),
}
MISSING = missing(SETUP)

UNREACHED = {
    "lamina-01": "needs the compute and attention devices, their prices, the homogeneous baselines, the models and "
                 "the workloads behind 1.48-12.1x: only the abstract was retrieved",
    "lamina-02": "needs the same inputs (devices, prices, baselines, models, workloads) for v2's 16.1-90.1% at "
                 "similar cost: only the abstract was retrieved",
}
