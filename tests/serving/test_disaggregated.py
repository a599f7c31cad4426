"""Disaggregated prefill/decode serving: hand-calculated timings, link contention, pools with their own predictors,
conservation and Little's law on a small run."""

import math

import numpy as np
import pytest
from serving_checks import AnalyticCost

from cosim.serving.requests import Request
from cosim.serving.simulation import simulate_system
from cosim.serving.spec import Disaggregation, HardwareRef, LinkSpec, PoolSpec, SystemSpec
from cosim.serving.step import StepBatch

PREFILL = AnalyticCost(fixed_s=2e-3, per_token_s=5e-5, per_context_s=1e-7, power_w=400.0)
DECODE = AnalyticCost(fixed_s=1e-3, per_token_s=2e-5, per_context_s=2e-7, power_w=300.0)
LINK = LinkSpec(bandwidth_gbps=1.0, latency_s=1e-3, e_pj_per_bit=10.0)


def _system(prefill=1, decode=1, router="round_robin", prefill_tp=1):
    return SystemSpec(label="pd", hardware=HardwareRef(preset="H100-SXM5-80GB"), router=router,
                      disaggregated=Disaggregation(prefill=PoolSpec(replicas=prefill, tensor_parallel=prefill_tp),
                                                   decode=PoolSpec(replicas=decode), link=LINK))


def _pools(system):
    dis = system.disaggregated
    return lambda pool: PREFILL if pool is dis.prefill else DECODE


def _run(system, requests, **kw):
    return simulate_system(system, requests, _pools(system), **kw)


def test_one_request_by_hand():
    system = _system()
    run = _run(system, [Request(0, 0.0, 100, 4)])
    row = run.requests.iloc[0]
    prefill_s = PREFILL.prefill_s(100)  # 2e-3 + 5e-5 * 100 = 7 ms: the first token (DistServe's TTFT)
    move_s = 1e-3 + PREFILL.kv_transfer_bytes(100) / 1e9  # latency + 52.4 MB at 1 GB/s
    decodes = [DECODE.decode_s((c,)) for c in (100, 101, 102)]  # tokens 2, 3, 4
    assert row.ttft_s == pytest.approx(prefill_s)
    assert row.finish_s == pytest.approx(prefill_s + move_s + sum(decodes))
    assert row.tpot_s == pytest.approx((move_s + sum(decodes)) / 3)
    energy = (400 * prefill_s + 300 * sum(decodes) + PREFILL.kv_transfer_bytes(100) * 8 * 10e-12)
    assert row.energy_j == pytest.approx(energy)
    assert run.summary["energy_j"] == pytest.approx(energy)
    gaps = [move_s + decodes[0], decodes[1], decodes[2]]  # the first gap holds the transfer
    assert run.summary["tbt_p99_s"] == pytest.approx(np.quantile(gaps, 0.99))
    assert run.summary["tbt_mean_s"] == pytest.approx((move_s + sum(decodes)) / 3)
    assert row.instance == 1  # decode instances follow the prefill ones
    assert sorted(run.timeline["instance"].unique()) == [0, 1]


def test_transfers_from_one_prefill_instance_go_in_turn():
    system = _system()
    run = _run(system, [Request(0, 0.0, 100, 3), Request(1, 0.0, 100, 3)])
    prefill_s = PREFILL.time_s(StepBatch(prefill_chunks=((100, 0), (100, 0))))  # both prompts in one step
    move_s = 1e-3 + PREFILL.kv_transfer_bytes(100) / 1e9
    first = run.requests.set_index("id")
    assert first.ttft_s.tolist() == pytest.approx([prefill_s, prefill_s])
    # Both KV caches leave one egress port in turn: request 0's lands at prefill + move, request 1's at
    # prefill + 2 move (after request 0 has already finished its two decode steps alone).
    decode = DECODE.decode_s((100,)) + DECODE.decode_s((101,))
    assert first.finish_s.tolist() == pytest.approx([prefill_s + move_s + decode, prefill_s + 2 * move_s + decode])


def test_single_token_requests_finish_on_the_prefill_instance():
    run = _run(_system(), [Request(0, 0.0, 50, 1)])
    row = run.requests.iloc[0]
    assert row.finished and row.instance == 0 and row.finish_s == pytest.approx(PREFILL.prefill_s(50))


def test_a_request_too_large_for_the_decode_pool_is_unfinished_not_lost():
    small = AnalyticCost(capacity_tokens=256)
    system = _system()
    dis = system.disaggregated
    run = simulate_system(system, [Request(0, 0.0, 200, 100), Request(1, 0.0, 20, 5)],
                          lambda pool: PREFILL if pool is dis.prefill else small)
    assert run.requests["finished"].tolist() == [False, True]
    assert math.isfinite(run.requests["ttft_s"][0])  # it was prefilled; no decode instance can hold it


