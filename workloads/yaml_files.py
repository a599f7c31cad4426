"""Reading the project's YAML files (model configs, layer specs, presets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file with PyYAML's C loader when it is available (several times faster than the Python one)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path) as fh:
        return yaml.load(fh, Loader=loader)
