"""The metamorphic harness: scale one hardware parameter at a time and check that every metric moves only as the
kind's declared effects (``hw_models.effects``) allow, that a tiny change has a tiny response unless a declared
discrete effect explains it, and that every parameter is read by its kind.

Each preset is evaluated on its kind's probe workloads (``PROBES``): ops of every datatype and kind the device runs,
plus a catalog model, so that every parameter has a workload that reads it. All variants of a preset are evaluated in
one batched ``evaluate_points`` call per workload.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from cosim.api import describe_hardware, load_hardware, load_workload
from cosim.engine import evaluate_points
from hw_models.effects import METRICS, effect_of, moved
from hw_models.hetero import EFFECTS as HETERO_EFFECTS
from hw_models.kinds import hardware_kind
from hw_models.preset import HardwareConfigError
from mappings.scoring import TIE_TOLERANCE
from workloads import Op, Workload
from workloads.dtypes import DTYPE_BITS

UP, DOWN, TINY = 2.0, 0.5, 1.001
NOISE = 1e-9  # relative change that counts as no change (float summation order)
SMOOTH = 0.05  # a 0.1 % parameter change may move a metric by at most 5 % unless a discrete effect is declared
_TOTALS = {"latency": "latency_s", "energy": "energy_j", "capacity": "memory_capacity_bytes", "feasible": "feasible"}


# ------------------------------------------------------------------------------------------------ probe workloads

def _op(name: str, kind: str, dims: dict, dtype: str, **tags) -> Op:
    bits = DTYPE_BITS[dtype]
    return Op(name, kind, dims, act_bits=bits, weight_bits=bits, out_bits=bits, dtype=dtype, tags=tags)


def dtype_probes(dtypes: tuple[str, ...], attention: bool = True, streaming: bool = True, conv: bool = True,
                 big: int = 1024) -> list[Workload]:
    """Per datatype a workload of one GEMM, one GEMV and (optionally) a conv and prefill/decode attention, and one of
    streaming ops: separate workloads, so a datatype a device lacks makes only its own probe infeasible."""
    out = []
    for d in dtypes:
        ops = [_op(f"gemm_{d}", "matmul", {"m": big, "n": big, "k": big, "batch": 1}, d, weight=True),
               _op(f"gemv_{d}", "matmul", {"m": 1, "n": big, "k": big, "batch": 1}, d, weight=True)]
        if conv:
            ops.append(_op(f"conv_{d}", "conv", {"batch": 1, "in_ch": 64, "out_ch": 64, "in_h": 30, "in_w": 30,
                                                 "out_h": 28, "out_w": 28, "kernel_h": 3, "kernel_w": 3,
                                                 "stride": 1, "groups": 1}, d))
        if attention:
            ops += [_op(f"prefill_{d}", "attention", {"batch": 2, "heads": 8, "kv_heads": 8, "q_len": 512,
                                                      "kv_len": 512, "head_dim": 64, "causal": 1, "kv_cache": 0}, d),
                    _op(f"decode_{d}", "attention", {"batch": 8, "heads": 8, "kv_heads": 2, "q_len": 1,
                                                     "kv_len": 2048, "head_dim": 128, "causal": 1, "kv_cache": 1}, d)]
        out.append(Workload(f"probe-{d}", ops, item_unit="item", items=1))
    if streaming:
        out.append(Workload("probe-streaming", [
            _op("softmax", "softmax", {"elements": 1 << 20, "inputs": 1, "flops_per_element": 5}, "fp16"),
            _op("norm", "norm", {"elements": 1 << 20, "inputs": 1, "flops_per_element": 8}, "fp16"),
            _op("add", "elementwise", {"elements": 1 << 20, "inputs": 2, "flops_per_element": 1}, "fp16"),
            _op("kv_write", "kv_write", {"elements": 1 << 16, "inputs": 1, "flops_per_element": 0}, "fp16")],
            item_unit="item", items=1))
    return out


def _catalog(name: str, **params) -> Workload:
    return load_workload(name, **params)


def _gpu_probes() -> list[Workload]:
    # CUDA-core-bound elementwise ops (a long polynomial per element) read the vector peaks and energies; a one-group
    # decode reads the flash-decoding split length (with many groups every SM already has a group); a skinny GEMM with
    # a deep-K GEMM of one 256x256 output tile reads the split-K bound (``_gpu_context`` keeps the tiles at 256); a
    # large L2-bound int8 GEMM, whose best tile is the largest allowed, reads the upper tile-size bounds on every
    # preset (on Hopper no other probe's best tile is 256 rows tall); a prefill with 8-wide heads (32 tensor FLOPs per
    # exponential) reads the special-function-unit rate on parts whose tensor cores are slow next to their SFUs.
    vector = Workload("probe-gpu-vector", [
        _op("gemm_deep_k", "matmul", {"m": 256, "n": 256, "k": 1 << 20, "batch": 1}, "fp16", weight=True),
        _op("gemm_large_int8", "matmul", {"m": 4096, "n": 4096, "k": 4096, "batch": 1}, "int8", weight=True)] + [
        _op(f"poly_{d}", "elementwise", {"elements": 1 << 22, "inputs": 1, "flops_per_element": 2048}, d)
        for d in ("fp16", "fp32", "fp64")] + [
        _op("decode_one_group", "attention", {"batch": 1, "heads": 8, "kv_heads": 1, "q_len": 1, "kv_len": 4096,
                                              "head_dim": 128, "causal": 1, "kv_cache": 1}, "fp16"),
        # two nodes of 8: the scale-out network's bandwidth, latency and energy, and the node size
        _op("all_reduce_16", "collective", {"elements": 1 << 20, "group": 16}, "fp16", collective="all_reduce"),
        _op("prefill_narrow_heads", "attention", {"batch": 4, "heads": 16, "kv_heads": 16, "q_len": 1024,
                                                  "kv_len": 1024, "head_dim": 8, "causal": 0, "kv_cache": 0}, "fp16")],
        item_unit="item", items=1)
    return [*dtype_probes(("fp16", "bf16", "fp32", "tf32", "fp8", "int8", "int4", "fp64")), vector,
            _catalog("llama-2-7b", phase="decode", batch=8, context=1024, tensor_parallel=2),
            _catalog("bert-base", batch=8, seq_len=512)]


def _spatial_probes() -> list[Workload]:
    # A 4096³ int8 GEMM: large enough that the buffer's port width or DRAM bounds the time, and a smaller buffer
    # limits the tiles, even on the 256×256 and 4×128×128 arrays, whose 256-element probes fit one tile.
    large = Workload("probe-large-int8", [_op("gemm_large_int8", "matmul", {"m": 4096, "n": 4096, "k": 4096,
                                                                             "batch": 1}, "int8", weight=True)],
                     item_unit="item", items=1)
    # A wide fp16 GEMM of few rows (decode-like): the input is kept in the buffer across weight tiles only while it
    # fits, so the buffer size is read even where double-buffered weights make the array's time tiling-independent.
    wide = Workload("probe-wide-fp16", [_op("gemm_wide_fp16", "matmul", {"m": 64, "n": 16384, "k": 16384, "batch": 1},
                                            "fp16", weight=True)], item_unit="item", items=1)
    return [*dtype_probes(("fp16", "int8", "fp32"), big=256), large, wide,
            _catalog("resnet-18", batch=1),
            _catalog("bert-base", batch=1, seq_len=128)]


def _pim_probes() -> list[Workload]:
    # short KV rows (a 256 B matrix per head, under one page) on every bank: a channel opens rows as fast as tFAW
    # allows
    short = _op("decode_short_fp16", "attention", {"batch": 160, "heads": 32, "kv_heads": 32, "q_len": 1, "kv_len": 2,
                                                   "head_dim": 64, "causal": 1, "kv_cache": 1}, "fp16")
    return [*dtype_probes(("fp16",), conv=False, streaming=False),
            Workload("probe-short-rows", [short], item_unit="item", items=1),
            _catalog("gpt3-7b", phase="decode", batch=8, context=512)]


def _logic_pim_probes() -> list[Workload]:
    # a compute-bound GEMM whose weight tiles do not divide evenly into the modules' waves
    odd = _op("gemm_odd_fp16", "matmul", {"m": 256, "n": 1500, "k": 1500, "batch": 1}, "fp16", weight=True)
    # a 128 B KV write opens a DRAM row for an eighth of its page: the activation window (or bank) binds
    short = _op("kv_write_short", "kv_write", {"elements": 64, "inputs": 1, "flops_per_element": 0}, "fp16")
    return [*dtype_probes(("fp16",), conv=False),
            Workload("probe-odd-gemm", [odd], item_unit="item", items=1),
            Workload("probe-short-row", [short], item_unit="item", items=1),
            _catalog("mixtral-8x7b", phase="decode", batch=16, context=512, tensor_parallel=4)]


def _iot_probes() -> list[Workload]:
    from collections import Counter

    from workloads.classic_ml import kernel_op
    # a vector normalisation: the only kernel that takes square roots (no catalog model does)
    norm = kernel_op("l2_normalise", Counter(fp_mul=256, fp_add=256, fp_sqrt=16, fp_div=256, loads=512, stores=256),
                     Counter(), "fp32", params=256)
    return [*dtype_probes(("int8", "fp32"), big=512),  # 512 x 512 int8 weights (256 KiB) exceed an MCU's SRAM
            Workload("probe-sqrt", [norm], item_unit="item", items=1),
            _catalog("ds-cnn-s", batch=1), _catalog("decision-tree"), _catalog("svm-rbf"), _catalog("kmeans"),
            _catalog("svm-rbf", dtype="int8"), _catalog("kmeans", dtype="int8"), _catalog("naive-bayes")]


def _iot_context(path: str, values: dict) -> dict:
    """Settings under which an IoT parameter has a role: the FP emulation tables are read in their ``fp_mode``; the
    threshold voltage below the top operating point (there the DVFS limit is the maximum clock whatever Vth is);
    FPU sharing, L1 bank conflicts and the partial-sum merge with more than one core."""
    c = "compute."
    if path.startswith(c + "emulation_standard_cycles."):
        return {c + "fp_mode": "emulation-standard"}
    if path.startswith(c + "emulation_optimized_cycles."):
        return {c + "fp_mode": "emulation-optimized"}
    if path == c + "threshold_voltage_v":
        vth, vmax = values[path], values[c + "max_clock_voltage_v"]
        volt = (vth + vmax) / 2
        fmax = values[c + "max_clock_mhz"] * (volt - vth) / (vmax - vth)
        return {c + "voltage_v": volt, c + "clock_mhz": 0.9 * fmax}
    if path in (c + "fpus", "memory.l1_banks", "memory.l3_bandwidth_mbps", "parallel.merge_loads_per_partial",
                "parallel.merge_stores_per_partial") and values[c + "cores"] == 1:
        return {c + "cores": 8}  # a single core neither shares units nor outruns its flash
    return {}


def _gpu_context(path: str, values: dict) -> dict:
    """The split-K bound binds only when splitting K is the one way to fill the SMs: checked with tiles held at
    256 x 256, so a GEMM of one output tile runs as many CTAs as it has K slices. The upper tile bounds bind when the
    per-wave overhead makes the fewest waves (the largest tile) best; L2 bandwidth binds when tiles are held small,
    so operands are re-read from L2 per tile (parts with a large L2 bandwidth otherwise never reach it). The software
    stack's parameters are read under their stack: the graph-node overhead with CUDA graphs, the host time per op
    under an eager framework, the score round trips with eager attention."""
    if path == "runtime.gemm_max_split_k":
        return {"runtime.gemm_min_tile_m": 256, "runtime.gemm_min_tile_n": 256}
    if path in ("runtime.gemm_max_tile_m", "runtime.gemm_max_tile_n"):
        return {"runtime.cta_overhead_cycles": 1e5}  # per-wave overhead dominates: the fewest waves (largest tile) win
    if path == "memory.l2_bandwidth_gbps":
        return {"runtime.gemm_max_tile_m": 32, "runtime.gemm_max_tile_n": 32}  # small tiles re-read operands from L2
    if path == "runtime.graph_node_launch_us":
        return {"runtime.kernel_launch": "cuda_graph"}
    if path == "runtime.framework_op_overhead_us":
        return {"runtime.kernel_launch": "framework"}
    if path == "runtime.eager_score_round_trips":
        return {"runtime.attention_kernels": "eager"}
    return {}


def _cpu_probes() -> list[Workload]:
    from collections import Counter

    from workloads.classic_ml import kernel_op
    # Streaming ops whose working sets double from 4 KiB to 2 GiB: every cache capacity (halved or doubled) moves one
    # of them to another level, and each level serves one of them; one long polynomial per element is compute-bound;
    # GEMMs with few register tiles, or a dimension that is no multiple of a tile, read the tile sizes and the split
    # of tiles over threads.
    ladder = [_op(f"copy_{1 << e}", "elementwise", {"elements": 1 << e, "inputs": 1, "flops_per_element": 1}, "fp32")
              for e in range(9, 29)]
    # (above a CPU BLAS's small-matrix limit of 10^6 multiply-adds, so packed and threaded; one below it)
    ladder += [_op("gemm_odd", "matmul", {"m": 100, "n": 100, "k": 101, "batch": 1}, "fp32", weight=True),
               _op("gemm_few_tiles", "matmul", {"m": 48, "n": 12, "k": 2048, "batch": 1}, "fp32", weight=True),
               _op("gemm_small", "matmul", {"m": 64, "n": 64, "k": 64, "batch": 1}, "fp32", weight=True)]
    # an unfused library's passes: an activation with an exp, a softmax's row reductions, an im2col convolution
    ladder += [_op("silu", "elementwise", {"elements": 1 << 16, "inputs": 1, "flops_per_element": 4}, "fp32",
                   activation="silu"),
               _op("softmax", "softmax", {"elements": 1 << 16, "inputs": 1, "flops_per_element": 5}, "fp32"),
               _op("conv", "conv", {"batch": 1, "in_ch": 16, "out_ch": 32, "in_h": 30, "in_w": 30, "out_h": 28,
                                    "out_w": 28, "kernel_h": 3, "kernel_w": 3, "stride": 1, "groups": 1}, "fp32")]
    ladder.append(_op("poly", "elementwise", {"elements": 1 << 16, "inputs": 1, "flops_per_element": 64}, "fp32"))
    ladder.append(_op("all_reduce", "collective", {"elements": 1 << 18, "group": 4}, "fp32", collective="all_reduce"))
    norm = kernel_op("l2_normalise", Counter(fp_mul=256, fp_add=256, fp_sqrt=16, fp_div=256, loads=512, stores=256),
                     Counter(), "fp32", params=256)
    return [*dtype_probes(("fp32", "fp64", "fp16", "bf16", "int8"), big=512),
            Workload("probe-levels", ladder, item_unit="item", items=1),
            Workload("probe-sqrt", [norm], item_unit="item", items=1),
            _catalog("decision-tree"), _catalog("svm-rbf"), _catalog("kmeans"), _catalog("bert-base", batch=1,
                                                                                         seq_len=128)]


def _cpu_context(path: str, values: dict) -> dict:
    """SMT matters once BLAS asks for more threads than cores; the DRAM channels' peak once enough cores stream
    (a few cores alone are limited by their misses in flight)."""
    if path == "compute.threads_per_core":
        return {"runtime.gemm_threads": int(4 * values["compute.cores"] * values[path])}
    if path == "memory.dram_bandwidth_gbps":
        return {"compute.cores": 64, "runtime.stream_threads": 64}
    if path == "runtime.stream_efficiency":  # an unfused library's passes are memory-bound: fuse them
        return {"runtime.unfused_elementwise": False}
    return {}


def _pim_context(path: str, values: dict) -> dict:
    """Row and column timings bind only when the bank units keep up with the column stream: a PIM whose multipliers
    are the bottleneck (HBM-PIM's 300 MHz PCUs) is checked with 4x faster units; tRRD and the banks per ganged
    activation only when tFAW does not bound the activations."""
    if path in ("timing.tccd_l_ns", "timing.tras_ns", "timing.tfaw_ns", "organization.activations_per_tfaw"):
        return {"organization.pim_clock_mhz": 4 * values["organization.pim_clock_mhz"]}
    if path in ("timing.trrd_ns", "organization.banks_per_activation"):  # all-bank issue: bind only without tFAW
        return {"timing.tfaw_ns": 0.0}
    if path == "organization.multipliers_per_bank":  # bind only when the column commands come faster than they MAC
        return {"timing.tccd_l_ns": values["timing.tccd_l_ns"] / 4}
    return {}


def _logic_pim_context(path: str, values: dict) -> dict:
    """Bank timings and counts bind once few banks serve the rows (one rank, one bank group, one bank each: the 1 KB
    rows of the streaming probe then wait for tRCD, the short row for tRAS and tRP); tCCD_L once one bank group takes
    every column; tRRD_S once the four-activation window does not bind first."""
    d = "dram."
    one = {d + "ranks": 1, d + "bank_groups": 1, d + "banks_per_group": 1}
    if path in (d + "trcd_ns", d + "trp_ns", d + "tras_ns", d + "ranks", d + "bank_groups", d + "banks_per_group"):
        return {k: v for k, v in one.items() if k != path}
    if path == d + "tccd_l_ns":
        return {d + "bank_groups": 1}
    if path == d + "trrd_s_ns":
        return {d + "tfaw_ns": 0.0, d + "rank_switch_ns": 0.0}
    return {}


def _hetero_probes() -> list[Workload]:
    return [_catalog("gpt3-13b", phase="decode", batch=64, context=228, tensor_parallel=4),
            _catalog("gpt3-13b", phase="decode", batch=256, context=228, tensor_parallel=4),  # NeuPIMs interleaves
            _catalog("llama-2-7b", phase="decode", batch=16, context=4096),  # long KV: bandwidth-rich units pay
            _catalog("llama-2-7b", phase="decode", batch=128, context=512)]  # GEMMs and attention apart


def _hetero_context(path: str, values: dict) -> dict:
    """The split resolution has a role only where ops may be split between units that do not share their memory; a
    link's latency and energy only
    where the placer hands data over it, which a slow host link (PCIe at 31.5 GB/s) never pays for on these probes:
    they are checked on a link ten times faster."""
    if path == "split_steps":  # (units sharing one memory gain nothing from splitting a memory-bound op)
        return {"allow_split": True, "shared_memory": []}
    if path == "subbatch_min_batch":  # read only where sub-batches interleave
        return {"concurrency": "subbatch"}
    if path.startswith("links.") and not path.endswith(".bandwidth_gbps"):
        bandwidth = path.rsplit(".", 1)[0] + ".bandwidth_gbps"
        return {bandwidth: 10 * values[bandwidth]}
    return {}


PROBES = {"gpu": _gpu_probes, "spatial": _spatial_probes, "fpga": _spatial_probes, "pim": _pim_probes,
          "logic_pim": _logic_pim_probes, "iot": _iot_probes, "cpu": _cpu_probes, "hetero": _hetero_probes}
# Per kind: (parameter path, the preset's numeric values) → settings applied to both the base and the variant, for
# parameters that have a role only in some mode or operating point (none: the preset as it is).
CONTEXTS = {"gpu": _gpu_context, "iot": _iot_context, "cpu": _cpu_context, "pim": _pim_context,
            "logic_pim": _logic_pim_context, "hetero": _hetero_context}


@lru_cache(maxsize=None)
def probes(kind: str) -> tuple[Workload, ...]:
    return tuple(PROBES[kind]())


# ------------------------------------------------------------------------------------------------------ variants

def kind_effects(kind: str) -> dict:
    """The declared parameter effects of a kind (a heterogeneous device declares those of its links and settings)."""
    return HETERO_EFFECTS if kind == "hetero" else hardware_kind(kind).effects


def numeric_parameters(preset: str) -> list[tuple[str, float]]:
    """(path, value) of every numeric parameter of a preset; of a heterogeneous one, its links and settings (its
    units' parameters are checked on the units' own presets)."""
    rows = describe_hardware(preset).parameters
    out = []
    for path, value in zip(rows["path"], rows["value"]):
        if path.startswith("units."):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out.append((path, value))
    return out


def integer_parameter(kind: str, path: str) -> bool:
    """Whether the kind's schema declares ``path`` an integer (a float written as ``192`` in YAML is still a float)."""
    if kind == "hetero":
        return path == "split_steps"
    model = hardware_kind(kind).spec_class
    annotation = None
    for part in path.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        annotation = fields[part].annotation
        model = annotation
    return annotation is int


def scaled(value: float, factor: float, integer: bool) -> float | int | None:
    """``value × factor`` (integers rounded, kept ≥ 1 when they were); None when it does not change."""
    if integer:
        new = int(round(value * factor))
        if value >= 1:
            new = max(new, 1)
        return None if new == value else new
    new = value * factor
    return None if new == value else new


@dataclass
class Variant:
    path: str
    factor: float
    value: float
    params: np.ndarray | None = None  # None when the value was rejected at the boundary
    error: str = ""
    context: dict = field(default_factory=dict)  # settings of its base point (``CONTEXTS``)


@dataclass
class PresetRun:
    """Metrics of the base point and of every variant on every probe workload."""

    preset: str
    kind: str
    variants: list[Variant]
    objective: str = "latency"  # what the mapping search minimised
    base: list[dict[str, np.ndarray]] = field(default_factory=list)  # per workload: metric → (variants,) base point
    runs: list[dict[str, np.ndarray]] = field(default_factory=list)  # per workload: metric → (variants,)


# Extra scale factors per kind and parameter pattern, for parameters whose only role is a limit that a 2× change does
# not reach: an FPGA design's control logic and the part's resource counts matter once the design overflows the part.
# The spatial presets' buffers are sized well above what a GEMM's reuse needs: only a much smaller one binds. A slow
# host link is used by the placer only once it is much faster.
EXTRA_FACTORS = {"hetero": {"links.*.bandwidth_gbps": (20.0,)},
                 "spatial": {"memory.global_buffer_kib": (0.125,)},
                 "fpga": {"part.dsp_slices": (0.01,), "part.bram36_tiles": (0.01,), "part.uram_blocks": (0.01,),
                          "part.luts": (0.01,), "part.flip_flops": (0.01,), "design.control_*": (100.0,)}}


def _factors(kind: str, path: str, factors: tuple[float, ...]) -> tuple[float, ...]:
    extra = next((f for pattern, f in EXTRA_FACTORS.get(kind, {}).items() if fnmatch.fnmatchcase(path, pattern)), ())
    return tuple(factors) + tuple(extra)


def make_variants(preset: str, factors=(UP, DOWN, TINY)) -> list[Variant]:
    out = []
    numeric = numeric_parameters(preset)
    kind = load_hardware(preset).kind
    context_of = CONTEXTS.get(kind, lambda path, values: {})
    for path, value in numeric:
        context = context_of(path, dict(numeric))
        for f in _factors(kind, path, factors):
            new = scaled(value, f, integer_parameter(kind, path))
            if new is None:
                continue
            v = Variant(path, f, new, context=context)
            try:
                v.params = load_hardware(preset, {**context, path: new}).params
            except HardwareConfigError as exc:
                v.error = str(exc)
            out.append(v)
    return out


def run_preset(preset: str, factors=(UP, DOWN, TINY), objective: str = "latency") -> PresetRun:
    """Evaluate the base preset and every one-parameter variant on the kind's probes (one batched call each)."""
    base_hw = load_hardware(preset)
    variants = make_variants(preset, factors)
    ok = [v for v in variants if v.params is not None]
    contexts = {repr(sorted(v.context.items())): v.context for v in variants}
    bases = {key: load_hardware(preset, ctx).params for key, ctx in contexts.items()}
    keys = list(bases)
    stack = np.vstack([bases[k] for k in keys] + [v.params for v in ok])
    of = np.array([keys.index(repr(sorted(v.context.items()))) for v in variants], dtype=int)
    run = PresetRun(preset, base_hw.kind, variants, objective)
    idx = [i for i, v in enumerate(variants) if v.params is not None]
    for wl in probes(base_hw.kind):
        totals = evaluate_points(base_hw, wl, stack, objective)
        metrics = {m: np.asarray(totals[_TOTALS[m]], dtype=float) for m in METRICS}
        run.base.append({m: a[of] for m, a in metrics.items()})
        full = {m: np.full(len(variants), np.nan) for m in METRICS}
        for m in METRICS:
            full[m][idx] = metrics[m][len(keys):]
        run.runs.append(full)
    return run


# -------------------------------------------------------------------------------------------------------- checks

def _tolerance(run: PresetRun, metric: str) -> float:
    """Relative change that counts as none: the searched objective may move within the search's tie tolerance (a
    near-tie is broken by the other metrics, so a change can swap two mappings that are equally good)."""
    return max(NOISE, TIE_TOLERANCE) if metric == run.objective else NOISE


def direction_violations(run: PresetRun) -> list[str]:
    """Variants whose metrics moved against the declared effect (or parameters with no declared effect)."""
    effects = kind_effects(run.kind)
    out = []
    for i, v in enumerate(run.variants):
        if v.params is None or v.factor == TINY:
            continue
        effect = effect_of(effects, v.path)
        if effect is None:
            out.append(f"{run.preset}: {v.path}: no declared effect for kind {run.kind!r}")
            continue
        grows = v.factor > 1
        for w, wl in enumerate(probes(run.kind)):
            for m in METRICS:
                before, after = run.base[w][m][i], run.runs[w][m][i]
                if m in ("latency", "energy") and not (np.isfinite(before) and np.isfinite(after)):
                    continue  # infeasible on one side: the feasibility metric speaks for it
                if not moved(effect.allowed(m, grows), before, after, _tolerance(run, m)):
                    out.append(f"{run.preset}: {v.path} ×{v.factor:g} on {wl.name}: {m} {before:.6g} → {after:.6g} "
                               f"(declared {effect.allowed(m, grows)!r} when it {'grows' if grows else 'shrinks'})")
    return out


def jump_violations(run: PresetRun) -> list[str]:
    """0.1 % changes that moved latency or energy by more than ``SMOOTH`` without a declared discrete effect."""
    effects = kind_effects(run.kind)
    out = []
    for i, v in enumerate(run.variants):
        if v.params is None or v.factor != TINY:
            continue
        effect = effect_of(effects, v.path)
        if effect is not None and effect.steps:
            continue
        for w, wl in enumerate(probes(run.kind)):
            for m in ("latency", "energy"):
                before, after = run.base[w][m][i], run.runs[w][m][i]
                if np.isfinite(before) and np.isfinite(after) and before > 0:
                    if abs(after / before - 1) > SMOOTH:
                        out.append(f"{run.preset}: {v.path} ×{TINY} on {wl.name}: {m} {before:.6g} → {after:.6g}")
    return out


def unread_parameters(run: PresetRun) -> list[str]:
    """Parameters whose every variant left every metric of every probe unchanged (or was rejected)."""
    changed: dict[str, bool] = {}
    for i, v in enumerate(run.variants):
        hit = False
        if v.params is not None:
            for w in range(len(run.base)):
                for m in METRICS:
                    before, after = run.base[w][m][i], run.runs[w][m][i]
                    if (np.isnan(before) != np.isnan(after)) or (not np.isnan(before) and not moved("none", before,
                                                                                                       after, 0.0)):
                        hit = True
        changed[v.path] = changed.get(v.path, False) or hit
    return sorted(p for p, hit in changed.items() if not hit)
