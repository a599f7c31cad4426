"""cosim: how fast, and at what energy, does an ML workload run on a piece of hardware, and how should it be mapped?

The public API (``simulate``, ``load_hardware``, ``load_workload``, ``sweep``, ``reproduction_table``) is imported on
first use so that ``import cosim`` and ``cosim --help`` stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = ("Hardware", "Result", "Workload", "available_hardware", "available_workloads", "load_hardware",
        "load_workload", "reproduction_table", "simulate", "sweep")
__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        from cosim import api

        return getattr(api, name)
    raise AttributeError(f"module 'cosim' has no attribute {name!r}")
