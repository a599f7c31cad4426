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

``runtime.kernel_launch``: ``per_kernel`` (default; every kernel pays ``runtime.kernel_launch_us``) or
``cuda_graph`` (the step is a replayed CUDA graph; every kernel node pays ``runtime.graph_node_launch_us``).
"""

from __future__ import annotations

# Kernel codes of runtime.attention_kernels, in the order the packed parameter vector stores them.
ATTENTION_STACKS = ("paged", "flash", "eager")
PAGED, FLASH, EAGER = range(len(ATTENTION_STACKS))
LAUNCH_MODES = ("per_kernel", "cuda_graph")


def launch_overhead_s(runtime) -> float:
    """Seconds of launch overhead each kernel pays under the runtime's ``kernel_launch`` mode."""
    us = runtime.graph_node_launch_us if runtime.kernel_launch == "cuda_graph" else runtime.kernel_launch_us
    return us * 1e-6

