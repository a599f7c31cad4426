"""GPU device description: the validated spec of a preset and its packing into the kernels' parameter vector."""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from hw_models.spec_base import PerDtype, Strict
from hw_models.effects import Effect
from hw_models.gpu_stack import ATTENTION_STACKS, launch_costs_s
from hw_models.kind import HardwareKind

from workloads.dtypes import DTYPE_BITS
from workloads.table import K_GEMM, KIND_CODES

DTYPES = tuple(DTYPE_BITS)  # kernel dtype codes follow this order




# The threadblock-tile grid the GEMM search indexes: tile_m x tile_n x split_k, each a power of two (assumption:
# CUTLASS tensor-op threadblock shapes and split-K slice counts are powers of two). The runtime.gemm_min/max_tile_*
# and runtime.gemm_max_split_k parameters choose which of them a design point may use; the grid only fixes the
# indexing (the cost record's mapping slot holds a grid index), so widening it never changes a result.
TILE_M = 2.0 ** np.arange(3, 10)  # 8 .. 512
TILE_N = 2.0 ** np.arange(3, 10)  # 8 .. 512
SPLIT_K = 2.0 ** np.arange(0, 7)  # 1 .. 64


class GPUCompute(Strict):
    sm_count: int = Field(gt=0)
    clock_mhz: float = Field(gt=0)  # clock of the CUDA-core (vector) peaks and of the SFUs
    tensor_clock_mhz: float = Field(gt=0)  # clock of the tensor-core peaks (Hopper quotes them at a lower clock)
    tensor_flops_per_clock_per_sm: PerDtype  # dense tensor-core FLOP per clock per SM
    vector_flops_per_clock_per_sm: PerDtype  # CUDA-core FLOP per clock per SM
    tensor_tflops: PerDtype  # dense tensor-core peak (presets: SMs x per-SM rate x clock)
    vector_tflops: PerDtype  # CUDA-core (non-tensor) peak (presets: SMs x per-SM rate x clock)
    sfu_ops_per_clock_per_sm: float = Field(gt=0)  # exp/rcp throughput of the special function units
    smem_per_sm_kib: float = Field(gt=0)


class GPUMemory(Strict):
    hbm_capacity_gb: float = Field(gt=0)
    hbm_bandwidth_gbps: float = Field(gt=0)  # a preset with a published bus and data rate derives it from them
    dram_bus_width_bits: Optional[float] = Field(default=None, gt=0)  # total device-memory bus width
    dram_data_rate_mtps: Optional[float] = Field(default=None, gt=0)  # transfers per second per pin, in millions
    l2_capacity_mb: float = Field(gt=0)
    l2_bandwidth_gbps: float = Field(gt=0)
    # Share of hbm_bandwidth_gbps a well-formed streaming kernel sustains (refresh, ECC, read/write turnarounds and
    # row misses take the rest); every DRAM transfer time uses peak x fraction. Fittable.
    achieved_bandwidth_fraction: float = Field(default=1.0, gt=0, le=1)


