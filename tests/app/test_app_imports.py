"""The explorer presents what cosim's public API computes: app/ imports nothing of the project but ``cosim.api``,
``cosim.errors`` and its own modules (every import counts, also one inside a function)."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
PROJECT = ("workloads", "hw_models", "mappings", "cosim")
ALLOWED = ("cosim.api", "cosim.errors")


def project_imports(source: str) -> list[str]:
    """Project modules (outside app/) that ``source`` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            base = node.module or ""
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "cosim" else [base]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in PROJECT]
    return found


def test_the_app_calls_only_the_public_api():
    files = sorted(APP.rglob("*.py"))
    assert len(files) >= 10
    bad = {str(f.relative_to(APP)): [n for n in project_imports(f.read_text()) if not n.startswith(ALLOWED)]
           for f in files}
    assert {f: names for f, names in bad.items() if names} == {}


def test_the_check_catches_a_private_import():
    assert project_imports("from cosim.runner import run_sweep\nimport hw_models.gpu\nfrom cosim import engine") == [
        "cosim.runner", "hw_models.gpu", "cosim.engine"]
    assert project_imports("from cosim.api import sweep\nimport streamlit as st") == ["cosim.api"]


def test_every_page_is_in_the_navigation():
    from app.state import PAGES

    pages = {p.stem for p in (APP / "pages").glob("*.py") if p.stem != "__init__"}
    assert pages == {module for module, _ in PAGES}
