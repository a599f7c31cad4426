"""The sweep config: YAML schema, validation with YAML-path error messages, and expansion into design points."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cosim.config_input import (check_hardware, check_model, check_override, parse_yaml_mapping,
                                read_yaml_mapping, validate_schema)
from cosim.errors import CosimInputError
from cosim.serving.sweep_entries import ServingEntry, check_entry

GridValue = list[Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HardwareEntry(_Strict):
    """A preset, fixed overrides, and a grid of overrides (dotted paths → lists of values); ``calibration``: an
    overlay file (from ``cosim calibrate fit``; a relative path is read from the config file's folder) whose fitted
    values apply under the overrides, adding error-bar columns (``latency_s_stderr`` …) and ``extrapolated`` to the
    results."""

    preset: str
    label: str | None = None
    calibration: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, GridValue] = Field(default_factory=dict)


class WorkloadEntry(_Strict):
    """A named workload, fixed parameters, and a grid of parameters (name → list of values)."""

    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, GridValue] = Field(default_factory=dict)


class SweepConfig(_Strict):
    """A whole sweep: hardware × workloads, the mapping objective and where results go; ``serving`` entries cross
    the hardware with schedulers and request rates (``cosim.serving.sweep_entries``)."""

    name: str = "sweep"
    description: str = ""
    output: str | None = None
    objective: Literal["latency", "energy", "edp"] = "latency"
    hardware: list[HardwareEntry] = Field(min_length=1)
    workloads: list[WorkloadEntry] = Field(default_factory=list)
    serving: list[ServingEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_run(self):
        if not self.workloads and not self.serving:
            raise ValueError("give 'workloads' (design points), 'serving' entries, or both")
        return self

    def output_dir(self, config_path: Path | None = None) -> Path:
        return Path(self.output) if self.output else Path("results") / self.name


@dataclass(frozen=True)
class HardwarePoint:
    entry: int
    preset: str
    label: str
    overrides: tuple[tuple[str, Any], ...]
    calibration: str | None = None  # overlay file, resolved
    calibration_digest: str | None = None  # its content's hash: a refitted overlay makes new point ids


@dataclass(frozen=True)
class WorkloadPoint:
    entry: int
    model: str
    params: tuple[tuple[str, Any], ...]


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep config; every problem raises CosimInputError naming the YAML path."""
    return validate_config(read_yaml_mapping(path, "'hardware' and 'workloads'"), str(path))


def parse_config(text: str, source: str = "<config>", files: bool = True) -> SweepConfig:
    """A config from YAML text (read with the safe loader, never executed), validated as :func:`load_config` does;
    ``files=False`` refuses entries that name files to read (calibration overlays)."""
    return validate_config(parse_yaml_mapping(text, source, "'hardware' and 'workloads'"), source, files)


def validate_config(raw: dict[str, Any], source: str = "<config>", files: bool = True) -> SweepConfig:
    """Validate a config dict: schema, preset and workload names, override paths, grid values; ``files=False``
    refuses entries that name files to read (calibration overlays)."""
    cfg = validate_schema(SweepConfig, raw, source)
    for i, entry in enumerate(cfg.hardware):
        if entry.calibration is not None and not files:
            raise CosimInputError(f"hardware[{i}].calibration: this config may not name files to read (got "
                                  f"{entry.calibration!r}); run it with `cosim sweep`", source)
        _check_calibration(entry, f"hardware[{i}]", source)
        _check_hardware(entry, f"hardware[{i}]", source)
    for i, entry in enumerate(cfg.workloads):
        _check_workload(entry, f"workloads[{i}]", source)
    for i, entry in enumerate(cfg.serving):
        check_entry(entry, f"serving[{i}]", source)
    return cfg


def _check_grid(grid: dict[str, list], where: str, source: str) -> None:
    for key, values in grid.items():
        if not isinstance(values, list):
            raise CosimInputError(f"{where}.grid.{key}: a grid axis must be a list of values, got {values!r}", source)
        if not values:
            raise CosimInputError(f"{where}.grid.{key}: empty grid axis; give at least one value", source)


def _check_hardware(entry: HardwareEntry, where: str, source: str) -> None:
    _check_grid(entry.grid, where, source)
    check_hardware(entry.preset, entry.overrides, where, source)
    for key, values in entry.grid.items():
        for j, value in enumerate(values):
            check_override(entry.preset, {**entry.overrides, key: value}, f"{where}.grid.{key}[{j}]", source)


def _check_calibration(entry: HardwareEntry, where: str, source: str) -> None:
    """Resolve the entry's overlay path (relative to the config file's folder) and check it fits the preset."""
    if entry.calibration is None:
        return
    from cosim.calibration.overlay import calibrated_hardware
    from hw_models.preset import HardwareConfigError

    path = Path(entry.calibration)
    if not path.is_absolute() and Path(source).is_file():
        path = Path(source).parent / path
    entry.calibration = str(path)
    try:
        calibrated_hardware(entry.preset, entry.overrides, path)
    except (CosimInputError, HardwareConfigError) as exc:
        raise CosimInputError(f"{where}.calibration: {exc}", source) from None


def _check_workload(entry: WorkloadEntry, where: str, source: str) -> None:
    from cosim.workload_info import check_parameters

    _check_grid(entry.grid, where, source)
    check_model(entry.model, f"{where}.model", source)
    overlap = set(entry.params) & set(entry.grid)
    if overlap:
        raise CosimInputError(f"{where}: {sorted(overlap)[0]!r} is both in params and grid; keep one", source)
    items = [(f"{where}.params.{k}", k, v) for k, v in entry.params.items()]
    items += [(f"{where}.grid.{k}[{j}]", k, v) for k, vs in entry.grid.items() for j, v in enumerate(vs)]
    for path, key, value in items:
        if problems := check_parameters(entry.model, {key: value}):
            raise CosimInputError(f"{path}: {problems[0][1]}", source)


def expand_grid(fixed: dict[str, Any], grid: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination of ``grid``'s lists (in order), each merged over the ``fixed`` values."""
    keys = list(grid)
    return [{**fixed, **dict(zip(keys, combo))} for combo in itertools.product(*(grid[k] for k in keys))]


def hardware_points(cfg: SweepConfig) -> list[HardwarePoint]:
    """Every hardware variant: each entry's fixed overrides plus one combination of its grid."""
    digests = {e.calibration: hashlib.sha1(Path(e.calibration).read_bytes()).hexdigest()[:16]
               for e in cfg.hardware if e.calibration}
    return [HardwarePoint(i, e.preset, e.label or e.preset, tuple(o.items()), e.calibration,
                          digests.get(e.calibration))
            for i, e in enumerate(cfg.hardware) for o in expand_grid(e.overrides, e.grid)]


def workload_points(cfg: SweepConfig) -> list[WorkloadPoint]:
    """Every workload variant: each entry's fixed params plus one combination of its grid."""
    return [WorkloadPoint(i, e.model, tuple(p.items()))
            for i, e in enumerate(cfg.workloads) for p in expand_grid(e.params, e.grid)]


def point_id(hw: HardwarePoint, wl: WorkloadPoint, objective: str) -> str:
    """A stable identifier of a design point (used by --resume)."""
    fields = [hw.preset, sorted(hw.overrides), wl.model, sorted(wl.params), objective]
    if hw.calibration_digest:  # uncalibrated points keep the ids they always had
        fields.append(hw.calibration_digest)
    key = json.dumps(fields, default=str)
    return hashlib.sha1(key.encode()).hexdigest()[:16]
