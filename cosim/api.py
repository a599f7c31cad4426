"""The public Python API: what the CLI, serving, calibration and the app build on. Every function returns data
(dataclasses and pandas DataFrames); bad input raises one of :data:`INPUT_ERRORS` with a message naming the value
and what is allowed.

Hardware: :func:`available_hardware`, :func:`load_hardware`, :func:`describe_hardware`, :func:`parameter_space`.
Workloads: :func:`available_workloads`, :func:`load_workload`, :func:`describe_workload`,
:func:`workload_parameters`, :func:`workload_ops`, :func:`import_onnx`, :func:`save_trace`.
Evaluation: :func:`simulate`, :func:`sweep`, :func:`pareto_front`, :func:`mapping_report`, :func:`mappable_ops`,
:func:`serve`.
Sweep configs and design points: :func:`parse_config`, :func:`check_config`, :func:`count_points`,
:func:`read_results`, :func:`point_inputs`, :func:`load_point`, :func:`point_config`, :func:`config_yaml`.
Request-level serving: :func:`serve_study`, :func:`load_serving_config`, :func:`serving_datasets`, and the pieces
a study is made of (``ServingConfig``, ``generate_requests``, ``predictor_for``, ``simulate_system``,
``capacity_search``).
Measurement: :func:`measure_board`, :func:`read_measurements`, :func:`measured_workload`,
:func:`measurement_rates`, :func:`convert_board_csv`.
Calibration: :func:`fit_calibration`, :func:`read_calibration`, :func:`write_calibration`,
:func:`validate_calibration` (and ``load_hardware(..., calibration=overlay)``).
Published validation sets: :func:`validation_datasets`, :func:`validate_dataset`, :func:`write_dataset_figures`.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Any

from cosim.engine import Result
from cosim.engine import simulate as simulate_preset
from cosim.errors import CosimInputError
from cosim.hardware_info import HardwareDescription, describe_hardware, hardware_catalog, parameter_space
from cosim.serving import Routing, ServingEstimate, serve
from cosim.workload_info import (WorkloadDescription, check_parameters, describe_workload, workload_catalog,
                                 workload_parameter_table)
from hw_models.hardware import Hardware
from hw_models.hardware import load_hardware as load_preset
from hw_models.preset import HardwareConfigError
from workloads import Workload
from workloads.trace_io import TraceFormatError, save_trace
from workloads.transformer import WorkloadParamError

# Serving building blocks, imported on first use (they pull in SimPy and the step-cost engine): name -> module.
SERVING_PIECES = {"ServingConfig": "cosim.serving.spec", "StudyResult": "cosim.serving.study",
                  "generate_requests": "cosim.serving.traffic", "predictor_for": "cosim.serving.step_cost",
                  "simulate_system": "cosim.serving.simulation", "capacity_search": "cosim.serving.capacity"}

__all__ = ["Hardware", "HardwareDescription", "INPUT_ERRORS", "Result", "Routing", "ServingEstimate", "Workload",
           "WorkloadDescription", "available_hardware", "available_workloads", "best_mappings", "check_config",
           "config_yaml", "convert_board_csv", "count_points", "dataset_figures_cells", "describe",
           "describe_hardware", "describe_workload", "explorer_script", "fit_calibration", "import_onnx",
           "load_hardware", "load_point", "load_serving_config", "load_workload", "mappable_ops", "mapping_report",
           "measure_board", "measured_workload", "measurement_rates", "parameter_space", "pareto_front",
           "parse_config", "point_config", "point_inputs", "read_calibration", "read_measurements", "read_results",
           "reproduction_cells", "reproduction_output", "reproduction_table", "save_trace", "serve", "serve_study",
           "serving_datasets", "simulate", "sweep", "validate_calibration", "validate_dataset", "validation_datasets",
           "workload_ops", "workload_parameters", "write_calibration", "write_dataset_figures",
           "write_reproduction_table", *SERVING_PIECES]

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


def workload_ops(workload: Workload):
    """A workload's ops as a DataFrame, one row each: kind, count, dims, MACs, FLOPs, bytes, parameters and
    arithmetic intensity (totals over the op's count)."""
    from cosim.workload_info import op_summary

    return op_summary(workload)


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


def mappable_ops(hardware: Hardware, workload: Workload) -> list[int]:
    """Indices of the ops whose mapping is searched on ``hardware`` (those :func:`mapping_report` can show); a kind
    whose ops run fixed kernels raises ``CosimInputError``."""
    from cosim.mapview import check_kind, mappable_ops as mapped
    from workloads.table import op_table

    check_kind(hardware)
    return mapped(hardware, op_table(workload))


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
          with_ops: bool = False, overwrite: bool = False, resume: bool = False, progress: bool = False,
          on_batch=None):
    """Run a sweep from a YAML path or a config dict; returns a ``SweepOutcome`` whose ``results`` is a DataFrame.
    ``on_batch(done, total)`` is called after each evaluated batch (points done so far, points to do)."""
    from cosim.config import load_config, validate_config
    from cosim.report import plot_pareto, write_summary
    from cosim.runner import run_sweep

    cfg = validate_config(config) if isinstance(config, dict) else load_config(config)
    out = Path(output) if output else cfg.output_dir()
    outcome = run_sweep(cfg, out, jobs=jobs, with_ops=with_ops, overwrite=overwrite, resume=resume,
                        progress=progress, on_batch=on_batch)
    if not outcome.results.empty and outcome.results["feasible"].astype(bool).any():
        outcome.files["plot"] = plot_pareto(outcome.results, out / "pareto.png")
    outcome.files["summary"] = write_summary(outcome.results, out / "summary.md", cfg.name, outcome.elapsed_s,
                                             outcome.evaluated, outcome.files, outcome.interrupted)
    return outcome


