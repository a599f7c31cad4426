"""Step costs from the engine (cosim.serving.step_cost): exactness against the steady state's steps, mixed steps,
the interpolation error, KV capacity, heterogeneous devices, errors, and monotonicity."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cosim
from cosim.errors import CosimInputError
from cosim.serving import serve
from cosim.serving.spec import HardwareRef, PoolSpec, RoutingSpec, SchedulerSpec, SystemSpec
from cosim.serving.step import StepBatch, StepCostPredictor
from cosim.serving.step_cost import EngineStepCost, predictor_for
from workloads import load_workload

MODEL = "llama-2-7b"
SPLIT_STEP = 1e-3  # as tests/test_properties.py: a flash-decoding split may take this much off a longer step
# Stated bound on the interpolated step time against an exact evaluation, on random batches (decodes 0-256 at
# contexts 0-3000, 0-3 chunks of 1-512 tokens at 0-2000 cached, or up to 12 fresh prompts). Measured over 200
# batches per system (benchmarks/serving_step_cost.py, RESULTS.md): max 0.8% on the A100, 1.3% on Duplex, 3.2% on
# NeuPIMs, whose PIM attention time is a staircase in the KV length (128-token steps) that the interpolation draws a
# line through (what a batch of spread contexts averages to).
TIME_BOUND = 0.04
_SPEC = importlib.util.spec_from_file_location("serving_step_cost",
                                               Path(__file__).parents[2] / "benchmarks" / "serving_step_cost.py")
bench = importlib.util.module_from_spec(_SPEC)  # the random batches of the error table
_SPEC.loader.exec_module(bench)


@pytest.fixture(scope="module")
def a100():
    return cosim.load_hardware("A100-SXM4-80GB")


@pytest.fixture(scope="module")
def gpu(a100):
    return EngineStepCost(a100, MODEL)


def test_is_a_step_cost_predictor(gpu):
    assert isinstance(gpu, StepCostPredictor)
    assert gpu.cost(StepBatch()).time_s == 0.0


@pytest.mark.parametrize("exact", [False, True])
def test_decode_and_prefill_steps_equal_the_steady_states(a100, exact):
    """Exact: the engine's step, as the steady state takes it. Cached, at grid points (batch 16, context 768): the
    sum of the step's parts, the same to rounding."""
    est = serve(a100, MODEL, 16, 512, 512)  # decode at context 512 + 512/2 = 768, prefill of 512 tokens
    p = EngineStepCost(a100, MODEL, exact=exact)
    decode = p.cost(StepBatch((768,) * 16))
    prefill = p.cost(StepBatch((), ((512, 0),)))
    r = cosim.simulate(a100, load_workload(MODEL, phase="decode", batch=16, context=768))
    same = (lambda x: x) if exact else (lambda x: pytest.approx(x, rel=1e-12))
    assert decode.time_s == same(est.decode_step_s)
    assert prefill.time_s == same(est.prefill_s)
    assert decode.energy_j == same(r.energy_j)


@pytest.mark.parametrize("hardware", ["A100-SXM4-80GB", "TPUv4-core-like", "EPYC-9654"])
def test_a_step_is_the_sum_of_its_parts_on_one_device(hardware):
    """Where ops run one after another, tokens + rows + attention parts make the whole step (CPU caches see the
    whole step's weights)."""
    hw = cosim.load_hardware(hardware)
    cached, exact = EngineStepCost(hw, MODEL), EngineStepCost(hw, MODEL, exact=True)
    assert cached.additive
    for batch in (StepBatch((640,) * 8, ((48, 128), (48, 128), (64, 0))), StepBatch((), ((24, 0), (40, 256)))):
        a, e = cached.cost(batch), exact.cost(batch)
        assert a.time_s == pytest.approx(e.time_s, rel=1e-12)
        assert a.energy_j == pytest.approx(e.energy_j, rel=1e-12)


def test_mixed_step_reads_the_weights_once(gpu):
    decode, chunk = StepBatch((1000,) * 8), StepBatch((), ((256, 0),))
    mixed = gpu.cost(StepBatch((1000,) * 8, ((256, 0),)))
    separate = gpu.cost(decode).time_s + gpu.cost(chunk).time_s
    assert max(gpu.cost(decode).time_s, gpu.cost(chunk).time_s) <= mixed.time_s < separate
    assert mixed.energy_j < gpu.cost(decode).energy_j + gpu.cost(chunk).energy_j


def test_unequal_chunks_cost_between_their_bounds(gpu):
    both = gpu.cost(StepBatch((), ((300, 0), (100, 1500))))
    assert both.time_s > gpu.cost(StepBatch((), ((300, 0),))).time_s
    assert both.time_s > gpu.cost(StepBatch((), ((100, 1500),))).time_s


@pytest.mark.parametrize("hardware", ["A100-SXM4-80GB", "NeuPIMs", "Duplex"])
def test_interpolation_error_is_within_the_stated_bound(hardware):
    hw = cosim.load_hardware(hardware)
    cached, exact = EngineStepCost(hw, MODEL), EngineStepCost(hw, MODEL, exact=True)
    rng = random.Random(7)
    worst = 0.0
    for i in range(12):
        batch = bench.random_batch(rng, bench.KINDS[i % 4], cached.kv_capacity_tokens())
        a, e = cached.cost(batch), exact.cost(batch)
        worst = max(worst, abs(a.time_s / e.time_s - 1.0))
    assert worst < TIME_BOUND


