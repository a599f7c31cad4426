"""NeuPIMs (Heo et al., ASPLOS'24): decode throughput over GPU-only, NPU-only and naive NPU+PIM (neupims-01..03).

Published setup, run through the presets users run: GPT-3 7B/13B/30B/175B at TP4/TP4/TP4-PP2/TP8-PP4, batch 64, 128,
256, 384, 512, ShareGPT (mean input 80 / output 296 tokens) and Alpaca (12 / 56); steady-state decode at the mean KV
length over the output tokens (input + output / 2; attention cost is linear in the KV length, so this is the mean
step). GPU-only = ``A100-SXM4-40GB`` under PyTorch eager (unfused attention, framework-issued ops), NPU-only =
``NeuPIMs-NPU`` (same 1024 GB/s HBM, no PIM), naive NPU+PIM = ``NeuPIMs-NPU+PIM-naive`` (blocked PIM, serialized),
NeuPIMs = ``NeuPIMs`` (dual row buffers, two sub-batches interleaved from batch 256, the NPU and the PIM over one
shared memory). Speed-ups are geometric means over the 40 (model, dataset, batch) points. ``step_breakdown`` splits
one decode step into NPU GEMMs, PIM attention, transfers and idle time.
"""

from __future__ import annotations

import math
from functools import lru_cache

from cosim import api
from hw_models.gpu_stack import NAMED_STACKS

MODELS = {"gpt3-7b": (4, 1), "gpt3-13b": (4, 1), "gpt3-30b": (4, 2), "gpt3-175b": (8, 4)}
DATASETS = {"sharegpt": (80, 296), "alpaca": (12, 56)}
BATCHES = (64, 128, 256, 384, 512)
PRESETS = {"gpu": "A100-SXM4-40GB", "npu": "NeuPIMs-NPU", "naive": "NeuPIMs-NPU+PIM-naive", "neupims": "NeuPIMs"}
GPU_STACK = NAMED_STACKS["pytorch-eager"]  # the paper's GPU-only baseline: PyTorch with unfused attention


def mean_decode_step(model: str, batch: int, prompt: int, output: int, tp: int, pp: int = 1):
    """The steady-state decode step of the setup: KV length at the mean over the output tokens (input + output / 2)."""
    return api.load_workload(model, phase="decode", batch=batch, context=prompt + output // 2, tensor_parallel=tp,
                             pipeline_parallel=pp)


@lru_cache(maxsize=1)
def speedups() -> dict[str, float]:
    """Geometric-mean throughput of NeuPIMs over each baseline (keys ``gpu``, ``npu``, ``naive``)."""
    hws = {k: api.load_hardware(v, GPU_STACK if k == "gpu" else None) for k, v in PRESETS.items()}
    logs: dict[str, list[float]] = {k: [] for k in ("gpu", "npu", "naive")}
    for model, (tp, pp) in MODELS.items():
        for prompt, output in DATASETS.values():
            for batch in BATCHES:
                wl = mean_decode_step(model, batch, prompt, output, tp, pp)
                res = {k: api.simulate(h, wl) for k, h in hws.items()}
                infeasible = {k: r.reason for k, r in res.items() if not r.feasible}
                if infeasible:
                    raise RuntimeError(f"NeuPIMs setup point {model} batch {batch} is infeasible: {infeasible}")
                for k in logs:
                    logs[k].append(math.log(res["neupims"].throughput / res[k].throughput))
    return {k: math.exp(sum(v) / len(v)) for k, v in logs.items()}


MODEL_VALUES = {
    "neupims-01": lambda: speedups()["gpu"],
    "neupims-02": lambda: speedups()["npu"],
    "neupims-03": lambda: speedups()["naive"],
}


def step_breakdown(model: str = "gpt3-13b", batch: int = 256, dataset: str = "sharegpt",
                   preset: str = PRESETS["neupims"]) -> dict[str, float]:
    """Seconds per decode step of the setup on a NPU+PIM preset: the NPU's GEMMs and its other ops (norms,
    collectives, KV writes), the PIM's attention and the hand-overs between them, summed over both sub-batches when
    the preset interleaves them (a sub-batch's ops are those of the step at half the batch), each unit's idle time
    (the step period less its busy time), and the period."""
    tp, pp = MODELS[model]
    prompt, output = DATASETS[dataset]
    hw = api.load_hardware(preset)
    step = api.simulate(hw, mean_decode_step(model, batch, prompt, output, tp, pp))
    if not step.feasible:
        raise RuntimeError(f"{preset} cannot run {model} at batch {batch}: {step.reason}")
    spec = hw.spec
    if spec.concurrency == "subbatch" and batch >= spec.subbatch_min_batch:
        serial = api.load_hardware(preset, {"concurrency": "sequential"})
        halves = [api.simulate(serial, mean_decode_step(model, b, prompt, output, tp, pp)).ops
                  for b in (batch // 2, batch - batch // 2)]
    else:
        halves = [step.ops]
    out = {"npu_gemm_s": 0.0, "npu_other_s": 0.0, "pim_attention_s": 0.0, "pim_other_s": 0.0, "transfer_s": 0.0}
    for ops in halves:
        work = ops.time_s - ops.transfer_s
        gemm = (ops.unit == "npu") & (ops.kind == "matmul")
        out["npu_gemm_s"] += float(work[gemm].sum())
        out["npu_other_s"] += float(work[(ops.unit == "npu") & ~gemm].sum())
        out["pim_attention_s"] += float(work[(ops.unit == "pim") & (ops.kind == "attention")].sum())
        out["pim_other_s"] += float(work[(ops.unit == "pim") & (ops.kind != "attention")].sum())
        out["transfer_s"] += float(ops.transfer_s.sum())
    period = float(step.totals["period_s"])
    for unit in ("npu", "pim"):
        out[f"{unit}_idle_s"] = max(0.0, period * (1.0 - float(step.totals[f"utilization_{unit}"])))
    out["period_s"] = period
    return out
