"""Values outside their physical domain are rejected where they enter, naming the parameter: NaN, infinite and
negative numbers for every numeric parameter of every preset (through the API and the CLI, exit status 2)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from cosim.api import available_hardware, describe_hardware, load_hardware
from hw_models.kinds import kind_names
from hw_models.preset import HardwareConfigError

PRESETS = [n for k in kind_names() for n in available_hardware(kind=k)["name"]]
BAD = (math.nan, math.inf, -math.inf, -1.0)


def _numeric(preset: str) -> list[str]:
    rows = describe_hardware(preset).parameters
    return [p for p, v in zip(rows["path"], rows["value"])
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


@pytest.mark.parametrize("preset", PRESETS)
def test_non_physical_values_are_rejected_with_the_parameter_named(preset):
    accepted = []
    for path in _numeric(preset):
        for bad in BAD:
            try:
                load_hardware(preset, {path: bad})
            except HardwareConfigError as exc:
                assert path.split(".")[-1] in str(exc), (path, bad, str(exc))
            else:
                accepted.append((path, bad))
    assert accepted == []


def test_cli_rejects_an_infinite_override_with_exit_2_and_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "run", "H100-SXM5-80GB", "llama-2-7b",
                           "--set", "memory.hbm_bandwidth_gbps=inf"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "memory.hbm_bandwidth_gbps" in proc.stderr and "finite" in proc.stderr
    assert "Traceback" not in proc.stderr
