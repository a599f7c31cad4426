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
  need different resources (the SimPy model ``cosim.schedulers.subbatch.interleave``, one pass, computed event
  for event by its compiled form ``cosim.schedulers.subbatch_batch.interleave_points``). The step time is that
  schedule's makespan: at least the busiest resource's summed time, plus the fill and drain the op dependencies
  force.

Assumption (stated, not measured): overlapped ops do not slow each other. NanoFlow shares a GPU's SMs between
concurrent kernels and measures the interference (its Fig. 6); that is not modelled, so this is the ideal overlap —
an upper bound on the gain. Energy: the nano-batches' dynamic energy plus the device's static power over the step.
"""

from __future__ import annotations

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


def _layout(frames: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every nano-batch's ops in slots of one table (nano-batches may differ: a decode-only one has no prefill
    attention): all nano-batches' ops before their layers, then all their layer ops, then all the rest, so the layers
    stay one contiguous block that ``sequence`` unrolls. Returns per-instance times (nano-batches, slots; 0 in
    another nano-batch's slots), counts and resources of the slots."""
    from cosim.schedulers.subbatch import layer_block

    blocks = [layer_block(f["count"].to_numpy(dtype=float)) for f in frames]
    layered = len({int(f["count"].max()) for f in frames}) == 1 and all(e > s for s, e in blocks)
    pieces: list[tuple[int, slice]] = []  # (nano-batch, rows of its frame), in slot order
    if layered:
        for part in range(3):
            for j, (start, end) in enumerate(blocks):
                pieces.append((j, (slice(0, start), slice(start, end), slice(end, None))[part]))
    else:
        pieces = [(j, slice(None)) for j in range(len(frames))]
    counts, units, owner, times = [], [], [], []
    for j, rows in pieces:
        f = frames[j].iloc[rows]
        count = f["count"].to_numpy(dtype=float)
        counts.append(count)
        units.append([resource_of(b) for b in f["bound"]])
        times.append(f["time_s"].to_numpy(dtype=float) / count)
        owner.append(np.full(len(f), j))
    counts, owner, flat = np.concatenate(counts), np.concatenate(owner), np.concatenate(times)
    table = np.zeros((len(frames), len(flat)))
    table[owner, np.arange(len(flat))] = flat
    return table, counts, np.concatenate(units).astype(np.int64)


def overlap(results: list) -> Overlap:
    """Time and energy of nano-batches run together, from their engine ``Result``s (each with its op frame)."""
    from cosim.schedulers.subbatch_batch import interleave_points

    times, counts, units = _layout([r.ops for r in results])
    periods, busy = interleave_points(times[None], units[None], counts, len(RESOURCES), np.array([False]), passes=1)
    period_s, busy_s = float(periods[0]), busy[0]
    static_w = max(r.energy_static_j / r.period_s for r in results)  # the same devices idle in every nano-batch
    dynamic = sum(r.energy_j - r.energy_static_j for r in results)
    return Overlap(period_s, dynamic + static_w * period_s, {name: float(b) for name, b in zip(RESOURCES, busy_s)})


class NanoBatchStepCost:
    """A step-cost predictor that runs each step of an engine predictor (``cosim.serving.step_cost.EngineStepCost``)
    as ``nano_batches`` overlapped nano-batches (see the module docstring). Steps are costed at the inner
    predictor's grid points (its interpolation corners, weighted as it weighs them; every point once, cached), so
    the nano-batched and plain predictors interpolate alike — except that unequal prefill chunks stay the grid's
    equal chunks of the same causal work (the inner predictor's attention correction is not applied per
    nano-batch). KV capacity and transfer sizes are the inner one's."""

    def __init__(self, inner, nano_batches: int) -> None:
        if nano_batches < 2:
            raise CosimInputError(f"nano_batches must be >= 2 to overlap nano-batches, got {nano_batches}")
        for attr in ("hardware", "step_workload", "grid_points"):
            if not hasattr(inner, attr):
                raise CosimInputError(f"nano-batches need an engine step-cost predictor (EngineStepCost) for the "
                                      f"per-op breakdown; got {type(inner).__name__}")
        if inner.hardware.kind == "hetero":
            raise CosimInputError(f"nano_batches: {inner.hardware.name!r} is a heterogeneous device; its units "
                                  f"overlap by its own concurrency setting (overlap, subbatch), not by nano-batches")
        if inner.pipeline_parallel > 1:
            raise CosimInputError(f"nano_batches with pipeline_parallel={inner.pipeline_parallel}: nano-batch "
                                  f"overlap is modelled on one pipeline stage; use tensor parallelism")
        self.inner, self.nano_batches, self.hardware = inner, nano_batches, inner.hardware
        self._points: dict[tuple, Overlap] = {}

    def cost(self, batch: StepBatch) -> StepCost:
        """Time and energy of ``batch`` run as overlapped nano-batches."""
        if batch.empty:
            return StepCost(0.0, 0.0)
        d = batch.decode_tokens
        context = sum(batch.decode_contexts) / d if d else 0.0
        chunks = tuple(sorted(batch.prefill_chunks))
        points = ([((d, int(round(context)), chunks), 1.0)] if self.inner.exact
                  else self.inner.grid_points(d, context, chunks))
        time_s = energy_j = 0.0
        busy = dict.fromkeys(RESOURCES, 0.0)
        for point, w in points:
            run = self._point(*point)
            time_s += w * run.time_s
            energy_j += w * run.energy_j
            for name, b in run.busy_s.items():
                busy[name] += w * b
        return StepCost(time_s, energy_j, busy)

    def _point(self, d: int, context: int, chunks: tuple[tuple[int, int], ...]) -> Overlap:
        key = (d, context, chunks)
        if key not in self._points:
            parts = split_batch(StepBatch((context,) * d, chunks), self.nano_batches)
            self._points[key] = overlap([self._result(p) for p in parts])
        return self._points[key]

    def _result(self, batch: StepBatch):
        """The engine's result (with its op frame) of one nano-batch, the KV cache checked by the inner predictor."""
        from cosim.engine import simulate

        d = batch.decode_tokens
        context = int(round(sum(batch.decode_contexts) / d)) if d else 0
        wl = self.inner.step_workload(d, context, tuple(sorted(batch.prefill_chunks)))
        wl.memory_bytes["kv_cache"] = 0.0  # the schedulers keep the KV cache within the inner predictor's capacity
        result = simulate(self.inner.hardware, wl, self.inner.objective)
        if not result.feasible:
            raise CosimInputError(f"{self.inner.where()}: a nano-batch of {d} decodes and prefill chunks "
                                  f"{list(batch.prefill_chunks)[:4]} is infeasible: {result.reason}")
        return result

    def kv_capacity_tokens(self) -> int:
        return self.inner.kv_capacity_tokens()

    def kv_transfer_bytes(self, tokens: int) -> float:
        return self.inner.kv_transfer_bytes(tokens)


def with_nano_batches(predictor, nano_batches: int):
    """``predictor`` itself when ``nano_batches`` is 1, else its nano-batched form."""
    return predictor if nano_batches == 1 else NanoBatchStepCost(predictor, nano_batches)
