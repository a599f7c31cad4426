"""NanoFlow nano-batch overlap: the schedule against hand calculations, the batch split, and the engine's physics."""

from types import SimpleNamespace

import pandas as pd
import pytest

from cosim.serving.nanoflow import RESOURCES, overlap, resource_of, split_batch
from cosim.serving.step import StepBatch


def _result(ops, energy_j=0.0, static_j=0.0, period_s=1.0):
    """A stand-in engine Result: ``ops`` as (name, count, time_s incl. count, bound)."""
    frame = pd.DataFrame(ops, columns=["op", "count", "time_s", "bound"])
    return SimpleNamespace(ops=frame, energy_j=energy_j, energy_static_j=static_j, period_s=period_s)


def test_two_nano_batches_one_layer_by_hand():
    # Each nano-batch: a compute op of 2 s then a memory op of 3 s. Compute: nb0 [0, 2], nb1 [2, 4];
    # memory: nb0 [2, 5], nb1 waits for it, [5, 8]. Sequential would be 10 s; the busiest resource alone 6 s.
    nb = _result([("gemm", 1, 2.0, "compute"), ("attn", 1, 3.0, "memory")])
    run = overlap([nb, nb])
    assert run.time_s == pytest.approx(8.0)
    assert run.busy_s == {"compute": 4.0, "memory": 6.0, "network": 0.0, "launch": 0.0}


def test_layers_unrolled_by_hand():
    # Two layers (count 2) of a 1 s compute op and a 1.5 s memory op per nano-batch:
    # nb0 A[0,1] B[1,2.5] A[2.5,3.5] B[4,5.5]; nb1 A[1,2] B[2.5,4] A[4,5] B[5.5,7] -> 7 s = memory's 6 s + 1 s fill.
    nb = _result([("A", 2, 2.0, "compute"), ("B", 2, 3.0, "memory")])
    assert overlap([nb, nb]).time_s == pytest.approx(7.0)


def test_energy_is_dynamic_plus_static_power_over_the_step():
    # Each nano-batch alone: 10 J of which 2 J static over its 5 s -> 0.4 W idle; dynamic 8 J each.
    nb = _result([("gemm", 1, 2.0, "compute"), ("attn", 1, 3.0, "memory")], energy_j=10.0, static_j=2.0,
                 period_s=5.0)
    run = overlap([nb, nb])
    assert run.energy_j == pytest.approx(16.0 + 0.4 * 8.0)


def test_nano_batches_with_different_ops():
    # A decode-only nano-batch lacks the prefill attention; each nano-batch runs its own ops in its own order.
    full = _result([("gemm", 1, 2.0, "compute"), ("attn_prefill", 1, 1.0, "compute"), ("attn", 1, 3.0, "memory")])
    part = _result([("gemm", 1, 2.0, "compute"), ("attn", 1, 3.0, "memory")])
    # full: gemm[0,2], attn_prefill waits for part's gemm [2,4] -> [4,5], attn waits for part's attn [4,7] -> [7,10].
    assert overlap([full, part]).time_s == pytest.approx(10.0)


def test_bound_names_map_to_resources():
    assert RESOURCES[resource_of("power")] == "compute"
    assert RESOURCES[resource_of("l2")] == "memory"
    assert RESOURCES[resource_of("interconnect")] == "network"
    with pytest.raises(ValueError, match="known"):
        resource_of("warp-drive")


def test_split_keeps_every_token_once_and_orders_chunk_parts():
    batch = StepBatch((100, 200, 300), ((10, 0), (5, 40)))
    parts = split_batch(batch, 3)  # 18 tokens -> 6, 6, 6
    assert [p.tokens for p in parts] == [6, 6, 6]
    assert parts[0] == StepBatch((100, 200, 300), ((3, 0),))
    assert parts[1] == StepBatch((), ((6, 3),))
    assert parts[2] == StepBatch((), ((1, 9), (5, 40)))
    assert split_batch(StepBatch((7,)), 4) == [StepBatch((7,))]


def _engine():
    from cosim.engine import simulate
    from hw_models.hardware import load_hardware
    from workloads import load_workload

    hw = load_hardware("H100-SXM5-80GB")

    def decode(batch, context=1024):
        return simulate(hw, load_workload("llama-2-7b", phase="decode", batch=batch, context=context,
                                          tensor_parallel=2))

    def prefill(prompt):
        return simulate(hw, load_workload("llama-2-7b", phase="prefill", batch=1, prompt=prompt, tensor_parallel=2))

    return decode, prefill


