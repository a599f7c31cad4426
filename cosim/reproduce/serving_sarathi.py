"""Sarathi-Serve (Agrawal et al., OSDI'24): serving capacity over vLLM (sarathi-01: Mistral-7B on one A100;
sarathi-02: Falcon-180B on eight A100s in two nodes).

Capacity, as the paper defines it: the highest Poisson request rate at which the P99 of every gap between
consecutive tokens stays within the SLO and the median scheduling delay within 2 s, found by bisection
(``cosim.serving.capacity``). vLLM batches whole prompts ahead of decodes (prefill-prioritising); Sarathi-Serve
chunks prompts under a token budget into stall-free hybrid batches. Both run at most 128 requests at once, each
system under each SLO regime (strict: the tighter P99 TBT with a 512-token budget; relaxed: the looser one with
2048), and the claim is the largest ratio ("up to"). What of the setup the paper material states and what it does
not is ``SETUP``; ``MISSING`` names the inputs a labelled stand-in replaces.
"""

from __future__ import annotations

from functools import lru_cache

from cosim.reproduce.serving_runs import NOT_STATED, capacity_rps, missing
from cosim.serving.spec import Arrivals, CapacitySpec, HardwareRef, SchedulerSpec, SLOSpec, SystemSpec, Traffic

# Per model: hardware, tensor x pipeline parallelism, preset overrides, P99 TBT SLO (strict, relaxed) in seconds.
MODELS = {
    "mistral-7b": dict(preset="A100-SXM4-80GB", tp=1, pp=1, overrides={}, p99_tbt_s=(0.1, 0.5)),
    # Two nodes of four A100s joined by 100 Gb/s Ethernet = 12.5 GB/s per node in each direction; TP4 inside a
    # node, the two pipeline stages in different nodes (their activations cross the Ethernet).
    "falcon-180b": dict(preset="A100-SXM4-80GB", tp=4, pp=2, p99_tbt_s=(1.0, 5.0),
                        overrides={"interconnect.devices_per_node": 4, "interconnect.network_bandwidth_gbps": 12.5}),
}
REGIMES = {"strict": (0, 512), "relaxed": (1, 2048)}  # regime -> (index into p99_tbt_s, Sarathi token budget)
MAX_BATCH = 128
MEDIAN_QUEUE_S = 2.0
DATASET = "sharegpt"  # cosim.serving's profile of openchat_sharegpt4 as Sarathi-Serve serves it
MAX_PREFILL_TOKENS = 8192  # the trace's largest prompt + output
REQUESTS = 256  # requests per simulated run
CAPACITY = dict(low=0.1, high=8.0, tolerance=0.05)

SETUP = {
    "models, hardware, parallelism": ("Mistral-7B on 1 A100 (TP1); Falcon-180B on 8 A100 in 2 nodes, TP4-PP2",
                                      "published: paper_claims sarathi-01 setup"),
    "inter-node link": ("100 Gb/s Ethernet: 12.5 GB/s per node, one direction, shared by its 4 GPUs",
                        "published: paper_claims sarathi-01 setup"),
    "capacity definition": ("highest Poisson rate with P99 TBT <= SLO and median scheduling delay <= 2 s",
                            "published: paper_claims sarathi-01 setup"),
    "P99 TBT SLOs": ("Mistral-7B 0.1 s strict / 0.5 s relaxed; Falcon-180B 1 s / 5 s",
                     "published: paper_claims sarathi-01 setup"),
    "token budget": ("512 (strict), 2048 (relaxed)", "published: paper_claims sarathi-01 setup"),
    "max batch": ("128 requests (vLLM and Sarathi-Serve)",
                  "published: paper_claims sarathi-01 setup; sarathi-05 (the authors' capacity-search config)"),
    "dataset": ("openchat_sharegpt4: prompt median 1730, P90 5696 tokens; output median 415, P90 834, at most 1024; "
                "prompt + output <= 8192 (cosim.serving's 'sharegpt' profile)",
                "published: paper_claims sarathi-01 setup; output P90 and cap from the authors' trace statistics"),
    "length distributions": ("lognormal prompts and outputs through the published medians and P90s",
                             f"{NOT_STATED}: the paper samples the trace itself; a lognormal is what two quantiles "
                             "determine"),
    "A100 variant": ("A100-SXM4-80GB", f"{NOT_STATED}: form factor and memory (Falcon-180B's 360 GB of fp16 "
                                       "weights need the 80 GB part on 8 GPUs)"),
    "Ethernet latency": ("0 (the preset's network latency)", f"{NOT_STATED}"),
    "data type": ("fp16 weights, activations and KV cache", f"{NOT_STATED}"),
    "vLLM prefill limit": ("whole prompts, up to 8192 tokens per prefill step", f"{NOT_STATED}: vLLM's "
                                                                                 "max_num_batched_tokens"),
    "requests per run": (f"{REQUESTS}", f"{NOT_STATED}: the paper's run length"),
    "software stack": ("the A100 preset's (paged attention, per-kernel launches)", f"{NOT_STATED}"),
}
MISSING = missing(SETUP)


def traffic() -> Traffic:
    """openchat_sharegpt4 requests (the ``sharegpt`` profile), Poisson arrivals (the rate is set per run)."""
    return Traffic(arrivals=Arrivals(process="poisson", rate_per_s=1.0), requests=REQUESTS, dataset=DATASET, seed=0)


def slo(model: str, regime: str) -> SLOSpec:
    """The capacity SLO of ``model`` under ``regime``: P99 TBT and median scheduling delay."""
    return SLOSpec(p99_tbt_s=MODELS[model]["p99_tbt_s"][REGIMES[regime][0]], median_queue_s=MEDIAN_QUEUE_S)


def system(model: str, policy: str, regime: str) -> SystemSpec:
    """``model``'s published deployment batching by ``policy`` (``vllm`` or ``sarathi``) under ``regime``."""
    m = MODELS[model]
    scheduler = SchedulerSpec(policy=policy, max_batch=MAX_BATCH, token_budget=REGIMES[regime][1],
                              max_prefill_tokens=MAX_PREFILL_TOKENS)
    return SystemSpec(label=f"{policy}-{regime}", hardware=HardwareRef(preset=m["preset"], overrides=m["overrides"]),
                      tensor_parallel=m["tp"], pipeline_parallel=m["pp"], scheduler=scheduler)


@lru_cache(maxsize=None)
def capacity(model: str, policy: str, regime: str) -> float:
    """Requests/s ``policy`` sustains for ``model`` within ``regime``'s SLO."""
    return capacity_rps(system(model, policy, regime), model, traffic(), {regime: slo(model, regime)},
                        CapacitySpec(slo=regime, **CAPACITY))


def gain(model: str) -> float:
    """Sarathi-Serve's capacity over vLLM's, the larger of the two SLO regimes."""
    return max(capacity(model, "sarathi", r) / capacity(model, "vllm", r) for r in REGIMES)


MODEL_VALUES = {
    "sarathi-01": lambda: gain("mistral-7b"),
    "sarathi-02": lambda: gain("falcon-180b"),
}
