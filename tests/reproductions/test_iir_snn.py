"""IIR-SNN: VGG-16 with one timestep is 25–33x more energy-efficient than the iso-architecture DNN (iir-03).

The setup and the computation are in ``cosim.reproduce.iir_snn``. The paper's per-layer spike rates are not in the
retrieved text, so the catalog's labelled assumption (rate 0.1) is used and the paper case stays xfail. What the
published range implies is computed, not fitted: with the claim's 4.6/0.9 pJ, MAC-weighted input rates 0.129-0.179;
at rate 0.1, an E_MAC/E_AC of 2.9-4.0. Either is the missing setup.
"""

import pytest

from cosim.reproduce import model_value
from cosim.reproduce.iir_snn import implied_mac_over_ac, implied_rate, ratio, setup_energies_j
from paper_cases import assert_paper, paper
from workloads import load_workload

PAPER = [paper("iir-03", 33.0, range=(25.0, 33.0), miss=True)]
MODEL = {"iir-03": 40.5}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_iir_snn(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_iir_snn(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.01)


def test_setup_is_one_timestep():
    assert load_workload("spiking-vgg-16-cifar10").params["timesteps"] == 1


def test_rate_interval_that_matches_the_claim():
    assert 25.0 <= ratio(rate=0.13) <= 33.0 and 25.0 <= ratio(rate=0.17) <= 33.0
    assert ratio(rate=0.12) > 33.0 and ratio(rate=0.18) < 25.0


def test_implied_rates_by_hand():
    # E_ANN / E_SNN = M E_MAC / (M1 E_MAC + r (M - M1) E_AC): VGG-16 CIFAR-10 has M = 313.2 M MACs, of which the
    # first conv (3 -> 64, 3x3, 32x32) is M1 = 1.769 M; every other MAC becomes an AC at the input rate r.
    m1 = 3 * 64 * 9 * 32 * 32
    m = load_workload("vgg-16-cifar10")
    macs = sum(op.macs * op.count for op in m.ops)
    e_mac, e_ac = setup_energies_j()
    for target in (25.0, 33.0):
        by_hand = (macs * e_mac / target - m1 * e_mac) / ((macs - m1) * e_ac)
        assert implied_rate(target) == pytest.approx(by_hand, rel=1e-9)
        assert ratio(rate=implied_rate(target)) == pytest.approx(target, rel=1e-9)
    assert (implied_rate(33.0), implied_rate(25.0)) == pytest.approx((0.129, 0.179), abs=0.001)


def test_energy_constants_that_would_match_at_the_assumed_rate():
    # At rate 0.1 the range needs E_MAC / E_AC between 2.9 and 4.0; the claim's fp32 pair is 4.6 / 0.9 = 5.1.
    assert (implied_mac_over_ac(25.0, 0.1), implied_mac_over_ac(33.0, 0.1)) == pytest.approx((2.86, 3.97), abs=0.01)
    e_mac, e_ac = setup_energies_j()
    assert e_mac / e_ac > implied_mac_over_ac(33.0, 0.1)


def test_imagenet_shapes_give_the_same_picture():
    assert ratio("vgg-16", "spiking-vgg-16-imagenet") == pytest.approx(39.9, rel=0.01)
    assert (implied_rate(33.0, "vgg-16"), implied_rate(25.0, "vgg-16")) == pytest.approx((0.127, 0.177), abs=0.001)
