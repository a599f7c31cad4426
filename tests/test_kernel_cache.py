"""Compiled kernels always load from the folder keyed on their sources, whatever was imported first: a kernel built
from older sources (Numba checks only the file of the function it compiles, not the functions it calls) must never be
loaded, or results are silently wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
import sys
if sys.argv[1] == "numba-first":
    import numba
    from mappings.placement_batch import assign_points
import numba
import hw_models
from cosim.engine import evaluate_points
from hw_models.hardware import load_hardware
from workloads import load_workload
assert numba.config.CACHE_DIR == hw_models._kernel_cache_dir(), (numba.config.CACHE_DIR, hw_models._kernel_cache_dir())
hw = load_hardware("NeuPIMs")
w = load_workload("gpt3-13b", phase="decode", tensor_parallel=4, batch=33, context=228)
print(repr(float(evaluate_points(hw, w, hw.params[None])["latency_s"][0])))
"""


def _latency(order: str) -> str:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, order], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_kernels_load_from_the_source_keyed_folder_when_numba_is_imported_first():
    assert _latency("numba-first") == _latency("cosim-first") != "nan"