def test_engine_breakdown_overlap_bounds():
    """On the engine's breakdown the overlapped step lies between the busiest resource and running the nano-batches
    one after another; splitting a memory-bound decode step re-reads the weights, so it is slower than not splitting
    (NanoFlow gains where GEMMs are compute-bound), while two compute-bound prefills overlap their collectives and
    launches with their GEMMs."""
    decode, prefill = _engine()
    whole, half = decode(128), decode(64)
    run = overlap([half, half])
    assert max(run.busy_s.values()) <= run.time_s <= 2 * half.period_s
    assert run.busy_s["memory"] > sum(t for t, b in zip(whole.ops["time_s"], whole.ops["bound"])
                                      if resource_of(b) == 1)
    assert run.time_s > whole.period_s
    whole, half = prefill(4096), prefill(2048)
    run = overlap([half, half])
    assert max(run.busy_s.values()) <= run.time_s < 2 * half.period_s


def _predictor(exact=False):
    from cosim.serving.step_cost import EngineStepCost
    from hw_models.hardware import load_hardware

    return EngineStepCost(load_hardware("H100-SXM5-80GB"), "llama-2-7b", tensor_parallel=2, exact=exact)


def test_predictor_costs_a_step_as_its_overlapped_nano_batches():
    from cosim.serving.nanoflow import NanoBatchStepCost

    inner = _predictor(exact=True)
    nano = NanoBatchStepCost(inner, 2)
    batch = StepBatch((1000,) * 64, ((512, 0), (512, 0)))  # 64 decodes + 1024 prompt tokens: GEMMs compute-bound
    parts = split_batch(batch, 2)
    assert [p.tokens for p in parts] == [544, 544]
    expect = overlap([nano._result(p) for p in parts])
    cost = nano.cost(batch)
    assert cost.time_s == pytest.approx(expect.time_s) and cost.energy_j == pytest.approx(expect.energy_j)
    plain = inner.cost(batch)
    assert cost.time_s < plain.time_s  # the collectives and launches hide under the other nano-batch's GEMMs
    assert nano.kv_capacity_tokens() == inner.kv_capacity_tokens()


def test_nano_batches_rejected_where_not_modelled():
    from serving_checks import AnalyticCost

    from cosim.errors import CosimInputError
    from cosim.serving.nanoflow import NanoBatchStepCost, with_nano_batches
    from cosim.serving.step_cost import EngineStepCost
    from hw_models.hardware import load_hardware

    inner = AnalyticCost()
    assert with_nano_batches(inner, 1) is inner
    with pytest.raises(CosimInputError, match="EngineStepCost"):
        NanoBatchStepCost(inner, 2)
    with pytest.raises(CosimInputError, match="heterogeneous"):
        NanoBatchStepCost(EngineStepCost(load_hardware("NeuPIMs"), "llama-2-7b"), 2)


def test_layers_of_different_nano_batches_by_hand():
    # nb0: a 1 s compute op before two layers of (A 1 s compute, B 1.5 s memory); nb1: the two layers only.
    # compute: P0[0,1] A1[1,2] A0[2,3]; memory: B1[2,3.5] B0[3.5,5]; compute: A1[3.5,4.5]; memory: B1[5,6.5];
    # compute: A0[5,6]; memory: B0[6.5,8].
    nb0 = _result([("P", 1, 1.0, "compute"), ("A", 2, 2.0, "compute"), ("B", 2, 3.0, "memory")])
    nb1 = _result([("A", 2, 2.0, "compute"), ("B", 2, 3.0, "memory")])
    assert overlap([nb0, nb1]).time_s == pytest.approx(8.0)


def test_a_serving_run_with_nano_batches():
    """simulate_system applies system.nano_batches to the engine predictor: a prefill-heavy run (Sarathi hybrid
    batches of 1024 tokens, compute-bound GEMMs) finishes sooner with two overlapped nano-batches."""
    from serving_checks import check_run, poisson_requests

    from cosim.serving.simulation import simulate_system
    from cosim.serving.spec import HardwareRef, SchedulerSpec, SystemSpec
    from cosim.serving.step_cost import predictor_for

    spans = []
    for n in (1, 2):
        system = SystemSpec(label=f"nano{n}", hardware=HardwareRef(preset="H100-SXM5-80GB"), tensor_parallel=2,
                            nano_batches=n, scheduler=SchedulerSpec(policy="sarathi", token_budget=1024))
        requests = poisson_requests(12, 400.0, (1000, 1024), (4, 6), seed=1)
        run = simulate_system(system, requests, lambda pool, s=system: predictor_for(s, "llama-2-7b"))
        check_run(run, requests)
        spans.append(run.summary["span_s"])
    assert spans[1] < spans[0]
