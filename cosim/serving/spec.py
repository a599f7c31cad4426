"""The serving config (``cosim serve CONFIG.yaml``, a sweep's ``serving:`` entries, the API): pydantic models.

One config compares ``systems`` (hardware, parallelism, scheduler, replicas, optional disaggregation) under one
``traffic`` (arrivals and request lengths), at one or several request ``rates``, judged by named ``slos``; an
optional ``capacity`` search finds the highest rate each system sustains within an SLO. Every number a config gives
is validated here: negative, NaN or infinite rates, lengths and limits are rejected with the YAML path.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value


Positive = Annotated[float, Field(gt=0), AfterValidator(_finite)]
NonNegative = Annotated[float, Field(ge=0), AfterValidator(_finite)]


# --- traffic ------------------------------------------------------------------------------------------------------

class Arrivals(_Strict):
    """When requests arrive. ``poisson``: exponential gaps at ``rate_per_s``; ``gamma``: gamma gaps at ``rate_per_s``
    with coefficient of variation ``cv`` (burstiness; 1 is Poisson); ``fixed``: one request every 1/rate s;
    ``trace``: timestamps (and lengths, when the file has them) replayed from ``path`` (CSV or JSONL)."""

    process: Literal["poisson", "gamma", "fixed", "trace"] = "poisson"
    rate_per_s: Positive | None = None
    cv: Positive = 1.0
    path: str | None = None
    time_scale: Positive = 1.0  # trace replay: multiply the trace's gaps by this (speed up or slow down a trace)

    @model_validator(mode="after")
    def _needs(self):
        if self.process == "trace" and not self.path:
            raise ValueError("a trace arrival process needs 'path' (a CSV or JSONL file with arrival times)")
        if self.process != "trace" and self.rate_per_s is None:
            raise ValueError(f"a {self.process} arrival process needs 'rate_per_s'")
        return self


class Lengths(_Strict):
    """A token-length distribution. ``fixed``: ``value``; ``uniform``: integers in [low, high]; ``lognormal``:
    median ``median`` and log-space ``sigma``; ``zipf``: exponent ``a`` over [low, high]; ``empirical``: the values
    in ``path`` (one column, or ``column`` of a CSV/JSONL) drawn with replacement. ``low``/``high`` clip every kind."""

    dist: Literal["fixed", "uniform", "lognormal", "zipf", "empirical"] = "fixed"
    value: int | None = Field(default=None, ge=1)
    low: int = Field(default=1, ge=1)
    high: int | None = Field(default=None, ge=1)
    median: Positive | None = None
    sigma: NonNegative = 1.0
    a: Positive = 1.5
    path: str | None = None
    column: str | None = None


class Traffic(_Strict):
    """The requests of a run: ``requests`` of them (or as many as arrive in ``duration_s``), arriving by
    ``arrivals``, with prompt and output lengths from ``dataset`` (a named profile of published statistics) or from
    ``prompt`` and ``output``; ``seed`` makes every draw reproducible."""

    arrivals: Arrivals = Field(default_factory=lambda: Arrivals(rate_per_s=1.0))
    requests: int | None = Field(default=1000, ge=1)
    duration_s: Positive | None = None
    dataset: str | None = None
    prompt: Lengths | None = None
    output: Lengths | None = None
    max_total_tokens: int | None = Field(default=None, ge=2)  # drop-and-redraw cap on prompt + output (as traces do)
    seed: int = 0

    @model_validator(mode="after")
    def _lengths(self):
        if self.dataset is None and self.arrivals.process != "trace" and (self.prompt is None or self.output is None):
            raise ValueError("give either 'dataset' or both 'prompt' and 'output' length distributions")
        return self


# --- systems ------------------------------------------------------------------------------------------------------

class HardwareRef(_Strict):
    """A hardware preset with fixed overrides (dotted paths, as in sweep configs)."""

    preset: str
    overrides: dict[str, Any] = Field(default_factory=dict)


class LinkSpec(_Strict):
    """A link that moves KV caches: a link preset name, or its ``bandwidth_gbps`` (GB/s per device, one direction),
    ``latency_s`` and ``e_pj_per_bit``; fields given override the preset's (``cosim.serving.kv_transfer``)."""

    preset: str | None = None
    bandwidth_gbps: Positive | None = None
    latency_s: NonNegative = 0.0
    e_pj_per_bit: NonNegative = 0.0


