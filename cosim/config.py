"""The sweep config: YAML schema, validation with YAML-path error messages, and expansion into design points."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cosim.errors import CosimInputError

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
    """A whole sweep: hardware × workloads, the mapping objective and where results go."""

    name: str = "sweep"
    description: str = ""
    output: str | None = None
    objective: Literal["latency", "energy", "edp"] = "latency"
    hardware: list[HardwareEntry] = Field(min_length=1)
    workloads: list[WorkloadEntry] = Field(min_length=1)

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


def _yaml_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep config; every problem raises CosimInputError naming the YAML path."""
    path = Path(path)
    if not path.exists():
        raise CosimInputError("no such config file", str(path))
    return parse_config(path.read_text(), str(path))


def parse_config(text: str, source: str = "<config>", files: bool = True) -> SweepConfig:
    """A config from YAML text (read with the safe loader, never executed), validated as :func:`load_config` does;
    ``files=False`` refuses entries that name files to read (calibration overlays)."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise CosimInputError(f"malformed YAML: {where}{getattr(exc, 'problem', exc)}", source) from None
    if not isinstance(raw, dict):
        raise CosimInputError(f"expected a mapping with 'hardware' and 'workloads', got {type(raw).__name__}",
                              source)
    return validate_config(raw, source, files)


def validate_config(raw: dict[str, Any], source: str = "<config>", files: bool = True) -> SweepConfig:
    """Validate a config dict: schema, preset and workload names, override paths, grid values; ``files=False``
    refuses entries that name files to read (calibration overlays)."""
    try:
        cfg = SweepConfig(**raw)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelled key also leaves a required one missing: report the unknown key, which names the cause.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = _yaml_path(err["loc"])
        allowed = ""
        if err["type"] == "extra_forbidden":
            field_owner = {"hardware": HardwareEntry, "workloads": WorkloadEntry}.get(str(err["loc"][0]), SweepConfig)
            allowed = f"; allowed keys: {', '.join(field_owner.model_fields)}"
        elif err["type"] == "literal_error":
            allowed = f"; allowed: {err.get('ctx', {}).get('expected', '')}"
        raise CosimInputError(f"{loc}: {err['msg']} (got {err.get('input')!r}){allowed}", source) from None
    for i, entry in enumerate(cfg.hardware):
        if entry.calibration is not None and not files:
            raise CosimInputError(f"hardware[{i}].calibration: this config may not name files to read (got "
                                  f"{entry.calibration!r}); run it with `cosim sweep`", source)
        _check_calibration(entry, f"hardware[{i}]", source)
        _check_hardware(entry, f"hardware[{i}]", source)
    for i, entry in enumerate(cfg.workloads):
        _check_workload(entry, f"workloads[{i}]", source)
    return cfg


def _check_grid(grid: dict[str, list], where: str, source: str) -> None:
    for key, values in grid.items():
        if not isinstance(values, list):
            raise CosimInputError(f"{where}.grid.{key}: a grid axis must be a list of values, got {values!r}", source)
        if not values:
            raise CosimInputError(f"{where}.grid.{key}: empty grid axis; give at least one value", source)


def _check_hardware(entry: HardwareEntry, where: str, source: str) -> None:
    from hw_models.hardware import load_hardware
    from hw_models.preset import HardwareConfigError

    _check_grid(entry.grid, where, source)
    try:
        load_hardware(entry.preset)
    except HardwareConfigError as exc:
        raise CosimInputError(f"{where}.preset: {exc}", source) from None
    for key, value in entry.overrides.items():
        _check_override(entry.preset, {**entry.overrides}, f"{where}.overrides.{key}", source)
    for key, values in entry.grid.items():
        for j, value in enumerate(values):
            _check_override(entry.preset, {**entry.overrides, key: value}, f"{where}.grid.{key}[{j}]", source)


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


def _check_override(preset: str, overrides: dict, where: str, source: str) -> None:
    from hw_models.hardware import load_hardware
    from hw_models.preset import HardwareConfigError

    try:
        load_hardware(preset, overrides)
    except HardwareConfigError as exc:
        raise CosimInputError(f"{where}: {exc}", source) from None


def _check_workload(entry: WorkloadEntry, where: str, source: str) -> None:
    from cosim.workload_info import check_parameters
    from workloads import WorkloadParamError

    _check_grid(entry.grid, where, source)
    try:
        check_parameters(entry.model, {})
    except WorkloadParamError as exc:
        raise CosimInputError(f"{where}.model: {exc}", source) from None
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
