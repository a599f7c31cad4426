"""What one engine iteration runs, what it costs, and the protocol every step-cost predictor follows.

A scheduler forms a :class:`StepBatch` each iteration: the requests that decode one token (each with the KV length
it attends over) and the prefill chunks (each with its new tokens and the tokens of the same request already in
cache). A :class:`StepCostPredictor` turns it into a :class:`StepCost`. Predictors are pure: the same batch gives
the same cost, which is what makes runs deterministic and lets predictors cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class StepBatch:
    """One iteration's work. ``decode_contexts``: per decoding request, the KV tokens it attends over before this
    step (its new token adds one). ``prefill_chunks``: per prefilling request, (new tokens, tokens already cached)."""

    decode_contexts: tuple[int, ...] = ()
    prefill_chunks: tuple[tuple[int, int], ...] = ()

    @property
    def decode_tokens(self) -> int:
        return len(self.decode_contexts)

    @property
    def prefill_tokens(self) -> int:
        return sum(c for c, _ in self.prefill_chunks)

    @property
    def tokens(self) -> int:
        """Tokens through the weight layers this step."""
        return self.decode_tokens + self.prefill_tokens

    @property
    def empty(self) -> bool:
        return not self.decode_contexts and not self.prefill_chunks


@dataclass(frozen=True)
class StepCost:
    """Time and energy of one iteration on one instance (all its tensor/pipeline-parallel devices together);
    ``units``: busy seconds per unit of a heterogeneous device (for breakdowns), empty otherwise."""

    time_s: float
    energy_j: float
    units: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class StepCostPredictor(Protocol):
    """Cost of iterations on one serving instance."""

    def cost(self, batch: StepBatch) -> StepCost:
        """Time and energy of one iteration running ``batch``."""
        ...

    def kv_capacity_tokens(self) -> int:
        """KV-cache tokens the instance holds beside its weights and activation workspace."""
        ...

    def kv_transfer_bytes(self, tokens: int) -> float:
        """Bytes of KV cache of ``tokens`` tokens (what a disaggregated system moves per request)."""
        ...