class GPURuntime(Strict):
    kernel_launch_us: float = Field(ge=0)
    # The efficiency mechanism (fittable; defaults leave the datasheet roofline): the share of issue slots the MMA
    # main loop of a GEMM or attention block keeps the tensor cores busy, and the cycles each thread block (CTA) of a
    # tiled kernel spends outside that loop (prologue filling the pipeline stages, epilogue writing its output tile),
    # paid once per wave of CTAs, so small tiles and short K loops reach less of the peak.
    tensor_pipe_efficiency: float = Field(default=1.0, gt=0, le=1)
    cta_overhead_cycles: float = Field(default=0.0, ge=0)
    # Kernel-library choices the cost model depends on (defaults = the values the kernels used before they were
    # parameters; the shipped presets give each with its source).
    kv_cache_page_tokens: float = Field(default=16, gt=0)  # paged KV cache: tokens per page
    decode_kv_split_tokens: float = Field(default=256, gt=0)  # flash-decoding: minimum KV tokens per split
    prefill_query_block_rows: float = Field(default=128, gt=0)  # FlashAttention: query rows per thread block
    l2_resident_operand_fraction: float = Field(default=0.5, gt=0, le=1)  # share of L2 a resident GEMM operand may use
    softmax_vector_flops_per_score: float = Field(default=4, ge=0)  # CUDA-core operations per attention score
    gemm_tile_k: int = Field(default=32, gt=0)  # K depth of a GEMM threadblock tile (elements per pipeline stage)
    gemm_pipeline_stages: int = Field(default=3, gt=0)  # k-tiles of A and B buffered in shared memory at once
    partial_sum_bytes: float = Field(default=4, gt=0)  # one accumulator-precision partial sum (split-K, split-KV)
    # The tile search's candidates: the powers of two of the tile grid (TILE_M, TILE_N, SPLIT_K) within these bounds.
    gemm_min_tile_m: int = Field(default=16, gt=0)  # smallest tile_m the tile search may use
    gemm_max_tile_m: int = Field(default=256, gt=0)  # largest tile_m the tile search may use
    gemm_min_tile_n: int = Field(default=32, gt=0)  # smallest tile_n the tile search may use
    gemm_max_tile_n: int = Field(default=256, gt=0)  # largest tile_n the tile search may use
    gemm_max_split_k: int = Field(default=16, gt=0)  # most K slices a split-K GEMM may use
    # The software stack (hw_models.gpu_stack): which attention kernels run and how kernels are launched. The defaults
    # are the fused stack the kernels modelled before these were parameters.
    attention_kernels: Literal["paged", "flash", "eager"] = "paged"
    kernel_launch: Literal["per_kernel", "framework", "cuda_graph"] = "per_kernel"
    framework_op_overhead_us: float = Field(default=15.0, ge=0)  # host time an eager framework spends per op
    graph_node_launch_us: float = Field(default=0.5, ge=0)  # overhead of one kernel node of a replayed CUDA graph
    eager_score_round_trips: int = Field(default=2, gt=0)  # HBM write+read pairs of the score matrix, eager attention

    @model_validator(mode="after")
    def _tile_bounds_on_grid(self):
        for name, grid in (("gemm_min_tile_m", TILE_M), ("gemm_max_tile_m", TILE_M), ("gemm_min_tile_n", TILE_N),
                           ("gemm_max_tile_n", TILE_N), ("gemm_max_split_k", SPLIT_K)):
            if float(getattr(self, name)) not in grid:
                raise ValueError(f"{name} {getattr(self, name)} is not on the tile grid; allowed: "
                                 + ", ".join(f"{v:g}" for v in grid))
        for low, high in (("gemm_min_tile_m", "gemm_max_tile_m"), ("gemm_min_tile_n", "gemm_max_tile_n")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} {getattr(self, low)} is above {high} {getattr(self, high)}: no tile is left "
                                 "to search")
        return self


class GPUInterconnect(Strict):
    nvlink_bandwidth_gbps: float = Field(gt=0)  # bidirectional aggregate per GPU, as vendors quote it
    nvlink_latency_us: float = Field(ge=0)
    # Nodes of this many GPUs share the NVLink domain; larger groups cross the scale-out network (hw_models.collectives).
    # 0: one NVLink domain of any size (no network).
    devices_per_node: int = Field(default=0, ge=0)
    network_bandwidth_gbps: float = Field(default=1.0, gt=0)  # per node, one direction
    network_latency_us: float = Field(default=0.0, ge=0)
    e_network_pj_per_bit: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _network_given_with_nodes(self):
        if self.devices_per_node > 0 and "network_bandwidth_gbps" not in self.model_fields_set:
            raise ValueError(f"devices_per_node {self.devices_per_node} needs network_bandwidth_gbps (per node, one "
                             "direction): the network that joins the nodes")
        return self


class GPUPower(Strict):
    tdp_w: float = Field(gt=0)  # a cap at or below idle_w leaves nothing to compute with: the point is infeasible
    idle_w: float = Field(ge=0)


class GPUEnergy(Strict):
    """Energy per operation of each unit and per bit moved at each level."""

    e_tensor_pj_per_flop: PerDtype
    e_vector_pj_per_flop: PerDtype  # CUDA-core energy per FLOP of each datatype (fp32 required: the fallback)
    e_l2_pj_per_bit: float = Field(ge=0)
    e_hbm_pj_per_bit: float = Field(ge=0)
    e_nvlink_pj_per_bit: float = Field(ge=0)

    @model_validator(mode="after")
    def _fp32_vector_energy(self):
        if self.e_vector_pj_per_flop.fp32 is None:
            raise ValueError("e_vector_pj_per_flop.fp32 is required: datatypes without their own CUDA-core energy "
                             "use it")
        return self


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


