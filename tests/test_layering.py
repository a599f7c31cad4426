"""Imports flow one way: workloads <- hw_models <- mappings <- cosim <- app (DESIGN.md), and no module imports
itself back through others. Every import counts, also one made inside a function: a lazy import only hides a circle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["workloads", "hw_models", "mappings", "cosim", "app"]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path, known: set[str]) -> set[str]:
    """Modules of ``known`` that the file imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    this = module_name(path, root)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in candidates:
            while name and name not in known:  # a.b.c → the longest known prefix
                name = name.rpartition(".")[0]
            if name and name != this:
                found.add(name)
    return found


def import_graph(root: Path, packages: list[str]) -> dict[str, set[str]]:
    files = {module_name(p, root): p for pkg in packages if (root / pkg).is_dir() for p in (root / pkg).rglob("*.py")}
    known = set(files)
    return {name: imported_modules(path, root, known) for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def upward_imports(graph: dict[str, set[str]], layers: list[str]) -> dict[str, list[str]]:
    rank = {layer: i for i, layer in enumerate(layers)}
    out = {}
    for module, targets in graph.items():
        mine = rank[module.split(".")[0]]
        bad = sorted(t for t in targets if rank[t.split(".")[0]] > mine)
        if bad:
            out[module] = bad
    return out


GRAPH = import_graph(ROOT, LAYERS)


def test_graph_sees_every_package():
    assert {m.split(".")[0] for m in GRAPH} >= {"workloads", "hw_models", "mappings", "cosim"}
    assert "cosim.hetero" in GRAPH["cosim.engine"]  # the graph follows real imports


@pytest.mark.parametrize("layer", LAYERS)
def test_no_upward_imports(layer):
    assert not {m: t for m, t in upward_imports(GRAPH, LAYERS).items() if m.split(".")[0] == layer}


def test_no_import_circles():
    assert circles(GRAPH) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_reports_a_circle_and_an_upward_import(tmp_path):
    """The checks fail when a circle or an upward import is introduced (a lazy import inside a function too)."""
    _write(tmp_path, {
        "low/__init__.py": "",
        "low/a.py": "from low import b\n",
        "low/b.py": "def f():\n    from .a import x\n",
        "low/c.py": "import high.top\n",
        "high/__init__.py": "",
        "high/top.py": "from low.a import thing\n",
    })
    graph = import_graph(tmp_path, ["low", "high"])
    assert circles(graph) == [["low.a", "low.b"]]
    assert upward_imports(graph, ["low", "high"]) == {"low.c": ["high.top"]}
