"""Heterogeneous devices: several units (each an ordinary preset of any kind) joined by links.

A ``kind: hetero`` preset names its units (``units.<name>.preset`` plus nested ``overrides`` with sources), the links
between them (``links.<name>``: ``between`` two units, per-direction ``bandwidth_gbps``, ``latency_us``,
``e_pj_per_bit``), optional placement pins (``placement``: an op name or op kind → unit), whether an op's batch may be
split between two units (``allow_split``, in ``split_steps`` equal fractions), and ``concurrency``: ``sequential``
(one op after another, the default), ``overlap`` (units work on different sub-batches at once, so the period is set
by the busiest unit or link) or ``subbatch`` (two half-batches pipelined over the units, simulated with SimPy by
``cosim.schedulers.subbatch``; a ``blocked`` PIM unit serializes them) from a batch of ``subbatch_min_batch``
(the workload's ``batch``, else its attention's sequences; smaller batches run ``sequential``).

``shared_memory`` names units that share one memory (an NPU over its PIM memory, an xPU beside Logic-PIM in the same
HBM stacks): their resident bytes (weights and KV cache of the ops each runs, the activations once) must fit the
smallest of their capacities together (a split op's weights once), and their main-memory traffic shares its
channels — parts of one op split between them, ops of interleaved sub-batches, and the ops of one ``overlap`` period
cannot together move more than each unit's bandwidth allows (the time of what runs at once is at least the sum of each
unit's bytes over the bandwidth its kind declares it draws: ``hw_models.kind.HardwareKind.bandwidth_param``).
"""

from __future__ import annotations

import copy
from typing import Any, Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from hw_models.effects import Effect
from hw_models.preset import HardwareConfigError
from hw_models.spec_base import Strict



class UnitRef(Strict):
    preset: str
    overrides: dict[str, Any] = Field(default_factory=dict)  # nested like the preset, or dotted keys
    cost_usd: Optional[float] = Field(default=None, ge=0)  # price of one unit, for throughput per dollar


class Link(Strict):
    between: list[str] = Field(min_length=2, max_length=2)
    bandwidth_gbps: float = Field(gt=0)  # one direction
    latency_us: float = Field(ge=0)
    e_pj_per_bit: float = Field(ge=0)


class HeteroSpec(Strict):
    """A heterogeneous device preset after validation."""

    name: str
    kind: Literal["hetero"]
    description: str = ""
    units: dict[str, UnitRef] = Field(min_length=1)
    links: dict[str, Link] = Field(default_factory=dict)
    placement: dict[str, str] = Field(default_factory=dict)
    allow_split: bool = False
    split_steps: int = Field(default=8, ge=1, le=64)
    concurrency: Literal["sequential", "overlap", "subbatch"] = "sequential"
    subbatch_min_batch: int = Field(default=0, ge=0)  # smallest batch interleaved (subbatch); smaller: sequential
    shared_memory: list[str] = Field(default_factory=list)  # units over one memory (capacity and channels)

    @model_validator(mode="after")
    def _names_exist(self) -> "HeteroSpec":
        names = list(self.units)
        for unit in self.shared_memory:
            if unit not in self.units:
                raise ValueError(f"shared_memory: unknown unit {unit!r}; units: {', '.join(names)}")
        if len(self.shared_memory) == 1 or len(set(self.shared_memory)) != len(self.shared_memory):
            raise ValueError(f"shared_memory: two or more different units share a memory, got {self.shared_memory}")
        for key, link in self.links.items():
            for end in link.between:
                if end not in self.units:
                    raise ValueError(f"links.{key}.between: unknown unit {end!r}; units: {', '.join(names)}")
            if link.between[0] == link.between[1]:
                raise ValueError(f"links.{key}.between: a link joins two different units, got {link.between}")
        for key, unit in self.placement.items():
            if unit not in self.units:
                raise ValueError(f"placement.{key}: unknown unit {unit!r}; units: {', '.join(names)}")
        return self


LINK_FIELDS = ("bandwidth_gbps", "latency_us", "e_pj_per_bit")
SETTINGS = ("allow_split", "split_steps", "concurrency", "subbatch_min_batch", "shared_memory")  # trailing slots
CONCURRENCY = ("sequential", "overlap", "subbatch")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested overrides → dotted paths (dotted keys pass through)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def pack_links(spec: HeteroSpec) -> np.ndarray:
    """Per link, in spec order: bandwidth (B/s), latency (s), energy (J/byte)."""
    v = np.zeros(3 * len(spec.links))
    for i, link in enumerate(spec.links.values()):
        v[3 * i: 3 * i + 3] = (link.bandwidth_gbps * 1e9, link.latency_us * 1e-6, link.e_pj_per_bit * 8e-12)
    return v


