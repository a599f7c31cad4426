"""The workload IR (``Op``, ``Workload``) and trace builders. Lowest layer: imports nothing from the others."""

from workloads.ir import OP_KINDS, Op, Workload
from workloads.registry import available_workloads, load_workload, workload_parameters
from workloads.trace_io import TraceFormatError, load_trace, save_trace
from workloads.transformer import WorkloadParamError

__all__ = ["OP_KINDS", "Op", "Workload", "available_workloads", "load_workload", "workload_parameters",
           "load_trace", "save_trace", "TraceFormatError", "WorkloadParamError"]
