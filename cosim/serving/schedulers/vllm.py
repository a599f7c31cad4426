"""vLLM-style continuous batching (Kwon et al., SOSP 2023): paged KV blocks, prefill first, preemption.

Each step runs either prefills or decodes, never both. While no request is swapped out, waiting prompts are admitted
first come first served, whole, up to ``max_prefill_tokens`` tokens and ``max_batch`` running requests, each only if
the blocks of its whole prompt are free above the watermark; such a step prefills them alone. Otherwise every running
request decodes one token; when a token needs a block and none is free, the latest-admitted requests are preempted
(recompute: KV dropped, back to the front of the queue; swap: KV moved to host memory). Without preemption in a step,
swapped requests come back first, while their blocks fit.

Swap cost: a swap-out or swap-in moves the request's KV (``predictor.kv_transfer_bytes(kv_tokens)``) over
``SchedulerSpec.swap_link`` (default PCIe 4.0 x16, 31.5 GB/s), taking latency + bytes / bandwidth; vLLM issues the
copies in the iteration, before the model runs, so that time is added to the step's. The copies' energy is not
charged (assumption: small beside a step's; the link carries no energy figure here).
"""

from __future__ import annotations

from cosim.serving.schedulers.base import Scheduler, Step


class VLLMScheduler(Scheduler):
    """Prefill-prioritising continuous batching with paged KV blocks."""

    def next_step(self, now: float) -> Step | None:
        if self.waiting and not self.swapped:
            prefills = self._take_prefills(now, self.spec.max_prefill_tokens, chunked=False)
            if prefills:
                return self._plan(0, prefills, 0.0)
        extra, preempted = self._make_room()
        if not preempted and self.swapped:
            extra += self._swap_in(now)
            extra += self._make_room()[0]
        if not self.d:
            return self.next_step(now) if self.waiting or (self.swapped and not self.n) else None
        return self._plan(self.d, [], extra)
