"""One serving instance (a replica, or one instance of a disaggregated pool) as a SimPy process.

The loop: ask the scheduler for a step; with none, sleep until a request arrives; else cost it with the predictor,
let the step's time pass, apply it (requests advance, token gaps and energy shares recorded), write a timeline row
and hand finished requests to ``on_finish``.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from cosim.serving.kv_cache import KVCache
from cosim.serving.metrics import Recorder
from cosim.serving.requests import Request
from cosim.serving.schedulers import Scheduler, make_scheduler
from cosim.serving.spec import SchedulerSpec
from cosim.serving.step import StepCostPredictor


class Instance:
    """Instance ``index`` running ``scheduler``'s steps at ``predictor``'s costs; ``on_finish(request)`` is called
    for each request that finishes here (the recorder's by default)."""

    def __init__(self, env: simpy.Environment, index: int, scheduler: Scheduler, predictor: StepCostPredictor,
                 recorder: Recorder, on_finish: Callable[[Request], None] | None = None) -> None:
        self.env, self.index, self.scheduler, self.predictor, self.recorder = env, index, scheduler, predictor, recorder
        self.on_finish = on_finish or (lambda req: recorder.leave(req, req.id))
        self.closed = False  # no more requests will come
        self._wake: simpy.Event | None = None
        self.between_steps: list[Callable[[], None]] = []  # run before each step is formed (rows may change then)
        recorder.kv_capacity_tokens += scheduler.cache.capacity_tokens
        recorder.instances.append(self)
        self.process = env.process(self._run())

    @property
    def outstanding_tokens(self) -> int:
        """Tokens of work queued and running here."""
        return self.scheduler.work_tokens

    def submit(self, req: Request) -> None:
        """Hand an arrived request to this instance."""
        self.scheduler.add(req)
        self._flush_rejected()
        self.wake()

    def close(self) -> None:
        """No more requests will arrive: the process ends once its work is done."""
        self.closed = True
        self.wake()

    def report_in_flight(self) -> None:
        """Record the requests still here when the clock stops: unfinished, with their times so far."""
        for req in self.scheduler.in_flight():
            req.instance = self.index
            self.recorder.leave(req, req.id)

    def wake(self) -> None:
        """Wake the replica's loop if it is idle waiting for work (new requests or freed memory)."""
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def _flush_rejected(self) -> None:
        for req in self.scheduler.rejected:  # never fits this instance's KV cache: leaves unfinished
            req.instance = self.index
            self.on_finish(req)
        self.scheduler.rejected.clear()

    def _run(self):
        env, sched, rec, predictor = self.env, self.scheduler, self.recorder, self.predictor
        cache = sched.cache
        while True:
            for hook in self.between_steps:
                hook()
            step = sched.next_step(env.now)
            if step is None:
                if self.closed and sched.empty:
                    return
                self._wake = env.event()
                yield self._wake
                self._wake = None
                continue
            cost = predictor.cost(step.batch)
            kv_used = cache.used_tokens
            step_s = cost.time_s + step.extra_s
            yield env.timeout(step_s)
            finished = sched.complete(step, env.now, cost.energy_j)
            rec.step(env.now, self.index, step_s, step.batch_requests, step.prefill_tokens, step.decode, kv_used, cache.capacity_tokens, step.queue_length, cost.energy_j)
            for req in finished:
                req.instance = self.index
                self.on_finish(req)


def build_instance(env: simpy.Environment, index: int, spec: SchedulerSpec, predictor: StepCostPredictor,
                   recorder: Recorder, on_finish: Callable[[Request], None] | None = None) -> Instance:
    """An instance batching by ``spec`` with a KV cache of the predictor's capacity, started in ``env``."""
    cache = KVCache(predictor.kv_capacity_tokens(), spec.block_tokens)
    scheduler = make_scheduler(spec, cache, recorder.gaps, predictor.kv_transfer_bytes)
    return Instance(env, index, scheduler, predictor, recorder, on_finish)
