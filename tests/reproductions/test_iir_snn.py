"""Reproduction of paper_claims iir-03: IIR-SNN (VGG-16, ONE timestep, direct encoding) is 25–33× more
energy-efficient than the iso-architecture DNN.

Setup as published: VGG-16 on CIFAR-10 (the authors' shapes: avg pools, 2048-4096-4096-10 head), T = 1, direct
encoding (first conv stays MAC), 45 nm E_MAC = 4.6 pJ / E_AC = 0.9 pJ read from hw_specs.yaml, compute energy only
(E_ANN = MACs × E_MAC; E_SNN = first-layer MACs × T × E_MAC + ACs × E_AC).

The paper's per-layer spike rates could not be retrieved (only its abstract and code were available), so the
catalog's cited default — an assumed average input spike rate of 0.1 for every spiking layer — is used. With it the
op counts give 40.5× (ImageNet shapes 39.9×), above the 25–33× claim. The counts reproduce the claim exactly when
the average rate is 0.127–0.177, so the gap is the rate assumption, not the arithmetic: the paper's network spikes
somewhat more than the assumed 10 %. The paper may also count differently (e.g. per-layer rates weighting layers by
their ops); no factor is tuned here. The test asserts the model's number (tolerance 1 %, which only absorbs
floating-point and rounding, so a change of shapes or rules fails it) and the rate interval that would match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_snn import energy_ratio  # noqa: E402
from workloads import load_workload  # noqa: E402
from workloads.snn import to_spiking  # noqa: E402

CLAIM = (25.0, 33.0)


def test_iir_snn_energy_ratio_from_counts():
    ann = load_workload("vgg-16-cifar10")
    snn = load_workload("spiking-vgg-16-cifar10")  # T=1, cited default rate
    assert snn.params["timesteps"] == 1
    ratio = energy_ratio(ann, snn)
    assert ratio == pytest.approx(40.5, rel=0.01)
    assert ratio > CLAIM[1]  # the documented gap: the assumed rate is lower than the paper's network's


def test_rate_interval_that_matches_the_claim():
    ann = load_workload("vgg-16-cifar10")
    ratio = lambda r: energy_ratio(ann, to_spiking(ann, 1, r))
    assert CLAIM[0] <= ratio(0.13) <= CLAIM[1] and CLAIM[0] <= ratio(0.17) <= CLAIM[1]
    assert ratio(0.12) > CLAIM[1] and ratio(0.18) < CLAIM[0]


def test_imagenet_shapes_give_the_same_picture():
    ratio = energy_ratio(load_workload("vgg-16"), load_workload("spiking-vgg-16-imagenet"))
    assert ratio == pytest.approx(39.9, rel=0.01)
