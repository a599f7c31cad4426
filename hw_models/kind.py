"""What the engine needs to know about one kind of device as data: its spec class, parameter packing and layout,
which packed parameters hold memory capacity and idle power, the names of the resources that can bind an op, an
optional per-point feasibility check, and the declared effect of each parameter on the metrics. The cost kernels that evaluate a kind are bound in ``mappings.bindings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hw_models.cost import BOUND_NAMES
from hw_models.effects import Effect


@dataclass(frozen=True)
class HardwareKind:
    """One device kind as data."""

    name: str
    spec_class: Callable[..., Any]
    pack: Callable[[Any], np.ndarray]  # validated spec → the kernels' float64 parameter vector (SI units)
    param_index: dict[str, int]  # packed parameter name → slot
    capacity_param: str
    idle_param: str
    # Packed parameter of the bandwidth (B/s) at which the device draws from its main memory ('' when it has none),
    # for units of a heterogeneous device that share one memory (cosim.hetero: a byte a unit moves holds the shared
    # channels or banks for 1 / this bandwidth, so the traffic of units running at once adds up in time).
    bandwidth_param: str = ""
    bound_names: tuple[str, ...] = BOUND_NAMES
    # Per-point feasibility beyond memory (an FPGA design that overflows its part): params → reasons, '' = ok.
    check: Callable[[np.ndarray], np.ndarray] | None = None
    # Why an op has no legal mapping at a point (one packed row, the op) → text; None: the generic reason.
    unmappable_reason: Callable[[np.ndarray, Any], str] | None = None
    # What each parameter does to latency, energy, capacity and feasibility when it grows (hw_models.effects).
    effects: dict[str, Effect] = field(default_factory=dict)
    # Dotted preset paths calibration may fit (achieved fractions, overheads, energies); their bounds are the spec's
    # field constraints, so a fit never leaves what physics allows.
    fittable: tuple[str, ...] = ()


def renamed_bounds(names: dict[str, str]) -> tuple[str, ...]:
    """The shared bound names with some renamed for a kind (its 'l2' level is a buffer, say)."""
    return tuple(names.get(b, b) for b in BOUND_NAMES)
