"""What the serving reproductions share: a setup table, a system's device count, simulated runs of one system under
one traffic and the capacity search over request rates, all through ``cosim.serving``.

A setup table maps each input of a paper's setup to ``(what the reproduction uses, where it comes from)``; a source
starting with ``not stated`` marks an input the retrieved paper material does not give, and ``missing`` lists them.
"""

from __future__ import annotations

from typing import Callable

from cosim.serving.run import ServingRun
from cosim.serving.spec import CapacitySpec, PoolSpec, SLOSpec, SystemSpec, Traffic

NOT_STATED = "not stated"


def missing(setup: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    """The inputs of ``setup`` the paper material does not state, in table order."""
    return tuple(name for name, (_, source) in setup.items() if source.startswith(NOT_STATED))


def devices(system: SystemSpec) -> int:
    """Accelerators a system occupies: every replica's (or every pool instance's) tensor x pipeline devices."""
    if system.disaggregated is not None:
        pools = (system.disaggregated.prefill, system.disaggregated.decode)
        return sum(p.tensor_parallel * p.pipeline_parallel * p.replicas for p in pools)
    return system.tensor_parallel * system.pipeline_parallel * system.replicas


def predictors(system: SystemSpec, model: str, dtype: str = "fp16") -> Callable[[PoolSpec | None], object]:
    """The step-cost predictor of each pool of ``system`` (``None``: a co-located instance); ``predictor_for``
    keeps one per configuration, so every run of a capacity search reuses its cached step costs."""
    from cosim.serving.step_cost import predictor_for

    return lambda pool: predictor_for(system, model, dtype, None, pool)


def runner(system: SystemSpec, model: str, traffic: Traffic, slos: dict[str, SLOSpec],
           max_sim_s: float | None = None) -> Callable[[float], ServingRun]:
    """A function running ``system`` under ``traffic`` at a request rate (requests/s), judged by ``slos``."""
    from cosim.serving.simulation import simulate_system
    from cosim.serving.traffic import generate_requests

    for_pool = predictors(system, model)

    def run_at(rate_per_s: float) -> ServingRun:
        return simulate_system(system, generate_requests(traffic, rate_per_s), for_pool, slos, max_sim_s,
                               rate_per_s)

    return run_at


def capacity_rps(system: SystemSpec, model: str, traffic: Traffic, slos: dict[str, SLOSpec],
                 spec: CapacitySpec, max_sim_s: float | None = None) -> float:
    """The highest Poisson request rate at which ``system`` meets SLO ``spec.slo`` (bisection, ``capacity_search``);
    a search whose bracket does not hold raises with its reason."""
    from cosim.serving.capacity import capacity_search

    result = capacity_search(runner(system, model, traffic, slos, max_sim_s), spec.slo, spec)
    if not result.found:
        raise RuntimeError(f"capacity of {system.label!r} ({model}): {result.reason}")
    return float(result.rate_per_s)
