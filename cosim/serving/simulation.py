"""Simulate one serving system under a list of requests: instances behind a router, fed by the arrival process.

``simulate_system`` never changes the caller's requests: it reads their arrival times and lengths and creates a
fresh :class:`Request` for each as it arrives (only requests in flight exist as objects), so the same list can be
run again, on another system or at another setting. Which instances a system has is decided in
:func:`front_ends`, the one place a new topology (disaggregated prefill and decode pools) adds its branch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import simpy

from cosim.serving.instance import Instance, build_instance
from cosim.serving.metrics import Recorder, goodput
from cosim.serving.nanoflow import with_nano_batches
from cosim.serving.requests import Request
from cosim.serving.router import Router, arrivals
from cosim.serving.run import ServingRun
from cosim.serving.spec import PoolSpec, SLOSpec, SystemSpec
from cosim.serving.step import StepCostPredictor

PredictorForPool = Callable[[PoolSpec | None], StepCostPredictor]


def front_ends(env: simpy.Environment, system: SystemSpec, predictor_for_pool: PredictorForPool,
               recorder: Recorder) -> list[Instance]:
    """The instances the router sends arriving requests to: ``system.replicas`` co-located replicas sharing one
    predictor (``predictor_for_pool(None)``), or a disaggregated system's prefill pool
    (``cosim.serving.disaggregated``)."""
    if system.disaggregated is not None:
        from cosim.serving.disaggregated import front_ends as disaggregated_front_ends

        return disaggregated_front_ends(env, system, predictor_for_pool, recorder)
    predictor = with_nano_batches(predictor_for_pool(None), system.nano_batches)
    return [build_instance(env, i, system.scheduler, predictor, recorder) for i in range(system.replicas)]


def simulate_system(system: SystemSpec, requests: list[Request], predictor_for_pool: PredictorForPool,
                    slos: Mapping[str, SLOSpec] | None = None, max_sim_s: float | None = None,
                    rate_per_s: float | None = None) -> ServingRun:
    """Serve ``requests`` (their arrival times and lengths) on ``system`` until all finish or the clock reaches
    ``max_sim_s``; judge the run by each of ``slos``. ``rate_per_s`` is the offered rate recorded with the run."""
    start = time.perf_counter()
    arrival = np.array([r.arrival_s for r in requests], dtype=float)
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order]
    ids = np.array([requests[k].id for k in order], dtype=np.int64)
    prompt = np.array([requests[k].prompt_tokens for k in order], dtype=np.int64)
    output = np.array([requests[k].output_tokens for k in order], dtype=np.int64)
    recorder = Recorder(ids, arrival, prompt, output)
    env = simpy.Environment()
    router = Router(system.router, front_ends(env, system, predictor_for_pool, recorder))
    arrival_l, prompt_l, output_l = arrival.tolist(), prompt.tolist(), output.tolist()

    def make(k: int) -> Request:  # its id is its row in the recorder
        return Request(k, arrival_l[k], prompt_l[k], output_l[k])

    env.process(arrivals(env, arrival_l, make, router))
    env.run(until=max_sim_s)
    if not recorder.left.all():  # stopped at max_sim_s
        recorder.end_s = max(recorder.end_s, env.now)
        for instance in recorder.instances:
            instance.report_in_flight()
    frame = recorder.requests_frame()
    summary = recorder.summary(frame)
    judged = {name: goodput(frame, summary, slo) for name, slo in (slos or {}).items()}
    return ServingRun(system.label, rate_per_s, frame, recorder.timeline_frame(), summary, judged,
                      time.perf_counter() - start)
