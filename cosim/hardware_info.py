"""Hardware presets as data: the catalog, one preset's parameters with sources and overrides, and the parameter
space its schema accepts (types, units, allowed ranges and values). Heterogeneous presets are described unit by unit
(``units.<unit>.<path>``), then their links and settings."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hw_models.hardware import load_hardware, schema_fields, schema_paths
from hw_models.hetero import HeteroSpec, Link, SETTINGS, apply_overrides as apply_hetero_overrides, flatten
from hw_models.kinds import COMPOSITE_KINDS, hardware_kind, kind_names
from hw_models.preset import HardwareConfigError, available_presets, read_preset, resolve_values, unit_of

PARAMETER_COLUMNS = ("path", "value", "unit", "source", "overridden", "preset_value", "preset_source", "expression")
SPACE_COLUMNS = ("path", "type", "unit", "value", "default", "minimum", "exclusive_minimum", "maximum",
                 "exclusive_maximum", "allowed")
CATALOG_COLUMNS = ("name", "kind", "description")
OVERRIDE_SOURCE = "override"
_IDENTITY = ("name", "kind", "description")


@dataclass
class HardwareDescription:
    """One preset as data. ``parameters`` has one row per parameter (:data:`PARAMETER_COLUMNS`): its dotted path,
    value in use, unit (from the name's suffix), source (``"override"`` when overridden), whether it is overridden,
    the preset's own value and source beside it, and the expression of a derived parameter (else None; on an
    overridden row, the preset's expression the override replaced)."""

    name: str
    kind: str
    description: str
    file: Path | None
    parameters: Any  # pandas.DataFrame
    overrides: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # heterogeneous devices: unit name -> its preset


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row(path: str, value: Any, overridden: bool, preset_value: Any, preset_source: str | None,
         expression: str | None = None) -> dict[str, Any]:
    return {"path": path, "value": value, "unit": unit_of(path) if _numeric(value) else "",
            "source": OVERRIDE_SOURCE if overridden else preset_source, "overridden": overridden,
            "preset_value": preset_value, "preset_source": preset_source, "expression": expression}


def _device_rows(preset_name: str, overrides: dict[str, Any], preset_overrides: dict[str, Any] | None = None,
                 preset_sources: dict[str, str] | None = None, prefix: str = "") -> list[dict[str, Any]]:
    """Rows of a single device, derived parameters re-evaluated after the overrides; ``preset_overrides`` (with
    ``preset_sources``) are part of its preset's values, as a heterogeneous preset's per-unit overrides are."""
    preset = read_preset(preset_name)
    optional = schema_paths(hardware_kind(preset.kind).spec_class)
    preset_overrides = preset_overrides or {}
    base = flatten(resolve_values(preset, preset_overrides, optional))
    current = flatten(resolve_values(preset, {**preset_overrides, **overrides}, optional))
    sources = {**preset.sources, **(preset_sources or {})}
    rows = []
    for path, value in current.items():
        if path in _IDENTITY:
            continue
        # A derived parameter's expression; on an overridden row it is the preset's, which the override replaced.
        expression = None if path in preset_overrides else preset.expressions.get(path)
        rows.append(_row(prefix + path, value, path in overrides, base.get(path), sources.get(path), expression))
    return rows


def _hetero_rows(preset, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a heterogeneous device: each unit's (``units.<unit>.<path>``), then its links and settings."""
    units = preset.values.get("units", {})
    rows: list[dict[str, Any]] = []
    for unit, ref in units.items():
        head = f"units.{unit}."
        for key in ref:
            if key != "overrides":
                rows.append(_row(head + key, ref[key], False, ref[key], preset.sources.get(head + key)))
        inherited = {p[len(head + "overrides."):]: s for p, s in preset.sources.items()
                     if p.startswith(head + "overrides.")}
        mine = {p[len(head):]: v for p, v in overrides.items() if p.startswith(head)}
        rows += _device_rows(ref["preset"], mine, flatten(ref.get("overrides") or {}), inherited, head)
    rest = {p: v for p, v in overrides.items() if not p.startswith("units.")}
    base = flatten(preset.values)
    for path, value in flatten(apply_hetero_overrides(preset.values, rest)).items():
        if path not in _IDENTITY and not path.startswith("units."):
            rows.append(_row(path, value, path in rest, base.get(path), preset.sources.get(path)))
    return rows


def describe_hardware(name: str, overrides: dict[str, Any] | None = None) -> HardwareDescription:
    """A preset's parameters with sources, after ``overrides`` (validated exactly as :func:`load_hardware` does)."""
    overrides = dict(overrides or {})
    hw = load_hardware(name, overrides)  # raises HardwareConfigError on a bad name, path or value
    preset = read_preset(name)
    if hw.kind == "hetero":
        rows = _hetero_rows(preset, overrides)
        units = {u: ref.preset for u, ref in hw.spec.units.items()}
    else:
        rows, units = _device_rows(name, overrides), {}
    return HardwareDescription(name=hw.name, kind=hw.kind, description=str(preset.values.get("description", "")),
                               file=preset.path, parameters=_frame(rows, PARAMETER_COLUMNS),
                               overrides=overrides, units=units)


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    """A DataFrame that keeps values as given (None stays None, an int stays an int), flags as booleans."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    for flag in ("overridden", "exclusive_minimum", "exclusive_maximum"):
        if flag in frame:
            frame[flag] = frame[flag].astype(bool)
    return frame


def _field_type(annotation: Any) -> tuple[str, tuple | None]:
    """A schema annotation as a type name and, for Literal (and lists of Literal) or bool, its allowed values."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "literal", tuple(args)
    if origin is list:
        return "list", (_field_type(args[0])[1] if args else None)
    if origin is dict:
        return "dict", None
    if args and type(None) in args:  # Optional[X]
        return _field_type(next(a for a in args if a is not type(None)))
    if annotation is bool:
        return "bool", (False, True)
    return getattr(annotation, "__name__", str(annotation)), None


def _space_rows(fields: list[tuple[str, Any]], values: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for path, info in fields:
        kind, allowed = _field_type(info.annotation)
        bounds: dict[str, Any] = {"minimum": None, "exclusive_minimum": False, "maximum": None,
                                  "exclusive_maximum": False}
        for meta in info.metadata:
            for attr, key, exclusive in (("gt", "minimum", True), ("ge", "minimum", False),
                                         ("lt", "maximum", True), ("le", "maximum", False)):
                if getattr(meta, attr, None) is not None:
                    bounds[key], bounds[f"exclusive_{key}"] = getattr(meta, attr), exclusive
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        unit = unit_of(prefix + path) if kind in ("int", "float") else ""
        rows.append({"path": prefix + path, "type": kind, "unit": unit, "value": values.get(prefix + path),
                     "default": default, **bounds, "allowed": allowed})
    return rows


def parameter_space(name: str) -> Any:
    """Every parameter a preset's schema accepts (:data:`SPACE_COLUMNS`): type, unit, the preset's value, the
    schema default, the allowed range (``minimum``/``maximum``, each possibly exclusive) and allowed values."""
    described = describe_hardware(name)
    values = dict(zip(described.parameters["path"], described.parameters["value"]))
    if described.kind != "hetero":
        rows = _space_rows(schema_fields(hardware_kind(described.kind).spec_class), values)
    else:
        spec = load_hardware(name).spec
        rows = []
        for unit, ref in spec.units.items():
            unit_kind = read_preset(ref.preset).kind
            rows += _space_rows(schema_fields(hardware_kind(unit_kind).spec_class), values, f"units.{unit}.")
        link_fields = [(p, i) for p, i in schema_fields(Link) if p != "between"]
        for link in spec.links:
            rows += _space_rows(link_fields, values, f"links.{link}.")
        rows += _space_rows([(p, i) for p, i in schema_fields(HeteroSpec) if p in SETTINGS], values)
    return _frame(rows, SPACE_COLUMNS)


def hardware_catalog(kind: str | None = None) -> Any:
    """Every preset (:data:`CATALOG_COLUMNS`), optionally only those of one device kind."""
    import pandas as pd

    kinds = (*kind_names(), *COMPOSITE_KINDS)
    if kind is not None and kind not in kinds:
        raise HardwareConfigError(f"unknown device kind {kind!r}; allowed: {', '.join(kinds)}")
    rows = []
    for key in available_presets():
        preset = read_preset(key)
        if kind is None or preset.kind == kind:
            rows.append({"name": preset.name, "kind": preset.kind,
                         "description": str(preset.values.get("description", ""))})
    return pd.DataFrame(rows, columns=CATALOG_COLUMNS)
