"""The parameters a fit may move: which ones (a kind's ``fittable`` or the user's list), their bounds (the spec's
pydantic constraints, so a fit never leaves what the schema allows) and their values in a loaded preset."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cosim.errors import CosimInputError

# A strict bound (gt/lt) is kept this far inside, relative to the preset value's scale.
_STRICT_MARGIN = 1e-9


@dataclass(frozen=True)
class FitParameter:
    """One fitted parameter: its dotted preset path, the preset's value, and its bounds (inclusive)."""

    path: str
    preset: float
    lower: float
    upper: float

    @property
    def scale(self) -> float:
        """The value the fit divides by, so every fitted variable is of order one."""
        return abs(self.preset) if self.preset else 1.0


def _field_bounds(info, scale: float) -> tuple[float, float]:
    lower, upper = -math.inf, math.inf
    for item in info.metadata:
        for attr, strict, is_lower in (("gt", True, True), ("ge", False, True), ("lt", True, False),
                                       ("le", False, False)):
            bound = getattr(item, attr, None)
            if bound is None:
                continue
            bound = float(bound) + (_STRICT_MARGIN * scale if strict else 0.0) * (1 if is_lower else -1)
            lower, upper = (max(lower, bound), upper) if is_lower else (lower, min(upper, bound))
    return lower, upper


def fit_parameters(hardware, names: list[str] | None = None) -> list[FitParameter]:
    """The parameters to fit on ``hardware`` (a loaded single-device preset): ``names``, or its kind's ``fittable``
    ones. Unknown, non-numeric or unset paths raise ``CosimInputError`` listing what is allowed."""
    from hw_models.hardware import schema_fields
    from hw_models.preset import value_at

    if hardware.kind == "hetero":
        raise CosimInputError(f"hardware {hardware.name!r} is heterogeneous; calibrate each unit's preset instead: "
                              + ", ".join(f"{n}={u.name}" for n, u in hardware.units.items()))
    kind = hardware.device
    fields = dict(schema_fields(kind.spec_class))
    if names is None:
        names = list(kind.fittable)
        if not names:
            raise CosimInputError(f"device kind {kind.name!r} of {hardware.name!r} declares no fittable parameters; "
                                  f"name the ones to fit with --parameters (dotted preset paths)")
    values = hardware.spec.model_dump()
    out = []
    for name in names:
        if name not in fields:
            raise CosimInputError(f"unknown parameter {name!r} for {hardware.name!r} ({kind.name}); allowed: "
                                  + ", ".join(fields))
        value = value_at(values, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or fields[name].annotation is int:
            raise CosimInputError(f"parameter {name!r} of {hardware.name!r} is {value!r}; only real-valued parameters "
                                  f"the preset sets can be fitted")
        scale = abs(value) if value else 1.0
        lower, upper = _field_bounds(fields[name], scale)
        out.append(FitParameter(name, float(value), lower, upper))
    if len(set(names)) != len(names):
        raise CosimInputError(f"a parameter is named twice in {', '.join(names)}")
    return out