def link_matrices(spec: HeteroSpec, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit × unit bandwidth (B/s, 0 = no link), latency (s) and energy (J/byte) from a packed link vector."""
    names = list(spec.units)
    n = len(names)
    bw, lat, e = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    for i, link in enumerate(spec.links.values()):
        a, b = (names.index(u) for u in link.between)
        for x, y in ((a, b), (b, a)):
            if packed[3 * i] > bw[x, y]:  # parallel links: the faster one carries the data
                bw[x, y], lat[x, y], e[x, y] = packed[3 * i: 3 * i + 3]
    return bw, lat, e


def cost_usd(spec: HeteroSpec) -> float | None:
    """Price of one heterogeneous device (the sum over its units), or None when a unit has no ``cost_usd``."""
    prices = [u.cost_usd for u in spec.units.values()]
    return None if any(p is None for p in prices) else float(sum(prices))


def pack_settings(spec: HeteroSpec) -> np.ndarray:
    """The settings slots of a hetero parameter vector: allow_split, split_steps, concurrency index,
    subbatch_min_batch, the units sharing one memory (bit ``u`` set for the ``u``-th unit)."""
    names = list(spec.units)
    shared = sum(1 << names.index(u) for u in spec.shared_memory)
    return np.array([float(spec.allow_split), float(spec.split_steps), float(CONCURRENCY.index(spec.concurrency)),
                     float(spec.subbatch_min_batch), float(shared)])


def shared_units(settings: np.ndarray, n_units: int) -> np.ndarray:
    """(P, U) whether each unit is in the shared memory, from (P, len(SETTINGS)) settings rows."""
    mask = settings[:, SETTINGS.index("shared_memory")].astype(np.int64)
    return (mask[:, None] >> np.arange(n_units)[None, :]) & 1 == 1


def apply_overrides(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Dotted-path overrides of a hetero preset: ``units.<u>.<unit path>``, ``links.<l>.<field>``, settings."""
    out = copy.deepcopy(values)
    units, links = out.get("units", {}), out.get("links", {})
    allowed = [f"units.{u}.<parameter of {ref.get('preset')}>" for u, ref in units.items()]
    allowed += [f"links.{name}.{f}" for name in links for f in LINK_FIELDS] + list(SETTINGS)
    for path, value in overrides.items():
        parts = path.split(".")
        if parts[0] == "units" and len(parts) > 2 and parts[1] in units and parts[2] not in ("preset", "overrides"):
            ref = units[parts[1]]
            ref["overrides"] = {**flatten(ref.get("overrides") or {}), ".".join(parts[2:]): value}
        elif parts[0] == "links" and len(parts) == 3 and parts[1] in links and parts[2] in LINK_FIELDS:
            links[parts[1]][parts[2]] = value
        elif path in SETTINGS:
            out[path] = value
        else:
            raise HardwareConfigError(f"unknown hardware parameter {path!r} for heterogeneous device "
                                      f"{values.get('name')!r}; allowed: {', '.join(allowed)}")
    return out


# What the heterogeneous device's own parameters (links and settings) do to the metrics when they grow; the units'
# parameters are declared by their kinds (hw_models.effects).
_PLACEMENT = ("the placement is re-optimised for latency, so it may move ops to a unit or split that finishes sooner "
              "at a different dynamic energy, and the unit whose memory binds (the capacity reported) moves with them")
EFFECTS = {
    "links.*.bandwidth_gbps": Effect(latency="down", energy="any", capacity="any", why=_PLACEMENT),
    "links.*.latency_us": Effect(latency="up", energy="any", capacity="any", why=_PLACEMENT),
    "links.*.e_pj_per_bit": Effect(latency="none", energy="up"),
    "subbatch_min_batch": Effect(latency="any", energy="any", capacity="any",
                                 why="batches below it run their ops one after another instead of as two interleaved "
                                     "sub-batches, which can be faster or slower; " + _PLACEMENT),
    "split_steps": Effect(latency="any", energy="any", capacity="any",
                          steps="the split fractions are multiples of 1/split_steps",
                          why="the fractions of different step counts are not nested (thirds are not quarters), so "
                              "more steps can remove the best split as well as add finer ones; " + _PLACEMENT),
}
