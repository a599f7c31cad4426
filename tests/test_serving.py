"""Continuous-batching steady state (cosim.serving) and throughput per dollar of attention offloading."""

from __future__ import annotations

import pytest

import cosim
from cosim.serving import serve, tokens_per_dollar_s


@pytest.fixture(scope="module")
def h100():
    return cosim.load_hardware("H100-SXM5-80GB")


def test_steady_state_composes_decode_and_amortised_prefill(h100):
    est = serve(h100, "llama-3-8b", 16, 512, 256)
    assert est.feasible
    assert est.step_s == pytest.approx(est.decode_step_s + 16 / 256 * est.prefill_s)
    assert est.tokens_per_s == pytest.approx(16 / est.step_s)


def test_longer_outputs_amortise_prefill_better(h100):
    short, long = serve(h100, "llama-3-8b", 16, 1024, 64), serve(h100, "llama-3-8b", 16, 1024, 1024)
    assert short.step_s - short.decode_step_s > long.step_s - long.decode_step_s


def test_out_of_range_context_is_infeasible_not_an_error(h100):
    est = serve(h100, "opt-66b", 8, 2048, 2048, devices=4)
    assert not est.feasible and "max_position_embeddings" in est.reason


def test_attention_offload_reports_per_unit_time_and_cost():
    hw = cosim.load_hardware("H100-attention-offload")
    est = serve(hw, "llama-3-8b", 32, 512, 512)
    assert set(est.unit_time_s) == {"gpu", "attn"}
    assert tokens_per_dollar_s(est, hw) == pytest.approx(est.tokens_per_s / 65000.0)
    with pytest.raises(ValueError):
        tokens_per_dollar_s(est, cosim.load_hardware("H100-SXM5-80GB"))
