"""Hardware presets: YAML files whose numeric leaves carry a value and its source.

A leaf is either a plain value or ``{value: X, source: "..."}``. Loading splits a preset into a nested dict of values
(validated by the device's pydantic spec) and a flat map of dotted paths to sources. Overrides use the same dotted
paths (``memory.hbm_bandwidth_gbps``).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workloads.naming import suggest
from workloads.yaml_files import load_yaml

PRESET_DIR = Path(__file__).parent / "presets"


class HardwareConfigError(ValueError):
    """A hardware name, override path or value is not allowed; the message says what is."""


@dataclass
class Preset:
    """A preset's values (nested dict), the source of each dotted path, and its file."""

    name: str
    kind: str
    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


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
    values, sources = _parse(path, path.stat().st_mtime_ns)
    values = copy.deepcopy(values)
    return Preset(name=values.get("name", path.stem), kind=values.get("kind", ""), values=values,
                  sources=dict(sources), path=path)


@functools.lru_cache(maxsize=64)
def _parse(path: Path, mtime_ns: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a preset file once per modification time (callers copy the result)."""
    return split_sources(load_yaml(path))


def split_sources(tree: Any, prefix: str = "") -> tuple[Any, dict[str, str]]:
    """Separate ``{value, source}`` leaves into plain values and a dotted-path → source map."""
    sources: dict[str, str] = {}
    if isinstance(tree, dict):
        if "value" in tree and set(tree) <= {"value", "source", "note"}:
            if "source" in tree:
                sources[prefix] = str(tree["source"])
            return tree["value"], sources
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


_UNIT_SUFFIXES = (("_pj_per_flop", "pJ per FLOP"), ("_pj_per_bit", "pJ per bit"), ("_gbps", "GB/s"),
                  ("_tflops", "TFLOP/s"), ("_mhz", "MHz"), ("_gb", "GB"), ("_mb", "MB"), ("_kb", "KB"),
                  ("_us", "microseconds"), ("_w", "W"), ("_count", "count"))


def unit_of(path: str) -> str:
    """The unit a dotted parameter path is expressed in, read from its name's suffix."""
    parts = path.split(".")
    for name in (parts[-1], parts[-2] if len(parts) > 1 else ""):
        for suffix, unit in _UNIT_SUFFIXES:
            if name.endswith(suffix):
                return unit
    return "plain number"


def _lookup(tree: dict[str, Any], path: str) -> Any:
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
        current = _lookup(values, path)
        numeric = current is None or (isinstance(current, (int, float)) and not isinstance(current, bool))
        if numeric and (isinstance(value, str) or isinstance(value, bool)):
            raise HardwareConfigError(
                f"{path} must be a plain number in {unit_of(path)} (the unit is part of the name), got {value!r}")
        node = out
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return out
