"""Speed and memory of the request-level serving simulation (cosim.serving.simulation.simulate_system).

Each run is a fresh process: it draws ``--requests`` ShareGPT-profile requests (Poisson arrivals at ``--rate``),
builds the step-cost predictor and simulates one replica with ``--policy``; it reports the simulation's own wall
time (``ServingRun.wall_s``: from the call to the finished run record, request generation and predictor set-up not
included; with its CPU time beside it, as the machine may be shared), the steps simulated and the peak resident memory of the process (``ru_maxrss``) beside its high-water
mark before the simulation (imports, the request list, the predictor). The parent prints the median of ``--runs``
runs. Predictors: ``analytic`` (the tests' hand-checkable cost: 2 ms + 50 us per token + 0.1 us per attended KV
token, 1M KV tokens; costs nothing to evaluate, so the time is the simulator's), ``engine`` (cosim's EngineStepCost of
Llama-2-7B on an A100-SXM4-80GB, cached and interpolated; includes the engine evaluations a run meets).

    python benchmarks/serving_sim.py --requests 10000 --runs 5
    python benchmarks/serving_sim.py --requests 10000 --runs 3 --predictor engine
    python benchmarks/serving_sim.py --requests 1000000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> dict:
    """One run in this process."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "serving")]
    from serving_checks import AnalyticCost, system

    from cosim.serving.simulation import simulate_system
    from cosim.serving.spec import Arrivals, Traffic
    from cosim.serving.traffic import generate_requests

    traffic = Traffic(arrivals=Arrivals(process="poisson", rate_per_s=args.rate), requests=args.requests,
                      dataset="sharegpt", seed=args.seed)
    requests = generate_requests(traffic)
    if args.predictor == "engine":
        import cosim
        from cosim.serving.step_cost import EngineStepCost

        predictor = EngineStepCost(cosim.load_hardware("A100-SXM4-80GB"), "llama-2-7b")
        predictor.kv_capacity_tokens()
    else:
        predictor = AnalyticCost()
    before_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    run = simulate_system(system(args.policy, max_batch=args.max_batch), requests, lambda pool: predictor)
    cpu = time.process_time() - cpu
    s = run.summary
    return {"wall_s": run.wall_s, "cpu_s": cpu, "steps": s["steps"], "finished": s["finished"], "span_s": s["span_s"],
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "before_mib": before_mib,
            "timeline_rows": len(run.timeline), "tbt_exact": s["tbt_gaps"] <= 1 << 20,
            "ttft_p50_s": s["ttft_p50_s"], "tbt_p99_s": s["tbt_p99_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=3.0, help="requests per second (Poisson)")
    parser.add_argument("--policy", default="vllm", choices=("vllm", "orca", "sarathi"))
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--predictor", default="analytic", choices=("analytic", "engine"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    cmd = [sys.executable, __file__, "--child"] + [a for a in sys.argv[1:] if a != "--child"]
    results = []
    for k in range(args.runs):
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"run {k + 1}: {results[-1]}", file=sys.stderr)
    walls = [r["wall_s"] for r in results]
    first = results[0]
    print(f"{args.requests} requests, {args.policy}, {args.predictor} predictor, {args.rate} req/s: "
          f"simulation median {statistics.median(walls):.2f} s wall (min {min(walls):.2f}, max {max(walls):.2f}, "
          f"{args.runs} runs), {statistics.median(r['cpu_s'] for r in results):.2f} s CPU; {first['steps']:.0f} steps, {first['finished']:.0f} finished over "
          f"{first['span_s']:.0f} simulated s; peak RSS median "
          f"{statistics.median(r['peak_mib'] for r in results):.0f} MiB (before the simulation "
          f"{statistics.median(r['before_mib'] for r in results):.0f} MiB); timeline rows kept "
          f"{first['timeline_rows']}; TBT {'exact' if first['tbt_exact'] else 'binned'}")


if __name__ == "__main__":
    main()
