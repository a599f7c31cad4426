"""Spiking twins of CNN/ViT workloads (:func:`to_spiking`) and the spiking-network catalog
(``workloads/configs/snn/*.yaml``).

Conversion rules, applied in op order:

- The first weight layer (conv or weight matmul), with ``first_layer_direct``, stays a MAC layer and runs every
  timestep on the analog input (direct encoding); so do layers tagged ``snn: per_timestep``; ``snn: once`` layers
  are left as they are.
- Every other conv / weight matmul becomes a ``synaptic`` op: its implicit GEMM (``table.gemm_view``: one op per
  conv group), ``timesteps``, and ``sparsity = 1 - rate`` where ``rate`` is the spike rate of its input; it
  counts accumulates (spikes × fan-out), not MACs. When average pools sit between the neurons and the layer, each
  input averages ``pool_window`` spikes (the product of their windows) and the layer carries that dim: every spike
  still drives the fan-out, so it costs ``pool_window`` times the accumulates of a binary input at the same rate.
  A weight-less matmul (spike × buffer) becomes a weight-less ``synaptic`` op whose structural sparsity is kept.
- Each of these layers is followed by a ``neuron_update`` (LIF or IF) over its outputs.
- ``attention`` becomes spiking self-attention (Spikformer SSA, no softmax): Q·Kᵀ and (Q·Kᵀ)·V as weight-less
  synaptic ops, each counted at the rate of its spike operand (Q, then V).
- Activations (tag ``role: act``) are replaced by the neurons; norms, pools and adds run every timestep.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path
from typing import Any, Sequence, Union

from workloads.cnn import build_cnn, build_from_config, check_int, load_config
from workloads.ir import Op, Workload
from workloads.registry import WorkloadEntry, catalog_from_configs
from workloads.snn_nets import ARCHS as NET_ARCHS
from workloads.table import gemm_view
from workloads.transformer import WorkloadParamError

CONFIG_DIR = Path(__file__).parent / "configs" / "snn"
NEURONS = ("lif", "if")
Rates = Union[float, Sequence[float], dict, str, Path]


class RateFileError(WorkloadParamError):
    """A per-layer rate file is missing, malformed, or does not cover the layers."""


def load_rate_file(path: str | Path) -> dict[str, float]:
    """Rates keyed by layer name from JSON (``{"layer": rate}``) or CSV (columns ``layer,rate``)."""
    path = Path(path)
    if not path.is_file():
        raise RateFileError(f"rate_file {str(path)!r} does not exist")
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("expected an object mapping layer names to rates")
            rates = {str(k): float(v) for k, v in data.items()}
        elif path.suffix == ".csv":
            with open(path, newline="") as fh:
                rows = list(csv.DictReader(fh))
            if not rows or not {"layer", "rate"} <= set(rows[0]):
                raise ValueError("expected a header with columns 'layer' and 'rate'")
            rates = {row["layer"]: float(row["rate"]) for row in rows}
        else:
            raise ValueError("the file must end in .json or .csv")
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise RateFileError(f"rate_file {str(path)!r}: {exc}") from None
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise RateFileError(f"rate_file {str(path)!r}: rate of layer {name!r} is {rate}; allowed: 0..1")
    return rates


def _is_weight_layer(op: Op) -> bool:
    return op.kind == "conv" or (op.kind == "matmul" and op.tags.get("weight", True))


def _spiking_layers(wl: Workload, first_layer_direct: bool) -> list[str]:
    """Names of the layers whose input is spikes (the ones a rate applies to), in order."""
    names, first = [], first_layer_direct
    for op in wl.ops:
        if op.tags.get("snn") or not (_is_weight_layer(op) or op.kind in ("matmul", "attention")):
            continue
        if first and _is_weight_layer(op):
            first = False
            continue
        names.append(op.name)
    return names


def _rate_lookup(rates: Rates, layers: list[str]) -> dict[str, float]:
    if isinstance(rates, (str, Path)):
        rates = load_rate_file(rates)
    if isinstance(rates, dict):
        default = rates.get("*")
        missing = [n for n in layers if n not in rates and default is None]
        if missing:
            raise RateFileError(f"rates give no rate for layer(s) {', '.join(missing[:5])}"
                                f"{' …' if len(missing) > 5 else ''}; add them or a '*' default")
        out = {n: float(rates.get(n, default)) for n in layers}
    elif isinstance(rates, (int, float)):
        out = {n: float(rates) for n in layers}
    else:
        rates = list(rates)
        unique = list(dict.fromkeys(layers))
        if len(rates) != len(unique):
            raise WorkloadParamError(f"rates has {len(rates)} entries but the network has {len(unique)} spiking "
                                     f"layers: {', '.join(unique)}")
        out = dict(zip(unique, map(float, rates)))
    for name, rate in out.items():
        if not 0.0 <= rate <= 1.0:
            raise WorkloadParamError(f"rate of layer {name!r} is {rate}; allowed: 0..1")
    return out


def _copy(op: Op, name: str, kind: str, dims: dict, count: int, sparsity: float, **tags: Any) -> Op:
    return Op(name, kind, dims, op.act_bits, op.weight_bits, op.out_bits, count, sparsity,
              {**{k: v for k, v in op.tags.items() if k != "weight"}, **tags}, op.dtype)


def _neuron(op: Op, name: str, neurons: int, count: int, timesteps: int, neuron: str) -> Op:
    return Op(f"{name}.neuron", "neuron_update", {"neurons": neurons, "timesteps": timesteps}, op.act_bits,
              op.weight_bits, op.out_bits, count, 0.0, {"neuron": neuron, "stage": op.tags.get("stage", 0)}, op.dtype)


def _pooled_window(op: Op, window: int) -> int:
    """Spikes averaged into one input after ``op``, given ``window`` before it: neurons (``role: act``) and weight
    layers start afresh at 1; an average pool multiplies by the elements it averages; other ops keep it."""
    if op.tags.get("role") == "act" or _is_weight_layer(op):
        return 1
    if op.tags.get("role") == "pool" and op.tags.get("pool") == "avg":
        return window * op.dim("flops_per_element", 1)
    return window


def _per_timestep(op: Op, t: int) -> Op:
    """A MAC layer run on every timestep: its batch (conv) or rows (matmul) grow T-fold."""
    dims = dict(op.dims)
    if op.kind == "conv":
        dims["batch"] *= t
    else:
        dims["m"] *= t
    return _copy(op, op.name, op.kind, dims, op.count, op.sparsity, timesteps=t)


def to_spiking(workload: Workload, timesteps: int = 4, rates: Rates = 0.1, neuron: str = "lif",
               first_layer_direct: bool = True) -> Workload:
    """The spiking twin of a CNN/ViT workload (see the module docstring for the rules)."""
    check_int("timesteps", timesteps)
    if neuron not in NEURONS:
        raise WorkloadParamError(f"neuron must be one of {', '.join(NEURONS)}, got {neuron!r}")
    t = int(timesteps)
    rate = _rate_lookup(rates, _spiking_layers(workload, first_layer_direct))
    out = Workload(f"{workload.name}/snn-T{t}", items=workload.items, item_unit=workload.item_unit,
                   params=dict(workload.params, timesteps=t, neuron=neuron), memory_bytes=dict(workload.memory_bytes),
                   devices=workload.devices)
    first, window = first_layer_direct, 1
    for op in workload.ops:
        mode = op.tags.get("snn")
        pooled, window = window, _pooled_window(op, window)
        if mode == "once":
            out.add(op)
            continue
        if mode == "per_timestep" or (first and _is_weight_layer(op)):
            first = first and not _is_weight_layer(op)
            out.add(_per_timestep(op, t))
            m, n, _, groups, _, _ = gemm_view(op)
            out.add(_neuron(op, op.name, m * n * groups, op.count, t, neuron))
            continue
        if op.kind in ("conv", "matmul"):
            m, n, k, groups, _, _ = gemm_view(op)
            weight = _is_weight_layer(op)
            sparsity = 1.0 - rate[op.name] * (1.0 if weight else 1.0 - op.sparsity)
            dims = {"m": m * (op.dim("batch", 1) if op.kind == "matmul" else 1), "n": n, "k": k, "timesteps": t,
                    "bias": op.dim("bias"), **({"pool_window": pooled} if weight and pooled > 1 else {})}
            count = op.count * (groups if op.kind == "conv" else 1)
            out.add(_copy(op, op.name, "synaptic", dims, count, sparsity, weight=weight))
            out.add(_neuron(op, op.name, dims["m"] * n, count, t, neuron))
        elif op.kind == "attention":
            d, r = op.dim, rate[op.name]
            count = op.count * d("batch") * d("heads")
            qk = {"m": d("q_len"), "n": d("kv_len"), "k": d("head_dim"), "timesteps": t}
            av = {"m": d("q_len"), "n": d("head_dim"), "k": d("kv_len"), "timesteps": t}
            out.add(_copy(op, f"{op.name}.qk", "synaptic", qk, count, 1.0 - r, weight=False))
            out.add(_copy(op, f"{op.name}.av", "synaptic", av, count, 1.0 - r, weight=False))
            out.add(_neuron(op, op.name, d("q_len") * d("head_dim"), count, t, neuron))
        elif op.tags.get("role") == "act" or op.kind == "softmax":
            continue
        elif op.kind in ("elementwise", "norm"):
            dims = dict(op.dims, elements=op.dim("elements") * t)
            out.add(_copy(op, op.name, op.kind, dims, op.count, op.sparsity))
        else:
            out.add(op)
    return out


# ---------------------------------------------------------------- catalog

@functools.lru_cache(maxsize=None)
def spiking_config(name: str) -> dict[str, Any]:
    """The spiking catalog entry ``name`` as its YAML spec (``workloads/configs/snn/<name>.yaml``)."""
    return load_config(name, CONFIG_DIR)


def build_ann_twin(cfg: dict, batch: int = 1, dtype: str = "fp16") -> Workload:
    """The non-spiking network a spiking catalog entry converts."""
    if "cnn" in cfg:
        return build_cnn(cfg["cnn"], batch=batch, dtype=dtype)
    return build_from_config(cfg, batch, 0, dtype, NET_ARCHS)


def _builder(name: str):
    cfg = spiking_config(name)

    def build(timesteps: int = int(cfg["timesteps"]), rate: float = float(cfg["rate"]), rate_file: str = "",
              batch: int = 1, neuron: str = str(cfg.get("neuron", "lif")), dtype: str = "fp16") -> Workload:
        if not 0.0 <= rate <= 1.0:
            raise WorkloadParamError(f"rate must be in 0..1, got {rate!r}")
        ann = build_ann_twin(cfg, batch, dtype)
        wl = to_spiking(ann, timesteps, rate_file or rate, neuron, cfg.get("first_layer_direct", True))
        wl.name = f"{cfg['name']}/T{timesteps}"
        wl.params.update(model=cfg["name"], rate=rate, rate_file=rate_file)
        return wl

    build.__doc__ = f"{cfg['name']}: {cfg.get('description', '')}"
    return build


def catalog() -> dict[str, WorkloadEntry]:
    return catalog_from_configs(CONFIG_DIR, "snn", spiking_config, _builder,
                                lambda cfg: (f"default rate: {cfg['rate_source']}",))