class SchedulerSpec(_Strict):
    """How an instance batches. ``vllm``: continuous batching with paged KV blocks, prefill-prioritising, whole
    prompts; ``orca``: iteration-level batching, prefills and decodes in one batch, slots reserved for the maximum
    length; ``sarathi``: chunked prefill under ``token_budget`` tokens per step with stall-free hybrid batches.
    ``max_batch``: most requests running at once; ``block_tokens``: tokens per KV block; ``preemption``: what vLLM
    does when blocks run out (``recompute`` drops the KV, ``swap`` moves it to host memory over ``swap_link``)."""

    policy: Literal["vllm", "orca", "sarathi"] = "vllm"
    max_batch: int = Field(default=256, ge=1)
    token_budget: int = Field(default=512, ge=1)
    block_tokens: int = Field(default=16, ge=1)
    preemption: Literal["recompute", "swap"] = "recompute"
    max_prefill_tokens: int = Field(default=8192, ge=1)  # vllm/orca: most prompt tokens in one prefill step
    # Swap preemption moves blocks to host memory over this link. Default: PCIe 4.0 x16, 16 GT/s x 16 lanes with
    # 128b/130b encoding = 31.5 GB/s per direction (PCI-SIG PCIe 4.0 base specification), the host link of
    # A100/H100 PCIe and SXM boards; latency 0 (assumption: a swap moves many blocks, so bandwidth dominates).
    swap_link: LinkSpec = Field(default_factory=lambda: LinkSpec(bandwidth_gbps=31.5))


class PoolSpec(_Strict):
    """One pool of identical instances of a disaggregated system."""

    hardware: HardwareRef | None = None  # default: the system's hardware
    tensor_parallel: int = Field(default=1, ge=1)
    pipeline_parallel: int = Field(default=1, ge=1)
    replicas: int = Field(default=1, ge=1)
    scheduler: SchedulerSpec | None = None


class Disaggregation(_Strict):
    """DistServe-style split: prompts run on ``prefill`` instances, generation on ``decode`` instances; each
    request's KV cache moves over ``link`` between them."""

    prefill: PoolSpec
    decode: PoolSpec
    link: LinkSpec


class RoutingSpec(_Strict):
    """Expert routing of a mixture-of-experts model (see ``cosim.serving.Routing``)."""

    model: Literal["uniform", "zipf", "dirichlet", "trace"] = "uniform"
    zipf_s: Positive = 1.0
    dirichlet_alpha: Positive = 1.0
    trace: str = ""
    capacity_factor: NonNegative = 0.0
    seed: int = 0


class SystemSpec(_Strict):
    """One serving system: ``replicas`` instances of ``hardware`` (each ``tensor_parallel`` x ``pipeline_parallel``
    devices) behind a ``router``, each batching by ``scheduler``; or a ``disaggregated`` prefill/decode system.
    ``nano_batches`` > 1 splits each step NanoFlow-style so compute-, memory- and network-bound operations of
    different nano-batches overlap on one device."""

    label: str
    hardware: HardwareRef
    tensor_parallel: int = Field(default=1, ge=1)
    pipeline_parallel: int = Field(default=1, ge=1)
    replicas: int = Field(default=1, ge=1)
    router: Literal["round_robin", "least_outstanding"] = "round_robin"
    scheduler: SchedulerSpec = Field(default_factory=SchedulerSpec)
    disaggregated: Disaggregation | None = None
    nano_batches: int = Field(default=1, ge=1)
    routing: RoutingSpec | None = None


# --- judging ------------------------------------------------------------------------------------------------------

class SLOSpec(_Strict):
    """A named service-level objective. Per request: ``ttft_s`` (time to first token), ``tpot_s`` (mean time per
    output token after the first), ``e2e_s``; a request meeting every one given counts toward goodput, and the run
    meets the SLO when at least ``attainment`` of its requests do. Per run: ``p99_tbt_s`` (99th percentile of every
    gap between consecutive tokens) and ``median_queue_s`` (median scheduling delay) must also hold when given."""

    ttft_s: Positive | None = None
    tpot_s: Positive | None = None
    e2e_s: Positive | None = None
    attainment: Annotated[float, Field(gt=0, le=1)] = 0.9
    p99_tbt_s: Positive | None = None
    median_queue_s: Positive | None = None


class CapacitySpec(_Strict):
    """Search the highest request rate (requests/s) meeting ``slo`` by bisection between ``low`` and ``high``
    until the bracket is within ``tolerance`` (relative)."""

    slo: str
    low: Positive = 0.05
    high: Positive = 64.0
    tolerance: Positive = 0.05


class ServingConfig(_Strict):
    """A whole serving study."""

    name: str = "serving"
    description: str = ""
    output: str | None = None
    model: str
    dtype: str = "fp16"
    kv_dtype: str | None = None
    traffic: Traffic
    systems: list[SystemSpec] = Field(min_length=1)
    rates: list[Positive] | None = None  # run once per rate (overrides traffic.arrivals.rate_per_s)
    slos: dict[str, SLOSpec] = Field(default_factory=dict)
    capacity: CapacitySpec | None = None
    max_sim_s: Positive | None = None  # stop the clock here (requests still in flight are reported as unfinished)

    @model_validator(mode="after")
    def _names(self):
        labels = [s.label for s in self.systems]
        if len(set(labels)) != len(labels):
            raise ValueError(f"system labels must be unique, got {labels}")
        if self.capacity and self.capacity.slo not in self.slos:
            raise ValueError(f"capacity.slo {self.capacity.slo!r} is not one of the slos: {sorted(self.slos)}")
        return self
