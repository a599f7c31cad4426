"""Sarathi-Serve chunked prefill with stall-free hybrid batches (Agrawal et al., OSDI 2024).

Each step has a budget of ``token_budget`` tokens. Every running request past its prefill decodes one token first
(decodes never stall behind a prompt); the rest of the budget goes to prefill chunks: requests already part-way
through their prompt first, then waiting ones admitted first come first served (blocks of the whole prompt at
admission, above the watermark, as vLLM's block manager does). KV blocks and preemption work as in vLLM.
"""

from __future__ import annotations

from cosim.serving.schedulers.base import Scheduler, Step


class SarathiScheduler(Scheduler):
    """Chunked prefill under a per-step token budget, decodes first."""

    def next_step(self, now: float) -> Step | None:
        extra, preempted = self._make_room()
        if not preempted and self.swapped:
            extra += self._swap_in(now)
            extra += self._make_room()[0]
        decode = self.d
        prefills = self._continue_prefills(self.spec.token_budget - decode)
        if not self.swapped:
            prefills += self._take_prefills(now, self.spec.token_budget - decode - sum(c for _, c in prefills),
                                            chunked=True)
        return self._plan(decode, prefills, extra)
