"""The registry of device kinds: a kind's name → the hardware module that declares its ``KIND``.

Adding a device kind registers its hardware module here with one line (and its kernels in ``mappings.bindings``).
Modules are imported on first use, so loading one kind does not import the others.
"""

from __future__ import annotations

import importlib

from hw_models.kind import HardwareKind
from hw_models.preset import HardwareConfigError

_MODULES = {
    "gpu": "hw_models.gpu",
    "spatial": "hw_models.spatial",
    "fpga": "hw_models.fpga",
    "pim": "hw_models.pim",
    "logic_pim": "hw_models.logic_pim",
    "iot": "hw_models.iot",
    "cpu": "hw_models.cpu",
}
COMPOSITE_KINDS = ("hetero",)  # several units of the kinds above joined by links (hw_models.hetero)


def kind_names() -> tuple[str, ...]:
    """Names of the single-device kinds."""
    return tuple(_MODULES)


def hardware_kind(name: str) -> HardwareKind:
    """The data description of a single-device kind."""
    if name not in _MODULES:
        raise HardwareConfigError(f"unknown device kind {name!r}; allowed: {', '.join([*_MODULES, *COMPOSITE_KINDS])}")
    return importlib.import_module(_MODULES[name]).KIND
