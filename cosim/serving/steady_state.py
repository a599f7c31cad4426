"""Steady-state throughput and energy of continuous-batching LLM serving (analytical, no arrival simulation).

Continuous batching (iteration-level scheduling, as in Orca and vLLM) keeps ``batch`` sequences in flight. Every
decode step generates one token for each of them; a sequence that has produced its ``Lout`` tokens leaves and a new
request takes its slot after its prompt of ``Lin`` tokens is prefilled. In steady state:

- the contexts of the running sequences are spread uniformly over ``Lin .. Lin + Lout``. A decode step's cost is
  taken as the mean over ``contexts`` evenly spaced context lengths (midpoints of equal slices); since attention's cost
  is linear in the context, one point (the mean context) is already exact up to kernel granularity. The KV cache held
  is that of the spread, ``batch × (Lin + Lout / 2)`` tokens, whatever point is evaluated;
- per step, ``batch / Lout`` requests complete, so each step also carries ``batch / Lout`` prefills of one prompt
  (run between decode steps, not fused with them).

Hence time per step ``t = t_decode + (batch / Lout) · t_prefill`` and output throughput ``batch / t``; energy per
output token ``(E_decode + (batch / Lout) · E_prefill) / batch``. Arrival processes and queueing are not modelled:
this is the saturated (always-full batch) throughput.

Mixture-of-experts models route their tokens by a ``Routing`` model (uniform by default: tokens spread evenly over
the experts, as the Duplex setup assumes; or zipf, dirichlet, or a replayed trace — see ``workloads.routing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hw_models.hardware import Hardware
from cosim.engine import simulate
from cosim.serving.engine_step import Routing, routing_params, unit_times


@dataclass
class ServingEstimate:
    """Steady-state serving figures of one (model, device, batch, Lin, Lout) point."""

    feasible: bool
    reason: str = ""
    tokens_per_s: float = float("nan")
    energy_per_token_j: float = float("nan")
    step_s: float = float("nan")
    decode_step_s: float = float("nan")
    prefill_s: float = float("nan")
    unit_time_s: dict[str, float] = field(default_factory=dict)  # per unit of a heterogeneous device, per step


def serve(hardware: Hardware, model: str, batch: int, lin: int, lout: int, devices: int = 1, contexts: int = 1,
          dtype: str = "fp16", objective: str = "latency", routing: Routing | str = "uniform") -> ServingEstimate:
    """Continuous-batching steady state of ``model`` on ``devices`` tensor-parallel copies of ``hardware``; an MoE
    model routes its tokens by ``routing`` (a :class:`Routing`, or just its model name)."""
    if min(batch, lin, lout, devices, contexts) < 1:
        raise ValueError("batch, lin, lout, devices and contexts must be >= 1")
    from workloads import load_workload

    routed = routing_params(model, Routing(routing) if isinstance(routing, str) else routing)
    mean_context = lin + lout / 2.0
    step_t = step_e = 0.0
    units: dict[str, float] = {}
    for j in range(contexts):
        context = int(round(lin + (j + 0.5) * lout / contexts))
        try:
            wl = load_workload(model, phase="decode", batch=batch, context=context, tensor_parallel=devices,
                               dtype=dtype, **routed)
        except ValueError as exc:  # a context beyond the model's positions, a parallelism that does not divide
            return ServingEstimate(False, f"decode at context {context}: {exc}")
        wl.memory_bytes["kv_cache"] *= (mean_context + 1.0) / (context + 1.0)  # the steady-state spread
        r = simulate(hardware, wl, objective)
        if not r.feasible:
            return ServingEstimate(False, f"decode at context {context}: {r.reason}")
        step_t += r.period_s / contexts
        step_e += r.energy_j / contexts
        for u, t in unit_times(r).items():
            units[u] = units.get(u, 0.0) + t / contexts
    pre = simulate(hardware, load_workload(model, phase="prefill", batch=1, prompt=lin, tensor_parallel=devices,
                                           dtype=dtype, **routed), objective)
    if not pre.feasible:
        return ServingEstimate(False, f"prefill of {lin} tokens: {pre.reason}")
    per_step = batch / lout
    t = step_t + per_step * pre.period_s
    for u, tu in unit_times(pre).items():
        units[u] = units.get(u, 0.0) + per_step * tu
    return ServingEstimate(True, "", batch / t, (step_e + per_step * pre.energy_j) / batch, t, step_t, pre.period_s,
                           units)


def tokens_per_dollar_s(estimate: ServingEstimate, hardware: Hardware, devices: int = 1,
                        unit_cost_usd: float | None = None) -> float:
    """Output tokens/s per dollar of hardware: ``devices`` copies of ``hardware`` at the sum of its units'
    ``cost_usd`` (heterogeneous presets) or ``unit_cost_usd`` (a single device)."""
    from hw_models.hetero import cost_usd

    price = cost_usd(hardware.spec) if hardware.kind == "hetero" else unit_cost_usd
    if price is None or price <= 0:
        raise ValueError(f"{hardware.name!r} has no cost: set cost_usd on every unit, or pass unit_cost_usd")
    return estimate.tokens_per_s / (price * devices)
