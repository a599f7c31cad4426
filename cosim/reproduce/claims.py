"""The published claims `cosim reproduce` compares with (``claims.yaml``, package data) and their tolerance test."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

CLAIMS_FILE = Path(__file__).with_name("claims.yaml")
TOLERANCE_KINDS = ("rel", "abs", "range")


@dataclass(frozen=True)
class Claim:
    """One published number: ``id`` is the reference claim id, with ``/part`` when a claim states several numbers."""

    id: str
    paper: str
    claim: str
    metric: str
    unit: str
    compared: str
    value: float
    tolerance: dict
    gap: str
    source: str
    confidence: str
    setup: dict = field(default_factory=dict)
    note: str = ""

    @property
    def claim_id(self) -> str:
        """The reference list's id (without the ``/part``)."""
        return self.id.split("/", 1)[0]

    def bounds(self) -> tuple[float, float]:
        """The interval of model values that agree with the paper."""
        tol = self.tolerance
        if "range" in tol:
            low, high = tol["range"]
            return float(low), float(high)
        half = tol["rel"] * abs(self.value) if "rel" in tol else tol["abs"]
        return self.value - half, self.value + half

    def within(self, model: float) -> bool:
        """Whether ``model`` agrees with the paper within the stated tolerance."""
        low, high = self.bounds()
        return not math.isnan(model) and low <= model <= high

    def describe_value(self) -> str:
        """The paper's number as stated: the value, or the published range."""
        if "range" in self.tolerance:
            low, high = self.tolerance["range"]
            return f"{low:g}–{high:g}"
        return f"{self.value:g}"

    def describe_tolerance(self) -> str:
        """The tolerance in words: ``±25%`` (relative), ``±5 pp`` or ``±2 ms`` (absolute) or ``range``."""
        tol = self.tolerance
        if "range" in tol:
            return "range"
        if "rel" in tol:
            return f"±{100 * tol['rel']:g}%"
        return f"±{tol['abs']:g} pp" if self.unit == "%" else f"±{tol['abs']:g}{self.unit}"


@lru_cache(maxsize=1)
def claims() -> dict[str, Claim]:
    """All claims of ``claims.yaml`` by id, in file order; a malformed entry raises ``ValueError`` naming it."""
    out: dict[str, Claim] = {}
    for i, entry in enumerate(yaml.safe_load(CLAIMS_FILE.read_text())):
        where = f"{CLAIMS_FILE}: entry {i} ({entry.get('id', '?')})"
        tol = entry.get("tolerance", {})
        kinds = [k for k in TOLERANCE_KINDS if k in tol]
        if len(kinds) != 1:
            raise ValueError(f"{where}: tolerance needs exactly one of {', '.join(TOLERANCE_KINDS)}, got {tol}")
        try:
            claim_ = Claim(**entry)
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if claim_.id in out:
            raise ValueError(f"{where}: duplicate id")
        out[claim_.id] = claim_
    return out


def claim(claim_id: str) -> Claim:
    """The claim with record id ``claim_id``."""
    return claims()[claim_id]
