"""What every batching policy shares: the waiting queue, the running table, KV blocks, preemption and step updates.

Running requests are kept as columns (numpy arrays) so that a decode step updates every running request at once
instead of looping over them in Python; the :class:`Request` objects are brought up to date from the columns when a
request leaves the running table (finished, preempted). Rows ``0..d-1`` have finished their prefill and decode, rows
``d..n-1`` are still prefilling, each part in admission order; prefill chunks go to prefilling rows in order, so the
rows whose prefill completes are always the first prefilling ones and the split stays a prefix. A policy only
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

# ctx: KV tokens in cache; target: prefill target; gen: outputs (kept for prefilling rows); end: ctx when done
# (prompt + output - 1); cap: tokens its blocks hold; last_s: last token time (prefilling rows); ebase: energy share
# (decoding rows: less the running per-token total when they joined)
_INT_COLUMNS = ("ctx", "target", "gen", "end", "cap")
_FLOAT_COLUMNS = ("last_s", "ebase")
_COLUMNS = _INT_COLUMNS + _FLOAT_COLUMNS


@dataclass(slots=True)
class Step:
    """One planned iteration: its ``batch`` for the predictor; ``decode``: rows 0..decode-1 of the running table
    decode a token; ``prefill_rows``: (row, tokens) chunks; ``extra_s`` spent moving swapped KV; the occupancy
    when it was formed (running requests, queued requests)."""

    batch: StepBatch
    decode: int
    prefill_rows: list[tuple[int, int]]
    extra_s: float
    tokens: int
    prefill_tokens: int
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
        self.n = self.d = 0  # running requests; of them decoding (rows 0..d-1)
        for c in _INT_COLUMNS:
            setattr(self, c, np.zeros(spec.max_batch + 1, dtype=np.int64))  # +1: room to shift on insert
        for c in _FLOAT_COLUMNS:
            setattr(self, c, np.zeros(spec.max_batch + 1))
        self.work_tokens = 0  # outstanding tokens of every request here (for least-outstanding routing)
        self.e_token_total = 0.0  # energy share of one decode token, summed over the decode steps so far
        self.t_decode = math.nan  # end of the last decode step
        self._fresh: dict[int, float] = {}  # id(request) -> last token time, for rows decoding since that step
        self._finish_in: int | None = None  # decode steps until the nearest decoding row finishes (None: unknown)

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
        """Nothing queued, swapped out or running."""
        return not (self.n or self.waiting or self.swapped)

    @property
    def queued(self) -> int:
        """Requests waiting for a batch slot (queued or swapped out)."""
        return len(self.waiting) + len(self.swapped)

    def next_step(self, now: float) -> Step | None:
        """The next iteration to run, or None when there is nothing to run."""
        raise NotImplementedError

    def in_flight(self) -> list[Request]:
        """Every request here (running ones brought up to date, then swapped out, then queued)."""
        return [self._sync(row) for row in range(self.n)] + list(self.swapped) + list(self.waiting)

    # --- running table ------------------------------------------------------------------------------------------
    def admit(self, req: Request, blocks: int, now: float) -> int:
        """Move ``req`` into the running table holding ``blocks`` KV blocks (a prefilling request after the others,
        a decoding one after the decoding ones); returns its row."""
        self.cache.allocate(blocks)
        row, n = self.n, self.n
        energy = req.energy_j
        if req.prefill_left == 0:
            row = self.d
            for c in _COLUMNS:
                col = getattr(self, c)
                col[row + 1:n + 1] = col[row:n].copy()
            self.d += 1
            self._fresh[id(req)] = req.last_token_s
            self._finish_in = None
            energy -= self.e_token_total
        self.ctx[row], self.target[row], self.gen[row] = req.kv_tokens, req.prefill_target, req.generated
        self.end[row] = req.prompt_tokens + req.output_tokens - 1
        self.cap[row] = blocks * self.cache.block_tokens
        self.last_s[row], self.ebase[row] = req.last_token_s, energy
        self.reqs.insert(row, req)
        self.n += 1
        if math.isnan(req.scheduled_s):
            req.scheduled_s = now
        return row

    def _sync(self, row: int) -> Request:
        """The request of ``row`` with its progress written back from the columns."""
        req = self.reqs[row]
        ctx = int(self.ctx[row])
        req.kv_tokens, req.prefill_target = ctx, int(self.target[row])
        if row < self.d:
            req.generated = req.output_tokens - (int(self.end[row]) - ctx)
            req.energy_j = float(self.ebase[row]) + self.e_token_total
            req.last_token_s = self._fresh.get(id(req), self.t_decode)
        else:
            req.generated, req.energy_j = int(self.gen[row]), float(self.ebase[row])
            req.last_token_s = float(self.last_s[row])
        return req

    def _drop(self, rows: np.ndarray) -> None:
        """Remove ``rows`` from the running table (keeping the order) and free their blocks."""
        n = self.n
        self.cache.free(int(self.cap[rows].sum()) // self.cache.block_tokens)
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        m = int(keep.sum())
        for c in _COLUMNS:
            col = getattr(self, c)
            col[:m] = col[:n][keep]
        self.d -= int(np.count_nonzero(rows < self.d))
        if self._fresh:
            for row in rows.tolist():
                self._fresh.pop(id(self.reqs[row]), None)
        self.reqs = [r for r, k in zip(self.reqs, keep.tolist()) if k]
        self.n = m
        self._finish_in = None

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

    def _make_room(self) -> tuple[float, bool]:
        """Give each decoding row the block its next token needs, preempting the latest-admitted requests while the
        pool is short. Returns the swap-out seconds and whether anyone was preempted."""
        extra, preempted = 0.0, False
        while self.d:
            d = self.d
            full = self.ctx[:d] == self.cap[:d]
            need = int(np.count_nonzero(full))
            if need <= self.cache.free_blocks:
                if need:
                    self.cache.allocate(need)
                    self.cap[:d][full] += self.cache.block_tokens
                return extra, preempted
            extra += self._preempt_last()
            preempted = True
        return extra, preempted

    def _swap_in(self, now: float) -> float:
        """Bring swapped requests back (oldest first) while their blocks fit; returns the transfer seconds."""
        extra = 0.0
        while self.swapped and self.n < self.spec.max_batch:
            req = self.swapped[0]
            blocks = self.cache.blocks_for(req.kv_tokens + 1)
            if not self.cache.can_allocate(blocks, watermark=self.n > 0):
                break
            self.swapped.popleft()
            self.admit(req, blocks, now)
            extra += self._swap_s(req)
        return extra

    def _continue_prefills(self, budget: int) -> list[tuple[int, int]]:
        """Chunks for the requests part-way through their prefill, in order, within ``budget`` tokens."""
        chunks: list[tuple[int, int]] = []
        for row in range(self.d, self.n):
            if budget <= 0:
                break
            take = min(int(self.target[row] - self.ctx[row]), budget)
            chunks.append((row, take))
            budget -= take
        return chunks

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
            chunks.append((self.admit(req, blocks, now), take))
            budget -= take
        return chunks

    def _plan(self, decode: int, prefills: list[tuple[int, int]], extra_s: float) -> Step | None:
        """The step decoding rows 0..decode-1 and running ``prefills`` (None when both are empty)."""
        if not decode and not prefills:
            return None
        chunks: tuple[tuple[int, int], ...] = ()
        prefill_tokens = 0
        if prefills:
            chunks = tuple((c, int(self.ctx[row])) for row, c in prefills)
            prefill_tokens = sum(c for c, _ in chunks)
        return Step(StepBatch(tuple(self.ctx[:decode].tolist()), chunks), decode, prefills, extra_s,
                    decode + prefill_tokens, prefill_tokens, self.n, self.queued)

    # --- applying a step ----------------------------------------------------------------------------------------
    def complete(self, step: Step, now: float, energy_j: float) -> list[Request]:
        """Apply ``step``, ended at ``now`` and costing ``energy_j`` (shared by tokens processed): advance KV and
        outputs, record token gaps, and return the requests that finished (their blocks freed)."""
        e_token = energy_j / step.tokens
        d = step.decode
        if d:
            self.ctx[:d] += 1
            self.e_token_total += e_token
            fresh = self._fresh
            if fresh:
                self.gaps.add(now - np.fromiter(fresh.values(), float, len(fresh)))
            if d > len(fresh):
                self.gaps.add_repeat(now - self.t_decode, d - len(fresh))
            fresh.clear()
            self.t_decode = now
            if self._finish_in is not None:
                self._finish_in -= 1
        for row, c in step.prefill_rows:
            ctx = int(self.ctx[row]) + c
            self.ctx[row] = ctx
            self.ebase[row] += c * e_token
            if ctx >= self.target[row]:  # prefill complete: its row is the first prefilling one
                self.d += 1
                gen = int(self.gen[row]) + 1
                self.gen[row] = gen
                req = self.reqs[row]
                if gen == 1:
                    req.first_token_s = now
                else:
                    self.gaps.add_repeat(now - float(self.last_s[row]), 1)
                self.ebase[row] -= self.e_token_total
                self._fresh[id(req)] = now
                self._finish_in = None
        self.work_tokens -= step.tokens
        d = self.d
        if self._finish_in is None:
            self._finish_in = int((self.end[:d] - self.ctx[:d]).min()) if d else 1 << 62
        if self._finish_in > 0:
            return []
        done = np.flatnonzero(self.ctx[:d] >= self.end[:d])
        finished = [self._sync(int(row)) for row in done]
        for req in finished:
            req.finish_s = now
        self._drop(done)
        return finished
