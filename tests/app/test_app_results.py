"""The Results page: a folder written by cosim sweep (or an uploaded results.parquet) is filtered, plotted and
offered for download with the config of the points shown; bad or oversized uploads get a clear message."""

from app_checks import chart_data, exported_config, no_exceptions, table, open_page


def open_results(app, folder=None, monkeypatch=None):
    if folder is not None:
        monkeypatch.setenv("COSIM_APP_RESULTS", str(folder))
    open_page(app, "results")
    no_exceptions(app)
    return app


def shown(at):
    return table(at, "point_id", "hardware", "feasible")


def test_a_folder_is_filtered_plotted_and_exported(app, results_folder, monkeypatch):
    at = open_results(app, results_folder, monkeypatch)
    assert len(shown(at)) == 6  # 2 presets x (2 batches of llama-2-7b + llama-2-70b)
    at.multiselect(key="results_hardware").set_value(["H100-SXM5-80GB"])
    at.checkbox(key="results_feasible").check().run()
    no_exceptions(at)
    rows = shown(at)
    assert set(rows["hardware"]) == {"H100-SXM5-80GB"} and rows["feasible"].all() and len(rows) == 2
    assert "2 of 6 design points" in [c.value for c in at.caption][0]
    points, _ = chart_data(at)
    assert sorted(points["point_id"]) == sorted(rows["point_id"])
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Download Parquet"}
    config = exported_config(at)
    assert config["hardware"] == [{"preset": "H100-SXM5-80GB"}]
    assert {w["model"] for w in config["workloads"]} == {"llama-2-7b"}


def test_pareto_only(app, results_folder, monkeypatch):
    at = open_results(app, results_folder, monkeypatch)
    at.checkbox(key="results_pareto").check().run()
    assert shown(at)["pareto"].all()


def test_an_uploaded_results_table_is_read_like_a_folder(app, results_folder):
    at = open_results(app)
    assert "results folder" in at.info[0].value
    data = (results_folder / "results.parquet").read_bytes()
    at.file_uploader(key="results_upload").set_value(("mine.parquet", data, "application/octet-stream")).run()
    no_exceptions(at)
    assert len(shown(at)) == 6


def test_a_bad_upload_shows_the_reason(app):
    at = open_results(app)
    at.file_uploader(key="results_upload").set_value(("mine.parquet", b"PAR1 junk", "application/octet-stream"))
    at.run()
    no_exceptions(at)
    assert "not a Parquet table" in at.error[0].value


def test_an_oversized_upload_is_refused(app, results_folder, monkeypatch):
    from app import uploads

    monkeypatch.setattr(uploads, "TABLE_LIMIT", 1024)
    at = open_results(app)
    data = (results_folder / "results.parquet").read_bytes()
    at.file_uploader(key="results_upload").set_value(("big.parquet", data, "application/octet-stream")).run()
    no_exceptions(at)
    assert "big.parquet" in at.error[0].value and "the limit is" in at.error[0].value
