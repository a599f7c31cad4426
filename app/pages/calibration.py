"""Calibration: a measurement table (and optionally a calibration overlay) against the model: measured vs
predicted time with the fit's error bars, before and after calibration, and the error table (held-out MAPE)."""

import pandas as pd
import streamlit as st

from app import charts, compute, state, uploads
from cosim.api import INPUT_ERRORS, available_hardware, measurement_rates, read_calibration, read_measurements

DEFAULT_PRESET = "Host-CPU"  # the preset of the board `cosim calibrate measure --board host-cpu` measures


def measurements() -> str | None:
    """The path of the measurement table chosen (uploaded or on this machine), checked by cosim."""
    upload = st.file_uploader("Measurement table (.parquet, from cosim calibrate measure or convert)",
                              type=["parquet"], key="calibration_upload")
    path = st.text_input("…or its path on this machine", key="calibration_path")
    try:
        if upload is not None:
            path = str(uploads.saved(upload, uploads.TABLE_LIMIT))
        if not path:
            st.info("Give a measurement table to compare the model with.")
            return None
        table = read_measurements(path)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return None
    boards = ", ".join(sorted(set(table["board"])))
    st.caption(f"{len(table)} measurements from {boards}")
    with st.expander("measurements: achieved rates"):
        st.dataframe(measurement_rates(table), hide_index=True)
    return path


def overlay() -> str | None:
    """The path of an uploaded calibration overlay, checked by cosim (None when none is given)."""
    upload = st.file_uploader("Calibration overlay (.yaml, from cosim calibrate fit), optional", type=["yaml", "yml"],
                              key="calibration_overlay")
    if upload is None:
        return None
    try:
        uploads.text(upload)  # size-limited, UTF-8
        path = str(uploads.saved(upload, uploads.CONFIG_LIMIT))
        fitted = read_calibration(path)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return None
    st.caption(f"overlay fitted for {fitted.hardware}: {', '.join(fitted.paths)}")
    return path


def overlay_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """Predictions in long form for the chart: the preset's, and the calibrated one with its error bar."""
    common = ["label", "op_kind", "time_measured_s"]
    preset = predictions[common].assign(model="preset", time_predicted_s=predictions["time_preset_s"],
                                        error_pct=predictions["time_ape_preset"])
    fitted = predictions[common].assign(model="calibrated", time_predicted_s=predictions["time_calibrated_s"],
                                        error_pct=predictions["time_ape_calibrated"])
    stderr = predictions["time_stderr_s"].fillna(0.0)
    preset = preset.assign(low=preset["time_predicted_s"], high=preset["time_predicted_s"])
    fitted = fitted.assign(low=(fitted["time_predicted_s"] - stderr).clip(lower=fitted["time_predicted_s"] * 1e-3),
                           high=fitted["time_predicted_s"] + stderr)
    frame = pd.concat([preset, fitted], ignore_index=True)
    return frame[(frame["time_measured_s"] > 0) & (frame["time_predicted_s"] > 0)]


def main() -> None:
    st.title("Calibration")
    path = measurements()
    fitted = overlay()
    names = list(available_hardware()["name"])
    left, right = st.columns(2)
    hardware = left.selectbox("Preset", names, index=names.index(DEFAULT_PRESET) if DEFAULT_PRESET in names else 0,
                              key="calibration_hw", disabled=fitted is not None,
                              help="an overlay names its own preset")
    folds = right.number_input("folds (held-out cross-validation)", min_value=2, max_value=20, value=5,
                               key="calibration_folds")
    split = st.text_input("…or hold out the rows where COLUMN=VALUE", key="calibration_split").strip() or None
    if path is None:
        return
    try:
        result = compute.validation(path, None if fitted else hardware, fitted, None if split else int(folds), split)
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return
    st.markdown(f"**{result.hardware}**, {result.scheme}; fitted: {', '.join(result.parameters)}")
    st.altair_chart(charts.measured_vs_predicted(overlay_frame(result.predictions)), width="stretch",
                    key="calibration_overlay_chart")
    st.markdown("**Error (MAPE, %) on held-out measurements**")
    st.dataframe(result.summary, hide_index=True, key="calibration_summary")
    with st.expander("the worst predicted measurements"):
        st.dataframe(result.worst(10), hide_index=True)
    if result.skipped:
        with st.expander(f"{len(result.skipped)} measurements skipped"):
            st.dataframe(pd.DataFrame(result.skipped), hide_index=True)
    command = ["cosim validate MEASUREMENTS.parquet"]
    command.append("--calibration OVERLAY.yaml" if fitted else f"--hardware {hardware}")
    command.append(f"--split {split}" if split else f"--folds {int(folds)}")
    st.markdown("The same from the command line:")
    st.code(" ".join(command), language="bash")


state.run_page("calibration", main)
