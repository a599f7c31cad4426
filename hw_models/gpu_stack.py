"""The GPU software stack as a design axis: which attention kernels run and how kernels reach the GPU.

``runtime.attention_kernels`` (the kernels in ``hw_models.gpu_kernels``):

- ``paged`` (default): FlashAttention tiles for prefill and a paged KV-cache decode kernel that splits the KV sequence
  over SMs (flash-decoding); the KV read rounds up to whole pages.
- ``flash``: FlashAttention for prefill and decode alike, over a contiguous KV cache: no page rounding and no KV
  split, so a decode step has one thread block per (sequence, head) and query block.
- ``eager``: the framework's unfused attention (Dao et al., FlashAttention, arXiv:2205.14135, Algorithm 0): a
  batched GEMM writes the score matrix S = QK^T to HBM, a softmax kernel reads S and writes P, a second batched GEMM
  reads P and V. Each of ``runtime.eager_score_round_trips`` round trips writes and reads the whole score matrix
  once, and every kernel is launched on its own. Causal masking does not skip work: the full matrix is computed.

``runtime.kernel_launch``: how each kernel reaches the GPU.

- ``per_kernel`` (default): a native runtime launches kernels one at a time from a host stream; every kernel pays
  ``runtime.kernel_launch_us`` on top of its work.
- ``framework``: an eager Python framework (PyTorch) issues every op: Python, the operator dispatcher and the launch
  take ``runtime.framework_op_overhead_us`` of host time per op. Launches are asynchronous, so the host prepares the
  next op while the GPU runs this one: an op takes its GPU time or the host time, whichever is longer.
- ``cuda_graph``: the step is one captured CUDA graph replayed; every kernel node pays
  ``runtime.graph_node_launch_us``.
"""

from __future__ import annotations

# Kernel codes of runtime.attention_kernels, in the order the packed parameter vector stores them.
ATTENTION_STACKS = ("paged", "flash", "eager")
PAGED, FLASH, EAGER = range(len(ATTENTION_STACKS))


def launch_costs_s(runtime) -> tuple[float, float]:
    """(seconds each kernel adds to its own time, host seconds below which no op can finish) under the runtime's
    ``kernel_launch`` mode."""
    if runtime.kernel_launch == "framework":
        return 0.0, runtime.framework_op_overhead_us * 1e-6
    us = runtime.graph_node_launch_us if runtime.kernel_launch == "cuda_graph" else runtime.kernel_launch_us
    return us * 1e-6, 0.0


# Named stacks: the runtime settings of common ways to run a model, as hardware overrides (``load_hardware(name,
# NAMED_STACKS["pytorch-eager"])``); ``fused`` is every preset's default.
NAMED_STACKS = {
    "fused": {"runtime.attention_kernels": "paged", "runtime.kernel_launch": "per_kernel"},
    "cuda-graph": {"runtime.attention_kernels": "paged", "runtime.kernel_launch": "cuda_graph"},
    "pytorch-sdpa": {"runtime.attention_kernels": "flash", "runtime.kernel_launch": "framework"},
    # PyTorch with fused attention, the model captured in a CUDA graph and replayed (torch.cuda.CUDAGraph)
    "pytorch-sdpa-graph": {"runtime.attention_kernels": "flash", "runtime.kernel_launch": "cuda_graph"},
    "pytorch-eager": {"runtime.attention_kernels": "eager", "runtime.kernel_launch": "framework"},
}
