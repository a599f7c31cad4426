"""Hardware presets: YAML files whose numeric leaves carry a value and its source.

A leaf is a plain value, ``{value: X, source: "..."}``, or a derived parameter ``{expr: "3 * compute.pe_cols",
source: "derived: ..."}`` (see :mod:`hw_models.expressions`). Loading splits a preset into a nested dict of values
(validated by the device's pydantic spec), a flat map of dotted paths to sources and one of dotted paths to
expressions. Overrides use the same dotted paths (``memory.hbm_bandwidth_gbps``); :func:`resolve_values` applies
them and then evaluates the expressions that were not overridden, so derived values follow their inputs.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hw_models.errors import HardwareConfigError
from hw_models.expressions import Expression, evaluate_expressions
from workloads.naming import suggest
from workloads.yaml_files import load_yaml

PRESET_DIR = Path(__file__).parent / "presets"


@dataclass
class Preset:
    """A preset's values (nested dict, derived ones evaluated), the source and expression of dotted paths, its file."""

    name: str
    kind: str
    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    expressions: dict[str, str] = field(default_factory=dict)


def available_presets() -> dict[str, Path]:
    """Map lower-case preset names to their YAML files."""
    return {p.stem.lower(): p for p in sorted(PRESET_DIR.glob("*.yaml"))}


def read_preset(name: str) -> Preset:
    """Read a preset by name (case-insensitive) into values and sources."""
    presets = available_presets()
    path = presets.get(name.lower())
    if path is None:
        names = [p.stem for p in presets.values()]  # as spelled in the file names, not lower-cased keys
        raise HardwareConfigError(
            f"unknown hardware {name!r}; {suggest(name, names)}available: {', '.join(names)}")
    values, sources, expressions = _parse(path, path.stat().st_mtime_ns)
    values = copy.deepcopy(values)
    return Preset(name=values.get("name", path.stem), kind=values.get("kind", ""), values=values,
                  sources=dict(sources), path=path, expressions=dict(expressions))


@functools.lru_cache(maxsize=64)
def _parse(path: Path, mtime_ns: int) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Parse a preset file once per modification time, derived values evaluated (callers copy the result)."""
    values, sources = split_sources(load_yaml(path))
    leaves = {p: value_at(values, p) for p in leaf_paths(values)}
    expressions = {p: leaf.text for p, leaf in leaves.items() if isinstance(leaf, Expression)}
    evaluate_expressions(values, expressions, str(values.get("name", path.stem)))
    return values, sources, expressions


def split_sources(tree: Any, prefix: str = "") -> tuple[Any, dict[str, str]]:
    """Separate ``{value, source}`` leaves into plain values and a dotted-path → source map.

    A derived leaf ``{expr, source}`` becomes an :class:`Expression` value, for :func:`evaluate_expressions` to fill.
    """
    sources: dict[str, str] = {}
    if isinstance(tree, dict):
        for key in ("value", "expr"):
            if key in tree and set(tree) <= {key, "source", "note"}:
                if "source" in tree:
                    sources[prefix] = str(tree["source"])
                return (tree["value"] if key == "value" else Expression(str(tree["expr"]))), sources
        out = {}
        for key, sub in tree.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out[key], sub_sources = split_sources(sub, path)
            sources.update(sub_sources)
        return out, sources
    return tree, sources


def leaf_paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """All dotted paths to leaves of a nested dict."""
    paths = []
    for key, sub in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(sub, dict):
            paths += leaf_paths(sub, path)
        else:
            paths.append(path)
    return paths


# One convention: SI prefixes are decimal (kB = 10^3, MB = 10^6, GB = 10^9 bytes; GB/s = 10^9 bytes per second),
# binary sizes say so (KiB = 2^10, MiB = 2^20, GiB = 2^30 bytes), bit rates are spelled out (gbit_per_s = 10^9 bits
# per second). A name's suffix is its unit; the longest matching suffix wins.
_UNIT_SUFFIXES = (("_pj_per_flop", "pJ per FLOP"), ("_pj_per_bit", "pJ per bit"), ("_pj_per_byte", "pJ per byte"),
                  ("_pj_per_op", "pJ per operation"), ("_pj_per_access", "pJ per access"), ("_pj", "pJ"),
                  ("_gbit_per_s", "Gb/s (10^9 bits per second)"), ("_gbps", "GB/s (10^9 bytes per second)"),
                  ("_mbps", "MB/s (10^6 bytes per second)"), ("_bytes_per_cycle", "bytes per cycle"),
                  ("_tflops", "TFLOP/s"), ("_mhz", "MHz"), ("_gib", "GiB (2^30 bytes)"), ("_mib", "MiB (2^20 bytes)"),
                  ("_kib", "KiB (2^10 bytes)"), ("_kib_per_pe", "KiB (2^10 bytes) per PE"),
                  ("_gb", "GB (10^9 bytes)"), ("_mb", "MB (10^6 bytes)"), ("_kb", "kB (10^3 bytes)"),
                  ("_bytes", "bytes"), ("_bytes_per_pe", "bytes per PE"), ("_ns", "nanoseconds"), ("_us", "microseconds"), ("_w", "W"), ("_v", "V"),
                  ("_count", "count"))


def unit_of(path: str) -> str:
    """The unit a dotted parameter path is expressed in, read from its name's suffix."""
    parts = path.split(".")
    for name in (parts[-1], parts[-2] if len(parts) > 1 else ""):
        matches = [(len(suffix), unit) for suffix, unit in _UNIT_SUFFIXES if name.endswith(suffix)]
        if matches:
            return max(matches)[1]
    return "plain number"


