"""Reading a serving config: the YAML file, its schema (``spec``) and the checks that need the rest of cosim (model,
hardware presets and overrides, dataset profiles, trace and sample files), each error naming the YAML path.

Relative file paths in the traffic section (a trace, empirical length samples) are resolved against the config
file's folder here, so a study runs the same from any working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cosim.config_input import check_hardware, check_model, read_yaml_mapping, validate_schema
from cosim.errors import CosimInputError
from cosim.serving.spec import Lengths, ServingConfig, Traffic
from cosim.serving.tables import resolve


def load_serving_config(path: str | Path) -> ServingConfig:
    """Read and validate a serving config file; every problem raises ``CosimInputError`` naming the YAML path."""
    return validate_serving_config(read_yaml_mapping(path, "'model', 'traffic' and 'systems'"), str(path))


def validate_serving_config(raw: dict[str, Any] | ServingConfig, source: str = "<config>") -> ServingConfig:
    """Validate a serving config (a dict, or an already built ``ServingConfig``): the schema, then the model, each
    system's hardware and parallelism, and the traffic's dataset and files."""
    config = raw if isinstance(raw, ServingConfig) else validate_schema(ServingConfig, raw, source)
    base = Path(source).parent if Path(source).is_file() else None
    check_serving_model(config.model, config.dtype, config.kv_dtype, "", source)
    for i, system in enumerate(config.systems):
        where = f"systems[{i}]"
        check_hardware(system.hardware.preset, system.hardware.overrides, f"{where}.hardware", source)
        check_parallelism(config.model, system.tensor_parallel, system.pipeline_parallel, where, source)
        if system.routing is not None:
            _check_routing(config.model, f"{where}.routing", source)
        if system.disaggregated is not None:
            for side in ("prefill", "decode"):
                pool = getattr(system.disaggregated, side)
                pool_where = f"{where}.disaggregated.{side}"
                if pool.hardware is not None:
                    check_hardware(pool.hardware.preset, pool.hardware.overrides, f"{pool_where}.hardware", source)
                check_parallelism(config.model, pool.tensor_parallel, pool.pipeline_parallel, pool_where, source)
            _check_link(system, f"{where}.disaggregated.link", source)
    check_traffic(config.traffic, "traffic", source, base, config.model)
    if config.capacity is not None and config.capacity.low >= config.capacity.high:
        raise CosimInputError(f"capacity.low ({config.capacity.low}) must be below capacity.high "
                              f"({config.capacity.high})", source)
    return config


def serving_models() -> list[str]:
    """Catalog decoder LLMs whose serving steps the engine can build (those with mixed prefill-and-decode steps)."""
    from cosim.workload_info import parameter_specs, workload_catalog

    return [name for name in workload_catalog()["name"] if "chunks" in parameter_specs(name)]


def check_serving_model(model: str, dtype: str, kv_dtype: str | None, prefix: str, source: str) -> None:
    """``model`` is a catalog decoder (at ``{prefix}model``) and ``dtype``/``kv_dtype`` are datatypes it takes."""
    from cosim.workload_info import check_parameters

    check_model(model, f"{prefix}model", source)
    if model not in serving_models():
        raise CosimInputError(f"{prefix}model: {model!r} is not a decoder LLM with prefill, decode and mixed steps; "
                              f"allowed: {', '.join(serving_models())}", source)
    for key, value in (("dtype", dtype), ("kv_dtype", kv_dtype)):
        if value is not None and (problems := check_parameters(model, {key: value})):
            raise CosimInputError(f"{prefix}{key}: {problems[0][1]}", source)


def check_parallelism(model: str, tensor_parallel: int, pipeline_parallel: int, where: str, source: str) -> None:
    """The model splits over ``tensor_parallel`` x ``pipeline_parallel`` devices (heads and layers divide)."""
    from workloads import WorkloadParamError, load_workload

    try:
        load_workload(model, phase="decode", batch=1, context=1, tensor_parallel=tensor_parallel,
                      pipeline_parallel=pipeline_parallel)
    except (WorkloadParamError, ValueError) as exc:
        raise CosimInputError(f"{where}.tensor_parallel/pipeline_parallel: {exc}", source) from None


def _check_routing(model: str, where: str, source: str) -> None:
    from cosim.workload_info import parameter_specs

    if "routing" not in parameter_specs(model):
        raise CosimInputError(f"{where}: {model!r} has no experts to route; routing applies to mixture-of-experts "
                              f"models", source)


def _check_link(system, where: str, source: str) -> None:
    """The KV link of a disaggregated system resolves (a known link preset, or a bandwidth)."""
    from hw_models.hardware import load_hardware

    from cosim.serving.kv_transfer import resolve_link

    ref = system.disaggregated.prefill.hardware or system.hardware
    try:
        resolve_link(system.disaggregated.link, load_hardware(ref.preset, dict(ref.overrides)), 1, where)
    except CosimInputError as exc:  # its message starts with ``where``
        raise CosimInputError(str(exc), source) from None


def check_traffic(traffic: Traffic, where: str, source: str, base: Path | None, model: str) -> None:
    """The dataset profile exists; the trace and length-sample files exist and hold the columns they need (read by
    the traffic readers, whose messages name the file, row and column); each length distribution has the fields its
    kind needs; no request outgrows ``model``'s learned positions. Relative paths are resolved against ``base`` (in
    place)."""
    import numpy as np

    from cosim.serving.arrivals import read_trace
    from cosim.serving.datasets import profile
    from cosim.serving.lengths import draw_lengths

    cap = traffic.max_total_tokens
    if traffic.dataset is not None:
        named = _checked(f"{where}.dataset", source, "traffic.dataset", profile, traffic.dataset)
        cap = cap if cap is not None else named.max_total_tokens
    longest = None  # the longest prompt + output the traffic can make, when bounded
    arrivals = traffic.arrivals
    if arrivals.process == "trace":
        arrivals.path = str(resolve(arrivals.path, base))
        trace = _checked(f"{where}.arrivals.path", source, None, read_trace, Path(arrivals.path), arrivals.time_scale)
        for side in ("prompt", "output"):
            if getattr(trace, f"{side}_tokens") is None and getattr(traffic, side) is None and not traffic.dataset:
                raise CosimInputError(f"{where}.arrivals.path: the trace {arrivals.path} has no '{side}_tokens' "
                                      f"column; add it, or give '{where}.dataset' or '{where}.{side}' lengths", source)
        if trace.prompt_tokens is not None and trace.output_tokens is not None:
            longest = int((trace.prompt_tokens + trace.output_tokens).max())
    for side in ("prompt", "output"):
        lengths: Lengths | None = getattr(traffic, side)
        if lengths is not None:
            if lengths.path:
                lengths.path = str(resolve(lengths.path, base))
            _checked(f"{where}.{side}", source, f"{where}.{side}", draw_lengths, lengths, np.random.default_rng(0), 1,
                     None, f"{where}.{side}")
    if traffic.prompt is not None and traffic.output is not None:
        highs = [s.value if s.dist == "fixed" else s.high for s in (traffic.prompt, traffic.output)]
        longest = None if None in highs else sum(highs)
    _check_positions(model, cap if longest is None else min(longest, cap or longest), where, source)


def _check_positions(model: str, longest: int | None, where: str, source: str) -> None:
    """A model with learned position embeddings cannot hold a request longer than its positions."""
    from cosim.serving.step_cost import learned_positions

    limit = learned_positions(model)
    if limit is not None and (longest is None or longest > limit):
        bound = "are unbounded" if longest is None else f"reach {longest} tokens"
        raise CosimInputError(f"{where}.max_total_tokens: {model!r} has {limit} learned positions, but the requests' "
                              f"prompt + output tokens {bound}; set max_total_tokens <= {limit}", source)


def _checked(where: str, source: str, own: str | None, read, *args):
    """``read(*args)``; its input error is re-raised from ``source`` at ``where`` (replacing ``own``, the YAML path
    the reader names itself; a file it names stays in the message)."""
    try:
        return read(*args)
    except CosimInputError as exc:
        message = str(exc)
        if own is not None and exc.source == own:
            message = message[len(own) + 2:]
        raise CosimInputError(f"{where}: {message}", source) from None


def with_overrides(config: ServingConfig, rates: list[float] | None = None, capacity: bool = False,
                   requests: int | None = None, source: str = "<config>") -> ServingConfig:
    """``config`` with command-line changes, validated like the file: ``rates`` replace its rates, ``requests``
    its request count, and ``capacity`` asks for a capacity search (its own, else on the first SLO)."""
    raw = config.model_dump(exclude_unset=True)
    if rates:
        raw["rates"] = list(rates)
    if requests is not None:
        raw["traffic"] = {**raw["traffic"], "requests": requests}
    if capacity and config.capacity is None:
        if not config.slos:
            raise CosimInputError("a capacity search needs an SLO: add 'slos' (and optionally 'capacity') to the "
                                  "config", source)
        raw["capacity"] = {"slo": next(iter(config.slos))}
    return validate_schema(ServingConfig, raw, source) if raw != config.model_dump(exclude_unset=True) else config
