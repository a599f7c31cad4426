"""Derived preset parameters: arithmetic expressions over other parameters of the same preset.

A preset leaf ``{expr: "3 * compute.pe_cols", source: "derived: ..."}`` is evaluated after overrides (and sweep grid
values, which are overrides) are applied, so a design stays consistent when one of its inputs changes. Allowed:
numbers, dotted parameter paths of the same preset, ``+ - * / // % **``, unary ``+``/``-``, parentheses, ``min(...)``
and ``max(...)``. Anything else (attribute access on values, other calls, subscripts, strings, comparisons) is
rejected when the preset is read.
"""

from __future__ import annotations

import ast
import functools
import operator
from dataclasses import dataclass
from typing import Any

from hw_models.errors import HardwareConfigError

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS = {"min": min, "max": max}


@dataclass(frozen=True)
class Expression:
    """An unevaluated derived parameter as written in a preset."""

    text: str


ALLOWED = "numbers, dotted parameter paths, + - * / // % **, parentheses, min(...), max(...)"


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` as a string when ``node`` is a plain chain of names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


@functools.lru_cache(maxsize=1024)
def parse(text: str, where: str) -> ast.expr:
    """Parse and check one expression; ``where`` (preset and path) prefixes any error."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval").body
    except SyntaxError as exc:
        raise HardwareConfigError(f"{where}: expression {text!r} is not valid syntax ({exc.msg}); allowed: {ALLOWED}"
                                  ) from None
    for node in ast.walk(tree):
        ok = (isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Load)) or type(node) in _BINARY
              or type(node) in _UNARY
              or (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                  and not isinstance(node.value, bool))
              or (isinstance(node, ast.Attribute) and _dotted(node) is not None)
              or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                  and not node.keywords and node.args))
        if not ok:
            raise HardwareConfigError(f"{where}: expression {text!r} uses {ast.unparse(node)!r}, which is not "
                                      f"allowed; allowed: {ALLOWED}")
    return tree


def _evaluate(node: ast.expr, lookup) -> float:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, lookup), _evaluate(node.right, lookup))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, lookup))
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*(_evaluate(a, lookup) for a in node.args))
    return lookup(_dotted(node))


def _get(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(path)
        node = node[key]
    return node


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[last] = value


def evaluate_expressions(values: dict[str, Any], expressions: dict[str, str], preset: str) -> dict[str, Any]:
    """Fill each expression's path in ``values`` (in place) with its value, inputs first.

    Raises :class:`HardwareConfigError` naming the preset and path for a syntax the evaluator does not allow, an
    unknown or non-numeric parameter, a cycle between expressions, or an arithmetic error (division by zero).
    """
    trees = {path: parse(text, f"hardware {preset!r}: {path}") for path, text in expressions.items()}
    done: set[str] = set()

    def compute(path: str, chain: tuple[str, ...]) -> None:
        if path in done:
            return
        if path in chain:
            cycle = " -> ".join([*chain[chain.index(path):], path])
            raise HardwareConfigError(f"hardware {preset!r}: derived parameters form a cycle: {cycle}")
        where = f"hardware {preset!r}: {path} = {expressions[path]!r}"

        def lookup(name: str) -> float:
            if name in trees:
                compute(name, (*chain, path))
            try:
                value = _get(values, name)
            except KeyError:
                raise HardwareConfigError(f"{where}: unknown parameter {name!r} (an expression may read only "
                                          "dotted parameter paths of the same preset)") from None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise HardwareConfigError(f"{where}: parameter {name!r} is {value!r}, not a number")
            return value

        try:
            result = _evaluate(trees[path], lookup)
        except (ZeroDivisionError, OverflowError) as exc:
            raise HardwareConfigError(f"{where}: {exc}") from None
        _set(values, path, result)
        done.add(path)

    for path in trees:
        compute(path, ())
    return values
