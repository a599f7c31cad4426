"""Orca-style iteration-level batching (Yu et al., OSDI 2022): prefills and decodes in one step, KV reserved.

Each step admits waiting requests first come first served while one of the ``max_batch`` slots is free and KV
blocks for the request's prompt plus its whole output are free (Orca reserves a request's maximum KV at admission,
so nothing is ever preempted), up to ``max_prefill_tokens`` prompt tokens; it runs their whole prompts together with
one decode token of every running request.
"""

from __future__ import annotations

from cosim.serving.requests import Request
from cosim.serving.schedulers.base import Scheduler, Step


class OrcaScheduler(Scheduler):
    """Iteration-level batching with maximum-length KV reservation."""

    def admit_blocks(self, req: Request) -> int:
        return self.cache.blocks_for(self.reserve_tokens(req))

    def next_step(self, now: float) -> Step | None:
        decode = self.d  # rows admitted now prefill; the reservations cover every token, so no block is needed
        return self._plan(decode, self._take_prefills(now, self.spec.max_prefill_tokens, chunked=False), 0.0)
