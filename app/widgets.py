"""Widgets that turn a parameter (a row of ``cosim.api.parameter_space`` or ``workload_parameters``) into a fixed
value or a sweep axis. Ranges start from the parameter's value and the schema's bounds; whether a value is allowed
is decided by cosim when the config is checked."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

MAX_AXIS_POINTS = 32
DEFAULT = "(default)"


def choices(row: Any) -> list | None:
    """A parameter's allowed values, or None when any value of its type goes (a missing cell reads as NaN)."""
    allowed = row["allowed"]
    return list(allowed) if isinstance(allowed, (tuple, list)) else None


def sweepable(row: Any) -> bool:
    """Whether a parameter can be an axis: a number, a flag, or one of fixed allowed values."""
    return row["type"] in ("int", "float") or len(choices(row) or ()) > 1


def parameter_label(row: Any) -> str:
    """``path (unit)`` for numbers with a unit, else the path."""
    name = row.get("path", row.get("name"))
    unit = row.get("unit") or ""
    return f"{name} ({unit})" if unit and unit != "plain number" else str(name)


def _number(value: Any, kind: str) -> float | int:
    return int(round(value)) if kind == "int" else float(value)


def axis(row: Any, key: str, value: Any) -> list[Any]:
    """Widgets for one swept parameter; returns the axis values. ``value``: the parameter's current value."""
    label = parameter_label(row)
    if (options := choices(row)) is not None:
        default = [value] if value in options else options[:1]
        return st.multiselect(f"{label}: values", options, default=default, key=f"{key}:values")
    kind = row["type"]
    base = value if isinstance(value, (int, float)) and value not in (0, None) else (row.get("default") or 1)
    minimum = row.get("minimum")
    low_default = _number(max(base / 4, minimum if minimum is not None else -np.inf), kind)
    high_default = _number(max(base * 4, 16) if kind == "int" else base * 4, kind)
    if kind == "int":
        low_default = max(low_default, 1 if minimum is None or minimum >= 0 else low_default)
    step = 1 if kind == "int" else None
    left, right, count, spacing = st.columns([3, 3, 2, 2])
    low = left.number_input(f"{label}: from", value=low_default, step=step, key=f"{key}:from")
    high = right.number_input(f"{label}: to", value=high_default, step=step, key=f"{key}:to")
    n = count.number_input(f"{label}: points", min_value=1, max_value=MAX_AXIS_POINTS, value=5, step=1,
                           key=f"{key}:points")
    log = spacing.checkbox("log spacing", value=low > 0, key=f"{key}:log", disabled=low <= 0 or high <= 0)
    return axis_values(low, high, int(n), log and low > 0 and high > 0, kind)


def axis_values(low: float, high: float, n: int, log: bool, kind: str) -> list[float | int]:
    """``n`` values from ``low`` to ``high`` (geometric when ``log``), integers rounded and repeats dropped."""
    values = np.geomspace(low, high, n) if log else np.linspace(low, high, n)
    out = [_number(v, kind) for v in values]
    if kind == "float":
        out = [float(f"{v:.6g}") for v in out]
    return list(dict.fromkeys(out))


def fixed(row: Any, key: str) -> Any:
    """A widget for one workload parameter's fixed value (its default to start with)."""
    name, kind, default = row["name"], row["type"], row["default"]
    if (options := choices(row)) is not None:
        if default is None:  # a parameter that follows another unless set (kv_dtype follows dtype)
            options = [DEFAULT, *options]
        value = st.selectbox(name, options, index=options.index(default) if default in options else 0,
                             key=f"{key}:fixed")
        return None if value == DEFAULT else value
    if kind == "bool":
        return st.checkbox(name, value=bool(default), key=f"{key}:fixed")
    if kind == "int":
        minimum = row["minimum"] if row["minimum"] is not None else None
        return int(st.number_input(name, value=int(default), min_value=minimum, step=1, key=f"{key}:fixed"))
    if kind == "float":
        return float(st.number_input(name, value=float(default), key=f"{key}:fixed"))
    if kind == "str":
        return st.text_input(name, value=str(default), key=f"{key}:fixed")
    return default
