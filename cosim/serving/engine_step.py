"""What the serving models share when they ask the engine for a step: the expert-routing model of an MoE and the
builder parameters it sets, and each unit's time of a heterogeneous device."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cosim.errors import CosimInputError


@dataclass(frozen=True)
class Routing:
    """How a mixture-of-experts model assigns tokens to experts: ``model`` is uniform, zipf (skew ``zipf_s``),
    dirichlet (concentration ``dirichlet_alpha``) or trace (a routing-trace file ``trace``); ``capacity_factor``
    limits the assignments per expert (0: unlimited); ``seed`` makes the draw reproducible."""

    model: str = "uniform"
    zipf_s: float = 1.0
    dirichlet_alpha: float = 1.0
    trace: str = ""
    capacity_factor: float = 0.0
    seed: int = 0

    def params(self) -> dict:
        """The workload-builder parameters of this routing."""
        out = asdict(self)
        out["routing"] = out.pop("model")
        return out


def routing_params(model: str, routing: Routing) -> dict:
    """The builder parameters ``routing`` sets for ``model`` (none for a dense model); bad values raise."""
    from cosim.workload_info import check_parameters, parameter_specs

    if "routing" not in parameter_specs(model):
        if routing != Routing():
            raise CosimInputError(f"{model!r} has no experts to route; routing applies to mixture-of-experts models")
        return {}
    params = routing.params()
    if problems := check_parameters(model, params):
        raise CosimInputError(f"routing of {model!r}: {problems[0][1]}")
    return params


def unit_times(result) -> dict[str, float]:
    """Seconds of the ops placed on each unit of a heterogeneous device (empty for a single device)."""
    ops = result.ops
    if ops is None or "unit" not in ops:
        return {}
    return {u: float(t) for u, t in ops.groupby("unit")["time_s"].sum().items()}
