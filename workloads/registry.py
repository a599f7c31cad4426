"""Workload names → builders, with the parameters each accepts.

Each family module (transformers, MoE, CNN, spiking, diffusion, classic ML …) exposes ``catalog()``: a dict of
``WorkloadEntry`` by name. A builder takes keyword parameters only, each with a default, so every workload can be
built by name alone and every parameter can be a sweep grid axis.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from workloads.ir import Workload
from workloads.naming import suggest
from workloads.transformer import WorkloadParamError

# Family modules, imported on first use. A module that does not exist yet is skipped.
FAMILY_MODULES = ("workloads.transformer_zoo", "workloads.moe", "workloads.cnn", "workloads.snn",
                  "workloads.diffusion", "workloads.classic_ml")


@dataclass(frozen=True)
class WorkloadEntry:
    """A named workload: its builder, family, one-line description and published totals it is tested against."""

    name: str
    family: str
    builder: Callable[..., Workload]
    description: str = ""
    published: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


def catalog_from_configs(folder: Path, family: str, load: Callable[[str], dict],
                         make_builder: Callable[[str], Callable[..., Workload]],
                         extra_sources: Callable[[dict], tuple[str, ...]] = lambda cfg: ()) -> dict[str, WorkloadEntry]:
    """Catalog entries for every YAML config in ``folder`` (keys ``name``, ``description``, ``published``,
    ``sources``), each built by ``make_builder(stem)``."""
    entries = {}
    for path in sorted(folder.glob("*.yaml")):
        cfg = load(path.stem)
        entries[cfg["name"]] = WorkloadEntry(
            name=cfg["name"], family=family, builder=make_builder(path.stem), description=cfg.get("description", ""),
            published={k: float(v) for k, v in cfg.get("published", {}).items()},
            sources=tuple(cfg["sources"]) + extra_sources(cfg))
    return entries


@functools.lru_cache(maxsize=1)
def catalog() -> dict[str, WorkloadEntry]:
    """Every named workload of every family, keyed by lower-case name."""
    entries: dict[str, WorkloadEntry] = {}
    for module_name in FAMILY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for name, entry in module.catalog().items():
            if name.lower() in entries:
                raise ValueError(f"workload {name!r} is defined twice ({module_name})")
            entries[name.lower()] = entry
    return entries


def available_workloads() -> list[str]:
    """Names accepted by :func:`load_workload` (trace files are accepted by path too)."""
    return list(catalog())


def workload_entry(name: str) -> WorkloadEntry:
    """The catalog entry of a name; WorkloadParamError suggests close names."""
    entries = catalog()
    entry = entries.get(name.lower())
    if entry is None:
        names = list(entries)
        raise WorkloadParamError(f"unknown workload {name!r}; {suggest(name, names)}available: {', '.join(names)}")
    return entry


def workload_parameters(name: str) -> dict[str, Any]:
    """The parameters a named workload accepts, with their defaults."""
    sig = inspect.signature(workload_entry(name).builder)
    return {p: v.default for p, v in sig.parameters.items() if v.kind is not inspect.Parameter.VAR_KEYWORD}


def load_workload(name: str, **params: Any) -> Workload:
    """Build a named workload (``llama-2-7b``, ``resnet-50`` …) with parameters, or load a trace file by path."""
    if Path(name).suffix in (".json", ".parquet"):
        from workloads.trace_io import load_trace

        if params:
            raise WorkloadParamError(f"a trace file takes no parameters, got {', '.join(params)}")
        return load_trace(name)
    allowed = workload_parameters(name)
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise WorkloadParamError(f"unknown parameter {unknown[0]!r} for workload {name!r}; allowed: "
                                 f"{', '.join(allowed)}")
    return workload_entry(name).builder(**params)
