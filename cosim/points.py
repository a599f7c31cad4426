"""Design points read back from a sweep's results table: the preset, overrides and workload parameters of a row, the
hardware and workload they build, and the sweep config that reproduces a set of rows from the command line."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from cosim.errors import CosimInputError


@dataclass(frozen=True)
class PointInputs:
    """What defines one design point: a preset with overrides (and an optional calibration overlay file), and a
    catalog workload with its parameters."""

    preset: str
    model: str
    overrides: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    calibration: str | None = None
    label: str | None = None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A table cell as a plain Python value (numpy scalars unwrapped)."""
    return value.item() if hasattr(value, "item") else value


def _workload_value(spec_type: str, value: Any) -> Any:
    """A ``wl.*`` cell as the parameter value: JSON cells (lists, maps) decoded; a count stored as text or float (a
    Parquet column that mixed types) back to an integer."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if spec_type == "int" and isinstance(value, (str, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else value
    if spec_type == "float" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def point_inputs(row: Any) -> PointInputs:
    """The inputs of a results row (a mapping or a pandas Series with ``preset``, ``workload``, ``hw.*`` and
    ``wl.*`` columns). Swept hardware values equal to the preset's own are left out, so derived parameters follow
    their inputs as in the sweep; workload columns that belong to other models are skipped."""
    from cosim.runner import _flat_values
    from cosim.workload_info import parameter_specs

    row = dict(row)
    for key in ("preset", "workload"):
        if _missing(row.get(key)):
            raise CosimInputError(f"a design point needs a {key!r} column; got columns {', '.join(map(str, row))}")
    preset, model = str(row["preset"]), str(row["workload"])
    base = _flat_values(preset)
    overrides = {}
    for key, value in row.items():
        if str(key).startswith("hw.") and not _missing(value):
            path, value = key[3:], _plain(value)
            if path in base and base[path] == value:
                continue
            overrides[path] = value
    specs = parameter_specs(model)
    params = {}
    for key, value in row.items():
        name = str(key)[3:]
        if str(key).startswith("wl.") and name in specs and not _missing(value):
            params[name] = _workload_value(specs[name].type, _plain(value))
    calibration = row.get("calibration")
    label = row.get("hardware")
    return PointInputs(preset, model, overrides, params, None if _missing(calibration) else str(calibration),
                       None if _missing(label) or label == preset else str(label))


def point_config(rows: list[Any], objective: str = "latency", name: str = "points") -> dict[str, Any]:
    """A sweep config (a dict, ready for YAML) whose design points include every row of ``rows``: one hardware entry
    per distinct hardware variant and one workload entry per distinct workload variant (a sweep crosses them, so
    rows that differ in both hardware and workload bring their crossings along)."""
    if not rows:
        raise CosimInputError("no design points to export")
    hardware: list[dict[str, Any]] = []
    workloads: list[dict[str, Any]] = []
    for row in rows:
        inputs = point_inputs(row)
        entry: dict[str, Any] = {"preset": inputs.preset}
        if inputs.label:
            entry["label"] = inputs.label
        if inputs.calibration:
            entry["calibration"] = inputs.calibration
        if inputs.overrides:
            entry["overrides"] = dict(sorted(inputs.overrides.items()))
        wl: dict[str, Any] = {"model": inputs.model}
        if inputs.params:
            wl["params"] = dict(sorted(inputs.params.items()))
        if entry not in hardware:
            hardware.append(entry)
        if wl not in workloads:
            workloads.append(wl)
    return {"name": name, "objective": objective, "hardware": hardware, "workloads": workloads}