def _poisson(n, rate, seed=0):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1 / rate, n))
    return [Request(k, float(t[k]), int(rng.integers(20, 400)), int(rng.integers(1, 60))) for k in range(n)]


@pytest.mark.parametrize("router", ["round_robin", "least_outstanding"])
def test_conservation_and_littles_law(router):
    requests = _poisson(400, 40.0)
    run = _run(_system(prefill=2, decode=3, router=router), requests)
    frame = run.requests
    assert sorted(frame["id"]) == list(range(400))  # each request once
    assert frame["finished"].all() and run.summary["finished"] == 400
    assert (frame["first_token_s"] <= frame["finish_s"]).all() and (frame["ttft_s"] > 0).all()
    assert set(frame["instance"]) <= set(range(5))
    assert set(frame.loc[frame.output_tokens > 1, "instance"]) == {2, 3, 4}
    # Little's law: the run's time-average number in the system (integrated over the instances' steps and the
    # requests in transit between the pools) is arrival rate x mean time in system, short by at most two steps per
    # request (one joining the prefill batch, one joining the decode batch mid-step).
    span, timeline = run.summary["span_s"], run.timeline
    present = run.summary["in_system_mean"] * span
    in_system = float(frame.e2e_s.sum())
    slack = 2 * len(frame) * float(timeline.step_s.max())
    assert in_system - slack <= present <= in_system * (1 + 1e-9)
    assert slack < 0.05 * in_system
    # Every prompt token ran on a prefill instance and every later token on a decode instance.
    timeline = run.timeline
    pre = timeline[timeline.instance < 2]
    assert pre.prefill_tokens.sum() == frame.prompt_tokens.sum() and pre.decode_tokens.sum() == 0
    dec = timeline[timeline.instance >= 2]
    assert dec.decode_tokens.sum() == (frame.output_tokens - 1).sum()


def test_link_lanes_follow_the_pools_devices():
    # A tensor-parallel-2 prefill pool sends over min(2, 1) = 1 lane to a one-device decode pool.
    one = _run(_system(prefill_tp=2), [Request(0, 0.0, 100, 2)]).requests.finish_s[0]
    assert one == pytest.approx(PREFILL.prefill_s(100) + 1e-3 + PREFILL.kv_transfer_bytes(100) / 1e9
                                + DECODE.decode_s((100,)))


def test_pools_cost_their_steps_on_their_own_hardware():
    """A prefill pool of H100s and a decode pool of A100s, the KV over the H100's NVLink (450 GB/s one way, 1.5 us),
    each pool's steps from its own engine predictor."""
    from cosim.serving.step_cost import predictor_for

    system = SystemSpec(label="pd", hardware=HardwareRef(preset="H100-SXM5-80GB"),
                        disaggregated=Disaggregation(
                            prefill=PoolSpec(), decode=PoolSpec(hardware=HardwareRef(preset="A100-SXM4-80GB")),
                            link=LinkSpec(preset="nvlink")))
    dis = system.disaggregated
    pre, dec = (predictor_for(system, "llama-2-7b", pool=p) for p in (dis.prefill, dis.decode))
    assert pre.hardware.name == "H100-SXM5-80GB" and dec.hardware.name == "A100-SXM4-80GB"
    run = simulate_system(system, [Request(0, 0.0, 512, 3)], lambda pool: pre if pool is dis.prefill else dec)
    row = run.requests.iloc[0]
    first = pre.cost(StepBatch(prefill_chunks=((512, 0),))).time_s
    move = 1.5e-6 + pre.kv_transfer_bytes(512) / 450e9
    assert row.ttft_s == pytest.approx(first)
    assert row.finish_s == pytest.approx(first + move + sum(dec.cost(StepBatch((c,))).time_s for c in (512, 513)))


def test_disaggregation_removes_prefill_interference_from_tbt():
    """DistServe's point, on two devices: co-located vLLM replicas stall their decodes behind prompts (a prefill
    step of 20-400 tokens takes 3-22 ms against ~2 ms decode steps), so the tail token gap holds a prefill step; a
    prefill and a decode instance keep the decode gaps short (the gap that holds a 50 GB/s transfer of up to
    0.2 GB is at most ~6 ms)."""
    requests = _poisson(300, 20.0, seed=2)
    cost = AnalyticCost()
    colocated = SystemSpec(label="co", hardware=HardwareRef(preset="H100-SXM5-80GB"), replicas=2)
    split = _system().model_copy(update={"disaggregated": _system().disaggregated.model_copy(
        update={"link": LinkSpec(bandwidth_gbps=50.0)})})
    co = simulate_system(colocated, requests, lambda pool: cost).summary
    pd = simulate_system(split, requests, lambda pool: cost).summary
    assert co["finished"] == pd["finished"] == 300
    assert pd["tbt_p99_s"] < 0.5 * co["tbt_p99_s"]
    assert co["tbt_p99_s"] > cost.prefill_s(200)  # measured: 14.7 ms co-located, 4.5 ms disaggregated
