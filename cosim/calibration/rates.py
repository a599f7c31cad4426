"""Achieved rates of measured rows: GFLOP/s and GB/s of compulsory bytes, from the IR's own counts."""

from __future__ import annotations

from cosim.calibration.schema import measured_workload


def achieved_rates(table):
    """One row per measurement: label, scope, median_s, spread, time_capped, gflops_per_s, gbytes_per_s."""
    import pandas as pd

    rows = []
    for row in table.to_dict("records"):
        wl = measured_workload(row)
        t = float(row["median_s"])
        rows.append({"label": row["label"], "scope": row["scope"], "median_s": t, "spread": row["spread"],
                     "time_capped": bool(row["time_capped"]), "gflops_per_s": wl.flops / t / 1e9,
                     "gbytes_per_s": wl.bytes / t / 1e9})
    return pd.DataFrame(rows, columns=["label", "scope", "median_s", "spread", "time_capped", "gflops_per_s",
                                       "gbytes_per_s"])
