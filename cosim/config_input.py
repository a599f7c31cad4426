"""Reading YAML configs and turning their problems into one-line errors: the file, the YAML path, the bad value and
what is allowed. Shared by every config cosim reads (sweeps, serving studies)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cosim.errors import CosimInputError


def yaml_path(loc: tuple) -> str:
    """A pydantic error location as a YAML path: ``hardware[0].overrides``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml_mapping(path: str | Path, expected: str) -> dict[str, Any]:
    """The mapping a YAML file holds; a missing file, malformed YAML or another type raises ``CosimInputError``
    (``expected`` says what the mapping should hold, e.g. "'hardware' and 'workloads'")."""
    path = Path(path)
    if not path.exists():
        raise CosimInputError("no such config file", str(path))
    return parse_yaml_mapping(path.read_text(), str(path), expected)


def parse_yaml_mapping(text: str, source: str, expected: str) -> dict[str, Any]:
    """The mapping YAML text holds (read with the safe loader: nothing in it runs); malformed YAML or another type
    raises ``CosimInputError`` naming ``source``."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise CosimInputError(f"malformed YAML: {where}{getattr(exc, 'problem', exc)}", source) from None
    if not isinstance(raw, dict):
        raise CosimInputError(f"expected a mapping with {expected}, got {type(raw).__name__}", source)
    return raw


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds, directly or inside ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, dict, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := _model_of(arg)) is not None:
                return found
    return None


def _owner(root: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The model whose field ``loc`` names (list indices and mapping keys on the way are stepped over)."""
    model = root
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is not None and (inner := _model_of(field.annotation)) is not None:
            model = inner
    return model


def validate_schema(schema: type[BaseModel], raw: dict[str, Any], source: str):
    """``schema(**raw)``; the first problem raises ``CosimInputError`` naming its YAML path, the value given and,
    for an unknown key or a choice, the allowed ones."""
    try:
        return schema(**raw)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelled key also leaves a required one missing: report the unknown key, which names the cause.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = yaml_path(err["loc"])
        allowed = ""
        if err["type"] == "extra_forbidden":
            allowed = f"; allowed keys: {', '.join(_owner(schema, err['loc']).model_fields)}"
        elif err["type"] == "literal_error":
            allowed = f"; allowed: {err.get('ctx', {}).get('expected', '')}"
        given = err.get("input")
        got = "" if err["type"] == "value_error" and isinstance(given, dict) else f" (got {given!r})"
        where = f"{loc}: " if loc else ""
        raise CosimInputError(f"{where}{err['msg']}{got}{allowed}", source) from None


def check_hardware(preset: str, overrides: dict[str, Any], where: str, source: str) -> None:
    """A preset name (at ``where.preset``) and its dotted-path overrides (each at ``where.overrides.KEY``)."""
    from hw_models.hardware import load_hardware
    from hw_models.preset import HardwareConfigError

    try:
        load_hardware(preset)
    except HardwareConfigError as exc:
        raise CosimInputError(f"{where}.preset: {exc}", source) from None
    for key in overrides:
        check_override(preset, overrides, f"{where}.overrides.{key}", source)


def check_override(preset: str, overrides: dict[str, Any], where: str, source: str) -> None:
    """``overrides`` apply to ``preset``; a bad path or value raises ``CosimInputError`` at ``where``."""
    from hw_models.hardware import load_hardware
    from hw_models.preset import HardwareConfigError

    try:
        load_hardware(preset, overrides)
    except HardwareConfigError as exc:
        raise CosimInputError(f"{where}: {exc}", source) from None


def check_model(model: str, where: str, source: str) -> None:
    """A catalog workload name (unknown ones get close matches and the list)."""
    from cosim.workload_info import check_parameters
    from workloads import WorkloadParamError

    try:
        check_parameters(model, {})
    except WorkloadParamError as exc:
        raise CosimInputError(f"{where}: {exc}", source) from None
