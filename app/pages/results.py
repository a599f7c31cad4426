"""Results: open a results folder written by ``cosim sweep`` (or upload its results.parquet), filter the design
points, plot them, and download the table and the config that reproduces the points shown."""

import io

import streamlit as st

from app import export, scatter_view, state, uploads
from cosim.api import INPUT_ERRORS, point_config, read_results

FILTERS = (("hardware", "Hardware"), ("workload", "Workload"), ("task", "Task"))


def load():
    """(results, where from) of the folder or upload chosen, or None with the reason shown."""
    upload = st.file_uploader("…or upload a results.parquet", type=["parquet"], key="results_upload")
    path = st.text_input("Results folder (written by cosim sweep)", value=state.results_folder(),
                         key="results_folder")
    try:
        if upload is not None:
            saved = uploads.saved(upload, uploads.TABLE_LIMIT, "results.parquet")
            return read_results(saved.parent)[0], upload.name
        if not path:
            st.info("Give a results folder, or upload a results.parquet.")
            return None
        return read_results(path)[0], path
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return None


def filtered(results):
    rows = results
    columns = st.columns(len(FILTERS))
    for column, (name, label) in zip(columns, FILTERS):
        if name in rows:
            options = list(dict.fromkeys(results[name].dropna()))
            chosen = column.multiselect(label, options, default=options, key=f"results_{name}")
            rows = rows[rows[name].isin(chosen)]
    feasible, pareto = st.columns(2)
    if feasible.checkbox("feasible points only", value=False, key="results_feasible"):
        rows = state.feasible(rows)
    if "pareto" in rows and pareto.checkbox("Pareto points only", value=False, key="results_pareto"):
        rows = rows[rows["pareto"].astype(bool)]
    return rows


def downloads(rows) -> None:
    csv, parquet = st.columns(2)
    csv.download_button("Download CSV", rows.to_csv(index=False), file_name="results.csv", mime="text/csv",
                        key="results_csv")
    buffer = io.BytesIO()
    rows.to_parquet(buffer)
    parquet.download_button("Download Parquet", buffer.getvalue(), file_name="results.parquet",
                            mime="application/octet-stream", key="results_parquet")
    if len(rows):
        export.config_button(point_config(rows, name="results"), "results_export",
                             "Export a sweep config of these points (YAML)")


def main() -> None:
    st.title("Results")
    loaded = load()
    if loaded is None:
        return
    results, origin = loaded
    state.set_results(results, "latency", origin)
    rows = filtered(results)
    st.caption(f"{len(rows)} of {len(results)} design points from {origin}")
    scatter_view.panel(rows, "results")
    st.dataframe(rows, hide_index=True)
    downloads(rows)


state.run_page("results", main)
