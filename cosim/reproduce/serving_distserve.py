"""DistServe (Zhong et al., OSDI'24): goodput of disaggregated prefill and decode over co-located vLLM (ds-01).

Goodput, as the paper defines it: the highest request rate at which at least 90% of requests meet both the TTFT and
the TPOT SLO, per GPU the system occupies. The chatbot workload (ShareGPT) on OPT-13B is run: vLLM on one A100
against DistServe's artifact placement, a prefill instance at TP2 and a decode instance at TP1 in the same node,
each request's KV cache moved over NVLink between them. The claim (4.48x) is the largest gain over the paper's
workloads; only the chatbot one is run here (the code-completion and summarisation datasets have no profile in
``cosim.serving``, and OPT-66B/175B runs take minutes), so the model value is the OPT-13B chatbot gain. What of the
setup the paper material states and what it does not is ``SETUP``; ``MISSING`` names the stand-ins.
"""

from __future__ import annotations

from functools import lru_cache

from cosim.reproduce.serving_runs import NOT_STATED, capacity_rps, devices, missing
from cosim.serving.spec import (Arrivals, CapacitySpec, Disaggregation, HardwareRef, LinkSpec, PoolSpec, SLOSpec,
                                SystemSpec, Traffic)

MODEL = "opt-13b"
PRESET = "A100-SXM4-80GB"
SLO = SLOSpec(ttft_s=0.25, tpot_s=0.1, attainment=0.9)  # chatbot ShareGPT OPT-13B
PREFILL_TP, DECODE_TP, VLLM_TP = 2, 1, 1
DATASET = "sharegpt-vllm"  # ShareGPT as the vLLM paper serves it to OPT models (prompt + output <= 2048)
REQUESTS = 1024
CAPACITY = dict(low=0.05, high=32.0, tolerance=0.05)

SETUP = {
    "hardware": ("A100-SXM4-80GB GPUs in one node", "published: paper_claims ds-01 setup (A100-SXM-80GB)"),
    "model and workload": ("OPT-13B, chatbot (ShareGPT)", "published: paper_claims ds-01 setup"),
    "SLOs": ("TTFT 0.25 s, TPOT 0.1 s, 90% of requests", "published: paper_claims ds-01 setup (artifact _plot.py)"),
    "DistServe placement": ("prefill TP2, decode TP1, one instance each",
                            "published: artifact start-api-server script (the prefill TP2 marked 'TODO adjust me')"),
    "goodput unit": ("requests/s per GPU", "published: the paper compares per-GPU goodput"),
    "KV transfer link": ("NVLink inside the node (the 'nvlink' link preset: half the A100's 600 GB/s bidirectional, "
                         "one lane per device of the smaller instance)",
                         "published: prefill and decode instances in one 8-GPU node"),
    "vLLM parallelism for OPT-13B": (f"TP{VLLM_TP}, one instance", f"{NOT_STATED}: the reference gives vLLM's TP4 "
                                                                   "for OPT-66B only"),
    "vLLM max batch": ("SchedulerSpec default (256)", f"{NOT_STATED}"),
    "ShareGPT length statistics": (f"cosim.serving's '{DATASET}' profile (the vLLM paper's ShareGPT for OPT: mean "
                                   "prompt 161, output 338, prompt + output <= 2048)",
                                   f"{NOT_STATED}: DistServe's own ShareGPT sample"),
    "arrival process": ("Poisson", f"{NOT_STATED} in the reference (the artifact's benchmark client)"),
    "other workloads": ("not run: code completion (HumanEval), summarisation (LongBench), OPT-66B/175B",
                        f"{NOT_STATED}: length profiles of HumanEval and LongBench"),
    "requests per run": (f"{REQUESTS}", f"{NOT_STATED}: the paper's run length"),
}
MISSING = missing(SETUP)


def traffic() -> Traffic:
    """The chatbot workload: ShareGPT lengths within OPT's 2048 positions, Poisson arrivals."""
    return Traffic(arrivals=Arrivals(process="poisson", rate_per_s=1.0), requests=REQUESTS, dataset=DATASET, seed=0)


def systems() -> dict[str, SystemSpec]:
    """Co-located vLLM and DistServe's disaggregated prefill/decode placement."""
    hw = HardwareRef(preset=PRESET)
    split = Disaggregation(prefill=PoolSpec(tensor_parallel=PREFILL_TP), decode=PoolSpec(tensor_parallel=DECODE_TP),
                           link=LinkSpec(preset="nvlink"))
    return {"vllm": SystemSpec(label="vllm", hardware=hw, tensor_parallel=VLLM_TP),
            "distserve": SystemSpec(label="distserve", hardware=hw, disaggregated=split)}


@lru_cache(maxsize=None)
def goodput_per_gpu(name: str) -> float:
    """Requests/s per GPU that ``name`` serves with 90% of requests within both SLOs."""
    system = systems()[name]
    rate = capacity_rps(system, MODEL, traffic(), {"chatbot": SLO}, CapacitySpec(slo="chatbot", **CAPACITY))
    return rate / devices(system)


MODEL_VALUES = {"ds-01": lambda: goodput_per_gpu("distserve") / goodput_per_gpu("vllm")}