def test_kv_capacity_by_hand(a100, gpu):
    """80 GiB less the weights and the workspace of an 8192-token step of 256 sequences, over 512 KiB per token."""
    ref = load_workload(MODEL, phase="mixed", batch=256, context=0, chunks=",".join(["496:0"] * 16))
    per_token = 2 * 32 * 4096 * 2  # K and V, 32 layers, 4096 wide, fp16
    free = a100.param(a100.device.capacity_param) - ref.memory_bytes["weights"] - ref.memory_bytes["activations"]
    assert ref.memory_bytes["weights"] == pytest.approx(load_workload(MODEL).parameter_bytes, rel=1e-6)
    assert gpu.kv_capacity_tokens() == int(free // per_token)
    assert gpu.kv_transfer_bytes(10) == 10 * per_token
    assert EngineStepCost(a100, MODEL, kv_dtype="fp8").kv_transfer_bytes(10) == 5 * per_token


@pytest.mark.parametrize("hardware, units", [("NeuPIMs", {"npu", "pim"}), ("Duplex", {"xpu", "lpim"}),
                                             ("TPUv4-core-like", set()), ("EPYC-9654", set())])
def test_every_decoder_device_kind_runs(hardware, units):
    p = EngineStepCost(cosim.load_hardware(hardware), MODEL)
    cost = p.cost(StepBatch((700,) * 4, ((200, 100),)))
    assert cost.time_s > 0 and cost.energy_j > 0
    assert set(cost.units) == units and all(v > 0 for v in cost.units.values())
    assert p.kv_capacity_tokens() > 0


def test_infeasible_steps_name_model_hardware_and_batch(a100, gpu):
    with pytest.raises(CosimInputError, match=r"llama-2-70b.*A100-SXM4-40GB.*do not fit"):
        EngineStepCost(cosim.load_hardware("A100-SXM4-40GB"), "llama-2-70b").cost(StepBatch((10,)))
    with pytest.raises(CosimInputError, match=r"A100-SXM4-80GB.*200 decodes.*KV tokens"):
        gpu.cost(StepBatch((gpu.kv_capacity_tokens() // 200,) * 200))
    with pytest.raises(CosimInputError, match="not a decoder"):
        EngineStepCost(a100, "resnet-50")


def test_predictor_for_a_system_and_its_pools():
    system = SystemSpec(label="gpu", hardware=HardwareRef(preset="H100-SXM5-80GB"), tensor_parallel=2,
                        scheduler=SchedulerSpec(policy="sarathi", token_budget=512))
    p = predictor_for(system, MODEL)
    assert (p.hardware.name, p.tensor_parallel, p.workspace_tokens) == ("H100-SXM5-80GB", 2, 512)
    assert predictor_for(system, MODEL) is p
    pool = PoolSpec(hardware=HardwareRef(preset="A100-SXM4-80GB", overrides={"memory.hbm_capacity_gb": 40}),
                    pipeline_parallel=2)
    q = predictor_for(system, MODEL, pool=pool)
    assert (q.hardware.name, q.tensor_parallel, q.pipeline_parallel) == ("A100-SXM4-80GB", 1, 2)
    assert q.cost(StepBatch((300,) * 4)).time_s > 0
    moe = SystemSpec(label="moe", hardware=HardwareRef(preset="H100-SXM5-80GB"), tensor_parallel=4,
                     routing=RoutingSpec(model="zipf", zipf_s=1.2))
    skewed, even = predictor_for(moe, "mixtral-8x7b"), predictor_for(moe.model_copy(update={"routing": None}),
                                                                     "mixtral-8x7b")
    batch = StepBatch((500,) * 64)
    assert skewed.cost(batch).time_s != even.cost(batch).time_s
    with pytest.raises(CosimInputError, match="no experts"):
        predictor_for(moe, MODEL)
    with pytest.raises(CosimInputError, match="nonexistent"):
        predictor_for(system.model_copy(update={"hardware": HardwareRef(preset="nonexistent")}), MODEL)


ROOMY = EngineStepCost(cosim.load_hardware("A100-SXM4-80GB", {"memory.hbm_capacity_gb": 1e6}), MODEL)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.integers(1, 200), extra=st.integers(1, 60), context=st.integers(0, 2500),
       more=st.integers(1, 1500), chunk=st.integers(0, 300))
def test_cost_grows_with_decodes_and_context(batch, extra, context, more, chunk):
    chunks = ((chunk, 50),) if chunk else ()
    base = ROOMY.cost(StepBatch((context,) * batch, chunks))
    wider = ROOMY.cost(StepBatch((context,) * (batch + extra), chunks))
    longer = ROOMY.cost(StepBatch((context + more,) * batch, chunks))
    assert base.energy_j > 0
    assert wider.time_s >= base.time_s * (1 - SPLIT_STEP)
    assert longer.time_s >= base.time_s * (1 - SPLIT_STEP)
