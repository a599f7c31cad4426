"""Workloads as data: the catalog, one workload's description, and the parameters its builder accepts (type,
default, allowed values, minimum), with the one check of a parameter value that the CLI and sweep configs share."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from workloads.dtypes import DTYPE_BITS
from workloads.registry import catalog, workload_entry, workload_parameters as builder_defaults
from workloads.routing import MODELS as ROUTING_MODELS
from workloads.snn import NEURONS
from workloads.transformer import Phase, WorkloadParamError

PARAMETER_COLUMNS = ("name", "type", "default", "allowed", "minimum")
CATALOG_COLUMNS = ("name", "family", "description")
# Parameters whose values come from a fixed set, wherever a builder takes them: (what a value is, allowed values).
_CHOICES = {"phase": ("phase", typing.get_args(Phase)), "dtype": ("datatype", tuple(DTYPE_BITS)),
            "kv_dtype": ("datatype", tuple(DTYPE_BITS)), "routing": ("routing model", ROUTING_MODELS),
            "neuron": ("neuron model", NEURONS)}


@dataclass(frozen=True)
class WorkloadParameter:
    """One parameter of a workload builder."""

    name: str
    type: str  # int, float, str, bool or any
    default: Any
    allowed: tuple | None = None
    minimum: int | None = None  # integers only

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not accepted for this parameter, or None when it is."""
        if self.allowed is not None:
            if value not in self.allowed:
                return f"{value!r} is not a {_CHOICES[self.name][0]}; allowed: {', '.join(self.allowed)}"
        elif self.minimum is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
                return f"expected an integer >= {self.minimum}, got {value!r}"
        return None


def _parameter(name: str, default: Any) -> WorkloadParameter:
    if name in _CHOICES:
        return WorkloadParameter(name, "str", default, _CHOICES[name][1])
    kind = type(default).__name__ if isinstance(default, (bool, int, float, str)) else "any"
    minimum = None
    if kind == "int":  # a count: at least 1, or 0 where 0 is meaningful (an empty context, the default seed)
        minimum = 0 if name == "context" or default == 0 else 1
    return WorkloadParameter(name, kind, default, None, minimum)


def parameter_specs(name: str) -> dict[str, WorkloadParameter]:
    """The parameters a named workload accepts, by name; WorkloadParamError names the workloads for a bad name."""
    return {key: _parameter(key, default) for key, default in builder_defaults(name).items()}


def check_parameters(name: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(parameter, problem) for each of ``params`` the workload does not accept, in order; empty when all are fine."""
    specs = parameter_specs(name)
    problems = []
    for key, value in params.items():
        spec = specs.get(key)
        if spec is None:
            problems.append((key, f"unknown parameter {key!r} for {name}; allowed: {', '.join(specs)}"))
        elif (problem := spec.problem(value)) is not None:
            problems.append((key, problem))
    return problems


def workload_parameter_table(name: str) -> Any:
    """The parameters of a named workload as a DataFrame (:data:`PARAMETER_COLUMNS`)."""
    import pandas as pd

    rows = [vars(spec) for spec in parameter_specs(name).values()]
    return pd.DataFrame(rows, columns=list(PARAMETER_COLUMNS), dtype=object)


@dataclass
class WorkloadDescription:
    """A catalog workload as data: family, description, model config (transformer configs only), the published
    totals it is tested against, sources, and its parameters (:data:`PARAMETER_COLUMNS`)."""

    name: str
    family: str
    description: str
    config: dict[str, Any] | None
    published: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    parameters: Any = None  # pandas.DataFrame


def describe_workload(name: str) -> WorkloadDescription:
    """A catalog workload's description and parameters."""
    from workloads.model_config import available_model_configs, load_model_config

    entry = workload_entry(name)
    config = (load_model_config(name).model_dump(exclude_none=True) if name.lower() in available_model_configs()
              else None)
    return WorkloadDescription(name=entry.name, family=entry.family, description=entry.description, config=config,
                               published=dict(entry.published), sources=tuple(entry.sources),
                               parameters=workload_parameter_table(name))


def workload_catalog(family: str | None = None) -> Any:
    """Every catalog workload (:data:`CATALOG_COLUMNS`), optionally only one family's."""
    import pandas as pd

    entries = catalog()
    families = sorted({e.family for e in entries.values()})
    if family is not None and family not in families:
        raise WorkloadParamError(f"unknown workload family {family!r}; allowed: {', '.join(families)}")
    rows = [{"name": key, "family": e.family, "description": e.description}
            for key, e in entries.items() if family is None or e.family == family]
    return pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))


def op_summary(workload) -> Any:
    """One row per op of a workload: totals over its count (MACs for GEMM-like ops, accumulates for spiking
    layers), FLOPs, bytes, parameters and arithmetic intensity."""
    import pandas as pd

    rows = []
    for op in workload.ops:
        by_class = op.ops_by_class
        dims = " ".join(f"{k}={v}" for k, v in op.dims.items() if v and k != "params")
        rows.append({"op": op.name, "kind": op.kind, "count": op.count,
                     "dims": dims if len(dims) <= 48 else dims[:47] + "…",
                     "MACs/SOPs": (op.macs or by_class.get("ac", 0.0)) * op.count, "FLOPs": op.flops * op.count,
                     "bytes": op.bytes * op.count, "params": op.parameters * op.weight_copies,
                     "intensity": op.intensity})
    return pd.DataFrame(rows, columns=["op", "kind", "count", "dims", "MACs/SOPs", "FLOPs", "bytes", "params",
                                       "intensity"])
