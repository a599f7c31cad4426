"""Sub-batch interleaving (NeuPIMs): two sub-batches pipelined over the units of a heterogeneous device (or, for
NanoFlow-style nano-batches, any number of them over a device's resources: ``cosim.serving.nanoflow``).

Each sub-batch runs the op sequence of a decode step (prologue, the per-layer block ``layers`` times, epilogue) again
and again, one token per pass; an op holds the unit it is placed on for its (sub-batch) time, so while the NPU runs
one sub-batch's GEMMs the PIM can run the other's attention. When the memory is ``blocked`` (PIM computation and
normal memory traffic exclude each other) every op also holds the shared memory, which serializes the units. The
steady-state period is measured between the ends of passes after the first; a unit's utilization is its busy time
per pass (both sub-batches) over the period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Interleaved:
    period_s: float  # time per decode step of the whole batch, in steady state
    busy_s: np.ndarray  # per unit: busy time per step (both sub-batches)

    @property
    def utilization(self) -> np.ndarray:
        return self.busy_s / self.period_s


def layer_block(counts: np.ndarray) -> tuple[int, int]:
    """(start, end) of the contiguous block of ops that repeat most (the layers); (0, 0) when there is none."""
    counts = np.asarray(counts, dtype=float)
    top = counts.max() if len(counts) else 1.0
    block = np.flatnonzero(counts == top)
    if top <= 1 or len(block) == 0 or block[-1] - block[0] + 1 != len(block):
        return 0, 0
    return int(block[0]), int(block[-1]) + 1


def sequence(counts: np.ndarray) -> list[tuple[int, float]]:
    """One step's op order as (op index, repeats folded into the task): the block of ops that repeat most (the
    layers) is unrolled layer by layer; other ops run once with their count folded into their time."""
    counts = np.asarray(counts, dtype=float)
    start, end = layer_block(counts)
    if end == start:
        return [(n, c) for n, c in enumerate(counts)]
    head = [(n, counts[n]) for n in range(start)]
    tail = [(n, counts[n]) for n in range(end, len(counts))]
    return head + [(n, 1.0) for _ in range(int(counts[start])) for n in range(start, end)] + tail


def interleave(times: np.ndarray, units: np.ndarray, counts: np.ndarray, n_units: int, blocked: bool,
               passes: int = 3) -> Interleaved:
    """Simulate sub-batches (two for NeuPIMs): ``times`` (sub-batches, ops) per-instance op times of each sub-batch,
    ``units`` the unit of each op. Returns the steady-state period (``passes`` = 1: the time of one pass, start to
    last end) and per-unit busy time per step."""
    import simpy

    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=1) for _ in range(n_units)]
    memory = simpy.Resource(env, capacity=1) if blocked else None
    order = sequence(counts)
    ends: list[list[float]] = [[] for _ in range(len(times))]
    busy = np.zeros(n_units)

    def run(sb: int):
        for _ in range(passes):
            for n, reps in order:
                duration = float(times[sb, n]) * reps
                if duration <= 0:
                    continue
                unit = int(units[n])
                with resources[unit].request() as req:
                    yield req
                    if memory is not None:
                        with memory.request() as mreq:
                            yield mreq
                            yield env.timeout(duration)
                    else:
                        yield env.timeout(duration)
            ends[sb].append(env.now)

    for sb in range(len(times)):
        env.process(run(sb))
    env.run()
    for n, reps in order:
        for sb in range(len(times)):
            busy[int(units[n])] += float(times[sb, n]) * reps
    if passes > 1:
        period = max((e[-1] - e[0]) / (passes - 1) for e in ends)
    else:
        period = max(e[-1] for e in ends)
    return Interleaved(period_s=float(period), busy_s=busy)
