"""GPU device description: the validated spec of a preset and its packing into the kernels' parameter vector."""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from pydantic import Field

from hw_models.spec_base import PerDtype, Strict
from hw_models.kind import HardwareKind

from workloads.dtypes import DTYPE_BITS

DTYPES = tuple(DTYPE_BITS)  # kernel dtype codes follow this order




class GPUCompute(Strict):
    sm_count: int = Field(gt=0)
    clock_mhz: float = Field(gt=0)
    tensor_tflops: PerDtype  # dense tensor-core peak
    vector_tflops: PerDtype  # CUDA-core (non-tensor) peak
    sfu_ops_per_clock_per_sm: float = Field(gt=0)  # exp/rcp throughput of the special function units
    smem_per_sm_kib: float = Field(gt=0)


class GPUMemory(Strict):
    hbm_capacity_gb: float = Field(gt=0)
    hbm_bandwidth_gbps: float = Field(gt=0)
    l2_capacity_mb: float = Field(gt=0)
    l2_bandwidth_gbps: float = Field(gt=0)


class GPURuntime(Strict):
    kernel_launch_us: float = Field(ge=0)
    # Kernel-library choices the cost model depends on (defaults = the values the kernels used before they were
    # parameters; the shipped presets give each with its source).
    kv_cache_page_tokens: float = Field(default=16, gt=0)  # paged KV cache: tokens per page
    decode_kv_split_tokens: float = Field(default=256, gt=0)  # flash-decoding: minimum KV tokens per split
    prefill_query_block_rows: float = Field(default=128, gt=0)  # FlashAttention: query rows per thread block
    l2_resident_operand_fraction: float = Field(default=0.5, gt=0, le=1)  # share of L2 a resident GEMM operand may use
    softmax_vector_flops_per_score: float = Field(default=4, ge=0)  # CUDA-core operations per attention score


class GPUInterconnect(Strict):
    nvlink_bandwidth_gbps: float = Field(gt=0)  # bidirectional aggregate per GPU, as vendors quote it
    nvlink_latency_us: float = Field(ge=0)


class GPUPower(Strict):
    tdp_w: float = Field(gt=0)
    idle_w: float = Field(ge=0)


class GPUEnergy(Strict):
    e_tensor_pj_per_flop: PerDtype
    e_vector_pj_per_flop: float = Field(gt=0)
    e_l2_pj_per_bit: float = Field(ge=0)
    e_hbm_pj_per_bit: float = Field(ge=0)
    e_nvlink_pj_per_bit: float = Field(ge=0)


class GPUSpec(Strict):
    """A GPU preset after validation (units are in the field names)."""

    name: str
    kind: Literal["gpu"]
    description: str = ""
    compute: GPUCompute
    memory: GPUMemory
    runtime: GPURuntime
    interconnect: GPUInterconnect
    power: GPUPower
    energy: GPUEnergy

    @property
    def memory_capacity_bytes(self) -> float:
        return self.memory.hbm_capacity_gb * 1e9


# Parameter vector layout shared with the Numba kernels.
P_NAMES = (
    ["sm_count", "clock_hz", "sfu_per_clk_sm", "smem_bytes_per_sm"]
    + [f"tensor_{d}" for d in DTYPES] + [f"vector_{d}" for d in DTYPES]
    + ["hbm_bytes", "hbm_bw", "l2_bytes", "l2_bw", "launch_s", "link_bw", "link_latency_s", "tdp_w", "idle_w"]
    + [f"e_tensor_{d}" for d in DTYPES]
    + ["e_vector_flop", "e_l2_byte", "e_hbm_byte", "e_link_byte"]
    + ["kv_page_tokens", "decode_split_tokens", "prefill_q_block", "l2_resident_fraction", "softmax_flops_per_score"]
)
P = {name: i for i, name in enumerate(P_NAMES)}

