"""Step costs of serving iterations (cosim.serving.step_cost): speed of exact vs cached evaluation, and the error of
the cached (interpolated) costs against exact evaluations.

Usage: python benchmarks/serving_step_cost.py [--steps 10000] [--samples 50] [--hardware A100-SXM4-80GB ...]
                                             [--model llama-2-7b] [--skip-speed] [--skip-error]

Speed: a stream of steps as a continuous-batching server meets them (``stream``: up to 128 running requests whose
contexts grow by one token per step (each finishing with probability 1/128 per step) in at most 60,000 KV tokens
(or 90% of the KV capacity),
prompts of 128-2048 tokens arriving at random; ``sarathi``: each step carries
the decodes and one chunk of the waiting prompts under a 512-token budget; ``vllm``: a waiting prompt batch (up to
8192 tokens) runs alone as a prefill step, else a decode step). Steps/s of an exact predictor (every distinct step
evaluated once by the engine) and of the cached one (interpolated; its grid filled during the run), from cold
caches, in-process, after a warm-up that loads the compiled kernels; and the engine evaluations each made; then the
cached one again over the same stream (warm: every grid point filled, the per-step overhead alone).

Error: random batches of four kinds (decode: 1-256 decodes at contexts 0-3000; prefill: 1-3 chunks of 1-512 tokens
at 0-2000 cached; fresh: 1-12 whole prompts of 16-2000 tokens; mixed: decodes and chunks together), each within the
KV capacity; the relative error of the cached time and energy against ``exact=True``.
"""

from __future__ import annotations

import argparse
import random
import time

import cosim
from cosim.serving.step import StepBatch
from cosim.serving.step_cost import EngineStepCost


def stream(policy: str, steps: int, seed: int = 0, kv_tokens: int = 60_000) -> list[StepBatch]:
    """A deterministic sequence of steps of a continuous-batching server (see the module docstring) holding at
    most ``kv_tokens`` of KV cache."""
    rng = random.Random(seed)
    running: list[int] = []  # contexts
    waiting: list[int] = []  # prompt lengths
    out = []
    while len(out) < steps:
        if rng.random() < 0.3:
            waiting.append(rng.randint(128, 2048))
        room = waiting and len(running) < 128 and sum(running) + len(running) + waiting[0] < kv_tokens
        if policy == "vllm" and room:
            take, total = [], 0
            while (waiting and total + waiting[0] <= 8192 and len(running) + len(take) < 128
                   and sum(running) + total + waiting[0] < kv_tokens):
                total += waiting[0]
                take.append(waiting.pop(0))
            out.append(StepBatch((), tuple((p, 0) for p in take)))
            running += take
            continue
        chunks = ()
        if policy == "sarathi" and room:
            budget = 512 - len(running)
            if budget > 0:
                c = min(budget, waiting[0])
                chunks = ((c, 0),)
                waiting[0] -= c
                if waiting[0] == 0:
                    waiting.pop(0)
                    running.append(c)
        out.append(StepBatch(tuple(running), chunks))
        running = [c + 1 for c in running if rng.random() > 1 / 128]
    return out


def speed(hardware: str, model: str, steps: int) -> list[str]:
    hw = cosim.load_hardware(hardware)
    EngineStepCost(hw, model, exact=True).cost(StepBatch((100,) * 4, ((64, 0),)))  # load the compiled kernels
    rows = []
    room = int(0.9 * EngineStepCost(hw, model, workspace_tokens=8192, workspace_rows=128).kv_capacity_tokens())
    for policy in ("sarathi", "vllm"):
        batches = stream(policy, steps, kv_tokens=min(60_000, room))
        figures = []
        for exact, passes in ((True, 1), (False, 2)):
            p = EngineStepCost(hw, model, exact=exact, workspace_tokens=8192, workspace_rows=128)
            p.kv_capacity_tokens()
            for _ in range(passes):  # the cached predictor's second pass finds every grid point filled
                start, before = time.perf_counter(), p.evaluations
                for b in batches:
                    p.cost(b)
                figures.append((len(batches) / (time.perf_counter() - start), p.evaluations - before))
        (exact_rate, exact_n), (cold_rate, cold_n), (warm_rate, _) = figures
        rows.append(f"| {hardware} | {policy} | {steps} | {exact_rate:,.0f} ({exact_n} evaluations) | "
                    f"{cold_rate:,.0f} ({cold_n} evaluations) | {warm_rate:,.0f} | {cold_rate / exact_rate:.1f}x |")
    return rows


KINDS = ("decode", "prefill", "fresh", "mixed")


def random_batch(rng: random.Random, kind: str, capacity: int) -> StepBatch:
    """A random step of one of :data:`KINDS` (see the module docstring) holding at most ``capacity`` KV tokens."""
    while True:
        d = rng.randint(1, 256) if kind in ("decode", "mixed") else 0
        contexts = tuple(rng.randint(0, 3000) for _ in range(d))
        if kind == "fresh":
            chunks = tuple((rng.randint(16, 2000), 0) for _ in range(rng.randint(1, 12)))
        elif kind in ("prefill", "mixed"):
            chunks = tuple((rng.randint(1, 512), rng.randint(0, 2000)) for _ in range(rng.randint(1, 3)))
        else:
            chunks = ()
        batch = StepBatch(contexts, chunks)
        if sum(contexts) + d + sum(c + p for c, p in chunks) <= capacity:
            return batch


def error(hardware: str, model: str, samples: int) -> list[str]:
    hw = cosim.load_hardware(hardware)
    cached, exact = EngineStepCost(hw, model), EngineStepCost(hw, model, exact=True)
    rng = random.Random(1)
    rows = []
    for kind in KINDS:
        t_err, e_err = [], []
        for _ in range(samples):
            b = random_batch(rng, kind, cached.kv_capacity_tokens())
            a, e = cached.cost(b), exact.cost(b)
            t_err.append(abs(a.time_s / e.time_s - 1))
            e_err.append(abs(a.energy_j / e.energy_j - 1))
        rows.append(f"| {hardware} | {kind} | {samples} | {100 * max(t_err):.2f}% | {100 * sum(t_err) / samples:.3f}% | "
                    f"{100 * max(e_err):.2f}% | {100 * sum(e_err) / samples:.3f}% |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--hardware", nargs="+", default=["A100-SXM4-80GB", "NeuPIMs", "Duplex"])
    ap.add_argument("--model", default="llama-2-7b")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-error", action="store_true")
    args = ap.parse_args()
    if not args.skip_speed:
        print("| hardware | stream | steps | exact: steps/s | cached, cold: steps/s | cached, warm: steps/s | "
              "cold speed-up |")
        print("|---|---|---|---|---|---|---|")
        for hw in args.hardware:
            for row in speed(hw, args.model, args.steps):
                print(row, flush=True)
    if not args.skip_error:
        print("\n| hardware | batches | samples | time: max error | time: mean | energy: max | energy: mean |")
        print("|---|---|---|---|---|---|---|")
        for hw in args.hardware:
            for row in error(hw, args.model, args.samples):
                print(row, flush=True)


if __name__ == "__main__":
    main()
