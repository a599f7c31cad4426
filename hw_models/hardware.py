"""`Hardware`: a preset with overrides applied, validated and packed into the kernels' parameter vector — for a
single device (`load_hardware`) or a heterogeneous device of several units joined by links (`HeteroHardware`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hw_models.hetero import HeteroSpec, SETTINGS, apply_overrides as apply_hetero_overrides, flatten, pack_links
from hw_models.hetero import pack_settings
from hw_models.kind import HardwareKind
from hw_models.kinds import hardware_kind
from hw_models.preset import HardwareConfigError, Preset, available_presets, read_preset, reevaluate, resolve_values


@dataclass
class Hardware:
    """A device preset with overrides applied and validated; ``params`` is the kernels' parameter vector."""

    name: str
    kind: str
    spec: Any
    sources: dict[str, str]
    overrides: dict[str, Any] = field(default_factory=dict)
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def device(self) -> HardwareKind:
        return hardware_kind(self.kind)

    def param(self, name: str) -> float:
        """One packed parameter in SI units (``hbm_bw``, ``idle_w`` …)."""
        return float(self.params[self.device.param_index[name]])


@dataclass
class HeteroHardware(Hardware):
    """A device of several units. ``params`` = each unit's parameter vector, then the links, then the settings."""

    units: dict[str, Hardware] = field(default_factory=dict)

    @property
    def device(self) -> HardwareKind:
        raise HardwareConfigError(f"{self.name!r} is a heterogeneous device; its units have kinds: "
                                  + ", ".join(f"{n}={u.kind}" for n, u in self.units.items()))

    def slices(self) -> dict[str, slice]:
        """Where each unit's parameters, the links and the settings sit in ``params``."""
        out, start = {}, 0
        for name, unit in self.units.items():
            out[name] = slice(start, start + len(unit.params))
            start += len(unit.params)
        out["links"] = slice(start, start + 3 * len(self.spec.links))
        out["settings"] = slice(out["links"].stop, out["links"].stop + len(SETTINGS))
        return out

    def unit_param(self, row: np.ndarray, unit: str, name: str) -> float:
        """One packed parameter of one unit, read from a hetero parameter vector ``row``."""
        hw = self.units[unit]
        return float(row[self.slices()[unit]][hw.device.param_index[name]])


def format_validation_error(exc: Exception, prefix: str = "") -> str:
    """Turn a pydantic ValidationError into lines of 'dotted.path: problem (got value)'."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    lines = []
    for err in errors():
        loc = ".".join(str(part) for part in err["loc"])
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        lines.append(f"{path}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def schema_fields(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, pydantic FieldInfo) of every leaf a pydantic spec class accepts, nested sections expanded."""
    from pydantic import BaseModel

    fields: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields += schema_fields(annotation, path)
        elif name not in ("name", "kind", "description"):
            fields.append((path, info))
    return fields


def schema_paths(model: Any, prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of every leaf a pydantic spec class accepts."""
    return tuple(path for path, _ in schema_fields(model, prefix))


def _validated(spec_class: Any, values: dict[str, Any], name: str) -> Any:
    from pydantic import ValidationError

    try:
        return spec_class(**values)
    except ValidationError as exc:
        raise HardwareConfigError(f"hardware {name!r}: {format_validation_error(exc)}") from None


def load_hardware(name: str, overrides: dict[str, Any] | None = None,
                  unit_cache: dict | None = None) -> Hardware:
    """Resolve a preset by name, apply dotted-path overrides, validate, and pack its parameters.

    ``unit_cache`` (a dict the caller owns, e.g. for one sweep) keeps the units of heterogeneous presets loaded by
    earlier calls, so a unit whose preset and overrides are unchanged is validated once."""
    preset = read_preset(name)
    if preset.kind == "hetero":
        return load_hetero(preset, overrides, unit_cache)
    overrides = dict(overrides or {})
    kind = hardware_kind(preset.kind)
    values = resolve_values(preset, overrides, schema_paths(kind.spec_class))
    spec = _validated(kind.spec_class, values, preset.name)
    return Hardware(name=preset.name, kind=preset.kind, spec=spec, sources=preset.sources, overrides=overrides,
                    params=kind.pack(spec))


def load_hetero(preset: Preset, overrides: dict[str, Any] | None = None,
                unit_cache: dict | None = None) -> HeteroHardware:
    """Validate a ``kind: hetero`` preset (with dotted-path overrides) and load each unit's preset (through
    ``unit_cache`` when given: see :func:`load_hardware`)."""
    overrides = dict(overrides or {})
    values = reevaluate(preset, apply_hetero_overrides(preset.values, overrides), overrides)
    spec = _validated(HeteroSpec, values, preset.name)
    units: dict[str, Hardware] = {}
    for name, ref in spec.units.items():
        unit_overrides = flatten(ref.overrides)
        key = (ref.preset.lower(), repr(sorted(unit_overrides.items())))
        try:
            unit = unit_cache.get(key) if unit_cache is not None else None
            if unit is None:
                unit = load_hardware(ref.preset, unit_overrides)
                if unit_cache is not None:
                    unit_cache[key] = unit
        except HardwareConfigError as exc:
            raise HardwareConfigError(f"hardware {preset.name!r}: units.{name}: {exc}") from None
        if unit.kind == "hetero":
            raise HardwareConfigError(f"hardware {preset.name!r}: units.{name}.preset: {ref.preset!r} is itself "
                                      f"heterogeneous; a unit must be a single device")
        units[name] = unit
    return compose_hetero(preset.name, spec, units, preset.sources, overrides)


def compose_hetero(name: str, spec: HeteroSpec, units: dict[str, Hardware], sources: dict[str, str] | None = None,
                   overrides: dict[str, Any] | None = None) -> HeteroHardware:
    """A heterogeneous device from loaded units and a validated spec (links, pins, settings)."""
    params = np.concatenate([u.params for u in units.values()] + [pack_links(spec), pack_settings(spec)])
    return HeteroHardware(name=name, kind="hetero", spec=spec, sources=dict(sources or {}),
                          overrides=dict(overrides or {}), params=params, units=dict(units))


def available_hardware() -> list[str]:
    """Preset names accepted by :func:`load_hardware`."""
    return [read_preset(n).name for n in available_presets()]
