"""What physics allows each metric to do when one hardware parameter grows: the declarations the metamorphic tests
check every preset against.

Each device kind declares, per parameter path (``fnmatch`` patterns such as ``compute.tensor_tflops.*`` allowed; the
first matching pattern wins), an :class:`Effect`: for each metric (``latency``, ``energy``, ``capacity`` — the memory
that fits —, and ``feasible``), the direction it may move when the parameter grows:

- ``"down"``: never rises (more bandwidth never makes latency worse);
- ``"up"``: never falls (more idle power never lowers energy; for ``feasible``: a point may become feasible, never the
  reverse);
- ``"none"``: does not change at all;
- ``"any"``: may move either way — allowed only with ``why``, the mechanism (more cores raise static energy but cut
  time; a bigger systolic array is slower on a small layer through fill and drain).

When the parameter shrinks, the directions reverse. ``steps`` names a discrete effect (a wave, a fold, a tile
boundary) that lets a 0.1 % change move a metric by more than the smooth bound; without it, a tiny change must cause a
tiny response.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

METRICS = ("latency", "energy", "capacity", "feasible")
DIRECTIONS = ("down", "up", "none", "any")
_REVERSED = {"down": "up", "up": "down", "none": "none", "any": "any"}


@dataclass(frozen=True)
class Effect:
    """Allowed directions of each metric when a parameter grows, with the mechanisms behind the exceptions."""

    latency: str = "none"
    energy: str = "none"
    capacity: str = "none"
    feasible: str = "none"
    why: str = ""
    steps: str = ""

    def __post_init__(self) -> None:
        for metric in METRICS:
            value = getattr(self, metric)
            if value not in DIRECTIONS:
                raise ValueError(f"effect on {metric}: {value!r} is not a direction; allowed: {', '.join(DIRECTIONS)}")
        if any(getattr(self, m) == "any" for m in METRICS) and not self.why:
            raise ValueError("an effect that allows 'any' direction must say why (the mechanism)")

    def allowed(self, metric: str, grows: bool) -> str:
        """The direction ``metric`` may move in when the parameter grows (``grows``) or shrinks."""
        value = getattr(self, metric)
        return value if grows else _REVERSED[value]


def effect_of(effects: dict[str, Effect], path: str) -> Effect | None:
    """The declared effect of parameter ``path``: the first pattern in ``effects`` that matches it, else None."""
    for pattern, effect in effects.items():
        if fnmatch.fnmatchcase(path, pattern):
            return effect
    return None


def moved(direction: str, before: float, after: float, rel: float) -> bool:
    """Whether a change from ``before`` to ``after`` respects ``direction`` (changes within ``rel`` are noise)."""
    scale = max(abs(before), abs(after), 1e-300)
    delta = (after - before) / scale
    if direction == "any":
        return True
    if direction == "none":
        return abs(delta) <= rel
    if direction == "down":
        return delta <= rel
    return delta >= -rel
