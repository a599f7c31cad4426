"""The requests of a run, from a ``Traffic`` config: arrival times, prompt and output lengths, seeded.

Three independent random streams are spawned from ``traffic.seed`` (arrivals, prompt lengths, output lengths), so a
different rate moves arrival times but leaves the k-th request's lengths unchanged, and the same config gives the
same requests bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosim.errors import CosimInputError
from cosim.serving.arrivals import read_trace, synthetic_arrivals
from cosim.serving.datasets import profile
from cosim.serving.lengths import draw_lengths
from cosim.serving.requests import Request
from cosim.serving.spec import Lengths, Traffic
from cosim.serving.tables import resolve

MAX_REDRAWS = 1000  # rounds of redrawing pairs over max_total_tokens before the cap is declared unreachable


def _arrival_times(traffic: Traffic, rate_per_s: float | None, rng: np.random.Generator,
                   base_dir: Path | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Arrival times and the lengths a trace supplies (by field name)."""
    arrivals = traffic.arrivals
    rate = rate_per_s if rate_per_s is not None else arrivals.rate_per_s
    cap = traffic.requests if "requests" in traffic.model_fields_set else None  # an explicit count limits a trace
    if arrivals.process != "trace":
        count = traffic.requests if traffic.duration_s is None else cap
        return synthetic_arrivals(arrivals.process, rate, arrivals.cv, rng, count, traffic.duration_s), {}
    trace = read_trace(resolve(arrivals.path, base_dir), arrivals.time_scale)
    times = trace.arrival_s
    if rate is not None and times.size > 1 and times[-1] > 0:  # replay at the asked mean rate
        times = times * ((times.size - 1) / times[-1] / rate)
    keep = np.ones(times.size, dtype=bool) if traffic.duration_s is None else times < traffic.duration_s
    if cap is not None:
        keep &= np.arange(times.size) < cap
    given = {"prompt": trace.prompt_tokens, "output": trace.output_tokens}
    return times[keep], {k: v[keep] for k, v in given.items() if v is not None}


def _length_specs(traffic: Traffic) -> tuple[dict[str, Lengths | None], int | None]:
    """The prompt and output distributions (explicit ones override a dataset's) and the total-token cap."""
    specs: dict[str, Lengths | None] = {"prompt": traffic.prompt, "output": traffic.output}
    cap = traffic.max_total_tokens
    if traffic.dataset is not None:
        named = profile(traffic.dataset)
        specs = {"prompt": specs["prompt"] or named.prompt, "output": specs["output"] or named.output}
        cap = cap if cap is not None else named.max_total_tokens
    return specs, cap


def generate_requests(traffic: Traffic, rate_per_s: float | None = None,
                      base_dir: Path | None = None) -> list[Request]:
    """The run's requests sorted by arrival, ids 0..n-1. ``rate_per_s`` overrides ``traffic.arrivals.rate_per_s``
    (for a trace, its gaps are rescaled to that mean rate); ``base_dir`` resolves relative trace and sample paths.

    Drawn (prompt, output) pairs whose sum exceeds ``max_total_tokens`` (or the dataset's cap) are redrawn; trace rows
    with both lengths given that exceed it are dropped, as length-capped traces are built.
    """
    arrival_rng, prompt_rng, output_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(traffic.seed).spawn(3))
    times, given = _arrival_times(traffic, rate_per_s, arrival_rng, base_dir)
    specs, cap = _length_specs(traffic)
    rngs = {"prompt": prompt_rng, "output": output_rng}
    draws = {}
    for side in ("prompt", "output"):
        if side in given:
            continue
        if specs[side] is None:
            raise CosimInputError(f"the trace has no '{side}_tokens' column; give 'dataset' or '{side}' lengths",
                                  "traffic")
        draws[side] = (lambda size, side=side: draw_lengths(specs[side], rngs[side], size, base_dir, f"traffic.{side}"))
    lengths = {side: given[side] if side in given else draws[side](times.size) for side in ("prompt", "output")}
    if cap is not None:
        keep = _apply_cap(lengths, draws, cap)
        times, lengths = times[keep], {side: v[keep] for side, v in lengths.items()}
    return [Request(i, float(t), int(p), int(o))
            for i, (t, p, o) in enumerate(zip(times.tolist(), lengths["prompt"].tolist(), lengths["output"].tolist()))]


def _apply_cap(lengths: dict[str, np.ndarray], draws: dict, cap: int) -> np.ndarray:
    """Redraw, in place, the drawn sides of pairs over ``cap``; the mask of pairs kept (all, unless both sides came
    from a trace)."""
    over = lengths["prompt"] + lengths["output"] > cap
    if not draws:
        return ~over
    for _ in range(MAX_REDRAWS):
        if not over.any():
            return np.ones(over.size, dtype=bool)
        rows = np.flatnonzero(over)
        for side, draw in draws.items():
            lengths[side][rows] = draw(rows.size)
        over = lengths["prompt"] + lengths["output"] > cap
    raise CosimInputError(f"{int(over.sum())} requests still exceed {cap} prompt + output tokens after "
                          f"{MAX_REDRAWS} redraws; raise the cap or shorten the length distributions",
                          "traffic.max_total_tokens")
