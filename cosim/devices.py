"""Device kinds known to the engine, and `Hardware`: a resolved preset with overrides, ready to evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hw_models.preset import HardwareConfigError, available_presets, read_preset, resolve_values


@dataclass(frozen=True)
class DeviceKind:
    """How the engine handles one kind of device: its spec class, parameter packing and batched kernel."""

    name: str
    spec_class: Callable[..., Any]
    pack: Callable[[Any], np.ndarray]
    kernel_loader: Callable[[], Callable]  # imported lazily: kernels pull in Numba
    capacity_param: str
    idle_param: str
    bound_names: tuple[str, ...]
    mapping_label: Callable[[np.ndarray], str]  # a kernel output row → readable mapping
    param_index: dict[str, int]
    # Optional per-point feasibility beyond memory (an FPGA design that overflows its part): params → reasons, '' = ok.
    check: Callable[[np.ndarray], np.ndarray] | None = None


def _lazy_kernel(module: str) -> Callable[[], Callable]:
    """A loader of ``module.map_and_cost``, imported on first use (kernel modules pull in Numba)."""

    def load() -> Callable:
        import importlib

        return importlib.import_module(module).map_and_cost

    return load


def _gpu_kind() -> DeviceKind:
    from hw_models.gpu import P, GPUSpec, pack_params

    def label(raw: np.ndarray) -> str:
        from hw_models.cost import O_MAPPING
        from hw_models.gpu_kernels import tile_shape

        if raw[O_MAPPING] < 0:
            return ""
        tm, tn, sk = tile_shape(int(raw[O_MAPPING]))
        return f"tile {int(tm)}x{int(tn)} split-k {int(sk)}"

    from hw_models.cost import BOUND_NAMES

    return DeviceKind("gpu", GPUSpec, pack_params, _lazy_kernel("mappings.gpu_tiles"), "hbm_bytes", "idle_w",
                      BOUND_NAMES, label, P)


def _spatial_kind() -> DeviceKind:
    from hw_models.cost import BOUND_NAMES
    from hw_models.spatial import P, SpatialSpec, pack_params

    def kernel():
        from mappings.cache import shared_mapper  # searched mappings are reused across ops, workloads and points

        return shared_mapper()

    def label(raw: np.ndarray) -> str:
        from hw_models.cost import O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4, O_MAPPING
        from hw_models.spatial_kernels import DATAFLOW_NAMES, ORDER_NAMES

        if raw[O_MAPPING] < 0:
            return ""
        return (f"{DATAFLOW_NAMES[int(raw[O_MAP_0])]}, tiles m{int(raw[O_MAP_2])} n{int(raw[O_MAP_3])} "
                f"k{int(raw[O_MAP_4])}, order {ORDER_NAMES[int(raw[O_MAP_1])]}")

    bounds = tuple("buffer" if b == "l2" else b for b in BOUND_NAMES)
    return DeviceKind("spatial", SpatialSpec, pack_params, kernel, "dram_bytes", "static_w", bounds, label, P)


def _logic_pim_kind() -> DeviceKind:
    from hw_models.cost import BOUND_NAMES
    from hw_models.logic_pim import P, LogicPIMSpec, pack_params

    def label(raw: np.ndarray) -> str:
        from hw_models.cost import O_MAP_0

        return f"weights streamed {int(raw[O_MAP_0])}x" if raw[O_MAP_0] > 1 else ""

    bounds = tuple({"l2": "buffer", "sfu": "softmax"}.get(b, b) for b in BOUND_NAMES)
    return DeviceKind("logic_pim", LogicPIMSpec, pack_params, _lazy_kernel("hw_models.logic_pim_kernels"),
                      "capacity_bytes", "idle_w", bounds, label, P)


def _pim_kind() -> DeviceKind:
    from hw_models.cost import BOUND_NAMES
    from hw_models.pim import P, PIMSpec, pack_params

    bounds = tuple("bus" if b == "interconnect" else b for b in BOUND_NAMES)
    return DeviceKind("pim", PIMSpec, pack_params, _lazy_kernel("hw_models.pim_kernels"), "capacity_bytes",
                      "static_w", bounds, lambda raw: "", P)


def _fpga_kind() -> DeviceKind:
    from dataclasses import replace

    from hw_models.fpga import P, FPGASpec, pack_params, resource_check

    spatial = _spatial_kind()  # same kernels and mapping labels: an FPGA design is a spatial-template instance
    return replace(spatial, name="fpga", spec_class=FPGASpec, pack=pack_params, param_index=P, check=resource_check)


def _iot_kind() -> DeviceKind:
    from hw_models.cost import BOUND_NAMES
    from hw_models.iot import P, IotSpec, operating_point_check, pack_params

    def label(raw: np.ndarray) -> str:
        from hw_models.cost import O_MAP_0, O_MAP_1, O_MAP_2, O_MAPPING
        from hw_models.iot_kernels import ORDER_NAMES

        if raw[O_MAPPING] < 0:
            return ""
        return f"L1 tile m{int(raw[O_MAP_1])} n{int(raw[O_MAP_2])}, {ORDER_NAMES[int(raw[O_MAP_0])]}"

    bounds = tuple({"l2": "dma", "memory": "l3"}.get(b, b) for b in BOUND_NAMES)
    return DeviceKind("iot", IotSpec, pack_params, _lazy_kernel("hw_models.iot_kernels"), "memory_bytes",
                      "leakage_w", bounds, label, P,
                      check=operating_point_check)


_KIND_FACTORIES = {"fpga": _fpga_kind, "gpu": _gpu_kind, "spatial": _spatial_kind, "logic_pim": _logic_pim_kind,
                   "pim": _pim_kind, "iot": _iot_kind}
_KINDS: dict[str, DeviceKind] = {}


def device_kind(name: str) -> DeviceKind:
    """The engine's handler for a device kind."""
    if name not in _KIND_FACTORIES:
        raise HardwareConfigError(f"unknown device kind {name!r}; allowed: {', '.join(_KIND_FACTORIES)}")
    if name not in _KINDS:
        _KINDS[name] = _KIND_FACTORIES[name]()
    return _KINDS[name]


