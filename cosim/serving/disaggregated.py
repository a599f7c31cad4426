"""Disaggregated prefill and decode (DistServe: Zhong et al., OSDI'24, arXiv 2401.09670): prompts run on a prefill
pool, generation on a decode pool, and each request's KV cache moves over a link between them.

- Arriving requests go to the prefill instances by the system's router. A prefill instance batches prompts only
  (its pool's scheduler, FCFS, within the pool's limits); the step that completes a prompt emits the first token, so
  TTFT ends there, as DistServe counts it.
- The request then goes to a decode instance by the same router policy (round robin, or least outstanding work
  counting the requests waiting for it). A decode instance admits waiting requests in arrival order when it has a
  batch slot and the KV blocks the request's scheduler reserves at admission (above the watermark while others
  run); the blocks are reserved, then the KV cache of the prompt moves over the link (``kv_transfer``: one transfer
  at a time per prefill egress and per decode ingress port), then the request joins the decode batch and decodes to
  completion. The wait for the slot and the transfer fall between the first and the second token: they count in
  TBT and TPOT.
- Each pool costs its steps with its own predictor (``predictor_for_pool(pool)``: its hardware and parallelism).
  Instance ids: prefill instances ``0 .. P-1``, decode instances ``P .. P+D-1`` (timeline ``instance``; a request's
  ``instance`` is the decode instance that finished it, or the prefill instance when its only token was the first).
  The link's energy is added to the moved request's energy and to the run's.

Simplification (stated): a prompt's KV leaves the prefill instance's block pool when its prefill step ends; while
it waits for a decode slot it is not counted against the prefill instance's memory (DistServe keeps it in the
prefill GPU until the decode instance pulls it, which can stall prefill when decode falls behind).
"""

from __future__ import annotations

from collections import deque

import simpy

from cosim.serving.instance import Instance, build_instance
from cosim.serving.kv_transfer import KVTransfers, resolve_link
from cosim.serving.metrics import Recorder
from cosim.serving.nanoflow import with_nano_batches
from cosim.serving.requests import Request
from cosim.serving.router import Router
from cosim.serving.schedulers.base import work_tokens
from cosim.serving.spec import SystemSpec


class _DecodePort:
    """A decode instance with its queue of prefilled requests waiting for a slot and their KV."""

    def __init__(self, env: simpy.Environment, slot: int, instance: Instance, transfers: KVTransfers,
                 kv_bytes, recorder: Recorder) -> None:
        self.env, self.slot, self.instance, self.transfers = env, slot, instance, transfers
        self.kv_bytes, self.recorder = kv_bytes, recorder
        self.pending: deque[tuple[Request, int]] = deque()
        self.pending_tokens = 0
        self.in_flight = 0
        self.landed: list[tuple[Request, int]] = []  # KV arrived, waiting for the instance's step to end
        instance.between_steps.append(self.land)

    @property
    def outstanding_tokens(self) -> int:
        return self.instance.outstanding_tokens + self.pending_tokens

    def submit(self, req: Request, sender: int) -> None:
        """Queue prefilled ``req`` (its KV on prefill instance ``sender``); one that can never fit is unfinished."""
        sched = self.instance.scheduler
        if not sched.cache.fits(sched.reserve_tokens(req)):
            req.instance = self.instance.index
            self.recorder.leave(req, req.id)
            return
        self.pending.append((req, sender))
        self.pending_tokens += work_tokens(req)
        self.admit()

    def admit(self) -> None:
        """Reserve blocks for the waiting requests that fit now, first come first served, and start their moves."""
        sched, cache = self.instance.scheduler, self.instance.scheduler.cache
        while self.pending:
            req, sender = self.pending[0]
            blocks = sched.admit_blocks(req)
            busy = sched.n + self.in_flight
            if busy >= sched.spec.max_batch or not cache.can_allocate(blocks, watermark=busy > 0):
                return
            self.pending.popleft()
            cache.allocate(blocks)
            self.in_flight += 1
            self.env.process(self._move(req, sender, blocks))

    def _move(self, req: Request, sender: int, blocks: int):
        energy = yield self.env.process(self.transfers.send(sender, self.slot, self.kv_bytes(req.kv_tokens)))
        req.energy_j += energy
        self.recorder.energy_total_j += energy
        self.landed.append((req, blocks))  # joins the running table between steps: a step in flight holds its rows
        self.instance.wake()

    def land(self) -> None:
        """Move the requests whose KV has arrived into the decode batch (run between the instance's steps)."""
        sched = self.instance.scheduler
        for req, blocks in self.landed:
            self.in_flight -= 1
            self.pending_tokens -= work_tokens(req)
            # Between its first token and joining the decode batch the request is in no instance's batch or queue:
            # its time in transit enters the run's in-system integral here (Little's law holds over the whole
            # system).
            self.recorder.add_in_system_s(self.env.now - req.last_token_s)
            sched.cache.free(blocks)  # the reservation becomes the request's own blocks in the running table
            sched.admit(req, blocks, self.env.now)
            sched.work_tokens += work_tokens(req)
        self.landed.clear()

    def finished(self, req: Request) -> None:
        self.recorder.leave(req, req.id)
        self.admit()


class _PrefillPort:
    """A prefill instance as the router sees it: a request runs there with one output token (the first)."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    @property
    def outstanding_tokens(self) -> int:
        return self.instance.outstanding_tokens

    def submit(self, req: Request) -> None:
        req.output_tokens = 1
        self.instance.submit(req)

    def close(self) -> None:
        self.instance.close()


def front_ends(env: simpy.Environment, system: SystemSpec, predictor_for_pool, recorder: Recorder) -> list:
    """Build the prefill and decode pools of ``system`` (disaggregated) in ``env``; returns the prefill instances
    the router feeds."""
    spec = system.disaggregated
    pools = (spec.prefill, spec.decode)
    predictors = [with_nano_batches(predictor_for_pool(pool), system.nano_batches) for pool in pools]
    schedulers = [pool.scheduler or system.scheduler for pool in pools]
    n_pre, n_dec = spec.prefill.replicas, spec.decode.replicas
    lanes = min(pool.tensor_parallel * pool.pipeline_parallel for pool in pools)
    link = resolve_link(spec.link, getattr(predictors[0], "hardware", None), lanes,
                        f"system {system.label!r}: disaggregated.link")
    transfers = KVTransfers(env, link, n_pre, n_dec)
    ports: list[_DecodePort] = []
    for k in range(n_dec):
        inst = build_instance(env, n_pre + k, schedulers[1], predictors[1], recorder,
                              on_finish=lambda req, k=k: ports[k].finished(req))
        ports.append(_DecodePort(env, k, inst, transfers, predictors[0].kv_transfer_bytes, recorder))
    to_decode = Router(system.router, ports)
    outputs = recorder.output_tokens

    def prefilled(req: Request, sender: int) -> None:
        out = int(outputs[req.id])
        if req.generated == 0 or out <= 1:  # rejected (never fits), or done with its first token
            req.output_tokens = out
            recorder.leave(req, req.id)
            return
        req.output_tokens, req.finish_s = out, float("nan")
        ports[to_decode.pick()].submit(req, sender)

    return [_PrefillPort(build_instance(env, i, schedulers[0], predictors[0], recorder,
                                        on_finish=lambda req, i=i: prefilled(req, i)))
            for i in range(n_pre)]
