"""A preset's parameters as records: value after overrides, unit, source, expression and the preset's own value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hw_models.preset import Preset, leaf_paths, read_preset, resolve_values, unit_of, value_at

_META = ("name", "kind", "description")


@dataclass(frozen=True)
class ParameterRecord:
    """One parameter of a (possibly overridden) preset.

    ``value`` and ``preset_value`` are as written in the preset YAML, in the unit the name states (``unit``), not the
    SI values of the packed parameter vector. ``expression`` is the preset's expression for a derived parameter (in
    force unless ``overridden``); ``source`` is the preset's citation for the parameter.
    """

    path: str
    value: Any
    unit: str
    source: str
    expression: str | None
    preset_value: Any
    overridden: bool


def describe_parameters(preset: str | Preset, overrides: dict[str, Any] | None = None,
                        optional_paths: tuple[str, ...] = ()) -> list[ParameterRecord]:
    """Every parameter of ``preset`` (a name or a read preset) with ``overrides`` applied and derived values
    re-evaluated, in file order (parameters only an override adds come last)."""
    preset = read_preset(preset) if isinstance(preset, str) else preset
    overrides = dict(overrides or {})
    values = resolve_values(preset, overrides, optional_paths)
    return [ParameterRecord(path=path, value=value_at(values, path), unit=unit_of(path),
                            source=preset.sources.get(path, ""), expression=preset.expressions.get(path),
                            preset_value=value_at(preset.values, path), overridden=path in overrides)
            for path in leaf_paths(values) if path not in _META]