# Parameter vector layout shared with the Numba kernels. ``tensor_*`` hold the achieved MMA rate (datasheet peak x
# runtime.tensor_pipe_efficiency) and ``hbm_bw`` the achieved DRAM bandwidth (peak x memory.achieved_bandwidth_fraction):
# every consumer (kernels, roofline floors, resource times) sees what the part sustains.
P_NAMES = (
    ["sm_count", "clock_hz", "sfu_per_clk_sm", "smem_bytes_per_sm"]
    + [f"tensor_{d}" for d in DTYPES] + [f"vector_{d}" for d in DTYPES]
    + ["hbm_bytes", "hbm_bw", "l2_bytes", "l2_bw", "launch_s", "link_bw", "link_latency_s", "tdp_w", "idle_w"]
    + ["node_devices", "net_bw", "net_latency_s", "e_net_byte"]
    + [f"e_tensor_{d}" for d in DTYPES]
    + [f"e_vector_{d}" for d in DTYPES]
    + ["e_l2_byte", "e_hbm_byte", "e_link_byte"]
    + ["kv_page_tokens", "decode_split_tokens", "prefill_q_block", "l2_resident_fraction", "softmax_flops_per_score"]
    + ["tile_k", "pipeline_stages", "partial_sum_bytes", "min_tile_m", "max_tile_m", "min_tile_n", "max_tile_n",
       "max_split_k", "cta_overhead_cycles"]
    + ["attention_stack", "eager_round_trips", "host_s"]
)
P = {name: i for i, name in enumerate(P_NAMES)}



@njit(cache=True)
def tile_smem_bytes(tile_m: float, tile_n: float, element_bytes: float, tile_k: float, stages: float) -> float:
    """Shared memory one threadblock tile holds: A and B panels of ``tile_k`` columns, ``stages`` deep."""
    return (tile_m + tile_n) * tile_k * element_bytes * stages


# When a datatype has no native support, arithmetic runs in the first supported one of this chain.
_FALLBACK = {"int4": ["int4", "int8", "fp16"], "int8": ["int8", "fp16"], "fp8": ["fp8", "fp16"],
             "bf16": ["bf16", "fp16"], "fp16": ["fp16", "bf16", "fp32"], "tf32": ["tf32", "fp32"],
             "fp32": ["fp32"], "fp64": ["fp64", "fp32"]}


def _per_dtype(values: PerDtype, energy: PerDtype | None = None) -> tuple[list[float], list[float | None]]:
    """Resolve each datatype to (peak, energy) of the datatype it runs in (peak 0 and energy None: no such unit)."""
    peaks, energies = [], []
    for d in DTYPES:
        chosen = next((c for c in _FALLBACK[d] if getattr(values, c) is not None), None)
        peaks.append(getattr(values, chosen) if chosen else 0.0)
        energies.append(getattr(energy, chosen) if chosen and energy is not None else None)
    return peaks, energies


