"""A step-cost predictor simple enough to check simulations by hand: a fixed cost per step, a cost per token
through the weights and a cost per KV token attended, at constant power."""

from __future__ import annotations

from dataclasses import dataclass

from cosim.serving.step import StepBatch, StepCost


@dataclass(frozen=True)
class AnalyticCost:
    """time = fixed_s + per_token_s * tokens + per_context_s * (decode contexts + prefill chunks' cached tokens
    times chunk tokens); energy = power_w * time."""

    fixed_s: float = 2e-3
    per_token_s: float = 5e-5
    per_context_s: float = 1e-7
    power_w: float = 400.0
    capacity_tokens: int = 1 << 20
    bytes_per_token: float = 524288.0  # e.g. 32 layers x 2 x 4096 x 2 bytes

    def time_s(self, batch: StepBatch) -> float:
        context = sum(batch.decode_contexts) + sum(c * cached for c, cached in batch.prefill_chunks)
        return self.fixed_s + self.per_token_s * batch.tokens + self.per_context_s * context

    def cost(self, batch: StepBatch) -> StepCost:
        t = self.time_s(batch)
        return StepCost(t, self.power_w * t)

    def kv_capacity_tokens(self) -> int:
        return self.capacity_tokens

    def kv_transfer_bytes(self, tokens: int) -> float:
        return self.bytes_per_token * tokens

    def prefill_s(self, prompt: int) -> float:
        """One whole prompt alone."""
        return self.time_s(StepBatch(prefill_chunks=((prompt, 0),)))

    def decode_s(self, contexts: tuple[int, ...]) -> float:
        return self.time_s(StepBatch(decode_contexts=contexts))
