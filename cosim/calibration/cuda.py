"""The ``cuda`` board: NVIDIA GPUs through PyTorch (``pip install 'cosim-hw[cuda]'``), timed with CUDA events,
energy from NVML power samples integrated over each op's timed window, the SM clock read after each op.

Torch-free pieces (the event timer given a torch module, the NVML sensor given an NVML module, the environment)
are plain classes so tests drive them with fakes; :func:`measure_cuda` wires them to the real libraries.
"""

from __future__ import annotations

import math
import platform
from pathlib import Path
from typing import Any, Callable

from cosim.calibration.environment import Environment
from cosim.calibration.lowering import UnsupportedOp
from cosim.calibration.measure import TIME_CAPS_S, RunOutcome, prepare_output, run_cases
from cosim.calibration.power import ThreadedSampler
from cosim.calibration.suites import Case, cuda_cases
from cosim.calibration.timing import HostTimer, RepeatPolicy
from cosim.errors import CosimInputError

POWER_PERIOD_S = 0.005  # NVML refreshes its power reading every few ms to 100 ms depending on the GPU


class CudaEventTimer:
    """Elapsed GPU time of ``calls`` launches between two CUDA events (waits for the end event)."""

    name = "cuda_events"

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def elapsed(self, fn: Callable[[], object], calls: int) -> float:
        start = self.torch.cuda.Event(enable_timing=True)
        end = self.torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e-3  # milliseconds -> seconds


class NvmlDevice:
    """One GPU seen through an NVML module (``pynvml`` from nvidia-ml-py, or a fake): power in watts, SM clock in
    MHz, driver version."""

    def __init__(self, nvml: Any, index: int = 0) -> None:
        self.nvml = nvml
        nvml.nvmlInit()
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)

    def power_w(self) -> float:
        return self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1e3  # milliwatts

    def sm_clock_mhz(self) -> float:
        return float(self.nvml.nvmlDeviceGetClockInfo(self.handle, self.nvml.NVML_CLOCK_SM))

    def driver_version(self) -> str:
        version = self.nvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)

    def sampler(self, period_s: float = POWER_PERIOD_S) -> ThreadedSampler:
        return ThreadedSampler(self.power_w, "nvml", period_s)


def torch_environment(torch: Any, device: str, nvml: NvmlDevice | None) -> Environment:
    """The GPU (or, for tests, torch's CPU device) as a board: name, torch/CUDA/cuDNN/driver versions."""
    versions: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda or "none",
                                "python": platform.python_version()}
    if str(device).startswith("cuda"):
        name = torch.cuda.get_device_name(device)
        versions["cudnn"] = str(torch.backends.cudnn.version())
        versions["gpus"] = torch.cuda.device_count()
        threads = torch.cuda.get_device_properties(device).multi_processor_count
    else:
        name = f"torch-cpu {platform.processor() or platform.machine()}"
        threads = torch.get_num_threads()
    if nvml is not None:
        versions["driver"] = nvml.driver_version()
    return Environment(board="cuda", device_name=name, threads=threads,
                       clock_mhz=nvml.sm_clock_mhz() if nvml else math.nan, library_versions=versions,
                       power_source="nvml" if nvml else "none")


def _import_torch():
    try:
        import torch
    except ImportError:
        raise CosimInputError("board 'cuda' needs PyTorch: pip install 'cosim-hw[cuda]'") from None
    return torch


def _nvml_device(index: int) -> NvmlDevice | None:
    try:
        import pynvml
        return NvmlDevice(pynvml, index)
    except Exception:  # not installed, no driver, or no permission: no power readings
        return None


def measure_cuda(output: str | Path, which: str = "quick", resume: bool = False, overwrite: bool = False,
                 progress: bool = True, time_cap_s: float | None = None, device: str = "cuda",
                 cases: list[Case] | None = None) -> RunOutcome:
    """Measure the GPU ``device`` (``cpu`` runs the same path on torch's CPU device, for tests) into ``output``."""
    torch = _import_torch()
    on_gpu = str(device).startswith("cuda")
    if on_gpu and not torch.cuda.is_available():
        raise CosimInputError("board 'cuda': PyTorch sees no CUDA device (torch.cuda.is_available() is False)")
    path = prepare_output(output, resume, overwrite)
    index = torch.device(device).index or 0 if on_gpu else 0
    nvml = _nvml_device(index) if on_gpu else None
    env = torch_environment(torch, device, nvml)
    if cases is None:
        free = torch.cuda.mem_get_info(index)[0] if on_gpu else 4e9
        cases = cuda_cases(which, free, torch.cuda.device_count() if on_gpu else 1)
    timer = CudaEventTimer(torch) if on_gpu else HostTimer()
    policy = RepeatPolicy(time_cap_s=time_cap_s or TIME_CAPS_S[which])
    from cosim.calibration.torch_ops import lower_workload

    def lower(workload):
        try:
            return lower_workload(torch, workload, device)
        finally:
            if on_gpu:
                torch.cuda.synchronize()

    def release():
        if on_gpu:
            torch.cuda.empty_cache()
    with torch.inference_mode():
        return run_cases(cases, path, env, lower, timer, policy, progress=progress,
                         clock_mhz=nvml.sm_clock_mhz if nvml else (lambda: math.nan),
                         sampler=nvml.sampler() if nvml else None,
                         unsupported=(UnsupportedOp, torch.cuda.OutOfMemoryError if on_gpu else MemoryError),
                         after_case=release)
