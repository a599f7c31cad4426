"""The CLI formats what the public API returns: cosim/cli.py imports nothing of the project but ``cosim.api`` and
``cosim.errors`` (every import counts, also one inside a function)."""

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "cosim" / "cli.py"
PROJECT_PACKAGES = ("workloads", "hw_models", "mappings", "cosim", "app")
ALLOWED = ("cosim.api", "cosim.errors")


def forbidden_imports(source: str) -> list[str]:
    """Project modules imported by ``source`` other than the allowed ones (``from cosim import x`` names
    ``cosim.x``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to cosim/
                base = f"cosim.{base}" if base else "cosim"
            names = [f"cosim.{alias.name}" for alias in node.names] if base == "cosim" else [base]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PROJECT_PACKAGES and not name.startswith(ALLOWED):
                found.append(name)
    return found


def test_cli_imports_only_the_public_api():
    assert forbidden_imports(CLI.read_text()) == []


def test_the_check_catches_private_imports():
    source = '''
import os
from rich.console import Console
from cosim.api import simulate


def handler():
    from hw_models.preset import read_preset
    import workloads.registry
    from cosim.config import load_config
    from cosim import mapview, api
    from . import report
'''
    assert forbidden_imports(source) == ["hw_models.preset", "workloads.registry", "cosim.config", "cosim.mapview",
                                         "cosim.report"]
