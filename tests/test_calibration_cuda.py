"""The ``cuda`` board: its torch-free parts (CUDA-event timer, NVML device and power sampler, environment) driven by
fakes in every run; the PyTorch path on torch's CPU device where PyTorch is installed (skipped otherwise)."""

from __future__ import annotations

import importlib.util
import types

import pytest

from cosim.calibration.cuda import CudaEventTimer, NvmlDevice, measure_cuda, torch_environment
from cosim.calibration.schema import read_measurements
from cosim.calibration.suites import attention, conv, gemm, norm, softmax, stream
from cosim.calibration.timing import HostTimer, RepeatPolicy, measure

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (pip install 'cosim-hw[cuda]')")


class FakeEvent:
    clock = [0.0]

    def __init__(self, enable_timing: bool) -> None:
        assert enable_timing
        self.at = None

    def record(self) -> None:
        self.at = FakeEvent.clock[0]

    def synchronize(self) -> None:
        pass

    def elapsed_time(self, end: "FakeEvent") -> float:
        return end.at - self.at  # milliseconds


def fake_torch():
    return types.SimpleNamespace(cuda=types.SimpleNamespace(Event=FakeEvent))


def test_event_timer_converts_milliseconds_and_runs_every_call():
    calls = []

    def kernel():
        calls.append(1)
        FakeEvent.clock[0] += 2.0  # each launch takes 2 ms of GPU time
    assert CudaEventTimer(fake_torch()).elapsed(kernel, 3) == pytest.approx(0.006)
    assert len(calls) == 3


class FakeNvml:
    NVML_CLOCK_SM = 1

    def __init__(self) -> None:
        self.inited = False

    def nvmlInit(self):
        self.inited = True

    def nvmlDeviceGetHandleByIndex(self, i):
        return ("gpu", i)

    def nvmlDeviceGetPowerUsage(self, handle):
        return 350_000  # milliwatts

    def nvmlDeviceGetClockInfo(self, handle, which):
        assert which == self.NVML_CLOCK_SM
        return 1980

    def nvmlSystemGetDriverVersion(self):
        return b"550.54.15"


def test_nvml_device_reads_watts_clock_and_driver():
    dev = NvmlDevice(FakeNvml(), 0)
    assert dev.power_w() == 350.0 and dev.sm_clock_mhz() == 1980.0 and dev.driver_version() == "550.54.15"
    sampler = dev.sampler(period_s=0.001)
    assert sampler.source == "nvml"
    t = measure(lambda: sum(range(2000)), HostTimer(),
                RepeatPolicy(warmup_calls=0, min_sample_s=1e-3, window=2, target_spread=1.0, time_cap_s=0.5),
                sampler=sampler)
    assert t.mean_power_w == pytest.approx(350.0) and t.energy_j == pytest.approx(350.0 * t.median_s)


def test_environment_of_a_gpu_from_fakes():
    torch = types.SimpleNamespace(
        __version__="2.5.1", version=types.SimpleNamespace(cuda="12.4"),
        backends=types.SimpleNamespace(cudnn=types.SimpleNamespace(version=lambda: 90100)),
        cuda=types.SimpleNamespace(get_device_name=lambda d: "NVIDIA H200", device_count=lambda: 1,
                                   get_device_properties=lambda d: types.SimpleNamespace(multi_processor_count=132)))
    env = torch_environment(torch, "cuda", NvmlDevice(FakeNvml()))
    assert (env.board, env.device_name, env.threads, env.clock_mhz, env.power_source) == \
        ("cuda", "NVIDIA H200", 132, 1980.0, "nvml")
    assert env.library_versions["driver"] == "550.54.15" and env.library_versions["cudnn"] == "90100"


@needs_torch
def test_torch_path_on_the_cpu_device(tmp_path):
    cases = [gemm(32, 32, 32, "fp32"), conv(1, 4, 8, 8, 3, 1, "fp32"), attention(1, 4, 2, 8, 8, 8, "fp32", True),
             attention(1, 4, 2, 1, 16, 8, "fp32", True), softmax(4, 16, "fp32"), norm("rmsnorm", 4, 16, "fp32"),
             norm("layernorm", 4, 16, "fp32"), stream("triad", 1024, "fp32")]
    outcome = measure_cuda(tmp_path / "t.parquet", "tiny", device="cpu", cases=cases, progress=False,
                           time_cap_s=0.01)
    assert outcome.written == len(cases), outcome.skipped
    df = read_measurements(tmp_path / "t.parquet")
    assert set(df["board"]) == {"cuda"} and df["device_name"].iloc[0].startswith("torch-cpu")
    assert df["energy_j"].isna().all() and (df["median_s"] > 0).all()


@needs_torch
def test_torch_attention_matches_numpy_semantics():
    import torch

    from cosim.calibration.torch_ops import lower_op

    op = attention(1, 4, 2, 3, 5, 8, "fp64", True).workload.ops[0]
    fn = lower_op(torch, op, "cpu")
    out = fn()
    assert tuple(out.shape) == (1, 4, 3, 8) and not torch.isnan(out).any()


@pytest.mark.skipif(HAS_TORCH, reason="PyTorch is installed")
def test_without_torch_the_lowering_table_still_imports():
    from cosim.calibration import torch_ops

    assert "attention" in torch_ops.LOWERINGS and "bf16" in torch_ops.TORCH_DTYPES
