"""The public Python API: what the CLI, serving, calibration and the app build on. Every function returns data
(dataclasses and pandas DataFrames); bad input raises one of :data:`INPUT_ERRORS` with a message naming the value
and what is allowed.

Hardware: :func:`available_hardware`, :func:`load_hardware`, :func:`describe_hardware`, :func:`parameter_space`.
Workloads: :func:`available_workloads`, :func:`load_workload`, :func:`describe_workload`,
:func:`workload_parameters`, :func:`import_onnx`, :func:`save_trace`.
Evaluation: :func:`simulate`, :func:`sweep`, :func:`pareto_front`, :func:`mapping_report`, :func:`serve`.
Published validation sets: :func:`validation_datasets`, :func:`validate_dataset`, :func:`write_dataset_figures`.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Any

from cosim.engine import Result, simulate
from cosim.errors import CosimInputError
from cosim.hardware_info import HardwareDescription, describe_hardware, hardware_catalog, parameter_space
from cosim.serving import Routing, ServingEstimate, serve
from cosim.workload_info import (WorkloadDescription, check_parameters, describe_workload, workload_catalog,
                                 workload_parameter_table)
from hw_models.hardware import Hardware, load_hardware
from hw_models.preset import HardwareConfigError
from workloads import Workload
from workloads.trace_io import TraceFormatError, save_trace
from workloads.transformer import WorkloadParamError

__all__ = ["INPUT_ERRORS", "Hardware", "HardwareDescription", "Result", "Routing", "ServingEstimate", "Workload",
           "WorkloadDescription", "available_hardware", "available_workloads", "best_mappings", "describe",
           "describe_hardware", "describe_workload", "import_onnx", "load_hardware", "load_workload",
           "mapping_report", "parameter_space", "pareto_front", "reproduction_cells", "reproduction_output",
           "reproduction_table", "save_trace", "serve", "simulate", "sweep", "workload_parameters",
           "write_reproduction_table", "validation_datasets", "validate_dataset", "dataset_figures_cells",
           "write_dataset_figures"]

# Every error that means bad input (a name, path, value or file), never a bug: the CLI prints it and exits with 2.
INPUT_ERRORS = (CosimInputError, HardwareConfigError, WorkloadParamError, TraceFormatError)


def available_hardware(kind: str | None = None):
    """Hardware presets as a DataFrame (name, kind, description), optionally of one device kind."""
    return hardware_catalog(kind)


def available_workloads(family: str | None = None):
    """Catalog workloads as a DataFrame (name, family, description), optionally of one family."""
    return workload_catalog(family)


def workload_parameters(name: str):
    """The parameters a catalog workload accepts, as a DataFrame (name, type, default, allowed, minimum)."""
    return workload_parameter_table(name)


def load_workload(name: str, **params: Any) -> Workload:
    """A catalog workload built with ``params`` (each checked against :func:`workload_parameters`), or a trace file
    (``.json``/``.parquet``) by path."""
    from workloads import load_workload as build

    if Path(name).suffix not in (".json", ".parquet"):
        params = {k: int(v) if isinstance(v, Integral) and not isinstance(v, bool) else v for k, v in params.items()}
        if problems := check_parameters(name, params):
            key, problem = problems[0]
            raise CosimInputError(f"workload {name!r}, {key}={params[key]!r}: {problem}")
    return build(name, **params)


def describe(name: str) -> HardwareDescription | WorkloadDescription:
    """A hardware preset or a catalog workload by name (case-insensitive); unknown names suggest close ones."""
    from workloads.naming import suggest

    hardware = {n.lower(): n for n in hardware_catalog()["name"]}
    if name.lower() in hardware:
        return describe_hardware(hardware[name.lower()])
    workloads = list(workload_catalog()["name"])
    if name.lower() in workloads:
        return describe_workload(name)
    names = [*hardware.values(), *workloads]
    raise CosimInputError(f"unknown name {name!r}; {suggest(name, names)}available: {', '.join(names)}")


def best_mappings(hardware: Hardware, workload: Workload, op: int, objective: str = "latency", top: int = 5):
    """The ``top`` best mappings of op ``op`` as a DataFrame, best first: the mapping's fields and its named costs."""
    from cosim.mapping_query import best_mappings as query

    return query(hardware, workload, op, objective, top)


def mapping_report(hardware: Hardware, workload: Workload, op: int | None = None, objective: str = "latency",
                   top: int = 5) -> str:
    """Text: the ops with a searched mapping (``op`` None), or op ``op``'s best mapping and ``top`` runners-up."""
    from cosim.mapview import check_kind, check_op, describe, op_list
    from workloads.table import op_table

    if top < 1:
        raise CosimInputError(f"top must be >= 1, got {top}")
    table = op_table(workload)
    if op is None:
        return op_list(workload, table, hardware)
    check_kind(hardware)
    check_op(workload, table, hardware, op)
    return describe(hardware, workload, table, op, objective, best_mappings(hardware, workload, op, objective, top))


def import_onnx(model: str | Path, **bindings: Any) -> Workload:
    """An ONNX model as a workload trace; ``bindings`` fix symbolic dims (``batch=8``) or input shapes."""
    from workloads.onnx_import import import_onnx as convert

    return convert(model, **bindings)


