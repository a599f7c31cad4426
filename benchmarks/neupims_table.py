"""The four NeuPIMs configurations and the Duplex device on one workload, as a markdown table.

    python benchmarks/neupims_table.py [--model gpt3-13b] [--batch 256] [--input 80] [--output 296] [--tp 4]
    python benchmarks/neupims_table.py --breakdown [--model gpt3-13b] [--batch 256]

Steady-state decode at the mean KV length over the output tokens (input + output / 2), ShareGPT lengths by default,
as in the NeuPIMs reproduction (``cosim.reproduce.neupims``; ``cosim reproduce --claim neupims-01`` for the claims).
"""

from __future__ import annotations

import argparse

import cosim
from cosim.reproduce.neupims import PRESETS, mean_decode_step, step_breakdown

NEUPIMS = ("NeuPIMs", PRESETS["neupims"])
CONFIGS = (("GPU-only", PRESETS["gpu"]), ("NPU-only", PRESETS["npu"]), ("naive NPU+PIM", PRESETS["naive"]), NEUPIMS,
           ("Duplex (xPU + Logic-PIM)", "Duplex"))


def rows(model: str, batch: int, prompt: int, output: int, tp: int, pp: int = 1):
    wl = mean_decode_step(model, batch, prompt, output, tp, pp)
    for label, preset in CONFIGS:
        yield label, preset, cosim.simulate(cosim.load_hardware(preset), wl)


def table(model: str = "gpt3-13b", batch: int = 256, prompt: int = 80, output: int = 296, tp: int = 4) -> str:
    lines = [f"{model}, batch {batch}, input {prompt} / output {output} tokens, TP{tp} (decode at mean context)", "",
             "| configuration | preset | tokens/s | speedup of NeuPIMs | ms per token step | mJ/token | NPU/xPU util | "
             "PIM util |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    results = list(rows(model, batch, prompt, output, tp))
    neupims = next(r for label, _, r in results if label == NEUPIMS[0]).throughput
    for label, preset, r in results:
        if not r.feasible:
            lines.append(f"| {label} | {preset} | infeasible: {r.reason} | | | | | |")
            continue
        util = r.totals
        npu = util.get("utilization_npu", util.get("utilization_xpu", float("nan")))  # the compute unit
        pim = util.get("utilization_pim", util.get("utilization_lpim", float("nan")))  # the in-memory unit
        fmt = lambda x: "–" if x != x else f"{x:.2f}"  # noqa: E731
        lines.append(f"| {label} | {preset} | {r.throughput:,.0f} | {neupims / r.throughput:.2f}x | "
                     f"{r.latency_s * 1e3:.2f} | {r.energy_per_item_j * 1e3:.1f} | {fmt(npu)} | {fmt(pim)} |")
    return "\n".join(lines)


BREAKDOWN = (("NPU GEMMs", "npu_gemm_s"), ("NPU other ops (norms, collectives, KV writes)", "npu_other_s"),
             ("PIM attention", "pim_attention_s"), ("transfers NPU <-> PIM", "transfer_s"), ("NPU idle", "npu_idle_s"),
             ("PIM idle", "pim_idle_s"), ("step (period)", "period_s"))


def breakdown_table(model: str = "gpt3-13b", batch: int = 256) -> str:
    """Milliseconds per decode step of NeuPIMs and the naive NPU+PIM system (ShareGPT lengths), by activity."""
    presets = (PRESETS["naive"], PRESETS["neupims"])
    parts = {p: step_breakdown(model, batch, "sharegpt", p) for p in presets}
    lines = [f"{model}, batch {batch}, ShareGPT lengths, ms per decode step (work summed over both sub-batches "
             "where interleaved)", "", f"| | {' | '.join(presets)} |", "|---|---:|---:|"]
    for label, key in BREAKDOWN:
        lines.append(f"| {label} | " + " | ".join(f"{parts[p][key] * 1e3:.2f}" for p in presets) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gpt3-13b")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--input", type=int, default=80)
    ap.add_argument("--output", type=int, default=296)
    ap.add_argument("--tp", type=int, default=4)
    ap.add_argument("--breakdown", action="store_true", help="the per-step time breakdown of the NPU+PIM systems")
    a = ap.parse_args()
    print(breakdown_table(a.model, a.batch) if a.breakdown else table(a.model, a.batch, a.input, a.output, a.tp))


if __name__ == "__main__":
    main()
