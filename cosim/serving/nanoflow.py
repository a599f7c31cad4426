"""NanoFlow-style nano-batches: one step's batch split in ``n`` nano-batches whose operations of different resource
kinds overlap inside one device (Zhu et al., "NanoFlow: Towards Optimal Large Language Model Serving Throughput",
OSDI'25, arXiv 2408.12757).

The model, from the engine's per-op breakdown:

- the step's tokens are cut into ``n`` nano-batches of (near) equal token counts (a prefill chunk cut in two keeps
  its order: the second part attends over the first); each nano-batch is evaluated by the engine on its own, so what
  splitting costs is counted, not assumed: every nano-batch re-reads the weights of its GEMMs and pays its own kernel
  launches, and smaller GEMMs run at the efficiency the device model gives them;
- every op occupies the resource that binds it in the engine's breakdown (its ``bound``: compute, memory, network,
  or kernel launch — see ``RESOURCES``) for its whole time, and only that one;
- each nano-batch runs its ops in order (the layers unrolled one by one, ``cosim.schedulers.subbatch.sequence``);
  each resource serves one op at a time, first come first served, so ops of different nano-batches overlap when they
  need different resources (``cosim.schedulers.subbatch.interleave``, one pass). The step time is that schedule's
  makespan: at least the busiest resource's summed time, plus the fill and drain the op dependencies force.

Assumption (stated, not measured): overlapped ops do not slow each other. NanoFlow shares a GPU's SMs between
concurrent kernels and measures the interference (its Fig. 6); that is not modelled, so this is the ideal overlap —
an upper bound on the gain. Energy: the nano-batches' dynamic energy plus the device's static power over the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cosim.errors import CosimInputError
from cosim.serving.step import StepBatch, StepCost

RESOURCES = ("compute", "memory", "network", "launch")
"""The resources ops of different nano-batches overlap on."""

_RESOURCE_OF_BOUND = {
    # arithmetic: tensor/vector cores (also when power-capped), special-function units, Logic-PIM softmax
    "compute": "compute", "power": "compute", "sfu": "compute", "softmax": "compute",
    # memory traffic: main memory, and on-chip levels (L2, a spatial device's buffer, a CPU cache, IoT DMA/L3)
    "memory": "memory", "l2": "memory", "buffer": "memory", "cache": "memory", "dma": "memory", "l3": "memory",
    # device-to-device collectives (a PIM's channel bus)
    "interconnect": "network", "bus": "network",
    # the host issuing kernels one after another
    "launch": "launch", "dispatch": "launch",
}


def resource_of(bound: str) -> int:
    """Index into ``RESOURCES`` of the resource an op bound by ``bound`` (an engine op frame's ``bound``) occupies."""
    try:
        return RESOURCES.index(_RESOURCE_OF_BOUND[bound])
    except KeyError:
        raise ValueError(f"no nano-batch resource for an op bound by {bound!r}; known: "
                         f"{', '.join(sorted(_RESOURCE_OF_BOUND))}") from None


def split_batch(batch: StepBatch, n: int) -> list[StepBatch]:
    """``batch`` cut into at most ``n`` nano-batches of near-equal token counts (decode tokens first, then the prefill
    chunks in order; a chunk cut between nano-batches continues over the tokens of its earlier part)."""
    tokens = batch.tokens
    sizes = [tokens // n + (1 if k < tokens % n else 0) for k in range(n)]
    parts: list[StepBatch] = []
    decodes = list(batch.decode_contexts)
    chunks = [list(c) for c in batch.prefill_chunks]  # [new tokens left, cached]
    for size in sizes:
        if size == 0:
            continue
        take_d = decodes[:size]
        decodes = decodes[size:]
        left = size - len(take_d)
        pre: list[tuple[int, int]] = []
        while left > 0:
            new, cached = chunks[0]
            take = min(new, left)
            pre.append((take, cached))
            left -= take
            if take == new:
                chunks.pop(0)
            else:
                chunks[0] = [new - take, cached + take]
        parts.append(StepBatch(tuple(take_d), tuple(pre)))
    return parts


@dataclass
class Overlap:
    """One step run as nano-batches: its time, energy and each resource's busy time."""

    time_s: float
    energy_j: float
    busy_s: dict[str, float] = field(default_factory=dict)


def _aligned(frames: list) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Op names (each nano-batch's ops merged in order: a decode-only nano-batch lacks the prefill attention),
    per-instance times (nano-batches, ops; 0 where a nano-batch lacks the op), counts and resources."""
    names: list[str] = []
    for f in sorted(frames, key=len, reverse=True):
        for name in f["op"]:
            if name not in names:
                names.append(name)
    index = {name: i for i, name in enumerate(names)}
    times = np.zeros((len(frames), len(names)))
    counts, units = np.zeros(len(names)), np.full(len(names), -1)
    for j, f in enumerate(frames):
        at = [index[name] for name in f["op"]]
        count = f["count"].to_numpy(dtype=float)
        times[j, at] = f["time_s"].to_numpy(dtype=float) / count
        counts[at] = count
        # An op keeps the resource of its first breakdown, so every nano-batch's instance of it queues on the same
        # resource (its binding resource can differ between nano-batch sizes).
        for i, bound in zip(at, f["bound"]):
            if units[i] < 0:
                units[i] = resource_of(bound)
    return names, times, counts, units


def overlap(results: list) -> Overlap:
    """Time and energy of nano-batches run together, from their engine ``Result``s (each with its op frame)."""
    from cosim.schedulers.subbatch import interleave

    _, times, counts, units = _aligned([r.ops for r in results])
    run = interleave(times, units, counts, len(RESOURCES), blocked=False, passes=1)
    static_w = max(r.energy_static_j / r.period_s for r in results)  # the same devices idle in every nano-batch
    dynamic = sum(r.energy_j - r.energy_static_j for r in results)
    return Overlap(run.period_s, dynamic + static_w * run.period_s,
                   {name: float(b) for name, b in zip(RESOURCES, run.busy_s)})


class NanoBatchStepCost:
    """A step-cost predictor that runs each step as ``nano_batches`` overlapped nano-batches (see the module
    docstring). ``inner`` is the whole-step predictor (capacity and transfer sizes are its); ``result_of(batch)``
    gives the engine ``Result`` (with its op frame) of one nano-batch on the same instance."""

    def __init__(self, inner, result_of: Callable[[StepBatch], object], nano_batches: int) -> None:
        if nano_batches < 2:
            raise CosimInputError(f"nano_batches must be >= 2 to overlap nano-batches, got {nano_batches}")
        self.inner, self.result_of, self.nano_batches = inner, result_of, nano_batches
        self._cache: dict[StepBatch, StepCost] = {}

    def cost(self, batch: StepBatch) -> StepCost:
        """Time and energy of ``batch`` run as overlapped nano-batches."""
        if batch not in self._cache:
            parts = split_batch(batch, self.nano_batches)
            if len(parts) < 2:
                self._cache[batch] = self.inner.cost(batch)
            else:
                run = overlap([self.result_of(p) for p in parts])
                self._cache[batch] = StepCost(run.time_s, run.energy_j, run.busy_s)
        return self._cache[batch]

    def kv_capacity_tokens(self) -> int:
        return self.inner.kv_capacity_tokens()

    def kv_transfer_bytes(self, tokens: int) -> float:
        return self.inner.kv_transfer_bytes(tokens)
