"""Serving: request-level serving of a model on chosen hardware under rising load: rate and SLO sliders,
latency CDFs, goodput and SLO attainment against the rate, and each system's capacity under the SLO."""

import streamlit as st

from app import charts, compute, export, state, widgets
from cosim.api import INPUT_ERRORS, available_hardware, available_workloads, serving_datasets

DEFAULT_MODEL, DEFAULT_SYSTEMS, DEFAULT_DATASET = "gpt3-7b", ["H100-SXM5-80GB"], "sharegpt-vllm"
SLO = "slo"  # the one SLO the sliders set
LATENCIES = {"time to first token": "ttft_s", "time per output token": "tpot_s", "end to end": "e2e_s",
             "queueing": "queue_s"}


def build_config() -> dict:
    workloads = available_workloads()
    models = list(workloads[workloads["family"].str.contains("decoder")]["name"])
    model = st.selectbox("Model", models, index=models.index(DEFAULT_MODEL) if DEFAULT_MODEL in models else 0,
                         key="serving_model")
    systems = st.multiselect("Systems (one instance of each preset)", list(available_hardware()["name"]),
                             default=DEFAULT_SYSTEMS, key="serving_systems")
    datasets = serving_datasets()
    left, mid, right = st.columns(3)
    dataset = left.selectbox("Request lengths (dataset profile)", datasets,
                             index=datasets.index(DEFAULT_DATASET) if DEFAULT_DATASET in datasets else 0,
                             key="serving_dataset")
    requests = mid.number_input("requests per run", min_value=10, max_value=5000, value=100, step=10,
                                key="serving_requests")
    seed = right.number_input("seed", min_value=0, value=0, key="serving_seed")
    low, high = st.slider("request rate (requests/s)", 0.25, 64.0, (2.0, 16.0), key="serving_rates")
    points = st.slider("rates", 1, 8, 4, key="serving_rate_points")
    rates = widgets.axis_values(low, high, points, True, "float")
    ttft, tpot, attainment = st.columns(3)
    slo = {"ttft_s": ttft.slider("TTFT SLO (s)", 0.01, 5.0, 0.25, key="serving_ttft"),
           "tpot_s": tpot.slider("TPOT SLO (s)", 0.005, 1.0, 0.1, key="serving_tpot"),
           "attainment": attainment.slider("attainment (share of requests)", 0.5, 1.0, 0.9, key="serving_attainment")}
    config = {"name": "serving", "model": model,
              "traffic": {"arrivals": {"process": "poisson", "rate_per_s": rates[0]}, "requests": int(requests),
                          "dataset": dataset, "seed": int(seed)},
              "systems": [{"label": name, "hardware": {"preset": name}} for name in systems],
              "rates": rates, "slos": {SLO: slo}}
    if st.checkbox("search each system's capacity under the SLO (more runs)", key="serving_capacity"):
        config["capacity"] = {"slo": SLO, "low": low, "high": high}
    return config


def main() -> None:
    st.title("Serving")
    config = build_config()
    if not config["systems"]:
        st.warning("pick at least one system")
        return
    try:
        summary, capacity, requests = compute.serving_study(compute.config_key(config))
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return
    failed = summary[summary["reason"].notna()] if "reason" in summary else summary.iloc[0:0]
    for _, row in failed.iterrows():
        st.error(f"{row['system']} @ {row['rate_per_s']:g} req/s: {row['reason']}")
    ok = summary.drop(failed.index)
    if ok.empty:
        return
    st.markdown("**Goodput and SLO attainment against the request rate**")
    left, right = st.columns(2)
    left.altair_chart(charts.lines(ok, "rate_per_s", f"goodput_{SLO}_rps", "system", "goodput (requests/s)"),
                      width="stretch", key="serving_goodput")
    right.altair_chart(charts.lines(ok, "rate_per_s", f"attainment_{SLO}", "system", "SLO attainment"),
                       width="stretch", key="serving_attainment_chart")
    rates = sorted(requests["rate_per_s"].unique())
    pick, kind = st.columns(2)
    rate = pick.select_slider("latency CDF at rate (requests/s)", rates, value=rates[-1], key="serving_cdf_rate")
    latency = kind.selectbox("latency", list(LATENCIES), key="serving_latency")
    runs = requests[(requests["rate_per_s"] == rate) & requests["finished"].astype(bool)]
    st.altair_chart(charts.cdf(runs, LATENCIES[latency], "system", f"{latency} (s)"), width="stretch",
                    key="serving_cdf")
    st.dataframe(ok, hide_index=True, key="serving_summary")
    if len(capacity):
        st.markdown("**Capacity: the highest rate meeting the SLO**")
        st.dataframe(capacity, hide_index=True, key="serving_capacity_table")
    export.config_button(config, "serving_export", "Export the serving config (YAML)", serving=True)


state.run_page("serving", main)