# When a datatype has no native support, arithmetic runs in the first supported one of this chain.
_FALLBACK = {"int4": ["int4", "int8", "fp16"], "int8": ["int8", "fp16"], "fp8": ["fp8", "fp16"],
             "bf16": ["bf16", "fp16"], "fp16": ["fp16", "bf16", "fp32"], "tf32": ["tf32", "fp32"],
             "fp32": ["fp32"], "fp64": ["fp64", "fp32"]}


def _per_dtype(values: PerDtype, energy: PerDtype | None = None) -> tuple[list[float], list[float]]:
    """Resolve each datatype to (peak, energy) of the datatype it runs in."""
    peaks, energies = [], []
    for d in DTYPES:
        chosen = next((c for c in _FALLBACK[d] if getattr(values, c) is not None), None)
        peaks.append(getattr(values, chosen) if chosen else 0.0)
        if energy is not None:
            e = getattr(energy, chosen) if chosen else None
            energies.append(e if e is not None else 0.0)
    return peaks, energies


def pack_params(spec: GPUSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (FLOP/s, B/s, s, W, J)."""
    c, m, e = spec.compute, spec.memory, spec.energy
    tensor, e_tensor = _per_dtype(c.tensor_tflops, e.e_tensor_pj_per_flop)
    vector, _ = _per_dtype(c.vector_tflops)
    v = np.zeros(len(P_NAMES))
    v[P["sm_count"]] = c.sm_count
    v[P["clock_hz"]] = c.clock_mhz * 1e6
    v[P["sfu_per_clk_sm"]] = c.sfu_ops_per_clock_per_sm
    v[P["smem_bytes_per_sm"]] = c.smem_per_sm_kib * 1024
    for i, d in enumerate(DTYPES):
        # Tensor cores do not run every datatype (fp32 on A100 has no tensor path): use the vector peak then.
        v[P[f"tensor_{d}"]] = max(tensor[i], vector[i]) * 1e12
        v[P[f"vector_{d}"]] = vector[i] * 1e12
        v[P[f"e_tensor_{d}"]] = (e_tensor[i] if tensor[i] >= vector[i] and e_tensor[i] else e.e_vector_pj_per_flop) * 1e-12
    v[P["hbm_bytes"]] = m.hbm_capacity_gb * 1e9
    v[P["hbm_bw"]] = m.hbm_bandwidth_gbps * 1e9
    v[P["l2_bytes"]] = m.l2_capacity_mb * 1e6
    v[P["l2_bw"]] = m.l2_bandwidth_gbps * 1e9
    v[P["launch_s"]] = spec.runtime.kernel_launch_us * 1e-6
    v[P["link_bw"]] = spec.interconnect.nvlink_bandwidth_gbps * 1e9 / 2.0  # one direction
    v[P["link_latency_s"]] = spec.interconnect.nvlink_latency_us * 1e-6
    v[P["tdp_w"]] = spec.power.tdp_w
    v[P["idle_w"]] = spec.power.idle_w
    v[P["e_vector_flop"]] = e.e_vector_pj_per_flop * 1e-12
    v[P["e_l2_byte"]] = e.e_l2_pj_per_bit * 8e-12
    v[P["e_hbm_byte"]] = e.e_hbm_pj_per_bit * 8e-12
    v[P["e_link_byte"]] = e.e_nvlink_pj_per_bit * 8e-12
    r = spec.runtime
    v[P["kv_page_tokens"]] = r.kv_cache_page_tokens
    v[P["decode_split_tokens"]] = r.decode_kv_split_tokens
    v[P["prefill_q_block"]] = r.prefill_query_block_rows
    v[P["l2_resident_fraction"]] = r.l2_resident_operand_fraction
    v[P["softmax_flops_per_score"]] = r.softmax_vector_flops_per_score
    return v


KIND = HardwareKind("gpu", GPUSpec, pack_params, P, capacity_param="hbm_bytes", idle_param="idle_w")
