"""Explore: pick presets and workloads, turn parameters into sweep axes, run the sweep (cached, with progress, can
be stopped) and look at the design points: any two metrics, log axes, colour, Pareto front, click to open."""

import streamlit as st

from app import compute, export, scatter_view, state, uploads, widgets
from cosim.api import (INPUT_ERRORS, available_hardware, available_workloads, count_points, parameter_space,
                       pareto_front, read_results, workload_parameters)

MAX_POINTS = 20_000
DEFAULT_PRESETS = ["H100-SXM5-80GB", "A100-SXM4-80GB"]
DEFAULT_WORKLOADS = ["llama-2-7b"]
DEFAULT_AXES = {"llama-2-7b": ["batch"]}
SOURCES = ("New sweep", "Results folder", "Config file")


def hardware_entry(preset: str) -> dict:
    """The config entry of one preset: its swept parameters as grid axes."""
    space = parameter_space(preset)
    rows = {r["path"]: r for _, r in space.iterrows() if widgets.sweepable(r) and r["value"] is not None}
    chosen = st.multiselect(f"{preset}: swept parameters", list(rows), key=f"explore_hw_axes:{preset}",
                            format_func=lambda p: widgets.parameter_label(rows[p]))
    grid = {path: widgets.axis(rows[path], f"explore_hw:{preset}:{path}", rows[path]["value"]) for path in chosen}
    entry = {"preset": preset}
    if grid:
        entry["grid"] = grid
    return entry


def workload_entry(model: str) -> dict:
    """The config entry of one workload: parameters set to other than their default, and the swept ones."""
    table = workload_parameters(model)
    rows = {r["name"]: r for _, r in table.iterrows()}
    axes = [n for n, r in rows.items() if widgets.sweepable(r)]
    chosen = st.multiselect(f"{model}: swept parameters", axes, key=f"explore_wl_axes:{model}",
                            default=[a for a in DEFAULT_AXES.get(model, []) if a in axes])
    grid = {name: widgets.axis(rows[name], f"explore_wl:{model}:{name}", rows[name]["default"]) for name in chosen}
    params = {}
    with st.expander(f"{model}: fixed parameters"):
        for name, row in rows.items():
            if name not in chosen:
                value = widgets.fixed(row, f"explore_wl:{model}:{name}")
                if value != row["default"]:
                    params[name] = value
    entry = {"model": model}
    if params:
        entry["params"] = params
    if grid:
        entry["grid"] = grid
    return entry


def build_config() -> dict:
    presets = st.multiselect("Hardware presets", list(available_hardware()["name"]), default=DEFAULT_PRESETS,
                             key="explore_presets")
    models = st.multiselect("Workloads", list(available_workloads()["name"]), default=DEFAULT_WORKLOADS,
                            key="explore_workloads")
    objective = st.selectbox("Mapping objective", ("latency", "energy", "edp"), key="explore_objective")
    hardware, workloads = [], []
    with st.expander("Sweep axes", expanded=True):
        hw_tab, wl_tab = st.tabs(["Hardware", "Workloads"])
        with hw_tab:
            hardware = [hardware_entry(p) for p in presets]
        with wl_tab:
            workloads = [workload_entry(m) for m in models]
    return {"name": "explore", "objective": objective, "hardware": hardware, "workloads": workloads}


def uploaded_config() -> dict | None:
    """A sweep config uploaded as YAML (size-limited, read safely, checked as ``cosim sweep`` checks a file)."""
    upload = st.file_uploader("Sweep config (YAML)", type=["yaml", "yml"], key="explore_upload")
    if upload is None:
        st.info("Upload a sweep config such as examples/quickstart.yaml.")
        return None
    try:
        config = uploads.config(upload)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return None
    if config.serving:
        st.warning(f"{upload.name}: its serving entries are not run here; see the Serving page or run it with "
                   "`cosim sweep`")
    return {**config.model_dump(exclude_defaults=True, exclude={"output", "serving"}),
            "objective": config.objective}


def run(config: dict):
    """The sweep's results, evaluated (or taken from the cache) unless stopped; None when not run."""
    key = compute.config_key(config)
    auto, go, stop = st.columns([2, 1, 1])
    auto = auto.checkbox("Run automatically when a setting changes", value=True, key="explore_auto")
    go = go.button("Run sweep", key="explore_run")
    if go:
        st.session_state["explore_stopped"] = None
    if stop.button("Stop", key="explore_stop"):
        st.session_state["explore_stopped"] = key
    if st.session_state.get("explore_stopped") == key:
        st.info("Stopped. Press **Run sweep** to evaluate this config.")
        return None
    if not auto and not go and st.session_state.get("explore_last") != key:
        st.info("Press **Run sweep** to evaluate this config.")
        return None
    results = compute.run_sweep(key)
    st.session_state["explore_last"] = key
    return results


def main() -> None:
    st.title("Explore")
    folder = state.results_folder()
    source = st.radio("Design points from", SOURCES, index=1 if folder else 0, horizontal=True,
                      key="explore_source")
    if source == SOURCES[1]:
        path = st.text_input("Results folder (written by cosim sweep)", value=folder, key="explore_folder")
        try:
            results = read_results(path)[0]
        except INPUT_ERRORS as exc:
            st.error(str(exc))
            return
        state.set_results(results, "latency", path)
        config = compute.results_config(results, "results")
    else:
        config = build_config() if source == SOURCES[0] else uploaded_config()
        if config is None:
            return
        if not config["hardware"] or not config["workloads"]:
            st.warning("pick at least one hardware preset and one workload")
            return
        try:
            n = count_points(config)
        except INPUT_ERRORS as exc:
            st.error(str(exc))
            return
        st.caption(f"{n} design points")
        if n > MAX_POINTS:
            st.error(f"{n} design points is more than the explorer evaluates ({MAX_POINTS}); narrow the axes or run "
                     "the exported config with `cosim sweep`")
            export.config_button(config, "explore_export")
            return
        results = run(config)
        if results is None:
            export.config_button(config, "explore_export")
            return
        state.set_results(results, config["objective"], "Explore sweep")
    scatter_view.panel(results, "explore")
    with st.expander("Pareto front"):
        st.dataframe(pareto_front(results), hide_index=True)
    infeasible = results[~results["feasible"].astype(bool)] if "feasible" in results else results.iloc[0:0]
    if len(infeasible):
        with st.expander(f"{len(infeasible)} infeasible design points"):
            st.dataframe(infeasible[["hardware", "workload", "reason"]], hide_index=True)
    left, right = st.columns(2)
    with left:
        picked = scatter_view.point_picker(results, "explore_point")
    if picked and right.button("Open on the Point page", key="explore_open_point"):
        state.choose_point(picked)
        st.switch_page("pages/point.py")
    export.config_button(config, "explore_export")


state.run_page("explore", main)
