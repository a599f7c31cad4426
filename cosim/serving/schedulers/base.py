"""What every batching policy shares: the waiting queue, the running table, KV blocks, preemption and step updates.

Running requests are kept as columns (numpy arrays, one row per request in admission order) so that a decode step
updates every running request at once instead of looping over them in Python; the :class:`Request` objects are
brought up to date from the columns when a request leaves the running table (finished, preempted). A policy only
decides what runs next (:meth:`Scheduler.next_step`); :meth:`Scheduler.complete` applies a step the same way for
all of them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cosim.serving.kv_cache import KVCache, link_transfer_s
from cosim.serving.metrics import TokenGaps
from cosim.serving.requests import Request
from cosim.serving.spec import SchedulerSpec
from cosim.serving.step import StepBatch

_INT_COLUMNS = ("ctx", "target", "gen", "out", "blocks")  # ctx: KV tokens in cache
_FLOAT_COLUMNS = ("last_s", "energy")
_NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass
class Step:
    """One planned iteration: its ``batch`` for the predictor, the running-table rows that decode, the prefill
    chunks as (row, tokens), ``extra_s`` spent moving swapped KV, and the occupancy when it was formed."""

    batch: StepBatch
    decode_rows: np.ndarray
    prefill_rows: list[tuple[int, int]]
    extra_s: float
    batch_requests: int
    queue_length: int


def work_tokens(req: Request) -> int:
    """Tokens ``req`` still has to pass through the model: the rest of its prefill and its remaining decode steps
    (the step that completes a prefill emits a token, so it needs one decode step fewer)."""
    left = req.prefill_left
    return left + req.output_tokens - req.generated - (1 if left > 0 else 0)


class Scheduler:
    """Base of the batching policies. ``cache`` is the instance's block pool, ``gaps`` receives every token gap,
    ``kv_bytes(tokens)`` gives the bytes of a request's KV cache (what swap preemption moves)."""

    def __init__(self, spec: SchedulerSpec, cache: KVCache, gaps: TokenGaps,
                 kv_bytes: Callable[[int], float] | None = None) -> None:
        self.spec, self.cache, self.gaps, self.kv_bytes = spec, cache, gaps, kv_bytes
        self.waiting: deque[Request] = deque()
        self.swapped: deque[Request] = deque()
        self.rejected: list[Request] = []
        self.reqs: list[Request] = []
        self.n = 0
        for c in _INT_COLUMNS:
            setattr(self, c, np.zeros(spec.max_batch, dtype=np.int64))
        for c in _FLOAT_COLUMNS:
            setattr(self, c, np.zeros(spec.max_batch))
        self.work_tokens = 0  # outstanding tokens of every request here (for least-outstanding routing)

    # --- queue --------------------------------------------------------------------------------------------------
    def add(self, req: Request) -> None:
        """Queue an arrived request; one that could never fit the KV cache is set aside in ``rejected``."""
        if not self.cache.fits(self.reserve_tokens(req)):
            self.rejected.append(req)
            return
        self.waiting.append(req)
        self.work_tokens += work_tokens(req)

    def reserve_tokens(self, req: Request) -> int:
        """KV tokens ``req`` holds at its largest: its prompt and every output token but the last."""
        return req.prompt_tokens + req.output_tokens - 1

    def admit_blocks(self, req: Request) -> int:
        """Blocks allocated when ``req`` is admitted: its whole prefill (vLLM's block manager); Orca overrides."""
        return self.cache.blocks_for(req.prefill_target)

    @property
    def empty(self) -> bool:
        return not (self.n or self.waiting or self.swapped)

    @property
    def queued(self) -> int:
        return len(self.waiting) + len(self.swapped)

    def next_step(self, now: float) -> Step | None:
        """The next iteration to run, or None when there is nothing to run."""
        raise NotImplementedError

    # --- running table ------------------------------------------------------------------------------------------
    def _admit(self, req: Request, blocks: int, now: float) -> int:
        """Move ``req`` into the running table holding ``blocks`` KV blocks; returns its row."""
        self.cache.allocate(blocks)
        row = self.n
        self.ctx[row], self.target[row], self.gen[row] = req.kv_tokens, req.prefill_target, req.generated
        self.out[row], self.blocks[row] = req.output_tokens, blocks
        self.last_s[row], self.energy[row] = req.last_token_s, req.energy_j
        self.reqs.append(req)
        self.n += 1
        if math.isnan(req.scheduled_s):
            req.scheduled_s = now
        return row

    def _sync(self, row: int) -> Request:
        """The request of ``row`` with its progress written back from the columns."""
        req = self.reqs[row]
        req.kv_tokens, req.prefill_target = int(self.ctx[row]), int(self.target[row])
        req.generated, req.last_token_s, req.energy_j = int(self.gen[row]), float(self.last_s[row]), \
            float(self.energy[row])
        return req

    def _drop(self, rows: np.ndarray) -> None:
        """Remove ``rows`` from the running table (keeping admission order) and free their blocks."""
        n = self.n
        self.cache.free(int(self.blocks[rows].sum()))
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        m = int(keep.sum())
        for c in _INT_COLUMNS + _FLOAT_COLUMNS:
            col = getattr(self, c)
            col[:m] = col[:n][keep]
        self.reqs = [r for r, k in zip(self.reqs, keep.tolist()) if k]
        self.n = m

    def _preempt_last(self) -> float:
        """Preempt the latest-admitted running request (vLLM's victim): recompute drops its KV and queues it at the
        front; swap moves its KV to host memory. Returns the seconds the swap-out adds to this step."""
        row = self.n - 1
        req = self._sync(row)
        self._drop(np.array([row]))
        if self.spec.preemption == "recompute":
            before = work_tokens(req)
            req.preempt_recompute()
            self.work_tokens += work_tokens(req) - before
            self.waiting.appendleft(req)
            return 0.0
        req.preemptions += 1
        self.swapped.appendleft(req)
        return self._swap_s(req)

    def _swap_s(self, req: Request) -> float:
        if self.kv_bytes is None:
            raise RuntimeError("swap preemption needs the predictor's kv_transfer_bytes")
        return link_transfer_s(self.spec.swap_link, self.kv_bytes(req.kv_tokens))

    def _make_room(self, rows: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """Give each of ``rows`` the blocks its next token needs, preempting the latest-admitted requests while the
        pool is short. Returns the rows still running, the swap-out seconds and whether anyone was preempted."""
        extra, preempted = 0.0, False
        while rows.size:
            need = self.cache.growth(self.ctx[rows], self.blocks[rows])
            if int(need.sum()) <= self.cache.free_blocks:
                self.cache.allocate(int(need.sum()))
                self.blocks[rows] += need
                return rows, extra, preempted
            extra += self._preempt_last()
            preempted = True
            rows = rows[rows < self.n]
        return rows, extra, preempted

    def _swap_in(self, now: float) -> float:
        """Bring swapped requests back (oldest first) while their blocks fit; returns the transfer seconds."""
        extra = 0.0
        while self.swapped and self.n < self.spec.max_batch:
            req = self.swapped[0]
            blocks = self.cache.blocks_for(req.kv_tokens + 1)
            if not self.cache.can_allocate(blocks, watermark=self.n > 0):
                break
            self.swapped.popleft()
            self._admit(req, blocks, now)
            extra += self._swap_s(req)
        return extra

    def _take_prefills(self, now: float, budget: int, chunked: bool) -> list[tuple[int, int]]:
        """Admit waiting requests first come first served while a batch slot, ``budget`` prefill tokens and their
        KV blocks allow (the first one of a step whole even beyond the budget, unless ``chunked``: then each gets
        a chunk of what budget is left). Returns their (row, tokens) chunks."""
        chunks: list[tuple[int, int]] = []
        while self.waiting and self.n < self.spec.max_batch and budget > 0:
            req = self.waiting[0]
            left = req.prefill_left
            if not chunked and left > budget and chunks:
                break
            blocks = self.admit_blocks(req)
            if not self.cache.can_allocate(blocks, watermark=self.n > 0):
                break
            self.waiting.popleft()
            take = min(left, budget) if chunked else left
            chunks.append((self._admit(req, blocks, now), take))
            budget -= take
        return chunks

    def _plan(self, decode_rows: np.ndarray, prefills: list[tuple[int, int]], extra_s: float) -> Step | None:
        """The step running ``decode_rows`` and ``prefills`` (None when both are empty)."""
        if not decode_rows.size and not prefills:
            return None
        batch = StepBatch(tuple(self.ctx[decode_rows].tolist()),
                          tuple((c, int(self.ctx[row])) for row, c in prefills))
        return Step(batch, decode_rows, prefills, extra_s, self.n, self.queued)

    def decoding_rows(self) -> np.ndarray:
        """Running rows whose prefill is complete."""
        n = self.n
        return np.flatnonzero(self.ctx[:n] >= self.target[:n])

    # --- applying a step ----------------------------------------------------------------------------------------
    def complete(self, step: Step, now: float, energy_j: float) -> list[Request]:
        """Apply ``step``, ended at ``now`` and costing ``energy_j`` (shared by tokens processed): advance KV and
        outputs, record token gaps, and return the requests that finished (their blocks freed)."""
        e_token = energy_j / step.batch.tokens
        rows = step.decode_rows
        if rows.size:
            self.gaps.add(now - self.last_s[rows])
            self.last_s[rows] = now
            self.ctx[rows] += 1
            self.gen[rows] += 1
            self.energy[rows] += e_token
        for row, c in step.prefill_rows:
            self.ctx[row] += c
            self.energy[row] += c * e_token
            if self.ctx[row] >= self.target[row]:
                self.gen[row] += 1
                if self.gen[row] == 1:
                    self.reqs[row].first_token_s = now
                else:
                    self.gaps.add(now - self.last_s[row])
                self.last_s[row] = now
        self.work_tokens -= step.batch.tokens
        n = self.n
        done = np.flatnonzero(self.gen[:n] >= self.out[:n])
        if not done.size:
            return []
        finished = [self._sync(int(row)) for row in done]
        for req in finished:
            req.finish_s = now
        self._drop(done)
        return finished