def value_at(tree: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a nested dict, or None where the path does not exist."""
    node: Any = tree
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def apply_overrides(values: dict[str, Any], overrides: dict[str, Any],
                    optional_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``values`` with each dotted path replaced; unknown paths raise with the allowed ones.

    ``optional_paths`` are parameters the device schema accepts although this preset leaves them out (a datatype the
    part lacks, say); overriding one adds it.
    """
    out = copy.deepcopy(values)
    present = [p for p in leaf_paths(values) if p not in ("name", "kind", "description")]
    allowed = present + [p for p in optional_paths if p not in present]
    for path, value in overrides.items():
        if path not in allowed:
            raise HardwareConfigError(
                f"unknown hardware parameter {path!r}; {suggest(path, allowed)}allowed: {', '.join(present)}"
                + (f"; also settable: {', '.join(p for p in allowed if p not in present)}"
                   if len(allowed) > len(present) else ""))
        current = value_at(values, path)
        numeric = current is None or (isinstance(current, (int, float)) and not isinstance(current, bool))
        if numeric and (isinstance(value, str) or isinstance(value, bool)):
            unit = unit_of(path)
            raise HardwareConfigError(f"{path} must be a plain number" + (
                f" in {unit} (the unit is part of the name)" if unit != "plain number" else "") + f", got {value!r}")
        node = out
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return out


def resolve_values(preset: Preset, overrides: dict[str, Any] | None = None,
                   optional_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """The preset's values with ``overrides`` applied, then every derived parameter that was not itself overridden
    re-evaluated from the overridden inputs (so ``compute.pe_cols=128`` also rescales a bandwidth derived from it)."""
    overrides = overrides or {}
    return reevaluate(preset, apply_overrides(preset.values, overrides, optional_paths), overrides)


def reevaluate(preset: Preset, values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Evaluate, in ``values`` (the preset's values after ``overrides``), every derived parameter of ``preset`` that
    ``overrides`` does not set itself; an override of a derived parameter replaces its expression."""
    pending = {path: text for path, text in preset.expressions.items() if path not in overrides}
    return evaluate_expressions(values, pending, preset.name)
