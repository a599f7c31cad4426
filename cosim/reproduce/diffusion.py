"""Diffusion speed-ups from quantisation and step caching: CacheQuant (CVPR'25, cq-01) and MixDQ (ECCV'24, mixdq-02),
through the diffusion workloads and GPU presets users run, each under the software stack its authors' code runs.

MixDQ's W8A8 kernel measurements (authors' README, Latency Speedup table): one SDXL-Turbo U-Net call (workload
``sdxl-turbo``: 1 step, 512x512, batch 1, no CFG — the model's released setting; the README gives no batch or size,
our reading) in fp16 and with every U-Net weight layer in W8A8 (int8 tensor cores, int32 accumulation, the output
dequantised in the epilogue; each layer's fp16 input quantised to int8 by a separate kernel with a calibrated static
scale — the workloads' default ``act_quant="static"``, which is what MixDQ's ``QuantizedLinear`` / ``QuantizedConv2d``
run), on ``RTX-3090``, ``RTX-4080`` and ``A100-SXM4-80GB`` (which A100 is not stated). The
code is diffusers under PyTorch with fused scaled-dot-product attention (PyTorch 2, our reading), and its latencies
are measured with the U-Net captured in a CUDA graph, fp16 and int8 alike (MixDQ ``kernels/README.md``: "The cuda
graph is adopted to reduce the calling overhead of the operator"; ``scripts/run_quantize_profile.sh
--cuda_graph_only``): the ``pytorch-sdpa-graph`` stack. The U-Net time is the sum of the U-Net ops; weight memory is
the U-Net's weight bytes.

CacheQuant's Stable Diffusion result (authors' repository ``mainldm/sample_cachequant_stable_quant.py`` defaults):
SD v1.4 (the ``sd-1.5`` U-Net shapes, identical to v1.4), 50 PLMS steps, guidance 7.5, 512x512, batch 4, the U-Net
cached with interval 5 (10 full steps; the non-uniform schedule its dynamic programme picks has the same count) on
DeepCache's Stable Diffusion branch (layer 0, block 0: the README aligns its caching with DeepCache), W8A8 weights
and activations (CUTLASS int8 kernels; the separate static activation-quantise kernel before each layer is an
assumption, as for MixDQ); whole-pipeline latency against the fp16 pipeline without caching. The code
is the CompVis latent-diffusion implementation under PyTorch: einsum attention that materialises the scores, every
op issued by the eager framework. The paper does not state the GPU of its speed-up: it is run on ``RTX-3090``, the
GA102 part closest to the A6000 the paper's introduction mentions (an assumption, stated in the claim).
"""

from __future__ import annotations

from functools import lru_cache

from cosim import api
from hw_models.gpu_stack import NAMED_STACKS

# The software stacks of the authors' code (hw_models.gpu_stack).
PYTORCH_SDPA_GRAPH, PYTORCH_EINSUM = NAMED_STACKS["pytorch-sdpa-graph"], NAMED_STACKS["pytorch-eager"]

MIXDQ_GPUS = {"rtx3090": "RTX-3090", "rtx4080": "RTX-4080", "a100": "A100-SXM4-80GB"}
MIXDQ_W8A8 = {"unet.*": "W8A8"}  # MixDQ quantises the U-Net only
CACHEQUANT_GPU = "RTX-3090"
CACHEQUANT_SETUP = dict(steps=50, guidance_scale=7.5, resolution=512, batch=4)
CACHEQUANT_CACHE = dict(cache_interval=5, cache_branch=0, quant="W8A8")


@lru_cache(maxsize=None)
def _sdxl_turbo(quantised: bool):
    return api.load_workload("sdxl-turbo", quant=MIXDQ_W8A8 if quantised else "none")


@lru_cache(maxsize=None)
def unet_latency_ms(gpu: str, quantised: bool) -> float:
    """Milliseconds of one SDXL-Turbo U-Net call on ``gpu`` (a ``MIXDQ_GPUS`` key), fp16 or W8A8."""
    r = api.simulate(api.load_hardware(MIXDQ_GPUS[gpu], PYTORCH_SDPA_GRAPH), _sdxl_turbo(quantised))
    if not r.feasible:
        raise RuntimeError(f"MixDQ setup is infeasible on {MIXDQ_GPUS[gpu]}: {r.reason}")
    return 1e3 * float(r.ops.loc[r.ops["op"].str.startswith("unet."), "time_s"].sum())


def unet_weight_bytes(quantised: bool) -> float:
    """Bytes of the SDXL-Turbo U-Net's weights, fp16 or W8A8."""
    return sum(op.parameters * op.weight_bits / 8 for op in _sdxl_turbo(quantised).ops
               if op.tags["component"] == "unet")


@lru_cache(maxsize=1)
def cachequant_speedup() -> float:
    """Whole-pipeline latency of fp16 Stable Diffusion over the cached (interval 5, DeepCache branch 0), W8A8 one."""
    hw = api.load_hardware(CACHEQUANT_GPU, PYTORCH_EINSUM)
    base = api.simulate(hw, api.load_workload("sd-1.5", **CACHEQUANT_SETUP))
    fast = api.simulate(hw, api.load_workload("sd-1.5", **CACHEQUANT_SETUP, **CACHEQUANT_CACHE))
    return base.latency_s / fast.latency_s


def _mixdq(gpu: str, quantised: bool):
    return lambda: unet_latency_ms(gpu, quantised)


def _mixdq_speedup(gpu: str):
    return lambda: unet_latency_ms(gpu, False) / unet_latency_ms(gpu, True)


MODEL_VALUES = {
    "cq-01": cachequant_speedup,
    "mixdq-02": _mixdq("rtx4080", True),
    **{f"mixdq-02/{gpu}-fp16": _mixdq(gpu, False) for gpu in MIXDQ_GPUS},
    **{f"mixdq-02/{gpu}-int8": _mixdq(gpu, True) for gpu in ("rtx3090", "a100")},
    **{f"mixdq-02/{gpu}-speedup": _mixdq_speedup(gpu) for gpu in MIXDQ_GPUS},
    "mixdq-02/weight-memory": lambda: unet_weight_bytes(False) / unet_weight_bytes(True),
}
