"""The record of one simulated serving run: per-request rows, a per-step timeline and the summary figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

REQUEST_COLUMNS = ("id", "arrival_s", "prompt_tokens", "output_tokens", "scheduled_s", "first_token_s",
                   "finish_s", "ttft_s", "tpot_s", "e2e_s", "queue_s", "preemptions", "energy_j", "instance",
                   "finished")
"""Columns of ``ServingRun.requests`` (one row per request, finished or not; times in seconds, nan if unreached)."""

TIMELINE_COLUMNS = ("time_s", "instance", "step_s", "batch_requests", "prefill_tokens", "decode_tokens",
                    "kv_used_tokens", "kv_capacity_tokens", "queue_length", "energy_j")
"""Columns of ``ServingRun.timeline`` (one row per engine step of each instance; ``time_s`` is the step's end)."""


@dataclass
class ServingRun:
    """One system driven by one traffic: ``summary`` holds the headline figures (see ``metrics.summarize``),
    ``goodput`` per named SLO its figures (goodput_rps, attainment, meets)."""

    system: str
    rate_per_s: float | None
    requests: pd.DataFrame
    timeline: pd.DataFrame
    summary: dict[str, float]
    goodput: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_s: float = float("nan")
