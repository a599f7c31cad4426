"""Print a markdown table: the Duplex device vs H100 and 2xH100 serving Mixtral-8x7B (batch 64, Lin = Lout = 1024).

Run: ``python benchmarks/duplex_table.py``. Continuous-batching steady state from ``cosim.serving``; tensor
parallelism over 4 devices (8 for 2xH100), as in the Duplex setup; ``cosim reproduce --claim duplex-01`` (and
duplex-02, duplex-03) compares with the paper's claims over its whole grid.
"""

from __future__ import annotations

import cosim
from cosim.reproduce.duplex import MODELS
from cosim.serving import serve

MODEL, BATCH, LIN, LOUT = "mixtral-8x7b", 64, 1024, 1024
DEVICES = MODELS[MODEL]  # tensor parallelism of the Duplex setup (cosim.reproduce.duplex)


def main() -> str:
    rows = [("H100", "H100-SXM5-80GB", DEVICES), ("2xH100", "H100-SXM5-80GB", 2 * DEVICES),
            ("Duplex", "Duplex", DEVICES)]
    lines = [f"{MODEL}, batch {BATCH}, Lin = Lout = {LIN}", "",
             "| system | devices | tokens/s | energy/token (mJ) | time share per unit |", "|---|---|---|---|---|"]
    for label, preset, devices in rows:
        est = serve(cosim.load_hardware(preset), MODEL, BATCH, LIN, LOUT, devices=devices)
        if not est.feasible:
            lines.append(f"| {label} | {devices} | infeasible: {est.reason} | | |")
            continue
        units = est.unit_time_s or {"gpu": est.step_s}
        total = sum(units.values())
        share = ", ".join(f"{u} {100 * t / total:.0f}%" for u, t in units.items())
        lines.append(f"| {label} | {devices} | {est.tokens_per_s:,.0f} | {est.energy_per_token_j * 1e3:.1f} | {share} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
