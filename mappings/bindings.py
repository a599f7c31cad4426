"""Which cost kernels evaluate each device kind, and how a kernel's chosen mapping reads for people.

A kernel is ``map_and_cost(table, params, objective_code) -> (points, ops, N_OUT)``: the batched loop of
``mappings.driver`` over the kind's op-cost kernel (spatial searches go through the result cache of
``mappings.cache``). Kernel modules are imported on first use (they pull in Numba). Adding a device kind binds it here
with one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from hw_models.cost import O_MAP_0
from hw_models.preset import HardwareConfigError


def _searched_label(kind: str) -> Callable[[np.ndarray], str]:
    def label(raw: np.ndarray) -> str:
        from mappings.evaluate import describe_mapping, mapping_of

        return describe_mapping(kind, mapping_of(kind, raw))

    return label


def _logic_pim_label(raw: np.ndarray) -> str:
    return f"weights streamed {int(raw[O_MAP_0])}x" if raw[O_MAP_0] > 1 else ""


def _cpu_level_label(raw: np.ndarray) -> str:
    from hw_models.cpu import LEVELS

    return f"working set in {LEVELS[int(raw[O_MAP_0])]}"


def _spatial_kernel() -> Callable:
    from mappings.cache import shared_mapper  # searched mappings are reused across ops, workloads and points

    return shared_mapper()


def _driver_kernel(kind: str) -> Callable[[], Callable]:
    def load() -> Callable:
        from mappings.driver import map_and_cost

        return lambda table, params, objective: map_and_cost(kind, table, params, objective)

    return load


@dataclass(frozen=True)
class KernelBinding:
    """A kind's batched cost kernel (loaded lazily) and its mapping describer."""

    load: Callable[[], Callable]
    mapping_label: Callable[[np.ndarray], str]


_BINDINGS = {
    "gpu": KernelBinding(_driver_kernel("gpu"), _searched_label("gpu")),
    "spatial": KernelBinding(_spatial_kernel, _searched_label("spatial")),
    "fpga": KernelBinding(_spatial_kernel, _searched_label("fpga")),  # an FPGA design is a spatial-template instance
    "pim": KernelBinding(_driver_kernel("pim"), lambda raw: ""),
    "logic_pim": KernelBinding(_driver_kernel("logic_pim"), _logic_pim_label),
    "iot": KernelBinding(_driver_kernel("iot"), _searched_label("iot")),
    "cpu": KernelBinding(_driver_kernel("cpu"), _cpu_level_label),
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
