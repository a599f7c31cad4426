"""Shared by the serving tests (and benchmarks/serving_sim.py): a step-cost predictor simple enough to check
simulations by hand, request builders, and the invariants every simulated run must satisfy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.serving.requests import Request
from cosim.serving.run import REQUEST_COLUMNS, TIMELINE_COLUMNS, ServingRun
from cosim.serving.spec import HardwareRef, SchedulerSpec, SystemSpec
from cosim.serving.step import StepBatch, StepCost


@dataclass(frozen=True)
class AnalyticCost:
    """time = fixed_s + per_token_s * tokens + per_context_s * (decode contexts + prefill chunks' cached tokens
    times chunk tokens); energy = power_w * time."""

    fixed_s: float = 2e-3
    per_token_s: float = 5e-5
    per_context_s: float = 1e-7
    power_w: float = 400.0
    capacity_tokens: int = 1 << 20
    bytes_per_token: float = 524288.0  # e.g. 32 layers x 2 x 4096 x 2 bytes

    def time_s(self, batch: StepBatch) -> float:
        tokens, context = len(batch.decode_contexts), sum(batch.decode_contexts)
        for c, cached in batch.prefill_chunks:
            tokens += c
            context += c * cached
        return self.fixed_s + self.per_token_s * tokens + self.per_context_s * context

    def cost(self, batch: StepBatch) -> StepCost:
        t = self.time_s(batch)
        return StepCost(t, self.power_w * t)

    def kv_capacity_tokens(self) -> int:
        return self.capacity_tokens

    def kv_transfer_bytes(self, tokens: int) -> float:
        return self.bytes_per_token * tokens

    def prefill_s(self, prompt: int) -> float:
        """One whole prompt alone."""
        return self.time_s(StepBatch(prefill_chunks=((prompt, 0),)))

    def decode_s(self, contexts: tuple[int, ...]) -> float:
        return self.time_s(StepBatch(decode_contexts=contexts))


def system(policy: str = "vllm", replicas: int = 1, router: str = "round_robin", **scheduler) -> SystemSpec:
    """A system spec for the tests (the hardware is not read: the tests give the predictor)."""
    return SystemSpec(label=policy, hardware=HardwareRef(preset="test"), replicas=replicas, router=router,
                      scheduler=SchedulerSpec(policy=policy, **scheduler))


def poisson_requests(n: int, rate_per_s: float, prompt: tuple[int, int], output: tuple[int, int],
                     seed: int = 0) -> list[Request]:
    """``n`` requests with Poisson arrivals and prompt/output lengths uniform over the inclusive ranges."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, n))
    p = rng.integers(prompt[0], prompt[1] + 1, n)
    o = rng.integers(output[0], output[1] + 1, n)
    return [Request(i, float(times[i]), int(p[i]), int(o[i])) for i in range(n)]


def check_run(run: ServingRun, requests: list[Request], complete: bool = True) -> None:
    """Invariants of every run: the columns; conservation (each request once, each finished one with exactly its
    output tokens: one gap per token after the first; when the run was not cut short, every request finished but
    those too long for the KV cache); time order; KV within capacity; Little's law from the
    timeline: the time-average number in the system is at most arrival rate x mean time in system, and short by at
    most one step per request (a request arriving mid-step joins at the next step)."""
    req, tl, s = run.requests, run.timeline, run.summary
    assert tuple(req.columns) == REQUEST_COLUMNS and tuple(tl.columns) == TIMELINE_COLUMNS
    assert sorted(req["id"]) == sorted(r.id for r in requests)
    assert len(req) == len(requests) == s["requests"]
    done = req[req["finished"]]
    assert s["finished"] == len(done)
    gaps = (done["output_tokens"] - 1).sum()  # requests cut short have had some gaps too
    assert s["tbt_gaps"] == gaps if complete else s["tbt_gaps"] >= gaps
    assert (done["arrival_s"] <= done["scheduled_s"]).all()
    assert (done["scheduled_s"] < done["first_token_s"]).all()
    assert (done["first_token_s"] <= done["finish_s"]).all()
    assert (done["output_tokens"] > 1).eq(done["first_token_s"] < done["finish_s"]).all()
    assert (done["energy_j"] > 0).all()
    assert not req.loc[~req["finished"], "finish_s"].notna().any()
    assert (tl["kv_used_tokens"] <= tl["kv_capacity_tokens"]).all()
    if complete and len(tl):
        fits = req["prompt_tokens"] + req["output_tokens"] - 1 <= tl["kv_capacity_tokens"].max()
        assert (req["finished"] == fits).all()
    if complete and s["timeline_stride"] == 1 and len(tl):
        span = s["span_s"]
        present = float((tl["step_s"] * (tl["batch_requests"] + tl["queue_length"])).sum())
        in_system = float(done["e2e_s"].sum())  # requests that never fit leave at once
        assert abs(present / span - s["in_system_mean"]) <= 1e-9 * max(1.0, present / span)
        slack = len(req) * float(tl["step_s"].max())
        assert in_system - slack - 1e-9 * in_system <= present <= in_system * (1 + 1e-9)