def pareto_front(results):
    """The Pareto points of a sweep's results per task, best throughput first, with the swept parameters."""
    from cosim.report import pareto_table

    return pareto_table(results)


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


def reproduction_cells(table) -> tuple[list[str], list[list[str]]]:
    """The reproduction table as text for display: the header and one row of cells per claim."""
    from cosim.reproduce.table import DISPLAY_HEADER, display_rows

    return list(DISPLAY_HEADER), display_rows(table)


def reproduction_output(path: str | Path) -> Path:
    """``path`` checked as a reproduction-table file (``.csv`` or ``.md``); another suffix raises
    ``CosimInputError``."""
    from cosim.reproduce.table import output_path

    return output_path(str(path))


def write_reproduction_table(table, path: str | Path) -> Path:
    """Write the reproduction table as ``.csv`` or ``.md``; a markdown file holding a ``<!-- reproduce:start -->``
    block (the README) gets only that block replaced."""
    from cosim.reproduce.table import write

    out = reproduction_output(path)
    write(table, out)
    return out


# --- calibration: datasets ---
def validation_datasets():
    """The vendored published validation sets as a DataFrame (name, title, entries, hardware, sources)."""
    from cosim.calibration.dataset_eval import catalog

    return catalog()


def validate_dataset(name: str):
    """The presets' error on published validation set ``name`` (``all``: every set): a ``DatasetValidation`` with
    ``entries`` (measured, predicted, error per entry), ``skipped`` (with the reason) and ``summary`` (MAPE and
    count per dataset and preset). An unknown name raises ``CosimInputError`` listing the sets."""
    from cosim.calibration.dataset_eval import validate

    return validate(name)


def dataset_figures_cells(result) -> tuple[list[str], list[list[str]]]:
    """A dataset validation's per-preset summary as text for display: the header and one row of cells each."""
    from cosim.calibration.dataset_eval import SUMMARY_HEADER, summary_rows

    return list(SUMMARY_HEADER), summary_rows(result.summary)


def write_dataset_figures(result, path: str | Path) -> Path:
    """Write a dataset validation as ``.csv`` (every entry, skipped ones with their reason) or ``.md`` (the
    per-preset figures; a file holding a ``<!-- validate-datasets:start -->`` block, the README, gets only that block
    replaced); another suffix raises ``CosimInputError``."""
    from cosim.calibration.dataset_eval import write

    return write(result, Path(path))


# --- calibration: measurement ---
MEASUREMENT_BOARDS = ("host-cpu", "cuda")  # boards `measure_board` runs on; SDK boards come in through convert_board_csv


def measure_board(board: str, output: str | Path, which: str = "quick", resume: bool = False,
                  overwrite: bool = False, progress: bool = False, time_cap_s: float | None = None):
    """Run the ``which`` microbenchmark set (``tiny``, ``quick``, ``full``) of ``board`` on this machine and append
    each row to the measurement table ``output`` (Parquet) as soon as it is timed. An existing file needs ``resume``
    (measure only the cases it lacks) or ``overwrite``. Returns a ``RunOutcome`` (rows written, skipped cases,
    seconds, whether it was interrupted)."""
    from cosim.calibration.suites import SETS

    if which not in SETS:
        raise CosimInputError(f"measurement set {which!r} is unknown; allowed: {', '.join(SETS)}")
    if time_cap_s is not None and not time_cap_s > 0:
        raise CosimInputError(f"time cap must be > 0 seconds, got {time_cap_s}")
    if board == "host-cpu":
        from cosim.calibration.host_cpu import measure_host_cpu

        return measure_host_cpu(output, which, resume=resume, overwrite=overwrite, progress=progress,
                                time_cap_s=time_cap_s)
    if board == "cuda":
        from cosim.calibration.cuda import measure_cuda

        return measure_cuda(output, which, resume=resume, overwrite=overwrite, progress=progress,
                            time_cap_s=time_cap_s)
    from cosim.calibration.sdk_boards import SDK_BOARDS

    hint = f"; {board} is measured with its SDK: use convert_board_csv" if board in SDK_BOARDS else ""
    raise CosimInputError(f"board {board!r} cannot be measured here{hint}; allowed: {', '.join(MEASUREMENT_BOARDS)}")


def read_measurements(path: str | Path):
    """A measurement table (Parquet) as a DataFrame, validated: a missing column, a wrong type or unit, a
    non-positive time or an unknown board raises ``CosimInputError`` naming the file and the column."""
    from cosim.calibration.schema import read_measurements as read

    return read(path)


def measured_workload(row) -> Workload:
    """The workload a measurement-table row measured (one op for ``scope='op'``)."""
    from cosim.calibration.schema import measured_workload as rebuild

    return rebuild(row)


def measurement_rates(table):
    """Per row of a measurement table: label, median time (s), spread, whether the cap stopped it, and the
    achieved GFLOP/s and GB/s (compulsory bytes) of the measured workload."""
    from cosim.calibration.rates import achieved_rates

    return achieved_rates(table)


def convert_board_csv(csv: str | Path, board: str, output: str | Path, overwrite: bool = False) -> Path:
    """Convert a CSV of measurements taken with a board's own SDK (template:
    ``cosim/calibration/templates/sdk_board_template.csv``) into a measurement table at ``output``."""
    from cosim.calibration.sdk_boards import convert

    return convert(csv, board, output, overwrite=overwrite)
