"""Heterogeneous devices in the serving simulation: NeuPIMs (NPU + PIM, sub-batch interleaving) and Duplex (xPU +
Logic-PIM) through the engine's step costs, end to end and at saturation against the closed-form steady state; MoE
routing skew reaching the step costs."""

import pytest
from serving_checks import check_run, poisson_requests

from cosim.engine import simulate
from cosim.serving.requests import Request
from cosim.serving.simulation import simulate_system
from cosim.serving.spec import HardwareRef, RoutingSpec, SchedulerSpec, SystemSpec
from cosim.serving.steady_state import serve
from cosim.serving.step import StepBatch
from cosim.serving.step_cost import predictor_for
from hw_models.hardware import load_hardware
from workloads import load_workload

# (preset, model, tensor parallel, batch, prompt, output). NeuPIMs interleaves sub-batches from a batch of 256
# (its preset's subbatch_min_batch); llama-2-7b's weights leave room for 256 x 128 KV tokens in its 34 GB.
# Duplex runs Mixtral-8x7B, whose 93 GB of weights take two devices.
SETUPS = [("NeuPIMs", "llama-2-7b", 1, 256, 64, 64), ("Duplex", "mixtral-8x7b", 2, 64, 128, 64)]


def _system(preset, tp, batch, prompt, routing=None):
    return SystemSpec(label=preset, hardware=HardwareRef(preset=preset), tensor_parallel=tp, routing=routing,
                      scheduler=SchedulerSpec(policy="vllm", max_batch=batch, max_prefill_tokens=prompt))


@pytest.mark.parametrize("preset, model, tp, batch, prompt, output", SETUPS)
def test_saturated_decode_throughput_agrees_with_the_steady_state(preset, model, tp, batch, prompt, output):
    """Every request waiting from the start, one prompt per prefill step: the run cycles through ``batch`` prefill
    steps and ``output - 1`` decode steps of the full batch (the prefill step emits the first token), which is the
    steady state's cycle with one decode step fewer. So the simulated throughput must be
    batch x output / (batch x t_prefill + (output - 1) x t_decode) with serve()'s t_prefill and t_decode (decode at
    the mean context), within 1%: the step costs are interpolated on the predictor's grid and the decode contexts
    run from prompt to prompt + output - 2 around serve()'s mean prompt + output / 2 (attention is linear in the
    context, so the mean holds up to that one-token shift)."""
    system = _system(preset, tp, batch, prompt)
    predictor = predictor_for(system, model)
    requests = [Request(i, 0.0, prompt, output) for i in range(3 * batch)]
    run = simulate_system(system, requests, lambda pool: predictor)
    check_run(run, requests)
    est = serve(load_hardware(preset), model, batch, prompt, output, devices=tp)
    cycle = batch * est.prefill_s + (output - 1) * est.decode_step_s
    assert run.summary["output_tokens_per_s"] == pytest.approx(batch * output / cycle, rel=0.01)
    # and within the 1/output the one decode step fewer makes of serve()'s own figure
    assert 1.0 <= run.summary["output_tokens_per_s"] / est.tokens_per_s <= 1.0 + 1.0 / output + 0.01


@pytest.mark.parametrize("preset, model, tp, batch, prompt, output", SETUPS)
def test_heterogeneous_systems_serve_poisson_traffic(preset, model, tp, batch, prompt, output):
    system = _system(preset, tp, batch, 2048)
    predictor = predictor_for(system, model)
    requests = poisson_requests(16, 20.0, (96, 160), (8, 40), seed=3)
    run = simulate_system(system, requests, lambda pool: predictor)
    check_run(run, requests)
    assert run.summary["finished"] == 16
    assert run.summary["energy_per_output_token_j"] > 0
    # the busy time of each unit is reported with the step costs of a heterogeneous device
    assert set(predictor.cost(StepBatch((128,) * 8)).units) >= set(load_hardware(preset).units)


def _mixtral_step(routing: RoutingSpec | None, batch: int) -> float:
    system = _system("H100-SXM5-80GB", 2, 256, 512, routing)
    return predictor_for(system, "mixtral-8x7b", exact=True).cost(StepBatch((1024,) * batch)).time_s


def test_moe_routing_skew_reaches_the_step_costs():
    """Zipf routing (s = 1.5) of Mixtral-8x7B on two H100s (experts split tensor-parallel, run one after another).
    Each expert's GEMMs take max(weight read, its tokens' FLOPs): at 256 decodes (512 expert assignments) uniform
    routing gives every expert 64 tokens, below the ridge, so each costs its weight read; skew pushes the hottest
    expert's load past the ridge while the cold ones still read all their weights, so the step is slower. At 4
    decodes skew leaves experts without tokens, whose weights are not read, so the step is faster."""
    zipf = RoutingSpec(model="zipf", zipf_s=1.5)
    hot = _mixtral_step(zipf, 256)
    engine = simulate(load_hardware("H100-SXM5-80GB"),
                      load_workload("mixtral-8x7b", phase="decode", batch=256, context=1024, tensor_parallel=2,
                                    routing="zipf", zipf_s=1.5))
    assert hot == pytest.approx(engine.period_s, rel=1e-12)  # the system's routing is the workload's
    assert hot > 1.01 * _mixtral_step(None, 256)
    assert _mixtral_step(zipf, 4) < 0.95 * _mixtral_step(None, 4)
