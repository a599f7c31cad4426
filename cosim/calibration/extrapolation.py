"""The measured range of a fit, and whether a prediction leaves it: per op kind, the min/max of FLOPs, bytes and
each dimension of the ops the fit saw, and the datatypes it saw. An op outside that range is an extrapolation."""

from __future__ import annotations

from typing import Any


def _features(op) -> dict[str, float]:
    out = {"flops": float(op.flops), "bytes": float(op.bytes)}
    out.update({f"dims.{k}": float(v) for k, v in op.dims.items()})
    return out


def measured_ranges(workloads: list) -> dict[str, dict[str, Any]]:
    """Per op kind: ``{quantity: [min, max]}`` over every op of ``workloads``, plus ``dtypes`` seen."""
    ranges: dict[str, dict[str, Any]] = {}
    for workload in workloads:
        for op in workload.ops:
            entry = ranges.setdefault(op.kind, {"dtypes": []})
            if op.dtype not in entry["dtypes"]:
                entry["dtypes"].append(op.dtype)
            for key, value in _features(op).items():
                low, high = entry.get(key, [value, value])
                entry[key] = [min(low, value), max(high, value)]
    for entry in ranges.values():
        entry["dtypes"].sort()
    return ranges


def extrapolations(workload, ranges: dict[str, dict[str, Any]]) -> list[str]:
    """One line per op of ``workload`` outside ``ranges`` (empty: every op is inside what was measured)."""
    notes = []
    for op in workload.ops:
        entry = ranges.get(op.kind)
        if entry is None:
            notes.append(f"op {op.name!r}: no {op.kind} op was measured")
            continue
        why = [] if op.dtype in entry.get("dtypes", []) else [f"dtype {op.dtype} not measured"]
        for key, value in _features(op).items():
            low, high = entry.get(key, [0.0, 0.0])  # a dim no measured op had was 0 in all of them
            if not low <= value <= high:
                why.append(f"{key} {value:.4g} outside measured [{low:.4g}, {high:.4g}]")
        if why:
            notes.append(f"op {op.name!r} ({op.kind}): " + ", ".join(why))
    return notes
