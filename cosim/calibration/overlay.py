"""Calibration overlays: the YAML file a fit writes (fitted values, standard errors, covariance, the measurements
used, the board, the measured range) and its application to a preset as dotted-path overrides. Presets are never
edited; an overlay is loaded on top of the one preset it was fitted for."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cosim.errors import CosimInputError
from hw_models.hardware import Hardware

VERSION = 1


@dataclass
class Overlay:
    """A fitted calibration. ``parameters``: dotted path → ``{value, stderr, preset, unit, bounds}``;
    ``covariance`` is over the parameters in that order."""

    hardware: str
    parameters: dict[str, dict[str, Any]]
    covariance: np.ndarray
    board: dict[str, Any] = field(default_factory=dict)
    measurements: list[str] = field(default_factory=list)
    fit: dict[str, Any] = field(default_factory=dict)
    ranges: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    source: str | None = None

    @property
    def paths(self) -> list[str]:
        return list(self.parameters)

    @property
    def values(self) -> dict[str, float]:
        """The fitted values as overrides of the preset."""
        return {path: entry["value"] for path, entry in self.parameters.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"calibration_version": VERSION, "hardware": self.hardware, "board": self.board,
                "parameters": {p: {k: _plain(v) for k, v in e.items()} for p, e in self.parameters.items()},
                "covariance": [[float(x) for x in row] for row in self.covariance],
                "measurements": list(self.measurements), "fit": {k: _plain(v) for k, v in self.fit.items()},
                "ranges": _plain(self.ranges), "skipped": list(self.skipped)}


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python numbers and lists (for YAML)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_overlay(overlay: Overlay, path: str | Path) -> Path:
    """Write ``overlay`` as YAML to ``path`` (the suffix must be .yaml or .yml)."""
    import yaml

    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        raise CosimInputError(f"an overlay is a YAML file; the name must end in .yaml or .yml, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(overlay.to_dict(), sort_keys=False, width=120))
    return path


def _number(value: Any, where: str, source: str, allow_nan: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (math.isnan(value) and not allow_nan):
        raise CosimInputError(f"{where}: expected a number, got {value!r}", source)
    return float(value)


def read_overlay(path: str | Path) -> Overlay:
    """Read and check an overlay file; a problem raises ``CosimInputError`` naming the file and the key."""
    import yaml

    path = Path(path)
    source = str(path)
    if not path.exists():
        raise CosimInputError("no such calibration overlay", source)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise CosimInputError(f"malformed YAML: {getattr(exc, 'problem', exc)}", source) from None
    if not isinstance(raw, dict):
        raise CosimInputError(f"expected a mapping with calibration_version, hardware and parameters, got "
                              f"{type(raw).__name__}", source)
    for key in ("calibration_version", "hardware", "parameters", "covariance"):
        if key not in raw:
            raise CosimInputError(f"missing key {key!r}; an overlay holds calibration_version, hardware, board, "
                                  f"parameters, covariance, measurements, fit", source)
    if raw["calibration_version"] != VERSION:
        raise CosimInputError(f"calibration_version: {raw['calibration_version']!r} is not one this cosim reads "
                              f"(allowed: {VERSION})", source)
    if not isinstance(raw["hardware"], str) or not raw["hardware"]:
        raise CosimInputError(f"hardware: expected a preset name, got {raw['hardware']!r}", source)
    params = raw["parameters"]
    if not isinstance(params, dict) or not params:
        raise CosimInputError(f"parameters: expected a mapping of dotted paths to {{value, stderr}}, got {params!r}",
                              source)
    parameters = {}
    for name, entry in params.items():
        if not isinstance(entry, dict) or "value" not in entry or "stderr" not in entry:
            raise CosimInputError(f"parameters.{name}: expected a mapping with value and stderr, got {entry!r}",
                                  source)
        parameters[str(name)] = {**entry, "value": _number(entry["value"], f"parameters.{name}.value", source),
                                 "stderr": _number(entry["stderr"], f"parameters.{name}.stderr", source, True)}
    cov = raw["covariance"]
    n = len(parameters)
    if not isinstance(cov, list) or len(cov) != n or any(not isinstance(r, list) or len(r) != n for r in cov):
        raise CosimInputError(f"covariance: expected a {n} x {n} list of lists (one row per parameter, in the "
                              f"order of parameters)", source)
    covariance = np.array([[_number(x, f"covariance[{i}][{j}]", source, True) for j, x in enumerate(r)]
                           for i, r in enumerate(cov)])
    for key, kind in (("board", dict), ("measurements", list), ("fit", dict), ("ranges", dict), ("skipped", list)):
        if key in raw and not isinstance(raw[key], kind):
            raise CosimInputError(f"{key}: expected a {kind.__name__}, got {raw[key]!r}", source)
    return Overlay(raw["hardware"], parameters, covariance, raw.get("board") or {},
                   [str(m) for m in raw.get("measurements") or []], raw.get("fit") or {}, raw.get("ranges") or {},
                   raw.get("skipped") or [], source)


@dataclass
class CalibratedHardware(Hardware):
    """A preset with a calibration overlay applied; ``fixed`` are the overlay's parameters the user overrode (they
    carry no fit uncertainty)."""

    calibration: Overlay | None = None
    fixed: tuple[str, ...] = ()

    @property
    def free_parameters(self) -> list[str]:
        """The overlay's parameters whose fitted uncertainty applies to this hardware."""
        return [p for p in self.calibration.paths if p not in self.fixed]


def as_overlay(calibration: Overlay | str | Path) -> Overlay:
    """An overlay object, read from a path where a path is given."""
    return calibration if isinstance(calibration, Overlay) else read_overlay(calibration)


def calibrated_hardware(name: str, overrides: dict[str, Any] | None, calibration: Overlay | str | Path,
                        force: bool = False, unit_cache: dict | None = None) -> CalibratedHardware:
    """Preset ``name`` with the overlay's fitted values and then ``overrides`` applied (an explicit override wins).
    An overlay fitted for another preset is an error unless ``force``."""
    from hw_models.hardware import load_hardware
    from hw_models.preset import read_preset

    overlay = as_overlay(calibration)
    preset = read_preset(name)
    if preset.name.lower() != overlay.hardware.lower() and not force:
        raise CosimInputError(f"hardware: the overlay was fitted for preset {overlay.hardware!r}, not {preset.name!r}; "
                              f"use it with {overlay.hardware!r} (or force it)", overlay.source)
    if preset.kind == "hetero":
        raise CosimInputError(f"{preset.name!r} is heterogeneous; an overlay applies to a single-device preset "
                              f"(calibrate a unit's preset and set it in the unit's overrides)", overlay.source)
    overrides = dict(overrides or {})
    hw = load_hardware(name, {**overlay.values, **overrides}, unit_cache)
    return CalibratedHardware(hw.name, hw.kind, hw.spec, hw.sources, hw.overrides, hw.params, overlay,
                              tuple(p for p in overlay.paths if p in overrides))