@dataclass
class Hardware:
    """A device preset with overrides applied and validated; ``params`` is the kernels' parameter vector."""

    name: str
    kind: str
    spec: Any
    sources: dict[str, str]
    overrides: dict[str, Any] = field(default_factory=dict)
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def device(self) -> DeviceKind:
        return device_kind(self.kind)

    def param(self, name: str) -> float:
        """One packed parameter in SI units (``hbm_bw``, ``idle_w`` …)."""
        return float(self.params[self.device.param_index[name]])


def format_validation_error(exc: Exception, prefix: str = "") -> str:
    """Turn a pydantic ValidationError into lines of 'dotted.path: problem (got value)'."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    lines = []
    for err in errors():
        loc = ".".join(str(part) for part in err["loc"])
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        lines.append(f"{path}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def schema_paths(model: Any, prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of every numeric leaf a pydantic spec class accepts."""
    from pydantic import BaseModel

    paths: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += schema_paths(annotation, path)
        elif name not in ("name", "kind", "description"):
            paths.append(path)
    return tuple(paths)


def load_hardware(name: str, overrides: dict[str, Any] | None = None) -> Hardware:
    """Resolve a preset by name, apply dotted-path overrides, validate, and pack its parameters."""
    from pydantic import ValidationError

    preset = read_preset(name)
    if preset.kind == "hetero":  # several units joined by links: cosim.hetero
        from cosim.hetero import load_hetero

        return load_hetero(preset, overrides)
    overrides = dict(overrides or {})
    kind = device_kind(preset.kind)
    values = resolve_values(preset, overrides, schema_paths(kind.spec_class))
    try:
        spec = kind.spec_class(**values)
    except ValidationError as exc:
        raise HardwareConfigError(f"hardware {preset.name!r}: {format_validation_error(exc)}") from None
    return Hardware(name=preset.name, kind=preset.kind, spec=spec, sources=preset.sources, overrides=overrides,
                    params=kind.pack(spec))


def available_hardware() -> list[str]:
    """Preset names accepted by :func:`load_hardware`."""
    return [read_preset(n).name for n in available_presets()]