def parse_config(text: str, source: str = "<config>", files: bool = True):
    """A sweep config from YAML text (safe loader, never executed), validated exactly as ``cosim sweep`` validates
    a file: any problem raises ``CosimInputError`` naming ``source``, the YAML path, the value and what is allowed.
    ``files=False`` (text from elsewhere, such as an upload) refuses entries naming files to read."""
    from cosim.config import parse_config as parse

    return parse(text, source, files)


def check_config(config: dict[str, Any], source: str = "<config>"):
    """A sweep config dict validated as ``cosim sweep`` validates a file (returns the ``SweepConfig``)."""
    from cosim.config import validate_config

    return validate_config(config, source)


def count_points(config: dict[str, Any], source: str = "<config>") -> int:
    """How many design points a sweep config expands to (hardware variants x workload variants; the runs of its
    serving entries are not design points)."""
    from cosim.config import hardware_points, workload_points

    cfg = check_config(config, source)
    return len(hardware_points(cfg)) * len(workload_points(cfg))


def config_yaml(config: dict[str, Any], serving: bool = False) -> str:
    """A sweep config dict (``serving``: a serving config dict) as YAML text that ``cosim sweep`` (``cosim serve``)
    reads back to the same config; checked first, so a bad config raises ``CosimInputError``."""
    import yaml

    if serving:
        from cosim.serving.load import validate_serving_config

        validate_serving_config(config)
    else:
        check_config(config)
    return yaml.safe_dump(config, sort_keys=False)


def serving_datasets() -> list[str]:
    """The request-length profiles a serving config's ``traffic.dataset`` may name."""
    from cosim.serving.datasets import names

    return names()


RESULT_COLUMNS = ("point_id", "hardware", "preset", "workload", "feasible")  # what every results table has


