"""Presets: every hardware preset's parameters with the source of each value and the range its schema allows; every
catalog workload with its parameters, sources and op table."""

import streamlit as st

from app import export, state, widgets
from cosim.api import (INPUT_ERRORS, available_hardware, available_workloads, describe, load_workload,
                       parameter_space, workload_ops)


def hardware_view() -> str:
    catalog = available_hardware()
    kinds = ["all", *sorted(set(catalog["kind"]))]
    kind = st.selectbox("Device kind", kinds, key="presets_kind")
    names = list(catalog["name"] if kind == "all" else catalog[catalog["kind"] == kind]["name"])
    name = st.selectbox("Hardware preset", names, key="presets_hw")
    info = describe(name)
    st.markdown(f"**{info.name}** ({info.kind}): {info.description}")
    if info.units:
        st.caption("units: " + ", ".join(f"{unit} = {preset}" for unit, preset in info.units.items()))
    st.caption(f"preset file: {info.file}")
    table = info.parameters[["path", "value", "unit", "source", "expression"]]
    st.dataframe(table.astype(str), hide_index=True, key="presets_parameters")
    missing = table[table["source"].isna() | (table["source"].astype(str).str.strip() == "")]
    if len(missing):
        st.warning(f"{len(missing)} values without a source: {', '.join(missing['path'])}")
    with st.expander("parameter space (what a sweep may set, with units and allowed ranges)"):
        st.dataframe(parameter_space(name).astype(str), hide_index=True)
    return name


def workload_view() -> tuple[str, dict]:
    model = st.selectbox("Workload", list(available_workloads()["name"]), key="presets_wl")
    info = describe(model)
    st.markdown(f"**{info.name}** ({info.family}): {info.description}")
    for source in info.sources:
        st.caption(f"source: {source}")
    if info.published:
        st.caption("published totals: " + ", ".join(f"{k} = {v:,.6g}" for k, v in info.published.items()))
    params = {}
    with st.expander("parameters"):
        for _, row in info.parameters.iterrows():
            value = widgets.fixed(row, f"presets_wl:{model}:{row['name']}")
            if value != row["default"]:
                params[row["name"]] = value
    try:
        workload = load_workload(model, **params)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return model, params
    ops = workload_ops(workload)
    st.caption(f"{len(ops)} ops · {workload.flops:,.6g} FLOPs · {workload.bytes:,.6g} bytes moved · "
               f"{workload.parameters:,} parameters · {workload.items:g} {workload.item_unit}(s)")
    st.dataframe(ops, hide_index=True, key="presets_ops")
    return model, params


def main() -> None:
    st.title("Presets")
    hw_tab, wl_tab = st.tabs(["Hardware", "Workloads"])
    with hw_tab:
        preset = hardware_view()
    with wl_tab:
        model, params = workload_view()
    workload = {"model": model, **({"params": params} if params else {})}
    export.config_button({"name": "preset", "hardware": [{"preset": preset}], "workloads": [workload]},
                         "presets_export", "Export a sweep of this preset and workload (YAML)")


state.run_page("presets", main)
