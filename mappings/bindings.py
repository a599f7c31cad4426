"""Which cost kernels evaluate each device kind, and how a kernel's chosen mapping reads for people.

A kernel is ``map_and_cost(table, params, objective_code) -> (points, ops, N_OUT)``; kernel modules are imported on
first use (they pull in Numba). Adding a device kind binds its kernel module here with one entry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from hw_models.cost import O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4, O_MAPPING
from hw_models.preset import HardwareConfigError


def _gpu_label(raw: np.ndarray) -> str:
    from hw_models.gpu_kernels import tile_shape

    if raw[O_MAPPING] < 0:
        return ""
    tm, tn, sk = tile_shape(int(raw[O_MAPPING]))
    return f"tile {int(tm)}x{int(tn)} split-k {int(sk)}"


def _spatial_label(raw: np.ndarray) -> str:
    from hw_models.spatial_kernels import DATAFLOW_NAMES, ORDER_NAMES

    if raw[O_MAPPING] < 0:
        return ""
    return (f"{DATAFLOW_NAMES[int(raw[O_MAP_0])]}, tiles m{int(raw[O_MAP_2])} n{int(raw[O_MAP_3])} "
            f"k{int(raw[O_MAP_4])}, order {ORDER_NAMES[int(raw[O_MAP_1])]}")


def _logic_pim_label(raw: np.ndarray) -> str:
    return f"weights streamed {int(raw[O_MAP_0])}x" if raw[O_MAP_0] > 1 else ""


def _iot_label(raw: np.ndarray) -> str:
    from hw_models.iot_kernels import ORDER_NAMES

    if raw[O_MAPPING] < 0:
        return ""
    return f"L1 tile m{int(raw[O_MAP_1])} n{int(raw[O_MAP_2])}, {ORDER_NAMES[int(raw[O_MAP_0])]}"


def _spatial_kernel() -> Callable:
    from mappings.cache import shared_mapper  # searched mappings are reused across ops, workloads and points

    return shared_mapper()


def _module_kernel(module: str) -> Callable[[], Callable]:
    return lambda: importlib.import_module(module).map_and_cost


@dataclass(frozen=True)
class KernelBinding:
    """A kind's batched cost kernel (loaded lazily) and its mapping describer."""

    load: Callable[[], Callable]
    mapping_label: Callable[[np.ndarray], str]


_BINDINGS = {
    "gpu": KernelBinding(_module_kernel("mappings.gpu_tiles"), _gpu_label),
    "spatial": KernelBinding(_spatial_kernel, _spatial_label),
    "fpga": KernelBinding(_spatial_kernel, _spatial_label),  # an FPGA design is a spatial-template instance
    "pim": KernelBinding(_module_kernel("hw_models.pim_kernels"), lambda raw: ""),
    "logic_pim": KernelBinding(_module_kernel("hw_models.logic_pim_kernels"), _logic_pim_label),
    "iot": KernelBinding(_module_kernel("hw_models.iot_kernels"), _iot_label),
}


def binding(kind: str) -> KernelBinding:
    """The kernel binding of a single-device kind."""
    if kind not in _BINDINGS:
        raise HardwareConfigError(f"no cost kernel is bound to device kind {kind!r}; bound: {', '.join(_BINDINGS)}")
    return _BINDINGS[kind]


def kernel(kind: str) -> Callable:
    """The batched ``map_and_cost`` kernel of a kind."""
    return binding(kind).load()


def mapping_label(kind: str, raw: np.ndarray) -> str:
    """A readable description of the mapping in one cost record."""
    return binding(kind).mapping_label(raw)
