"""Compare: two to four design points side by side: their parameters, totals and energy by component."""

import pandas as pd
import streamlit as st

from app import breakdown, charts, export, scatter_view, state
from cosim.api import point_config

METRICS = ("latency_s", "period_s", "throughput", "energy_per_item_j", "energy_j", "power_w", "edp_js",
           "memory_per_device_bytes", "memory_capacity_bytes", "feasible", "reason")
MIN_POINTS, MAX_POINTS = 2, 4


def side_by_side(rows: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One column per point: the swept parameters that differ between them, then the totals."""
    params = [c for c in rows.columns if str(c).startswith(("hw.", "wl.")) and rows[c].astype(str).nunique() > 1]
    fields = ["hardware", "workload", *params, *[m for m in METRICS if m in rows],
              *breakdown.components(rows.columns)]
    table = rows[fields].T
    table.columns = names
    return table.astype(str)


def main() -> None:
    st.title("Compare")
    current = state.results_or_hint()
    if current is None:
        return
    results, objective, origin = current
    labels = scatter_view.point_labels(results)
    by_label = {label: pid for pid, label in labels.items()}
    chosen = [labels[p] for p in state.chosen_compare() if p in labels]
    if not chosen:
        first = state.chosen_point()
        chosen = ([labels[first]] if first in labels else []) + [l for p, l in labels.items() if p != first]
        chosen = chosen[:MIN_POINTS]
    picked = st.multiselect(f"Points to compare ({MIN_POINTS} to {MAX_POINTS})", list(labels.values()),
                            default=chosen, max_selections=MAX_POINTS, key="compare_points")
    state.choose_compare([by_label[p] for p in picked])
    if len(picked) < MIN_POINTS:
        st.warning(f"pick at least {MIN_POINTS} points")
        return
    rows = results.set_index("point_id").loc[[by_label[p] for p in picked]].reset_index()
    names = [f"{i + 1}: {label}" for i, label in enumerate(picked)]
    st.dataframe(side_by_side(rows, names), key="compare_table")
    energy = rows[breakdown.components(rows.columns)].T
    energy.columns = [str(i + 1) for i in range(len(rows))]
    energy = energy.reset_index(names="component").melt(id_vars="component", var_name="point",
                                                        value_name="energy_j")
    energy["component"] = energy["component"].map(breakdown.component_name)
    st.markdown("**Energy by component (J per run)**")
    st.altair_chart(charts.grouped_bars(energy.dropna(), "point", "component", "energy_j", "energy (J)"),
                    width="stretch", key="compare_energy")
    metrics = pd.DataFrame({"point": [str(i + 1) for i in range(len(rows))], "latency_s": rows["latency_s"],
                            "throughput": rows["throughput"]})
    left, right = st.columns(2)
    left.altair_chart(charts.grouped_bars(metrics.assign(metric="latency"), "point", "metric", "latency_s",
                                          "latency (s)"), width="stretch", key="compare_latency")
    right.altair_chart(charts.grouped_bars(metrics.assign(metric="throughput"), "point", "metric", "throughput",
                                           "throughput (items/s)"), width="stretch", key="compare_throughput")
    st.caption(f"from {origin}")
    export.config_button(point_config(rows, objective, "compare"), "compare_export")


state.run_page("compare", main)
