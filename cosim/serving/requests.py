"""The request entity: what a client asked for, and how far the system has served it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class Request:
    """One generation request.

    ``prompt_tokens`` and ``output_tokens`` are what the client sends and will receive. Progress is counted in KV
    tokens: ``kv_tokens`` are the tokens whose keys and values are in cache; the request is prefilling while
    ``kv_tokens < prefill_target`` (the prompt at first; after a recompute preemption, the prompt plus every token
    generated so far). The step that completes a prefill emits one output token; each decode step feeds the last
    token (``kv_tokens += 1``) and emits the next. Times are simulation seconds, ``nan`` until they happen.
    """

    id: int
    arrival_s: float
    prompt_tokens: int
    output_tokens: int
    prefill_target: int = -1  # set to prompt_tokens in __post_init__
    kv_tokens: int = 0
    generated: int = 0
    scheduled_s: float = math.nan  # first time any of its work ran (end of queueing)
    first_token_s: float = math.nan
    last_token_s: float = math.nan
    finish_s: float = math.nan
    preemptions: int = 0
    energy_j: float = 0.0  # its share of the energy of the steps it ran in
    instance: int = -1  # the replica (or decode instance) that finished it

    def __post_init__(self) -> None:
        if self.prefill_target < 0:
            self.prefill_target = self.prompt_tokens

    @property
    def prefill_left(self) -> int:
        """Tokens still to prefill before the request decodes."""
        return max(self.prefill_target - self.kv_tokens, 0)

    @property
    def done(self) -> bool:
        """Whether every output token has been produced."""
        return self.generated >= self.output_tokens

    def preempt_recompute(self) -> None:
        """Drop the request's KV cache: it must prefill its prompt and generated tokens again."""
        self.preemptions += 1
        self.kv_tokens = 0
        self.prefill_target = self.prompt_tokens + self.generated
