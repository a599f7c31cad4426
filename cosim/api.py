"""The public Python API: the same objects the CLI uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hw_models.hardware import Hardware, available_hardware, load_hardware
from cosim.engine import Result, simulate
from workloads import Workload, available_workloads, load_workload

__all__ = ["Hardware", "Result", "Workload", "available_hardware", "available_workloads", "load_hardware",
           "load_workload", "reproduction_table", "simulate", "sweep"]


def sweep(config: str | Path | dict[str, Any], output: str | Path | None = None, jobs: int | None = None,
          with_ops: bool = False, overwrite: bool = False, resume: bool = False, progress: bool = False):
    """Run a sweep from a YAML path or a config dict; returns a ``SweepOutcome`` whose ``results`` is a DataFrame."""
    from cosim.config import load_config, validate_config
    from cosim.report import plot_pareto, write_summary
    from cosim.runner import run_sweep

    cfg = validate_config(config) if isinstance(config, dict) else load_config(config)
    out = Path(output) if output else cfg.output_dir()
    outcome = run_sweep(cfg, out, jobs=jobs, with_ops=with_ops, overwrite=overwrite, resume=resume,
                        progress=progress)
    if not outcome.results.empty and outcome.results["feasible"].astype(bool).any():
        outcome.files["plot"] = plot_pareto(outcome.results, out / "pareto.png")
    outcome.files["summary"] = write_summary(outcome.results, out / "summary.md", cfg.name, outcome.elapsed_s,
                                             outcome.evaluated, outcome.files, outcome.interrupted)
    return outcome


def reproduction_table(claims: list[str] | None = None):
    """The paper-reproduction table as a DataFrame, one row per claim (all, or those named by record id such as
    ``m3vit-03/latency`` or by reference id such as ``m3vit-03``): paper value, tolerance, model value, relative error,
    whether it is within tolerance and, when not, why. An unknown id raises ``CosimInputError`` listing the ids."""
    from cosim.reproduce import reproduce

    return reproduce(claims)
