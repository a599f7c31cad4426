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
        rows, extra, preempted = self._make_room(self.decoding_rows())
        if not preempted and self.swapped:
            extra += self._swap_in(now)
            rows, more, _ = self._make_room(self.decoding_rows())
            extra += more
        budget = self.spec.token_budget - rows.size
        prefills: list[tuple[int, int]] = []
        n = self.n
        for row in (self.ctx[:n] < self.target[:n]).nonzero()[0].tolist():
            if budget <= 0:
                break
            take = min(int(self.target[row] - self.ctx[row]), budget)
            prefills.append((row, take))
            budget -= take
        if not self.swapped:
            prefills += self._take_prefills(now, budget, chunked=True)
        return self._plan(rows, prefills, extra)
