"""Workload names → builders, with the parameters each accepts."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

from workloads.ir import Workload
from workloads.model_config import ModelConfig, available_model_configs, load_model_config
from workloads.transformer import WorkloadParamError, build_decoder, build_encoder, build_vit

_BUILDERS: dict[str, Callable[..., Workload]] = {"decoder": build_decoder, "encoder": build_encoder, "vit": build_vit}


def available_workloads() -> list[str]:
    """Names accepted by :func:`load_workload` (trace files are accepted by path too)."""
    return list(available_model_configs())


def workload_parameters(name: str) -> dict[str, Any]:
    """The parameters a named workload accepts, with their defaults."""
    builder = _BUILDERS[_config(name).family]
    sig = inspect.signature(builder)
    return {p: v.default for p, v in list(sig.parameters.items())[1:]}


def _config(name: str) -> ModelConfig:
    try:
        return load_model_config(name)
    except KeyError:
        names = available_workloads()
        raise WorkloadParamError(f"unknown workload {name!r}; {_suggest(name, names)}available: {', '.join(names)}")


def _suggest(name: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name.lower(), choices, n=3, cutoff=0.5)
    return f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""


def load_workload(name: str, **params: Any) -> Workload:
    """Build a named workload (``llama-2-7b``, ``bert-base`` …) with parameters, or load a trace file by path."""
    if name.endswith((".json", ".parquet")) or Path(name).suffix in (".json", ".parquet"):
        from workloads.trace_io import load_trace

        if params:
            raise WorkloadParamError(f"a trace file takes no parameters, got {', '.join(params)}")
        return load_trace(name)
    cfg = _config(name)
    builder = _BUILDERS[cfg.family]
    allowed = list(inspect.signature(builder).parameters)[1:]
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise WorkloadParamError(f"unknown parameter {unknown[0]!r} for workload {name!r}; allowed: {', '.join(allowed)}")
    return builder(cfg, **params)
