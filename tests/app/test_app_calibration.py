"""The Calibration page: a measurement table (the host-CPU run in tests/data) against a preset: measured vs
predicted time with error bars, the held-out error table as cosim computes it; an overlay brings its preset;
a file that is not a measurement table shows cosim's message."""

from pathlib import Path

import pytest

from app_checks import chart_data, no_exceptions, table, open_page

MEASURED = Path(__file__).resolve().parents[1] / "data" / "host-cpu-quiet-2026-12-02.parquet"


def open_calibration(app):
    open_page(app, "calibration")
    no_exceptions(app)
    return app


def upload(at, key, path, mime="application/octet-stream"):
    at.file_uploader(key=key).set_value((Path(path).name, Path(path).read_bytes(), mime)).run()
    no_exceptions(at)


def test_measured_vs_predicted_and_the_error_table(app):
    at = open_calibration(app)
    assert "measurement table" in at.info[0].value
    at.number_input(key="calibration_folds").set_value(3)
    upload(at, "calibration_upload", MEASURED)
    from cosim.api import validate_calibration

    expected = validate_calibration(MEASURED, "Host-CPU", folds=3)
    summary = table(at, "group", "mape_preset", "mape_calibrated")
    assert summary["mape_calibrated"].tolist() == pytest.approx(expected.summary["mape_calibrated"].tolist())
    (overlay,) = [d for d in chart_data(at) if "model" in d]
    assert set(overlay["model"]) == {"preset", "calibrated"}
    fitted = overlay[overlay["model"] == "calibrated"]
    assert (fitted["high"] > fitted["time_predicted_s"]).any()  # error bars from the fit's standard errors
    assert (fitted["low"] <= fitted["time_predicted_s"]).all()
    assert any("cosim validate MEASUREMENTS.parquet --hardware Host-CPU --folds 3" == c.value for c in at.code)


def test_an_overlay_names_its_preset(app, tmp_path):
    from cosim.api import fit_calibration, write_calibration

    overlay = write_calibration(fit_calibration(MEASURED, "Host-CPU", ["runtime.dispatch_us"]), tmp_path / "o.yaml")
    at = open_calibration(app)
    at.number_input(key="calibration_folds").set_value(2)
    upload(at, "calibration_upload", MEASURED)
    upload(at, "calibration_overlay", overlay, "application/x-yaml")
    assert any("overlay fitted for Host-CPU: runtime.dispatch_us" in c.value for c in at.caption)
    assert any("fitted: runtime.dispatch_us" in m.value for m in at.markdown)


def test_a_file_that_is_not_a_measurement_table_is_refused(app, results_folder):
    at = open_calibration(app)
    upload(at, "calibration_upload", results_folder / "results.parquet")
    assert "missing" in at.error[0].value or "column" in at.error[0].value
    at.file_uploader(key="calibration_upload").set_value(None)
    at.file_uploader(key="calibration_overlay").set_value(("o.yaml", b"hardware: [", "application/x-yaml")).run()
    no_exceptions(at)
    assert "o.yaml" in at.error[0].value