def pack_params(spec: GPUSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (FLOP/s, B/s, s, W, J)."""
    c, m, e = spec.compute, spec.memory, spec.energy
    tensor, e_tensor = _per_dtype(c.tensor_tflops, e.e_tensor_pj_per_flop)
    vector, e_vector = _per_dtype(c.vector_tflops, e.e_vector_pj_per_flop)
    e_vector_fp32 = e.e_vector_pj_per_flop.fp32
    e_vector = [x if x is not None else e_vector_fp32 for x in e_vector]
    v = np.zeros(len(P_NAMES))
    v[P["sm_count"]] = c.sm_count
    v[P["clock_hz"]] = c.clock_mhz * 1e6
    v[P["sfu_per_clk_sm"]] = c.sfu_ops_per_clock_per_sm
    v[P["smem_bytes_per_sm"]] = c.smem_per_sm_kib * 1024
    for i, d in enumerate(DTYPES):
        # Each unit keeps its own peak and energy; the kernels run an op on whichever unit finishes it first (a
        # datatype the tensor cores lack, fp32 on A100, has tensor peak 0 and runs on the CUDA cores).
        v[P[f"tensor_{d}"]] = tensor[i] * 1e12 * spec.runtime.tensor_pipe_efficiency
        v[P[f"vector_{d}"]] = vector[i] * 1e12
        v[P[f"e_tensor_{d}"]] = (e_tensor[i] if e_tensor[i] else e_vector[i]) * 1e-12
        v[P[f"e_vector_{d}"]] = e_vector[i] * 1e-12
    v[P["hbm_bytes"]] = m.hbm_capacity_gb * 1e9
    v[P["hbm_bw"]] = m.hbm_bandwidth_gbps * 1e9 * m.achieved_bandwidth_fraction
    v[P["l2_bytes"]] = m.l2_capacity_mb * 1e6
    v[P["l2_bw"]] = m.l2_bandwidth_gbps * 1e9
    v[P["launch_s"]], v[P["host_s"]] = launch_costs_s(spec.runtime)
    v[P["link_bw"]] = spec.interconnect.nvlink_bandwidth_gbps * 1e9 / 2.0  # one direction
    v[P["link_latency_s"]] = spec.interconnect.nvlink_latency_us * 1e-6
    ic = spec.interconnect
    v[P["node_devices"]] = ic.devices_per_node
    v[P["net_bw"]] = ic.network_bandwidth_gbps * 1e9 / max(ic.devices_per_node, 1)  # one NIC share per GPU
    v[P["net_latency_s"]] = ic.network_latency_us * 1e-6
    v[P["e_net_byte"]] = ic.e_network_pj_per_bit * 8e-12
    v[P["tdp_w"]] = spec.power.tdp_w
    v[P["idle_w"]] = spec.power.idle_w
    v[P["e_l2_byte"]] = e.e_l2_pj_per_bit * 8e-12
    v[P["e_hbm_byte"]] = e.e_hbm_pj_per_bit * 8e-12
    v[P["e_link_byte"]] = e.e_nvlink_pj_per_bit * 8e-12
    r = spec.runtime
    v[P["kv_page_tokens"]] = r.kv_cache_page_tokens
    v[P["decode_split_tokens"]] = r.decode_kv_split_tokens
    v[P["prefill_q_block"]] = r.prefill_query_block_rows
    v[P["l2_resident_fraction"]] = r.l2_resident_operand_fraction
    v[P["softmax_flops_per_score"]] = r.softmax_vector_flops_per_score
    v[P["tile_k"]], v[P["pipeline_stages"]] = r.gemm_tile_k, r.gemm_pipeline_stages
    v[P["partial_sum_bytes"]] = r.partial_sum_bytes
    v[P["min_tile_m"]], v[P["max_tile_m"]] = r.gemm_min_tile_m, r.gemm_max_tile_m
    v[P["min_tile_n"]], v[P["max_tile_n"]] = r.gemm_min_tile_n, r.gemm_max_tile_n
    v[P["max_split_k"]] = r.gemm_max_split_k
    v[P["cta_overhead_cycles"]] = r.cta_overhead_cycles
    v[P["attention_stack"]] = ATTENTION_STACKS.index(r.attention_kernels)
    v[P["eager_round_trips"]] = r.eager_score_round_trips
    return v


_TILE_CHOICE = ("the latency-ranked tile search may switch to a tile with more padding or L2 re-reads, and a faster "
                "unit may take math at a higher energy per FLOP: dynamic energy can rise while static energy "
                "(idle power x time) falls")
_FASTER = Effect(latency="down", energy="any", why="faster: static energy (idle x time) falls; " + _TILE_CHOICE,
                 steps="wave quantisation over SMs and the tile search's choice switch at boundaries")

# What each parameter does when it grows (hw_models.effects); first matching pattern wins.
EFFECTS = {
    "compute.sm_count": Effect(
        latency="down", energy="any", steps="waves: CTAs per wave change with the SM count; tile choice switches",
        why="more SMs raise every peak (SMs x per-SM rate x clock) and cut waves, so time and static energy fall; "
            "flash-decoding splits the KV cache over more SMs, adding L2 reduction traffic, and the tile search may "
            "pick a tile with more padding"),
    "compute.clock_mhz": _FASTER,
    "compute.tensor_clock_mhz": _FASTER,
    "compute.tensor_flops_per_clock_per_sm.*": _FASTER,
    "compute.vector_flops_per_clock_per_sm.*": _FASTER,
    "compute.tensor_tflops.*": _FASTER,
    "compute.vector_tflops.*": _FASTER,
    "compute.sfu_ops_per_clock_per_sm": Effect(latency="down", energy="down"),
    "compute.smem_per_sm_kib": Effect(
        latency="down", energy="any", feasible="up", steps="tile boundary: a bigger tile becomes legal",
        why="more shared memory makes more tiles legal (a point no tile fitted becomes feasible); " + _TILE_CHOICE),
    "memory.hbm_capacity_gb": Effect(capacity="up", feasible="up"),
    "memory.hbm_bandwidth_gbps": _FASTER,
    "memory.dram_*": _FASTER,  # bus width and data rate make the bandwidth
    "memory.l2_capacity_mb": Effect(
        latency="down", energy="any", steps="an operand starts to fit in L2 and stops being re-read from HBM",
        why="more L2 keeps more operands resident (less HBM traffic); " + _TILE_CHOICE),
    "memory.l2_bandwidth_gbps": _FASTER,
    "memory.achieved_bandwidth_fraction": _FASTER,
    "runtime.kernel_launch_us": Effect(latency="up", energy="up"),
    "runtime.tensor_pipe_efficiency": _FASTER,
    "runtime.cta_overhead_cycles": Effect(
        latency="up", energy="any", steps="the tile search's choice switches to a tile with fewer waves",
        why="every wave of thread blocks pays the prologue and epilogue, so time and static energy rise; ranked by "
            "latency the search may move to a larger tile (fewer waves) with more padding or L2 re-reads, whose "
            "dynamic energy differs"),
    "runtime.kv_cache_page_tokens": Effect(latency="up", energy="up",
                                           steps="whole pages: the KV read rounds up to a page boundary"),
    "runtime.decode_kv_split_tokens": Effect(
        latency="any", energy="any", steps="the split count is an integer",
        why="longer flash-decoding splits mean fewer splits: less L2 reduction traffic but fewer SMs busy"),
    "runtime.prefill_query_block_rows": Effect(
        latency="any", energy="any", steps="query blocks are whole: blocks per head and waves change in steps",
        why="bigger query blocks re-read the KV panels fewer times but leave fewer blocks to fill the SMs"),
    "runtime.l2_resident_operand_fraction": Effect(
        latency="down", energy="any", steps="an operand starts to fit in its share of L2",
        why="a larger share of L2 keeps more operands resident (less HBM traffic); " + _TILE_CHOICE),
    "runtime.softmax_vector_flops_per_score": Effect(latency="up", energy="up"),  # energy, and time under the cap
    "runtime.gemm_tile_k": Effect(
        latency="any", energy="any", feasible="down", steps="K is padded to whole k-tiles; a tile stops fitting",
        why="a deeper k-tile pads K to a coarser multiple (more padded FLOPs) and needs more shared memory per "
            "stage, so fewer tiles fit; it also raises the K a split must keep, so split-K choices change; "
            + _TILE_CHOICE),
    "runtime.gemm_pipeline_stages": Effect(
        latency="up", energy="any", feasible="down", steps="tile boundary: a tile stops fitting shared memory",
        why="each stage buffers another k-tile of A and B in shared memory, so fewer tiles fit (no point becomes "
            "feasible, none faster); " + _TILE_CHOICE),
    "runtime.partial_sum_bytes": Effect(
        latency="up", energy="any", steps="partials spill to HBM once they outgrow the L2 share",
        why="wider partial sums add split-K and split-KV reduction traffic; " + _TILE_CHOICE),
    "runtime.gemm_max_tile_*": Effect(
        latency="down", energy="any", feasible="up", steps="a tile size of the grid becomes allowed",
        why="a larger bound admits more tiles to the latency-ranked search; " + _TILE_CHOICE),
    "runtime.gemm_min_tile_*": Effect(
        latency="up", energy="any", feasible="down", steps="a tile size of the grid leaves the search",
        why="a larger lower bound removes the smallest tiles from the latency-ranked search; " + _TILE_CHOICE),
    "runtime.gemm_max_split_k": Effect(
        latency="down", energy="any", steps="a split count of the grid becomes allowed",
        why="more K slices are open to the latency-ranked search; " + _TILE_CHOICE),
    "runtime.graph_node_launch_us": Effect(latency="up", energy="up"),  # read with kernel_launch: cuda_graph
    "runtime.framework_op_overhead_us": Effect(  # read with kernel_launch: framework
        latency="up", energy="up", steps="an op becomes host-bound once its GPU time falls below the host time"),
    "runtime.eager_score_round_trips": Effect(latency="up", energy="up"),  # read with attention_kernels: eager
    "interconnect.nvlink_bandwidth_gbps": Effect(latency="down", energy="down"),
    "interconnect.nvlink_latency_us": Effect(latency="up", energy="up"),
    "interconnect.devices_per_node": Effect(
        latency="any", energy="any",
        why="a larger node moves traffic from the network to NVLink but gives each GPU a smaller share of the node's "
            "network bandwidth"),
    "interconnect.network_bandwidth_gbps": Effect(latency="down", energy="down"),
    "interconnect.network_latency_us": Effect(latency="up", energy="up"),
    "interconnect.e_network_pj_per_bit": Effect(latency="none", energy="up"),
    "power.tdp_w": Effect(
        latency="down", energy="any", feasible="up",
        why="a higher cap lets power-bound ops run faster (static energy falls), but ranked by latency the tile "
            "search may then pick a tile that finishes sooner at higher dynamic energy; a cap at or below idle "
            "power is infeasible"),
    "power.idle_w": Effect(latency="up", energy="up", feasible="down"),
    "energy.e_vector_pj_per_flop.*": Effect(
        latency="up", energy="any",
        why="under the power cap a datatype both units run at similar rates (TF32 on GeForce parts: the tensor TF32 "
            "peak equals the CUDA-core FP32 peak) moves to the tensor cores once the CUDA cores cost more, so energy "
            "can fall"),
    "energy.*": Effect(latency="up", energy="up"),
}


def power_check(params: np.ndarray) -> np.ndarray:
    """Per design point: why no work can run ('' = fine). A TDP at or below idle power leaves no power to compute
    with: the GPU cannot do anything within its cap, so the point is infeasible (never uncapped)."""
    params = np.atleast_2d(params)
    tdp, idle = params[:, P["tdp_w"]], params[:, P["idle_w"]]
    return np.array(["" if t > i else f"power: power.tdp_w {t:g} W is not above power.idle_w {i:g} W: no power "
                     f"headroom to compute within the cap" for t, i in zip(tdp, idle)], dtype=object)


def unmappable_reason(params: np.ndarray, op) -> str:
    """Why ``op`` has no legal kernel at the point ``params`` (one packed row)."""
    if KIND_CODES.get(op.kind) == K_GEMM:
        element = max(op.act_bits, op.weight_bits) / 8
        tile_k, stages = params[P["tile_k"]], params[P["pipeline_stages"]]
        tm, tn = params[P["min_tile_m"]], params[P["min_tile_n"]]
        need = tile_smem_bytes(tm, tn, element, tile_k, stages)
        have = params[P["smem_bytes_per_sm"]]
        if need > have:
            return (f"no tile fits shared memory: the smallest allowed GEMM tile ({tm:g}x{tn:g}, k {tile_k:g}, "
                    f"{stages:g} stages; runtime.gemm_min_tile_m/_n) needs {need:g} B, compute.smem_per_sm_kib "
                    f"gives {have:g} B")
    return "datatype not supported or buffers too small"


# What calibration fits (cosim.calibration): the efficiency mechanism, launch overhead, idle power and the energies of
# the dominant events. Peaks, capacities and the tile grid are datasheet or library facts and stay fixed.
FITTABLE = ("runtime.tensor_pipe_efficiency", "runtime.cta_overhead_cycles", "memory.achieved_bandwidth_fraction",
            "runtime.kernel_launch_us", "power.idle_w", "energy.e_tensor_pj_per_flop.fp16", "energy.e_hbm_pj_per_bit")

KIND = HardwareKind("gpu", GPUSpec, pack_params, P, capacity_param="hbm_bytes", idle_param="idle_w",
                    bandwidth_param="hbm_bw",
                    check=power_check, unmappable_reason=unmappable_reason, effects=EFFECTS, fittable=FITTABLE)