def read_results(folder: str | Path):
    """A results folder written by :func:`sweep` (or ``cosim sweep``): ``(results, ops)`` DataFrames, ``ops``
    None when the sweep did not write per-op detail. A folder without ``results.parquet``, a file that is not
    Parquet or a table without cosim's columns raises ``CosimInputError`` naming the file."""
    import pandas as pd

    folder = Path(folder)
    table = folder / "results.parquet"
    if not table.is_file():
        raise CosimInputError("not a results folder: no results.parquet (run `cosim sweep CONFIG -o FOLDER`)",
                              str(folder))
    ops = folder / "ops.parquet"
    frames = []
    for path, needed in ((table, RESULT_COLUMNS), (ops, ("point_id", "op", "time_s", "energy_j"))):
        if not path.is_file():
            frames.append(None)
            continue
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:  # pyarrow's errors for a file that is not Parquet derive from these
            raise CosimInputError(f"not a Parquet table: {type(exc).__name__}: {exc}", str(path)) from None
        if missing := [c for c in needed if c not in frame.columns]:
            raise CosimInputError(f"not a cosim results table: missing column(s) {', '.join(missing)}", str(path))
        frames.append(frame)
    return frames[0], frames[1]


def point_inputs(row):
    """What defines the design point of a results row: preset, overrides, calibration, model and parameters."""
    from cosim.points import point_inputs as inputs

    return inputs(row)


def load_point(row) -> tuple[Hardware, Workload]:
    """The hardware and workload of a results row, ready for :func:`simulate` and :func:`mapping_report`."""
    inputs = point_inputs(row)
    hardware = load_hardware(inputs.preset, inputs.overrides, calibration=inputs.calibration)
    return hardware, load_workload(inputs.model, **inputs.params)


def point_config(rows, objective: str = "latency", name: str = "points") -> dict[str, Any]:
    """A sweep config dict whose design points include every results row of ``rows`` (a list of rows or a
    DataFrame): one hardware entry per hardware variant, one workload entry per workload variant."""
    from cosim.points import point_config as config

    if hasattr(rows, "iterrows"):
        rows = [row for _, row in rows.iterrows()]
    return config(list(rows), objective, name)


def explorer_script() -> Path:
    """The explorer's Streamlit entry script (``app/main.py``, installed beside cosim)."""
    script = Path(__file__).resolve().parents[1] / "app" / "main.py"
    if not script.is_file():
        raise CosimInputError(f"the explorer is not installed: no {script}")
    return script


def load_serving_config(path: str | Path):
    """A serving config file read and validated (a ``ServingConfig``); bad input raises ``CosimInputError`` naming
    the file, the YAML path, the value and what is allowed."""
    from cosim.serving.load import load_serving_config as load

    return load(path)


def serve_study(config: str | Path | dict[str, Any], output: str | Path | None = None,
                rates: list[float] | None = None, capacity: bool = False, requests: int | None = None,
                progress: bool = False):
    """Run a serving study from a YAML path, a config dict or a ``ServingConfig``: every system at every rate
    (``rates`` replaces the config's), ``requests`` requests per run when given, and each system's capacity when the
    config has a ``capacity`` section or ``capacity`` is set. The results folder is ``output``, else the config's
    ``output``, else ``results/NAME``. Returns a ``StudyResult`` (``summary``, ``capacity``, ``runs``, ``files``)."""
    from cosim.serving.load import load_serving_config as load, validate_serving_config, with_overrides
    from cosim.serving.spec import ServingConfig
    from cosim.serving.study import run_study

    if isinstance(config, (dict, ServingConfig)):
        cfg, source = validate_serving_config(config), "<config>"
    else:
        cfg, source = load(config), str(config)
    cfg = with_overrides(cfg, rates, capacity, requests, source)
    out = Path(output or cfg.output or Path("results") / cfg.name)
    return run_study(cfg, progress=progress, output=out)


def __getattr__(name: str):
    if name in SERVING_PIECES:
        import importlib

        return getattr(importlib.import_module(SERVING_PIECES[name]), name)
    raise AttributeError(f"module 'cosim.api' has no attribute {name!r}")


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


# --- calibration: fit ---


