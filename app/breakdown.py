"""Long-form tables for the breakdown charts, reshaped from cosim's totals and per-op table (no new numbers: only
the op rows outside the largest ``top`` are summed into one 'other' row)."""

from __future__ import annotations

from typing import Any

import pandas as pd

OTHER = "other ops"


def components(columns: Any) -> list[str]:
    """The energy component columns (``energy_<component>_j``) among ``columns``, in their order."""
    return [c for c in columns if str(c).startswith("energy_") and str(c).endswith("_j")
            and c not in ("energy_j", "energy_per_item_j")]


def component_name(column: str) -> str:
    """``energy_dram_j`` -> ``dram``."""
    return column[len("energy_"):-len("_j")]


def energy_by_component(totals: dict) -> pd.DataFrame:
    """One row per energy component of a point's totals."""
    return pd.DataFrame([{"total": "energy", "component": component_name(c), "energy_j": totals[c]}
                         for c in components(totals)])


def _largest(ops: pd.DataFrame, value: str, top: int) -> pd.DataFrame:
    """The ``top`` ops by ``value`` (an op that repeats under one name is summed), the rest as one row."""
    keep = ops.groupby("op", sort=False)[value].sum().nlargest(top).index
    return ops.assign(op=ops["op"].where(ops["op"].isin(keep), OTHER))


def time_by_op(ops: pd.DataFrame, top: int) -> pd.DataFrame:
    """Each op's time (count included) and what bounds it, largest ``top`` first."""
    frame = _largest(ops, "time_s", top).groupby(["op", "bound"], sort=False, as_index=False)["time_s"].sum()
    return frame.sort_values("time_s", ascending=False, key=lambda s: s.where(frame["op"] != OTHER, -1))


def energy_by_op(ops: pd.DataFrame, top: int) -> pd.DataFrame:
    """Each op's energy split by component, largest ``top`` ops first."""
    frame = _largest(ops, "energy_j", top)
    parts = components(ops.columns)
    long = frame.groupby("op", sort=False)[parts].sum().reset_index().melt(
        id_vars="op", value_vars=parts, var_name="component", value_name="energy_j")
    long["component"] = long["component"].map(component_name)
    order = frame.groupby("op", sort=False)["energy_j"].sum()
    order = order.drop(OTHER, errors="ignore").sort_values(ascending=False).index.tolist() + [OTHER]
    long["rank"] = long["op"].map({op: i for i, op in enumerate(order)})
    return long.sort_values(["rank", "component"]).drop(columns="rank").reset_index(drop=True)


def roofline_points(ops: pd.DataFrame) -> pd.DataFrame:
    """Ops that do arithmetic, with their achieved FLOP/s (FLOPs over time, both over the op's count)."""
    work = ops[(ops["flops"] > 0) & (ops["time_s"] > 0) & (ops["intensity"] > 0)].copy()
    work["achieved_flops_per_s"] = work["flops"] / work["time_s"]
    return work[["op", "kind", "bound", "intensity", "achieved_flops_per_s", "time_s", "mapping"]]
