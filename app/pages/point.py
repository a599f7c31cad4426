"""Point: one design point's latency and energy by component and by op, a per-op roofline scatter, why it is
infeasible when it is, and the searched mapping of any op (loop nest, buffer tiles, runners-up)."""

import streamlit as st

from app import breakdown, charts, compute, export, scatter_view, state
from cosim.api import INPUT_ERRORS, point_config


def header(row, totals: dict) -> None:
    st.subheader(state.point_label(row))
    unit = row.get("item_unit") or "item"
    cells = st.columns(4)
    cells[0].metric("latency", f"{totals['latency_s'] * 1e3:.4g} ms")
    cells[1].metric("throughput", f"{totals['throughput']:.4g} {unit}/s")
    cells[2].metric(f"energy per {unit}", f"{totals['energy_per_item_j'] * 1e3:.4g} mJ")
    cells[3].metric("power", f"{totals['power_w']:.4g} W")


def mapping(row_json: str, ops, objective: str) -> None:
    st.markdown("#### Mapping of an op")
    try:
        mapped = compute.mappable_ops(row_json)
    except INPUT_ERRORS as exc:
        st.info(str(exc))
        return
    if not mapped:
        st.info("no op of this workload has a searched mapping on this device")
        return
    names = [f"{i}: {ops['op'][i]} ({ops['kind'][i]})" for i in mapped]
    slowest = max(range(len(mapped)), key=lambda j: ops["time_s"][mapped[j]])
    pick, top = st.columns([3, 1])
    op = mapped[names.index(pick.selectbox("Op (with a searched mapping)", names, index=slowest, key="point_op"))]
    top = top.number_input("runners-up", min_value=1, max_value=20, value=5, key="point_top")
    try:
        text, table = compute.op_mapping(row_json, int(op), objective, int(top))
    except INPUT_ERRORS as exc:
        st.info(str(exc))
        return
    st.code(text, language=None)
    st.dataframe(table, hide_index=True)


def main() -> None:
    st.title("Point")
    current = state.results_or_hint()
    if current is None:
        return
    results, objective, origin = current
    point_id = scatter_view.point_picker(results, "point_pick")
    if point_id is None:
        st.warning("no feasible design points in these results")
        return
    state.choose_point(point_id)
    objectives = ("latency", "energy", "edp")
    objective = st.selectbox("Mapping objective (the sweep's)", objectives, index=objectives.index(objective),
                             key="point_objective")
    row = results[results["point_id"] == point_id].iloc[0]
    row_json = compute.row_json(row)
    try:
        totals, ops = compute.point_detail(row_json, objective)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return
    if not totals["feasible"]:
        st.error(f"infeasible: {totals['reason']}")
        export.config_button(point_config([row], objective, "point"), "point_export")
        return
    header(row, totals)
    st.caption(f"from {origin}; memory per device {totals['memory_per_device_bytes'] / 1e9:.3g} GB of "
               f"{totals['memory_capacity_bytes'] / 1e9:.3g} GB")
    by_component = breakdown.energy_by_component(totals)
    st.altair_chart(charts.stacked_bars(by_component, "total", "energy_j", "component", "energy (J)"),
                    width="stretch", key="point_components")
    top = st.slider("ops shown (largest first; the rest are summed)", 3, 40, 12, key="point_top_ops")
    left, right = st.columns(2)
    with left:
        st.markdown("**Latency by op**")
        st.altair_chart(charts.stacked_bars(breakdown.time_by_op(ops, top), "op", "time_s", "bound",
                                            "time (s)"), width="stretch", key="point_time")
    with right:
        st.markdown("**Energy by op and component**")
        st.altair_chart(charts.stacked_bars(breakdown.energy_by_op(ops, top), "op", "energy_j", "component",
                                            "energy (J)"), width="stretch", key="point_energy")
    st.markdown("**Roofline: each op at its arithmetic intensity and achieved throughput**")
    st.altair_chart(charts.roofline(breakdown.roofline_points(ops)), width="stretch", key="point_roofline")
    with st.expander("per-op table"):
        st.dataframe(ops, hide_index=True)
    mapping(row_json, ops, objective)
    export.config_button(point_config([row], objective, "point"), "point_export")


state.run_page("point", main)