def load_hardware(name: str, overrides: dict[str, Any] | None = None, unit_cache: dict | None = None,
                  calibration: Any = None, force: bool = False) -> Hardware:
    """A preset by name with dotted-path ``overrides``; with ``calibration`` (an overlay file or one read by
    :func:`read_calibration`) its fitted values are applied first, and :func:`simulate` then reports error bars.
    An overlay fitted for another preset raises ``CosimInputError`` unless ``force``."""
    if calibration is None:
        return load_preset(name, overrides, unit_cache)
    from cosim.calibration.overlay import calibrated_hardware

    return calibrated_hardware(name, overrides, calibration, force, unit_cache)


def simulate(hardware: Hardware, workload: Workload, objective: str = "latency") -> Result:
    """Evaluate one workload on one hardware point; the result carries totals and a per-op table. On calibrated
    hardware the totals also hold ``<metric>_stderr`` (the fit's uncertainty propagated to latency, throughput,
    energy, power) and ``extrapolated`` (the ops outside the measured range; '' when none)."""
    result = simulate_preset(hardware, workload, objective)
    if getattr(hardware, "calibration", None) is not None and result.totals["feasible"]:
        from cosim.calibration.uncertainty import calibration_columns

        columns = calibration_columns([hardware], workload, objective)
        result.totals.update({key: (value[0].item() if hasattr(value[0], "item") else value[0])
                              for key, value in columns.items()})
    return result


def read_calibration(path: str | Path):
    """A calibration overlay file, checked (a bad key raises ``CosimInputError`` naming the file and the key)."""
    from cosim.calibration.overlay import read_overlay

    return read_overlay(path)


def write_calibration(overlay, path: str | Path) -> Path:
    """Write an overlay (from :func:`fit_calibration`) as YAML."""
    from cosim.calibration.overlay import write_overlay

    return write_overlay(overlay, path)


def fit_calibration(measurements: str | Path, hardware: str, parameters: list[str] | None = None,
                    force: bool = False):
    """Fit ``parameters`` of preset ``hardware`` (default: its device kind's fittable ones) to a measurement table;
    returns the overlay (fitted values, standard errors, covariance, measurements used, skipped ones with why).
    Measurements from a board that cannot describe the preset's kind raise ``CosimInputError`` unless ``force``."""
    from cosim.calibration.schema import read_measurements as read_table
    from cosim.calibration.fit import fit

    return fit(read_table(measurements), str(measurements), hardware, parameters, force=force)


def validate_calibration(measurements: str | Path, hardware: str | None = None, calibration: Any = None,
                         parameters: list[str] | None = None, folds: int | None = None, split: str | None = None,
                         output: str | Path | None = None, force: bool = False):
    """Held-out validation on a measurement table: fit on K-1 folds (default 5) and predict the held-out one, or
    hold out the rows where ``split`` (``COLUMN=VALUE``) matches; MAPE per op kind, per-op and end-to-end, before
    (the preset) and after calibration, with the fitted parameter count. ``calibration`` (an overlay) names the
    preset and the parameters to refit, and its own in-sample error is reported beside. With ``output`` the
    predictions, summary, plot and report are written there. Returns a ``Validation``."""
    from cosim.calibration.schema import read_measurements as read_table
    from cosim.calibration.overlay import as_overlay
    from cosim.calibration.validate import validate, write

    if folds is not None and split is not None:
        raise CosimInputError("give --folds or --split, not both")
    overlay = as_overlay(calibration) if calibration is not None else None
    if overlay is not None:
        if hardware is not None and hardware.lower() != overlay.hardware.lower() and not force:
            raise CosimInputError(f"hardware: the overlay was fitted for {overlay.hardware!r}, not {hardware!r}",
                                  overlay.source)
        hardware = hardware or overlay.hardware
        parameters = parameters or overlay.paths
    if hardware is None:
        raise CosimInputError("name the preset to validate (--hardware PRESET) or give an overlay (--calibration)")
    result = validate(read_table(measurements), str(measurements), hardware, parameters, folds, split, overlay, force)
    if output is not None:
        write(result, Path(output))
    return result
